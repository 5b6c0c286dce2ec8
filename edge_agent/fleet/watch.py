"""`edge-agent fleet watch`: subscribe to the fleet's topics and show it, as JSON lines or a live table.

With `--share GROUP` the subscription is an MQTT v5 shared one: several watchers split the messages between
them (each message goes to one of them), which is how the watch scales out on the broker already there.

With `--store URL` every new message also goes into the fleet store (see `store`), in batches; a message is
acknowledged to the broker only after the batch holding it is committed, so a watcher that dies loses nothing
it acknowledged. With `--session NAME` the watcher keeps a persistent MQTT session under that client id: what
the broker sent it but it never acknowledged (it was killed), and what came while it was away, is delivered
again when it comes back, instead of being dropped with a clean session.
"""

from __future__ import annotations

import json
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

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
    store_url: str | None = None
    session: str | None = None  # the client id of a persistent session
    session_expiry_s: int = 3600  # how long the broker keeps that session while the watcher is away

    @property
    def topic_filter(self) -> str:
        base = f"{self.prefix}/+/#"
        return f"$share/{self.share}/{base}" if self.share else base


STORE_BATCH = 500  # messages per store transaction at most
STORE_FLUSH_S = 0.5  # a message waits at most this long for its batch


@dataclass
class StoreWriter:
    """Events waiting for the store, with the MQTT acknowledgements that wait for their commit."""

    store: Any  # a FleetStore
    client: Any
    events: list[dict[str, Any]] = field(default_factory=list)
    acks: list[tuple[int, int]] = field(default_factory=list)
    since: float | None = None
    stored: int = 0

    def add(self, event: dict[str, Any] | None, mid: int, qos: int) -> None:
        if event is not None:
            self.events.append(event)
        if qos > 0:
            self.acks.append((mid, qos))
        if self.since is None:
            self.since = time.monotonic()

    def due(self, idle: bool) -> bool:
        if self.since is None:
            return False
        return idle or len(self.events) >= STORE_BATCH or time.monotonic() - self.since >= STORE_FLUSH_S

    def flush(self) -> None:
        self.stored += self.store.record(self.events)
        for mid, qos in self.acks:  # committed: now the broker may forget them
            self.client.ack(mid, qos)
        self.events, self.acks, self.since = [], [], None


def watch(options: WatchOptions, out: TextIO = sys.stdout, now: Callable[[], float] = time.time) -> FleetState:
    state = FleetState(prefix=options.prefix)
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    store = None
    if options.store_url:
        from edge_agent.fleet.store import FleetStore  # the database drivers only for a watcher that stores

        store = FleetStore(options.store_url)
    client = fleet_client(options.broker, manual_ack=store is not None, client_id=options.session or "")
    writer = StoreWriter(store, client) if store is not None else None
    subscribed = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(options.topic_filter, qos=1)
    client.on_subscribe = lambda *args: subscribed.set()
    # paho's thread only queues; parsing, aggregation and storing happen here, on one thread.
    client.on_message = lambda c, u, msg: inbox.put((msg.topic, msg.payload, now(), msg.mid, msg.qos))
    try:
        client.connect(options.broker.host, options.broker.port, **_session(options))
        client.loop_start()
        deadline = None if options.duration_s is None else time.monotonic() + options.duration_s
        next_table = time.monotonic()
        announced = False
        stop = _stop_on_sigterm()
        try:
            while (deadline is None or time.monotonic() < deadline) and not stop.is_set():
                if not announced and subscribed.is_set():
                    # On stderr, so JSON lines stay clean: scripts (and tests) wait for this before publishing.
                    print(f"edge-agent: watching {options.topic_filter} on {options.broker.host}:"
                          f"{options.broker.port}" + (f", storing in {store.dialect.name}" if store else ""),
                          file=sys.stderr, flush=True)
                    announced = True
                try:
                    item = inbox.get(timeout=0.2)
                except queue.Empty:
                    item = None
                if item is not None:
                    _take(state, writer, item, options, out)
                if writer is not None and writer.due(idle=inbox.empty()):
                    writer.flush()
                    state.stored = writer.stored
                if not options.as_json and time.monotonic() >= next_table:
                    out.write("\033[2J\033[H" if out.isatty() else "\n")
                    out.write(terminal_safe(render_fleet(state, now())) + "\n")
                    out.flush()
                    next_table = time.monotonic() + options.refresh_s
        except KeyboardInterrupt:
            pass
        if options.session is None:
            # A clean session is dropped at disconnect: stop the flow first, so what the broker already handed
            # over is taken below instead of being lost with the session.
            client.unsubscribe(options.topic_filter)
            time.sleep(0.2)
        # What already arrived is counted, printed and stored before leaving. (A persistent session keeps its
        # subscription; what it has not yet received comes next time.)
        while not inbox.empty():
            _take(state, writer, inbox.get(), options, out)
        if writer is not None:
            writer.flush()
            state.stored = writer.stored
    finally:
        client.disconnect()
        client.loop_stop()
        if store is not None:
            store.close()
    return state


def _session(options: WatchOptions) -> dict[str, Any]:
    """connect() arguments: a clean start, or the persistent session named by --session."""
    if options.session is None:
        return {}
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = options.session_expiry_s
    return {"clean_start": False, "properties": properties}


def _stop_on_sigterm() -> threading.Event:
    """Set by SIGTERM (a service manager stopping the watcher): the loop ends as at its --duration, storing and
    acknowledging what already arrived and printing the summary. Only the main thread may install a handler."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    return stop


def _take(state: FleetState, writer: StoreWriter | None, item: tuple, options: WatchOptions, out: TextIO) -> None:
    topic, payload, received, mid, qos = item
    event = state.ingest(topic, payload, received)
    if event is not None and options.as_json:
        out.write(json.dumps(event, default=str) + "\n")
        out.flush()
    if writer is not None:
        writer.add(event, mid, qos)


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
