"""`edge-agent demo`: the whole loop on one laptop in under a minute.

A local mosquitto on a free port (when installed), the real agent on the simulated premises running the `demo`
scenario at 10x, and a fleet view subscribed as a cloud manager would be; the fleet view narrates what it
receives — sampled, detected, remediated, verified, reported — and the demo ends by itself with a summary,
stopping everything it started. Without mosquitto the agent keeps its events in the outbox and the demo says so.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TextIO

from edge_agent.clock import ScaledClock
from edge_agent.fleet.narrate import Narrator
from edge_agent.fleet.state import FleetState
from edge_agent.local_broker import LocalBroker, free_port, mosquitto_binary
from edge_agent.sim.runner import quiet_agent_logs, scenario_config
from edge_agent.sim.scenario import find_scenario, load_scenario

PREFIX = "edge/v1"


class FleetView:
    """A cloud manager's subscription: validates, deduplicates and narrates every message it receives."""

    def __init__(self, port: int, out: TextIO):
        import paho.mqtt.client as mqtt

        self.state = FleetState(prefix=PREFIX)
        self.narrator = Narrator()
        self.out = out
        self.offline = threading.Event()
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"{PREFIX}/+/#", qos=1)
        self.client.loop_start()
        subscribed.wait(5)

    def _on_message(self, client, userdata, msg) -> None:
        event = self.state.ingest(msg.topic, msg.payload, time.time())
        if event is None:
            return
        line = self.narrator.line(event)
        if line:
            print(line, file=self.out, flush=True)
        if event["topic"] == "status" and event["message"]["state"] == "offline":
            self.offline.set()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def run_demo(scenario_name: str = "demo", speed: float = 10.0, out: TextIO = sys.stdout,
             use_broker: bool = True) -> int:
    from edge_agent.agent.daemon import Agent

    scenario = load_scenario(find_scenario(scenario_name))
    binary = mosquitto_binary() if use_broker else None
    # The narration tells the story: the agent's own log lines would only repeat it.
    with tempfile.TemporaryDirectory(prefix="edge-agent-demo-") as tmp, quiet_agent_logs():
        workdir = Path(tmp)
        broker = None
        if binary:
            broker = LocalBroker(binary, workdir, ["allow_anonymous true", "persistence false",
                                                  "max_queued_messages 0"])
            broker.start()
        fleet = None
        try:
            port = broker.port if broker else free_port()  # nothing listens there: the outbox keeps everything
            config = scenario_config(scenario, workdir, {
                "agent": {"device_id": "demo-gw", "site_id": "demo-site"},
                "mqtt": {"enabled": True, "host": "127.0.0.1", "port": port},
                # 5 s report windows: the demo's few minutes show telemetry arriving, not only events, and the
                # first windows reach the fleet well before the first fault (25 s in) is detected.
                "reporting": {"outbox_sync": "normal", "agent_health_interval_s": 30, "report_interval_s": 5},
            })
            _headline(scenario, speed, broker, out)
            fleet = FleetView(broker.port, out) if broker else None
            agent = Agent(config, None, mode="simulated", clock=ScaledClock(speed), env={})
            timer = threading.Timer(scenario.duration_s / speed, agent.request_stop)
            timer.start()
            try:
                agent.run()  # on this thread: it owns the signal handlers, so Ctrl-C stops it cleanly too
            finally:
                timer.cancel()
            if fleet is not None:
                fleet.offline.wait(5)
                print(fleet.narrator.summary(fleet.state.invalid, fleet.state.duplicates), file=out)
            else:
                _without_broker(agent, out)
        finally:
            if fleet is not None:
                fleet.close()
            if broker is not None:
                broker.stop()
    return 0


def _headline(scenario, speed: float, broker: LocalBroker | None, out: TextIO) -> None:
    where = (f"a local mosquitto (pid {broker.proc.pid}) on 127.0.0.1:{broker.port}, watched by a fleet view "
             f"subscribed to {PREFIX}/+/#"
             if broker else "no broker (mosquitto is not installed): events wait in the agent's outbox")
    print(f"edge-agent demo: {scenario.description}\n"
          f"simulated premises at {speed:g}x ({scenario.duration_s:g} s of simulated time), {where}\n", file=out)


def _without_broker(agent, out: TextIO) -> None:
    from edge_agent.views import render_timeline

    entries = agent.journal.read()
    start = entries[0]["sim_ts"] if entries else 0.0  # the story in simulated seconds, as the scenario tells it
    events = [dict(e, t=round(e["sim_ts"] - start, 1)) for e in entries]
    print(render_timeline(events), file=out)
    from edge_agent.reporting.outbox import Outbox

    outbox = Outbox(agent.state_dir / "outbox.sqlite", agent.config.reporting.outbox_max_bytes, "normal")
    box = outbox.stats()  # read back from disk: what a restarted agent would send once the cloud is reachable
    outbox.close()
    k = agent.kpi_snapshot()
    print(f"summary: {k['detected']} issues detected, {k['auto_resolved']} fixed by the agent, {k['escalated']} "
          f"escalated. {box.queued_events} events wait in the outbox for the cloud (nothing is lost).", file=out)
