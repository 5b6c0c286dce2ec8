"""`edge-agent fleet watch`: subscribe to the fleet's topics and show it, as JSON lines or a live table.

With `--share GROUP` the subscription is an MQTT v5 shared one: several watchers split the messages between
them (each message goes to one of them), which is how the watch scales out on the broker already there.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from edge_agent.fleet.connection import BrokerOptions, fleet_client
from edge_agent.fleet.state import FleetState
from edge_agent.output import duration, table, terminal_safe


@dataclass(frozen=True)
class WatchOptions:
    broker: BrokerOptions
    prefix: str = "edge/v1"
    share: str | None = None
    as_json: bool = False
    duration_s: float | None = None
    refresh_s: float = 2.0

    @property
    def topic_filter(self) -> str:
        base = f"{self.prefix}/+/#"
        return f"$share/{self.share}/{base}" if self.share else base


def watch(options: WatchOptions, out: TextIO = sys.stdout, now: Callable[[], float] = time.time) -> FleetState:
    state = FleetState(prefix=options.prefix)
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    client = fleet_client(options.broker)
    subscribed = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(options.topic_filter, qos=1)
    client.on_subscribe = lambda *args: subscribed.set()
    # paho's thread only queues; parsing and aggregation happen here, on one thread.
    client.on_message = lambda c, u, msg: inbox.put((msg.topic, msg.payload, now()))
    client.connect(options.broker.host, options.broker.port)
    client.loop_start()
    deadline = None if options.duration_s is None else time.monotonic() + options.duration_s
    next_table = time.monotonic()
    announced = False
    try:
        while deadline is None or time.monotonic() < deadline:
            if not announced and subscribed.is_set():
                # On stderr, so JSON lines stay clean: scripts (and tests) wait for this before publishing.
                print(f"edge-agent: watching {options.topic_filter} on {options.broker.host}:{options.broker.port}",
                      file=sys.stderr, flush=True)
                announced = True
            try:
                topic, payload, received = inbox.get(timeout=0.2)
            except queue.Empty:
                pass
            else:
                event = state.ingest(topic, payload, received)
                if event is not None and options.as_json:
                    out.write(json.dumps(event, default=str) + "\n")
                    out.flush()
            if not options.as_json and time.monotonic() >= next_table:
                out.write("\033[2J\033[H" if out.isatty() else "\n")
                out.write(terminal_safe(render_fleet(state, now())) + "\n")
                out.flush()
                next_table = time.monotonic() + options.refresh_s
    except KeyboardInterrupt:
        pass
    finally:
        client.disconnect()
        client.loop_stop()
    return state


def render_fleet(state: FleetState, now: float) -> str:
    summary = state.summary()
    lines = [
        f"{summary['devices']} devices: {summary['online']} online, {summary['offline']} offline   "
        f"invalid {summary['invalid']}, duplicates {summary['duplicates']}, stale wills {summary['stale_wills']}",
        "open issues: " + (", ".join(f"{t} {n}" for t, n in sorted(summary["open_issues_by_type"].items()))
                           or "none"),
        "",
    ]
    rows = []
    for device in sorted(state.devices.values(), key=lambda d: (-len(d.open_issues), d.device_id)):
        presence = {True: "online", False: "OFFLINE", None: "?"}[device.online]
        issues = ", ".join(sorted({i["type"] for i in device.open_issues.values()})) or "-"
        actions = ", ".join(f"{k} {v}" for k, v in sorted(device.actions.items())) or "-"
        seen = None if device.last_seen is None else f"{duration(now - device.last_seen)} ago"
        rows.append([device.device_id, presence, device.session, len(device.open_issues), issues, actions, seen])
    lines.append(table(["DEVICE", "PRESENCE", "SESSION", "OPEN", "ISSUES", "ACTIONS", "LAST SEEN"], rows))
    if state.last_invalid:
        lines.append(f"\nlast invalid message: {state.last_invalid}")
    return "\n".join(lines)
