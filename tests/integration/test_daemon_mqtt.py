"""The real daemon reporting to a real mosquitto: presence (birth, will, clean offline) and issue events."""

from __future__ import annotations

import json
import queue
import signal
import threading
import time
from pathlib import Path

import pytest
from agent_process import Daemon, wait_for
from contract_validation import assert_valid
from mqtt_recorder import persistent_subscriber

from edge_agent.reporting.envelope import EnvelopeFactory
from edge_agent.reporting.outbox import Outbox


class Subscriber:
    """A fleet-side client with a persistent session: what it misses while the broker is down it gets later."""

    def __init__(self, host: str, port: int, topic: str, client_id: str = ""):
        self.host, self.port = host, port
        self.messages: queue.Queue = queue.Queue()
        self.client = persistent_subscriber(
            host, port, topic, client_id,
            lambda c, u, msg: self.messages.put((msg.topic, msg.retain, json.loads(msg.payload))))

    def next_matching(self, predicate, timeout_s: float):
        seen = []
        while True:
            try:
                item = self.messages.get(timeout=timeout_s)
                assert_valid(item[0], item[2])  # every message a fleet manager sees must match the contract
            except queue.Empty:
                summary = [(topic, body.get("change") or body.get("state")) for topic, _, body in seen]
                raise AssertionError(f"no matching message within {timeout_s} s; saw {summary}") from None
            seen.append(item)
            if predicate(*item):
                return item

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def mqtt_daemon(short_tmp: Path, mosquitto):
    extra = f'\n[mqtt]\nenabled = true\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\nkeepalive_s = 5\n'
    daemon = Daemon(short_tmp, extra)
    subscriber = Subscriber(mosquitto.host, mosquitto.port, "edge/v1/itest-gw/#", client_id="fleet-test")
    daemon.start()
    try:
        yield daemon, subscriber, mosquitto
    finally:
        subscriber.close()
        daemon.stop()


def is_status(state: str, reason: str):
    def matches(topic, retain, body):
        return topic == "edge/v1/itest-gw/status" and body["state"] == state and body["reason"] == reason

    return matches


def test_agent_announces_itself_reports_issues_and_says_offline_on_shutdown(mqtt_daemon):
    daemon, sub, _ = mqtt_daemon
    _, _, online = sub.next_matching(is_status("online", "connected"), timeout_s=15)
    assert online["schema"] == "edge.status/1" and online["device_id"] == "itest-gw"

    _, _, opened = sub.next_matching(
        lambda t, r, b: t.endswith("/event/issue") and b["change"] == "opened" and b["type"] == "wifi_interference",
        timeout_s=30,
    )
    # The installed default policy is dry-run: the decision not to act is reported too, with its evidence.
    _, _, action = sub.next_matching(lambda t, r, b: t.endswith("/event/action"), timeout_s=5)
    assert (action["issue_id"], action["outcome"], action["name"]) == (opened["issue_id"], "skipped", "switch_channel")
    assert action["evidence_before"]["busy_ratio"] > 0.6
    _, _, resolved = sub.next_matching(
        lambda t, r, b: t.endswith("/event/issue") and b["change"] == "resolved" and b["type"] == "wifi_interference",
        timeout_s=30,
    )
    assert opened["issue_id"] == resolved["issue_id"]
    assert opened["boot_id"] == resolved["boot_id"] and opened["seq"] < resolved["seq"]

    for field in ("schema", "id", "device_id", "site_id", "agent_version", "boot_id", "seq", "ts", "mono_ms",
                  "clock_synced", "evidence", "guidance", "severity", "state"):
        assert field in opened, field

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=5) == 0
    _, _, offline = sub.next_matching(is_status("offline", "shutdown"), timeout_s=5)
    assert offline["seq"] > resolved["seq"]

    # A fleet manager who subscribes later still sees the device as offline: the status is retained.
    late = Subscriber(sub.host, sub.port, "edge/v1/itest-gw/status")
    try:
        _, retained, status = late.next_matching(lambda t, r, b: True, timeout_s=5)
        assert retained and status["state"] == "offline" and status["id"] == offline["id"]
    finally:
        late.close()


def test_broker_publishes_the_last_will_when_the_agent_dies(mqtt_daemon):
    daemon, sub, _ = mqtt_daemon
    sub.next_matching(is_status("online", "connected"), timeout_s=15)
    daemon.proc.kill()
    daemon.proc.wait(timeout=5)
    sub.next_matching(is_status("offline", "connection lost"), timeout_s=10)


def issue_events(sub: Subscriber, wanted: set[tuple[str, str]], timeout_s: float) -> dict[str, list[dict]]:
    """Collect event/issue messages until every wanted (issue_id, change) arrived; dedup by message id."""
    by_id: dict[str, dict] = {}
    duplicates = 0
    deadline = time.monotonic() + timeout_s
    while not wanted <= {(b["issue_id"], b["change"]) for b in by_id.values()}:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"missing {wanted - {(b['issue_id'], b['change']) for b in by_id.values()}}"
        _, _, body = sub.next_matching(lambda t, r, b: t.endswith("/event/issue"), timeout_s=remaining)
        if body["id"] in by_id:
            duplicates += 1
        by_id[body["id"]] = body
    return {"events": sorted(by_id.values(), key=lambda b: (b["boot_id"], b["seq"])), "duplicates": duplicates}


def wait_issue_resolved(daemon: Daemon, issue_type: str) -> dict:
    def resolved():
        return [i for i in daemon.ask_json("issues") if i["type"] == issue_type and i["state"] == "resolved"]

    return wait_for(resolved, timeout_s=30, what=f"{issue_type} to open and resolve")[0]


def test_events_queued_while_the_broker_is_down_arrive_after_it_returns(mqtt_daemon):
    daemon, sub, broker = mqtt_daemon
    sub.next_matching(is_status("online", "connected"), timeout_s=15)
    broker.stop()

    issue = wait_issue_resolved(daemon, "wifi_interference")
    mqtt_status = daemon.ask_json("status")["reporting"]["mqtt"]
    assert mqtt_status["connected"] is False
    assert mqtt_status["outbox"]["queued_events"] >= 2

    broker.start()
    received = issue_events(sub, {(issue["issue_id"], "opened"), (issue["issue_id"], "resolved")}, timeout_s=30)
    changes = [e["change"] for e in received["events"] if e["issue_id"] == issue["issue_id"]]
    assert changes == ["opened", "resolved"]
    wait_for(lambda: daemon.ask_json("status")["reporting"]["mqtt"]["outbox"]["queued_events"] == 0,
             timeout_s=10, what="the outbox to drain")


def test_events_survive_the_agent_being_killed_while_the_broker_is_down(mqtt_daemon):
    daemon, sub, broker = mqtt_daemon
    sub.next_matching(is_status("online", "connected"), timeout_s=15)
    broker.stop()
    issue = wait_issue_resolved(daemon, "wifi_interference")
    daemon.proc.kill()
    daemon.proc.wait(timeout=5)

    broker.start()
    daemon.start()  # a new boot, same state directory: the old outbox drains first
    received = issue_events(sub, {(issue["issue_id"], "opened"), (issue["issue_id"], "resolved")}, timeout_s=30)
    old_boot = [e for e in received["events"] if e["issue_id"] == issue["issue_id"]]
    assert [e["change"] for e in old_boot] == ["opened", "resolved"]
    assert old_boot[0]["boot_id"] == old_boot[1]["boot_id"]


def prefill_outbox(path: Path, count: int) -> list[str]:
    """`count` valid issue events waiting in the agent's outbox, as if a long outage had queued them."""
    envelopes = EnvelopeFactory("itest-gw", "itest", lambda: True)
    outbox = Outbox(path, max_bytes=10**9, sync="normal")
    ids = []
    outbox._db.execute("BEGIN")
    for n in range(count):
        body = {"change": "opened", "issue_id": f"backlog-{n}", "type": "wifi_interference", "subject": "wlan0",
                "severity": "warning", "state": "open", "summary": "backlog", "evidence": {}, "guidance": "",
                "detector": "rules.wifi", "opened_ts": 1.0, "updated_ts": 1.0, "resolved_ts": None,
                "transitions": []}
        message = envelopes.wrap("edge.issue/1", body, 1.0, 1.0)
        ids.append(message["id"])
        outbox.put("event", "event/issue", json.dumps(message).encode(), qos=1)
    outbox._db.execute("COMMIT")
    outbox.close()
    return ids


class IdCounter:
    """Counts deliveries per message id on the issue topic (no parsing beyond the id: 20k messages)."""

    def __init__(self, subscriber: Subscriber):
        self.first_seen: dict[str, int] = {}
        self.deliveries = 0
        self.lock = threading.Lock()
        subscriber.client.on_message = self._on_message

    def _on_message(self, client, userdata, msg) -> None:
        if not msg.topic.endswith("/event/issue"):
            return
        body = json.loads(msg.payload)
        with self.lock:
            self.deliveries += 1
            self.first_seen.setdefault(body["id"], body["seq"])


def test_a_backlog_survives_the_agent_being_killed_mid_drain(mqtt_daemon):
    daemon, sub, broker = mqtt_daemon
    daemon.stop()  # the fixture started it; start again once the backlog is in place
    backlog = prefill_outbox(daemon.root / "state" / "outbox.sqlite", 20_000)
    counter = IdCounter(sub)

    daemon.start()
    wait_for(lambda: len(counter.first_seen) >= 2_000, timeout_s=30, what="the drain to start")
    daemon.proc.kill()
    daemon.proc.wait(timeout=5)
    delivered_before_kill = len(counter.first_seen)
    assert delivered_before_kill < len(backlog), "drained completely before the kill: make the backlog larger"

    daemon.start()
    try:
        wait_for(lambda: set(backlog) <= set(counter.first_seen), timeout_s=60, what="every backlog event to arrive")
    except AssertionError:
        status = daemon.ask_json("status")["reporting"]["mqtt"]
        missing = len(set(backlog) - set(counter.first_seen))
        raise AssertionError(f"{missing} backlog events missing; agent says {status}") from None
    seqs = [counter.first_seen[message_id] for message_id in backlog]
    assert seqs == sorted(seqs)  # first deliveries came in the order they were queued
