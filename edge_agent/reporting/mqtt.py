"""MQTT v5 publisher (paho 2.x): drains the durable outbox, owns presence (retained `status` and Last Will).

One thread owns the paho client: it connects, reconnects with exponential backoff and jitter, publishes
from the outbox in order with a bounded in-flight window, and deletes a message only when the broker
acknowledged it (PUBACK for QoS 1). Other threads only write to the outbox and wake this one.

Supervision: nothing raised while handling one packet or one iteration may end the thread (a device that is
running but mute is the worst failure there is). paho's callbacks are contained, and an error in the loop
closes the connection and reconnects with backoff. `alive()` tells whether the thread still turns over, so
`status` reports the truth and the agent's loop can exit for systemd to restart it if it ever does not.

Delivery is checked, not assumed: QoS 0 telemetry stays in the outbox until a later acknowledgement on the same
connection proves the broker read it (TCP delivers in order), and every so often one telemetry message goes at
QoS 1 to be that proof. What a broken connection leaves unproven is sent again, and counted; with stalls and
lost connections it feeds the reporting path's health (path_health.py, issue `reporting_degraded`).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_agent import __version__
from edge_agent.config import MqttSection
from edge_agent.reporting.envelope import SCHEMA_META, SCHEMA_STATUS, EnvelopeFactory
from edge_agent.reporting.fragmentation import IP_PMTUDISC_DONT, path_mtu_mode, set_path_mtu_mode
from edge_agent.reporting.home_assistant import discovery_configs
from edge_agent.reporting.outbox import Outbox
from edge_agent.reporting.path_health import PathHealthMonitor, PathVerdict
from edge_agent.untrusted_files import read_bounded

log = logging.getLogger(__name__)

OFFLINE_PUBLISH_TIMEOUT_S = 2.0
DRAIN_ON_SHUTDOWN_S = 1.5  # the agent must stop within 5 s of SIGTERM: drain, then say offline, then go
INFLIGHT_WINDOW = 200
SESSION_EXPIRY_S = 24 * 3600
RECONNECT_MIN_S = 1.0
RECONNECT_MAX_S = 60.0
IDLE_LOOP_S = 0.25
# MQTT v5 Maximum Packet Size: the broker must not send us more. The largest command is 64 KiB (commands.py);
# without it a 100 MB retained message is read whole into memory before any check can refuse it.
MAX_INBOUND_PACKET_BYTES = 128 * 1024
# The loop turns over every second or so, but one connection attempt may block far longer: resolving the
# broker's name while DNS is down can take 30 s and more (glibc: 5 s x 2 attempts x each nameserver), and a
# slow TLS handshake adds to it. Only a thread that has not turned over for this long is stuck; a shorter bound
# would restart the agent (exit 70) over and over during a DNS outage, until systemd gave up on it.
LOOP_STALL_S = 600.0
# A QoS 0 message goes at QoS 1 instead when this many are unproven, or the oldest has waited this long: its
# PUBACK proves all of them delivered. Bounds what a broken connection can make us send twice.
CONFIRM_EVERY_MESSAGES = 50
CONFIRM_AFTER_S = 10.0
# When the agent's own probes see the path to the broker come back, the next attempt is at most this far away
# (jittered, so a fleet whose uplinks return together does not connect at one instant).
PATH_BACK_DELAY_S = 2.0


def reconnect_delay(
    attempt: int, rng: random.Random, low: float = RECONNECT_MIN_S, high: float = RECONNECT_MAX_S
) -> float:
    """Exponential backoff with "equal jitter": a fleet that lost its broker together does not return together."""
    ceiling = min(high, low * 2 ** max(0, attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


class MqttPublisher:
    """The outbox's consumer and the device's presence on the broker."""

    def __init__(
        self,
        config: MqttSection,
        envelopes: EnvelopeFactory,
        outbox: Outbox,
        now: Callable[[], tuple[float, float]],
        session_file: Path,
        meta: Callable[[], dict[str, Any]] = dict,
        rng: random.Random | None = None,
    ):
        """`now` returns (monotonic, wall) seconds from the agent's clock; `meta` the device card's body."""
        import paho.mqtt.client as mqtt  # only when MQTT is enabled
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        self.config = config
        self.envelopes = envelopes
        self.outbox = outbox
        self._now = now
        self._rng = rng or random.Random()
        self.base_topic = f"{config.topic_prefix}/{envelopes.device_id}"
        self.connected = threading.Event()
        self.published = 0  # acknowledged by the broker (or, for QoS 0, proven delivered)
        self.written = 0
        self.connects = 0
        self.path = PathHealthMonitor()
        self.loop_errors = 0
        self.last_loop_mono = time.monotonic()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._inflight: dict[int, _InFlight] = {}  # paho mid -> what its PUBACK settles; oldest first
        self._unproven: list[tuple[int, float]] = []  # QoS 0 outbox ids written on this connection, and when
        self._path_back = threading.Event()
        self.routers_fragment = False  # a path-MTU black hole is open: the broker connection goes without DF
        self._path_mtu_default: int | None = None  # the kernel's mode for a new socket, to go back to
        self._acked: list[int] = []
        self._acked_lock = threading.Lock()
        self._last_sent_id = 0
        self._attempt = 0
        self._session_file = session_file
        self.session = _read_session(session_file)
        self._meta = meta
        self.on_command: Callable[[str, bytes, str | None, bytes | None, bool], None] | None = None
        self._publish_properties = lambda: Properties(PacketTypes.PUBLISH)
        from paho.mqtt.subscribeoptions import SubscribeOptions

        # Retained commands are never sent to us: one left on the broker would otherwise run at every connection.
        self._command_subscription = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND)

        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=envelopes.device_id,
            protocol=mqtt.MQTTv5,
        )
        if config.username:
            password = config.password.get_secret_value() if config.password else None
            client.username_pw_set(config.username, password)
        if config.uses_tls:  # every broker off this machine, with the system's CA store when no ca_file is named
            from edge_agent.tls import mqtt_tls_context

            client.tls_set_context(mqtt_tls_context(config))
        client.max_queued_messages_set(0)
        # Our callbacks contain their own errors; should one still escape, paho logs it instead of raising it
        # out of loop() (which would end the thread while a QoS 1 command stays unacknowledged, to be redelivered).
        client.suppress_exceptions = True
        client.on_connect = _contained(self, "on_connect", self._on_connect)
        client.on_disconnect = _contained(self, "on_disconnect", self._on_disconnect)
        client.on_publish = _contained(self, "on_publish", self._on_publish)
        client.on_message = _contained(self, "on_message", self._on_message)
        client.on_socket_open = _contained(self, "on_socket_open", self._on_socket_open)
        self._connect_properties = Properties(PacketTypes.CONNECT)
        self._connect_properties.SessionExpiryInterval = SESSION_EXPIRY_S
        self._connect_properties.MaximumPacketSize = MAX_INBOUND_PACKET_BYTES
        self.client = client

    def topic(self, relative: str) -> str:
        return f"{self.base_topic}/{relative}"

    # Presence (status, meta, the Last Will) is state, not history: it takes no sequence number of its own (a
    # will built for every connection attempt would burn one, which reads as loss), and is ordered by `session`.
    def _status_payload(self, state: str, reason: str, session: int) -> str:
        mono, wall = self._now()
        body = {"state": state, "reason": reason, "session": session}
        return json.dumps(self.envelopes.wrap_presence(SCHEMA_STATUS, body, wall, mono))

    def _meta_payload(self) -> str:
        mono, wall = self._now()
        return json.dumps(self.envelopes.wrap_presence(SCHEMA_META, self._meta(), wall, mono), default=str)

    def start(self) -> None:
        self.path.started(time.monotonic())
        self._thread = threading.Thread(target=self._run, name="mqtt", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def alive(self) -> bool:
        """The thread runs and its loop turned over within LOOP_STALL_S."""
        thread_running = self._thread is not None and self._thread.is_alive()
        return thread_running and time.monotonic() - self.last_loop_mono < LOOP_STALL_S

    def link_up(self) -> bool:
        """Connected, and the loop that would notice a dead broker (keepalive) is running."""
        return self.connected.is_set() and self.alive()

    def path_seen_up(self) -> None:
        """The agent's own probe just saw the way to the broker come back: try soon instead of at the end of a
        long backoff. One early attempt per hint; if it fails, the backoff goes on growing."""
        if not self.connected.is_set():
            self._path_back.set()
            self._wake.set()

    def let_routers_fragment(self, allowed: bool) -> None:
        """While a path-MTU black hole is open, the connection to the broker goes without Don't Fragment (IPv4):
        the narrow hop fragments the segments it would drop unannounced, so the reports, the black hole's own
        among them, get through instead of stalling the connection. Set back once the hole is gone: fragments
        cost more, and some firewalls drop them. Applies to the live connection at once, and to every new one."""
        if allowed == self.routers_fragment:
            return
        self.routers_fragment = allowed
        log.warning("a path-MTU black hole is %s: the broker connection %s", "open" if allowed else "gone",
                    "lets routers fragment its packets" if allowed else "sets Don't Fragment again")
        sock = self.client.socket()
        if sock is not None:
            self._apply_path_mtu_mode(sock)

    def _on_socket_open(self, client: Any, userdata: Any, sock: Any) -> None:
        if self._path_mtu_default is None:
            self._path_mtu_default = path_mtu_mode(sock)
        if self.routers_fragment:
            self._apply_path_mtu_mode(sock)

    def _apply_path_mtu_mode(self, sock: Any) -> None:
        if self.routers_fragment:
            set_path_mtu_mode(sock, IP_PMTUDISC_DONT)
        elif self._path_mtu_default is not None:
            set_path_mtu_mode(sock, self._path_mtu_default)

    def path_verdict(self) -> PathVerdict:
        return self.path.verdict(time.monotonic())

    # The MQTT thread.
    def _run(self) -> None:
        socket_open = False
        next_attempt = 0.0
        while not self._stop.is_set():
            self.last_loop_mono = time.monotonic()
            try:
                socket_open, next_attempt = self._turn(socket_open, next_attempt)
            except Exception as exc:  # noqa: BLE001 — one bad iteration must not end the device's reporting
                self.loop_errors += 1
                log.error("MQTT loop error (%s: %s); reconnecting", type(exc).__name__, exc,
                          exc_info=self.loop_errors == 1)
                self.connected.clear()
                self._connection_ended()
                try:
                    self.client.disconnect()
                except Exception:  # noqa: BLE001, S110 — the socket may already be gone; the reconnect decides
                    pass
                socket_open = False
                self._attempt += 1
                next_attempt = time.monotonic() + reconnect_delay(self._attempt, self._rng)
        try:
            self._say_offline_and_disconnect()
        except Exception as exc:  # noqa: BLE001 — shutting down anyway; the Last Will says offline for us
            log.error("MQTT: could not say offline cleanly (%s: %s)", type(exc).__name__, exc)

    def _turn(self, socket_open: bool, next_attempt: float) -> tuple[bool, float]:
        """One iteration of the MQTT thread: connect when due, send what fits, service the socket."""
        import paho.mqtt.client as mqtt

        if not socket_open:
            wait = next_attempt - time.monotonic()
            if self._path_back.is_set():
                self._path_back.clear()
                if wait > PATH_BACK_DELAY_S:
                    wait = self._rng.uniform(0, PATH_BACK_DELAY_S)
                    next_attempt = time.monotonic() + wait
            if wait > 0:
                self._wake.wait(min(wait, 1.0))
                self._wake.clear()
                return False, next_attempt
            if self._try_connect():
                return True, next_attempt
            self._attempt += 1
            return False, time.monotonic() + reconnect_delay(self._attempt, self._rng)
        self._forget_acked()
        backlog = self._send_window() if self.connected.is_set() else False
        oldest = next(iter(self._inflight.values())).sent if self._inflight else None
        self.path.unacknowledged_since(time.monotonic(), oldest)
        # Short select while draining; when idle, a quarter second bounds the latency of a new event.
        if self.client.loop(timeout=0.01 if backlog else IDLE_LOOP_S) != mqtt.MQTT_ERR_SUCCESS:
            self.connected.clear()
            self._connection_ended()
            self._attempt += 1
            return False, time.monotonic() + reconnect_delay(self._attempt, self._rng)
        return True, next_attempt

    def _try_connect(self) -> bool:
        # The will carries the session this connection will have, so a stale will is recognisable later.
        will = self._status_payload("offline", "connection lost", self.session + 1)
        self.client.will_set(self.topic("status"), will, qos=1, retain=True)
        try:
            self.client.connect(
                self.config.host,
                self.config.port,
                keepalive=self.config.keepalive_s,
                clean_start=False,
                properties=self._connect_properties,
            )
        except OSError as exc:
            if self._attempt == 0:
                broker = f"{self.config.host}:{self.config.port}"
                log.warning("MQTT %s unreachable (%s); retrying with backoff", broker, exc)
            return False
        return True

    def _send_window(self) -> bool:
        """Publish the next outbox messages that fit in the in-flight window; True while a backlog remains."""
        room = INFLIGHT_WINDOW - len(self._inflight)
        if room <= 0:
            return True
        batch = self.outbox.peek(self._last_sent_id, room)
        sent = 0
        for message in batch:
            topic = self.topic(message.topic)
            properties = None
            if message.correlation is not None:
                properties = self._publish_properties()
                properties.CorrelationData = message.correlation
            now = time.monotonic()
            qos = message.qos or int(self._proof_due(now))
            info = self.client.publish(topic, message.payload, qos=qos, retain=message.retain, properties=properties)
            if info.rc != 0:
                break  # not connected any more: the rest waits in the outbox
            self._last_sent_id = message.id
            sent += 1
            if qos == 0:
                # Not in flight: paho may report a QoS 0 write from inside publish(), before the mid is known here.
                self._unproven.append((message.id, now))
            else:
                # Its PUBACK proves every earlier write on this connection read by the broker.
                proves = tuple(message_id for message_id, _ in self._unproven)
                self._unproven.clear()
                self._inflight[info.mid] = _InFlight(message.id, now, proves)
        self.written += sent
        self.path.wrote(time.monotonic(), sent)
        return len(batch) == room

    def _proof_due(self, now: float) -> bool:
        """Whether this QoS 0 message should go at QoS 1, to prove the ones before it delivered."""
        if not self._unproven:
            return False
        return len(self._unproven) + 1 >= CONFIRM_EVERY_MESSAGES or now - self._unproven[0][1] >= CONFIRM_AFTER_S

    def _connection_ended(self) -> None:
        """What this connection wrote without proof goes again on the next (the outbox still holds it)."""
        unproven = len(self._unproven) + sum(1 + len(entry.proves) for entry in self._inflight.values())
        self._unproven.clear()
        self._inflight.clear()
        self.path.connection_lost(time.monotonic(), unproven)

    def _forget_acked(self) -> None:
        with self._acked_lock:
            acked, self._acked = self._acked, []
        if acked:
            self.outbox.delete(acked)
            self.published += len(acked)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            log.error("MQTT broker %s:%s refused the connection: %s", self.config.host, self.config.port, reason_code)
            return
        self.connects += 1
        self._attempt = 0
        self.session += 1
        try:
            _write_session(self._session_file, self.session)
        except OSError as exc:  # a full disk must not keep the device off the broker: the counter lives in memory
            log.error("MQTT session counter %s not saved (%s)", self._session_file, exc)
        # Everything still in the outbox goes again, in order; paho's own copies of what the last connection left
        # unacknowledged do not (see _forget_unacknowledged).
        self._forget_unacknowledged()
        self._inflight.clear()
        self._unproven.clear()
        self._last_sent_id = 0
        self._path_back.clear()
        self.path.connected(time.monotonic())
        log.info("MQTT connected to %s:%s (session %d)", self.config.host, self.config.port, self.session)
        # Birth: listen for commands before announcing that we are online.
        client.subscribe(self.topic("cmd/#"), options=self._command_subscription)
        client.publish(self.topic("status"), self._status_payload("online", "connected", self.session), qos=1,
                       retain=True)
        client.publish(self.topic("meta"), self._meta_payload(), qos=1, retain=True)
        if self.config.home_assistant:
            for topic, config in discovery_configs(self.envelopes.device_id, self.base_topic,
                                                   self.config.home_assistant_prefix, __version__):
                client.publish(topic, json.dumps(config), qos=1, retain=True)
        self.connected.set()

    def _forget_unacknowledged(self) -> None:
        """Drop paho's copies of the publishes earlier connections left unacknowledged, which it would send again.

        Ours are all in the outbox, which sends them again itself, and presence belongs to the session that sent
        it. paho's copies were one more duplicate of each pending event per broken connection, all sent together
        once the path worked (an event delivered 9 times after 8 connections lost to a path-MTU black hole), and
        an older session's retained "online" arriving after the newest one. paho has no public call for this."""
        lock = getattr(self.client, "_out_message_mutex", None)
        pending = getattr(self.client, "_out_messages", None)
        if lock is None or not hasattr(pending, "clear"):
            log.warning("MQTT: this paho version keeps its unacknowledged publishes; expect duplicates after a "
                        "broken connection")
            return
        with lock:
            pending.clear()
            self.client._inflight_messages = 0

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        if self.on_command is None:
            return
        properties = getattr(message, "properties", None)
        response_topic = getattr(properties, "ResponseTopic", None)
        correlation = getattr(properties, "CorrelationData", None)
        self.on_command(message.topic, message.payload, response_topic, correlation, bool(message.retain))

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            self._connection_ended()
            log.warning("MQTT connection lost (%s); reconnecting with backoff", reason_code)

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        entry = self._inflight.pop(mid, None)
        if entry is None:
            return  # presence messages do not live in the outbox
        settled = list(entry.proves)  # read by the broker, whatever it answers about this one
        if reason_code.is_failure:
            log.error("MQTT broker refused outbox message %d: %s (kept for retry)", entry.message_id, reason_code)
        else:
            settled.append(entry.message_id)
        with self._acked_lock:
            self._acked.extend(settled)

    def _drain_before_offline(self, deadline: float) -> None:
        """On shutdown, what is queued goes out first (within the deadline): the fleet should not see a device go
        offline with its last events still on the device. What does not make it stays in the outbox."""
        while self.connected.is_set() and time.monotonic() < deadline:
            self._forget_acked()
            self._send_window()
            if not self._inflight and not self.outbox.peek(self._last_sent_id, 1):
                return
            if self.client.loop(timeout=0.05) != 0:
                return

    def _say_offline_and_disconnect(self) -> None:
        """Offline before a clean DISCONNECT (which suppresses the will), within a bounded time."""
        self._drain_before_offline(time.monotonic() + DRAIN_ON_SHUTDOWN_S)
        if self.connected.is_set():
            info = self.client.publish(
                self.topic("status"), self._status_payload("offline", "shutdown", self.session), qos=1, retain=True
            )
            deadline = time.monotonic() + OFFLINE_PUBLISH_TIMEOUT_S
            while not info.is_published() and self.client.is_connected() and time.monotonic() < deadline:
                self.client.loop(timeout=0.05)
            if info.is_published():  # its PUBACK proves the telemetry written before it delivered
                with self._acked_lock:
                    self._acked.extend(message_id for message_id, _ in self._unproven)
                self._unproven.clear()
            self._forget_acked()
        self.client.disconnect()
        self.client.loop(timeout=0.05)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=DRAIN_ON_SHUTDOWN_S + OFFLINE_PUBLISH_TIMEOUT_S + 1)


@dataclass(frozen=True)
class _InFlight:
    message_id: int  # in the outbox
    sent: float  # monotonic
    proves: tuple[int, ...]  # QoS 0 messages written before it on this connection


def _contained(publisher: MqttPublisher, name: str, callback: Callable[..., None]) -> Callable[..., None]:
    """A paho callback whose errors are logged (the first with its traceback) and counted, never raised."""

    def run(*args: Any) -> None:
        try:
            callback(*args)
        except Exception as exc:  # noqa: BLE001 — see the module docstring: the MQTT thread must not die
            publisher.loop_errors += 1
            log.error("MQTT %s failed (%s: %s)", name, type(exc).__name__, exc, exc_info=publisher.loop_errors == 1)

    return run


MAX_SESSION_BYTES = 64  # the counter is one decimal number


def _read_session(path: Path) -> int:
    try:
        return int(read_bounded(path, MAX_SESSION_BYTES).decode("ascii").strip() or 0)
    except FileNotFoundError:
        return 0
    except (ValueError, OSError) as exc:
        log.warning("session counter %s is unreadable (%s); starting from 0", path, exc)
        return 0


def _write_session(path: Path, session: int) -> None:
    """Best effort: the counter only tells a stale Last Will from a current one, so a disk that refuses it (full,
    read-only) costs that distinction, never the connection or the MQTT thread."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(f"{session}\n")
        temporary.replace(path)  # atomic: a crash leaves the old or the new counter, never half of one
    except OSError as exc:
        log.warning("cannot save the MQTT session counter to %s (%s); keeping %d in memory", path, exc, session)
        temporary.unlink(missing_ok=True)


class OutboxSink:
    """The reporter's commit point: store in the outbox (disk, or memory while the disk refuses), wake the MQTT
    thread."""

    def __init__(self, outbox: Outbox, publisher: MqttPublisher):
        self.outbox = outbox
        self.publisher = publisher

    def publish(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        self.commit(topic, message, durable)

    def commit(self, topic: str, message: dict[str, Any], durable: bool) -> int | None:
        """Store the message; returns its id while it is only held in memory (not yet safe on disk), else None."""
        payload = json.dumps(message, separators=(",", ":"), default=str).encode()
        kind = "event" if durable else "telemetry"
        message_id = self.outbox.put(kind, topic, payload, qos=1 if durable else 0)
        if message_id is None:
            return None
        self.publisher.wake()
        return message_id if self.outbox.is_held(message_id) else None

    def settled(self) -> list[int]:
        """Held messages that have since been written to disk or acknowledged by the broker."""
        return self.outbox.take_settled()

    def close(self) -> None:
        self.publisher.close()
        self.outbox.close()
