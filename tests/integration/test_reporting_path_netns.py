"""The reporting path under real faults in the namespace bed: the agent in the cpe namespace publishes to a real
mosquitto beyond the gateway (netns_broker.py), and the fleet's recorder beside the broker keeps what arrives.

A path-MTU black hole on the hop past the gateway (the far host offers a full MSS, as beyond a narrow hop in a
real path): segments above 1280 bytes vanish, so small telemetry still passes while the agent's larger messages
(its issue events, its device card) stall the connection behind them, until the agent names the hole and lets
the narrow hop fragment its connection's packets. A firewall that drops the MQTT port for 20 s. In both,
nothing the agent numbered is lost once the path is repaired (the envelope's `seq` has no gap, every
journaled event arrives), a message arrives again only as the same message (same id, same bytes) and at most once
over each connection that could still deliver it, the broker keeps the newest session's presence, and the agent's
own timestamps say how soon it noticed and reconnected.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from agent_process import Daemon, wait_for
from detection import applied, detection
from netns import PremisesNetwork, built, can_build_test_bed, running_agent
from netns_broker import FarBroker

from edge_agent.local_broker import mosquitto_binary
from edge_agent.reporting.mqtt import PATH_BACK_DELAY_S

pytestmark = [pytest.mark.skipif(can_build_test_bed() is not None, reason=str(can_build_test_bed())),
              pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed (scripts/test.sh "
                                                                     "installs it when run as root)")]

KEEPALIVE_S = 5
CHECK_INTERVAL_S = 2  # the path-MTU check's pace here (30 s shipped)
PROBE_INTERVAL_S = 1
PATH_MTU = 1280
PRESENCE = ("edge.status/", "edge.meta/")  # presence takes no sequence number of its own


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    with built(PremisesNetwork(tmp_path_factory.mktemp("netns"), far_end=True)) as test_bed:
        yield test_bed


@pytest.fixture(scope="module")
def broker(bed, tmp_path_factory):
    far = FarBroker(bed, tmp_path_factory.mktemp("broker"))
    try:
        far.start()
        yield far
    finally:
        far.stop()


def agent_config(bed: PremisesNetwork, broker: FarBroker, device_id: str) -> str:
    """Probing the bed every second, the broker's own endpoint among the uplinks (so the path-MTU check and the
    "path seen up" hint look at it), reporting every second or two."""
    return bed.probing_config(device_id, issues="hold_down_s = 0",
                              connectivity=f"pmtu_check_interval_s = {CHECK_INTERVAL_S}",
                              uplinks=(bed.uplink, broker.endpoint)) + (
        f'\n[mqtt]\nenabled = true\nhost = "{broker.host}"\nport = {broker.port}\ntls = false\n'
        f"keepalive_s = {KEEPALIVE_S}\n[reporting]\nagent_health_interval_s = 1\nreport_interval_s = 2\n")


def mqtt_status(daemon: Daemon) -> dict:
    return daemon.ask_json("status")["reporting"]["mqtt"]


def journal(daemon: Daemon) -> list[dict]:
    """Every event the agent journaled (issues and actions), in order."""
    return [json.loads(line) for line in (daemon.root / "state" / "events.jsonl").read_text().splitlines()]


def journaled_ids(daemon: Daemon) -> set[str]:
    return {event["id"] for event in journal(daemon)}


def openings(events: list[dict], *types: str) -> list[dict]:
    return [e for e in events if e["topic"] == "event/issue" and e["change"] == "opened" and e["type"] in types]


def numbered(received: list[dict]) -> list[dict]:
    return [m for m in received if not m["body"]["schema"].startswith(PRESENCE)]


def wait_delivered(daemon: Daemon, broker: FarBroker, device_id: str, after_ts: float) -> list[dict]:
    """Wait until the fleet has every message the agent numbered up to one it produced after `after_ts`, and every
    event the agent journaled; returns what the fleet received."""
    def complete() -> list[dict] | None:
        received = broker.received(device_id)
        seqs = {m["body"]["seq"] for m in numbered(received)}
        fresh = any(m["body"]["ts"] > after_ts for m in numbered(received))
        ids = {m["body"]["id"] for m in received}
        if fresh and seqs == set(range(1, max(seqs) + 1)) and journaled_ids(daemon) <= ids:
            return received
        return None

    try:
        return wait_for(complete, timeout_s=30, what="everything the agent produced to reach the fleet")
    except AssertionError:
        received = broker.received(device_id)
        seqs = {m["body"]["seq"] for m in numbered(received)}
        missing = sorted(set(range(1, max(seqs, default=0) + 1)) - seqs)
        lost_events = journaled_ids(daemon) - {m["body"]["id"] for m in received}
        raise AssertionError(f"lost: seq {missing}, journaled events {lost_events}\n{daemon.log_text()}") from None


def connections_after(received: list[dict], since: float) -> int:
    """How many of the agent's connections could still deliver a message at or after `since`: the one it had then
    (the broker keeps one per client: a new connection closes the last), and those it opened since (their "online"
    status, stamped by the agent; the path works by then, so it arrives)."""
    started = {m["body"]["session"] for m in received if m["body"]["schema"].startswith("edge.status/")
               and m["body"]["state"] == "online" and m["body"]["ts"] >= since}
    return 1 + len(started)


def assert_only_true_duplicates(received: list[dict], since: float) -> None:
    """A message that arrives again is the same message (same id, same bytes), and arrives at most once over each
    connection that could still deliver it after `since` (the repair)."""
    payloads: dict[str, set[str]] = {}
    for m in received:
        payloads.setdefault(m["body"]["id"], set()).add(m["payload"])
    assert all(len(p) == 1 for p in payloads.values()), "one id, two different messages"
    late = Counter(m["body"]["id"] for m in received if m["at"] >= since)
    connections = connections_after(received, since)
    assert max(late.values()) <= connections, (f"after the repair, over {connections} connection(s): "
                                               f"{late.most_common(3)}")


def assert_presence_is_the_current_session(received: list[dict]) -> None:
    """The last status the fleet got, the one the broker retains, is the newest session's: no older session's
    presence arrives late over it."""
    statuses = [m["body"] for m in received if m["body"]["schema"].startswith("edge.status/")]
    sessions = [s["session"] for s in statuses]
    assert statuses[-1]["session"] == max(sessions), f"sessions in arrival order: {sessions}"


def opened(daemon: Daemon, issue_type: str) -> list[dict]:
    return [i for i in daemon.ask_json("issues") if i["type"] == issue_type]


def test_a_path_mtu_black_hole_is_named_and_the_reports_cross_it_and_nothing_is_lost(bed, broker):
    device = "rp-pmtu"
    with running_agent(bed, agent_config(bed, broker, device), "ea-rpp-") as agent:
        wait_for(lambda: len(broker.received(device)) >= 5, timeout_s=20, what="reports to reach the fleet")
        fault = applied(lambda: bed.pmtu_blackhole(PATH_MTU, far_host_mtu=1500))
        try:
            [blackhole] = wait_for(lambda: opened(agent, "pmtu_blackhole"), timeout_s=30,
                                   what="pmtu_blackhole to open")
            [report] = wait_for(lambda: openings(journal(agent), "pmtu_blackhole"), timeout_s=5,
                                what="the opening to be journaled")
            # Named, the hole is crossed: the broker connection lets the narrow hop fragment, so the agent's own
            # report of it (too large for the hop) reaches the fleet while the hole is still there.
            wait_for(lambda: report["id"] in {m["body"]["id"] for m in broker.received(device)}, timeout_s=30,
                     what="the black hole's own report to reach the fleet through the black hole")
            time.sleep(5)  # more reports while the hole stays
        finally:
            repaired = applied(bed.pmtu_repaired)
        received = wait_delivered(agent, broker, device, repaired)
        status = mqtt_status(agent)
        assert status["outbox"]["dropped_telemetry"] == 0

    # The path: IPv4 packets above 1280 bytes to the broker's host vanish (with Don't Fragment) and the agent had
    # messages that needed larger segments (MSS 1460), so the black hole was on its way for real.
    assert blackhole["subject"] == broker.host and blackhole["evidence"]["largest_ok"] == PATH_MTU
    assert detection(blackhole, fault, PROBE_INTERVAL_S).seconds <= 3 * CHECK_INTERVAL_S + 6
    crossed = [m for m in received if fault <= m["body"]["ts"] and m["at"] < repaired
               and len(m["payload"]) > PATH_MTU]
    assert crossed, "no message larger than the narrow hop crossed it before the repair"
    assert_only_true_duplicates(received, repaired)
    assert_presence_is_the_current_session(received)


def test_a_dropped_mqtt_port_loses_nothing_and_the_agent_reconnects_as_soon_as_its_probe_sees_the_broker(bed, broker):
    device = "rp-drop"
    with running_agent(bed, agent_config(bed, broker, device), "ea-rpd-") as agent:
        wait_for(lambda: len(broker.received(device)) >= 5, timeout_s=20, what="reports to reach the fleet")
        blocked = applied(lambda: bed.far_port_blocked(broker.port))
        try:
            [down] = wait_for(lambda: opened(agent, "uplink_down"), timeout_s=15, what="uplink_down to open")
            wait_for(lambda: not mqtt_status(agent)["connected"], timeout_s=20, what="the agent to see it is off")
            time.sleep(max(0.0, blocked + 20 - time.time()))
        finally:
            unblocked = applied(lambda: bed.far_port_open(broker.port))
        received = wait_delivered(agent, broker, device, unblocked)
        status, events = mqtt_status(agent), journal(agent)
        assert status["outbox"]["dropped_telemetry"] == 0

    assert down["subject"] == broker.endpoint
    # Reconnected (the agent's own stamp on its "online" status) within a probe round, the probe's wait and the
    # hint's jitter of the firewall opening: not at the end of a backoff.
    online = [m["body"] for m in received if m["body"]["schema"].startswith("edge.status/")
              and m["body"]["state"] == "online" and m["body"]["ts"] > unblocked]
    assert online, "no new session after the port opened"
    reconnect_s = online[0]["ts"] - unblocked
    assert reconnect_s <= PROBE_INTERVAL_S + 0.5 + PATH_BACK_DELAY_S + 1, f"reconnected {reconnect_s:.1f} s after"
    # The uplink_down event was produced while the port was dropped and arrived after it opened: late, not lost.
    arrived = {m["body"]["id"]: m["at"] for m in received}
    [event] = openings(events, "uplink_down")
    assert blocked <= event["ts"] < unblocked <= arrived[event["id"]]
    assert_only_true_duplicates(received, unblocked)
    assert_presence_is_the_current_session(received)
