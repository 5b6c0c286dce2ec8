"""A fleet of 60 simulated gateways on a real mosquitto, each reporting through the agent's own MQTT publisher
(outbox, birth, Last Will with the session counter): `fleet watch` shows the right presence and open issues,
ignores Last Wills older than a device's birth, two shared-subscription watchers together see every message
exactly once, and `fleet report` over their merged recordings says what the single watcher's recording says."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from agent_process import wait_for
from watch_process import WatchProcess, wait_until_quiet

from edge_agent.config import MqttSection
from edge_agent.fleet.report import build_report, merge_streams
from edge_agent.reporting.envelope import SCHEMA_ISSUE, SCHEMA_STATUS, EnvelopeFactory
from edge_agent.reporting.mqtt import MqttPublisher, OutboxSink
from edge_agent.reporting.outbox import Outbox
from edge_agent.sim.runner import quiet_agent_logs, run_scenario
from edge_agent.sim.scenario import find_scenario, load_scenario

DEVICES = 60
WITH_OPEN_ISSUE = 10  # devices whose interference is still open when the watchers stop
STOPPED = 5  # devices shut down cleanly: offline
GHOSTED = 5  # devices whose old connection's Last Will reaches the broker after their newer birth
ENVELOPE_FIELDS = {"schema", "id", "device_id", "site_id", "agent_version", "boot_id", "seq", "ts", "mono_ms",
                   "clock_synced", "topic", "t"}


def scenario_events(workdir: Path) -> list[dict]:
    """One real agent run's issue and action events (a hung resolver, flushed then restarted) to replay."""
    with quiet_agent_logs():
        run = run_scenario(load_scenario(find_scenario("dns-hang-restart")), workdir)
    return [e for e in run.events if e["topic"] in ("event/issue", "event/action")]


class Gateway:
    """One simulated device: the agent's reporting stack with its own identity, outbox and session file."""

    def __init__(self, number: int, root: Path, broker):
        self.device_id = f"gw-{number:03d}"
        state = root / self.device_id
        state.mkdir()
        self.envelopes = EnvelopeFactory(self.device_id, "scale-site", lambda: True)
        self.outbox = Outbox(state / "outbox.sqlite", 5_000_000, "normal")
        self.publisher = MqttPublisher(MqttSection(enabled=True, host=broker.host, port=broker.port), self.envelopes,
                                       self.outbox, lambda: (time.monotonic(), time.time()), state / "session",
                                       meta=self.meta)
        self.sink = OutboxSink(self.outbox, self.publisher)

    @staticmethod
    def meta() -> dict:
        return {"premises": "simulated", "platform": {"system": "Linux"}, "collectors": ["wifi"],
                "detectors": ["wifi"], "commands": ["ping"], "models": [], "kpis": {}}

    def replay(self, events: list[dict]) -> None:
        for event in events:
            body = {k: v for k, v in event.items() if k not in ENVELOPE_FIELDS}
            self.sink.publish(event["topic"], self.envelopes.wrap(event["schema"], body, event["ts"], 0.0), True)
        for n in range(10):
            sample = {"stream": "wifi.radio", "subject": "wlan0", "metrics": {"busy_ratio": 0.1 + n / 100}}
            self.sink.publish("telemetry/wifi", self.envelopes.wrap("edge.telemetry/1", sample, time.time(), 0.0),
                              False)

    def open_interference(self) -> None:
        issue = {"change": "opened", "issue_id": f"{self.device_id}-interference", "type": "wifi_interference",
                 "subject": "wlan0", "severity": "warning", "state": "open", "summary": "busy", "evidence": {},
                 "guidance": "", "detector": "wifi", "opened_ts": time.time(), "updated_ts": time.time(),
                 "resolved_ts": None, "first_bad_ts": time.time() - 10, "transitions": []}
        self.sink.publish("event/issue", self.envelopes.wrap(SCHEMA_ISSUE, issue, time.time(), 0.0), True)


def ghost_will(broker, gateway: Gateway) -> None:
    """The device's previous connection (session 0), half-open until now: its Last Will arrives after the newer
    birth, as it does when a rebooted gateway is back before the broker notices the old link died."""
    will = gateway.envelopes.wrap(SCHEMA_STATUS, {"state": "offline", "reason": "connection lost", "session": 0},
                                  time.time(), 0.0)
    ghost = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"{gateway.device_id}-old",
                        protocol=mqtt.MQTTv5)
    ghost.will_set(f"edge/v1/{gateway.device_id}/status", json.dumps(will), qos=1, retain=True)
    ghost.connect(broker.host, broker.port)
    ghost.loop(timeout=0.5)
    ghost.socket().shutdown(socket.SHUT_RDWR)  # no DISCONNECT: the broker publishes the will
    ghost.socket().close()


def test_sixty_gateways_watched_split_across_shared_watchers_and_reported(mosquitto, short_tmp: Path):
    replayed = scenario_events(short_tmp / "scenario")
    watchers = [WatchProcess(mosquitto), *(WatchProcess(mosquitto, "--share", "ops") for _ in range(2))]
    gateways = [Gateway(n, short_tmp, mosquitto) for n in range(DEVICES)]
    try:
        for gateway in gateways:
            gateway.publisher.start()
        wait_for(lambda: all(g.publisher.connected.is_set() for g in gateways), timeout_s=20,
                 what="every gateway connected")
        for number, gateway in enumerate(gateways):
            gateway.replay(replayed)
            if number < WITH_OPEN_ISSUE:
                gateway.open_interference()
        for gateway in gateways[-GHOSTED:]:
            ghost_will(mosquitto, gateway)
        for gateway in gateways[:STOPPED]:
            gateway.publisher.close()  # says offline (shutdown) before it disconnects
        wait_for(lambda: all(g.outbox.stats().queued_events == 0 for g in gateways[STOPPED:]), timeout_s=30,
                 what="every outbox drained")
        wait_until_quiet(watchers)
        (plain, summary), *shared = [w.stop() for w in watchers]
    finally:
        for gateway in gateways[STOPPED:]:
            gateway.publisher.close()
        for watcher in watchers:
            watcher.kill_if_running()  # the test failed before stopping it

    assert summary["devices"] == DEVICES and summary["invalid"] == 0 and summary["duplicates"] == 0
    assert (summary["online"], summary["offline"]) == (DEVICES - STOPPED, STOPPED)
    assert summary["stale_wills"] == GHOSTED  # their Last Wills were older than their births: ignored
    assert summary["open_issues_by_type"] == {"wifi_interference": WITH_OPEN_ISSUE}

    ids = {e["message"]["id"] for e in plain}
    shared_ids = [{e["message"]["id"] for e in events} for events, _ in shared]
    assert all(shared_ids) and not shared_ids[0] & shared_ids[1]
    assert shared_ids[0] | shared_ids[1] == ids  # every message exactly once across the two

    merged = build_report(merge_streams([events for events, _ in shared])).kpis()
    alone = build_report(plain).kpis()
    assert merged == alone
    per_device = sum(1 for e in replayed if e["topic"] == "event/issue" and e["change"] == "opened")
    assert alone["devices"] == DEVICES
    assert alone["issues"] == DEVICES * per_device + WITH_OPEN_ISSUE
    assert alone["outcomes"]["fixed_by_agent"] == DEVICES  # each replayed resolver hang was fixed by the restart
    assert alone["outcomes"]["still_open"] == WITH_OPEN_ISSUE
