"""`edge-agent fleet watch` against a real mosquitto: a live agent's presence and issues, and two watchers on a
shared subscription that together see every message exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from agent_process import Daemon
from watch_process import WatchProcess, wait_for_lines

from edge_agent.reporting.envelope import EnvelopeFactory


def start_watch(broker, *args: str) -> subprocess.Popen:
    """A watcher, returned once it says it is subscribed."""
    watcher = subprocess.Popen(
        [sys.executable, "-m", "edge_agent", "fleet", "watch", "--broker", f"{broker.host}:{broker.port}", "--json",
         *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = watcher.stderr.readline()
    assert line.startswith("edge-agent: watching"), line
    return watcher


def publish_all(broker, messages: list[tuple[str, bytes]]) -> None:
    """Each message at QoS 1, the broker's PUBACK awaited."""
    publisher = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.connect(broker.host, broker.port)
    publisher.loop_start()
    for topic, payload in messages:
        publisher.publish(topic, payload, qos=1).wait_for_publish(timeout=10)
    publisher.disconnect()
    publisher.loop_stop()


def events_of(watcher: subprocess.Popen) -> tuple[list[dict], dict]:
    """The events, and the summary: the last line on stdout, after every event."""
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    *events, summary = [json.loads(line) for line in out.splitlines()]
    assert all("message" in e for e in events)
    return events, summary["summary"]


def test_watch_shows_a_live_agent_online_with_its_issue(short_tmp: Path, mosquitto):
    watcher = WatchProcess(mosquitto)  # subscribed before the agent is born
    daemon = Daemon(short_tmp, f'\n[mqtt]\nenabled = true\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\n')
    daemon.start()
    try:
        deadline = time.monotonic() + 60
        while not any('"wifi_interference"' in line for line in watcher.lines):
            assert time.monotonic() < deadline, "no wifi_interference event in 60 s"
            time.sleep(0.2)
        events, summary = watcher.stop()
    finally:
        daemon.stop()
        watcher.kill_if_running()
    kinds = {(e["kind"], e["message"].get("state") or e["message"].get("change")) for e in events}
    assert ("status", "online") in kinds
    assert any(e["kind"] == "event" and e["message"]["type"] == "wifi_interference" for e in events)
    assert summary["devices"] == 1 and summary["invalid"] == 0


def test_two_shared_watchers_split_the_messages_without_duplicates(mosquitto):
    watchers = [WatchProcess(mosquitto, "--share", "fleet") for _ in range(2)]
    try:
        sent = []
        messages = []
        for device in range(10):
            factory = EnvelopeFactory(f"sim-{device:02d}", "site", lambda: True)
            for n in range(20):
                body = {"stream": "system", "subject": "host", "metrics": {"cpu_percent": float(n)}}
                message = factory.wrap("edge.telemetry/1", body, 1.0, 1.0)
                sent.append(message["id"])
                messages.append((f"edge/v1/sim-{device:02d}/telemetry/system", json.dumps(message).encode()))
        publish_all(mosquitto, messages)
        wait_for_lines(watchers, len(sent))
        seen = [[e["message"]["id"] for e in w.stop()[0]] for w in watchers]
    finally:
        for w in watchers:
            w.kill_if_running()
    assert all(seen), "both watchers should get a share"
    assert not set(seen[0]) & set(seen[1])
    assert sorted(seen[0] + seen[1]) == sorted(sent)


def test_a_watcher_with_a_sqlite_store_keeps_every_message_and_stops_cleanly_on_sigterm(mosquitto, tmp_path: Path):
    from edge_agent.fleet.report import report_from_store
    from edge_agent.fleet.store import FleetStore
    from edge_agent.fleet.synthetic import build_fleet

    url = f"sqlite://{tmp_path}/fleet.db"
    fleet = build_fleet(devices=8, issues_per_device=3, start_ts=1_700_000_000.0, span_s=3600, seed=12)
    watcher = WatchProcess(mosquitto, "--store", url)
    try:
        publish_all(mosquitto, fleet.messages)
        wait_for_lines([watcher], len(fleet.messages))  # printed at arrival; the store commits in batches
        events, summary = watcher.stop()  # SIGTERM: store what arrived, print the summary, exit 0
    finally:
        watcher.kill_if_running()
    assert summary["stored"] == len(fleet.messages) == len(events)
    assert FleetStore(url).counts().messages == len(fleet.messages)
    kpis = report_from_store(url).kpis()
    assert kpis["outcomes"] == {c: fleet.truth.outcomes[c] for c in kpis["outcomes"]}


def test_a_killed_watcher_with_a_session_gets_what_it_never_stored_when_it_comes_back(mosquitto, tmp_path: Path):
    """Stopped (SIGSTOP) while the fleet publishes, then killed: the broker had sent it messages it never
    acknowledged and queued the rest for its session; the watcher started again under the same --session stores
    them all. With a clean session they would be gone."""
    import os
    import signal

    from edge_agent.fleet.store import FleetStore
    from edge_agent.fleet.synthetic import build_fleet

    url = f"sqlite://{tmp_path}/fleet.db"
    fleet = build_fleet(devices=6, issues_per_device=2, start_ts=1_700_000_000.0, span_s=3600, seed=13)
    session = ["--share", "ops", "--store", url, "--session", f"watch-{os.getpid()}", "--duration", "60"]
    first = start_watch(mosquitto, *session)
    os.kill(first.pid, signal.SIGSTOP)
    publish_all(mosquitto, fleet.messages)
    first.kill()
    first.communicate(timeout=10)
    assert FleetStore(url).counts().messages == 0

    again = start_watch(mosquitto, *session)
    store = FleetStore(url)
    deadline = time.monotonic() + 20
    while store.counts().messages < len(fleet.messages) and time.monotonic() < deadline:
        time.sleep(0.2)
    again.terminate()
    _, summary = events_of(again)
    assert store.counts().messages == len(fleet.messages)
    assert summary["stored"] == len(fleet.messages)


def test_a_watcher_that_stops_with_a_backlog_still_counts_and_prints_everything_it_received(mosquitto, monkeypatch,
                                                                                           capsys):
    """Stopped while 200 messages that already arrived wait behind a slow printer: all 200 are printed."""
    import io
    import queue
    import threading
    import types

    from edge_agent.fleet import watch as watch_module
    from edge_agent.fleet.connection import BrokerOptions

    taken = watch_module._take

    def slow_take(*args):  # a busy watcher: messages queue up faster than it prints them
        time.sleep(0.02)
        taken(*args)

    arrived = []

    class CountingInbox(queue.SimpleQueue):
        def put(self, item, *args, **kwargs):
            super().put(item, *args, **kwargs)
            arrived.append(item)

    stop = threading.Event()
    monkeypatch.setattr(watch_module, "_take", slow_take)
    monkeypatch.setattr(watch_module, "queue", types.SimpleNamespace(SimpleQueue=CountingInbox, Empty=queue.Empty))
    monkeypatch.setattr(watch_module, "_stop_on_sigterm", lambda: stop)
    out = io.StringIO()
    options = watch_module.WatchOptions(BrokerOptions(mosquitto.host, mosquitto.port), as_json=True, duration_s=120)
    states = []
    watcher = threading.Thread(target=lambda: states.append(watch_module.watch(options, out)))
    watcher.start()
    deadline = time.monotonic() + 30
    while "edge-agent: watching" not in capsys.readouterr().err:  # subscribed
        assert time.monotonic() < deadline, "the watcher never subscribed"
        time.sleep(0.05)
    factory = EnvelopeFactory("sim-backlog", "site", lambda: True)
    messages = [factory.wrap("edge.telemetry/1", {"stream": "system", "subject": "host",
                                                  "metrics": {"cpu_percent": float(n)}}, 1.0, 1.0) for n in range(200)]
    publish_all(mosquitto, [("edge/v1/sim-backlog/telemetry/system", json.dumps(m).encode()) for m in messages])
    while len(arrived) < len(messages):
        assert time.monotonic() < deadline + 30, f"{len(arrived)} of {len(messages)} arrived"
        time.sleep(0.05)
    backlog = len(messages) - len(out.getvalue().splitlines())
    stop.set()
    watcher.join(timeout=30)

    printed = [json.loads(line)["message"]["id"] for line in out.getvalue().splitlines()]
    assert backlog > 0, "the watcher kept up: nothing was waiting when it stopped"
    assert sorted(printed) == sorted(m["id"] for m in messages)
    assert states[0].summary()["duplicates"] == 0
