"""How well the reporting path (agent → broker) works, judged from what the publisher saw: pure, no I/O.

A connection that is up is not a path that works. A path-MTU black hole lets the small keepalive through while
large publishes sit in the socket; a flapping uplink or a broker that drops us makes the session reconnect again
and again; QoS 0 telemetry written into a socket that then breaks never arrives. The publisher tells this monitor
what it wrote, what the broker acknowledged and when connections came and went; `verdict` turns a recent window
of that into "degraded, because ..." with the numbers as evidence (issue `reporting_degraded`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

WINDOW_S = 300.0  # the recent past a verdict looks at
STORM_LOSSES = 3  # this many lost connections within the window is a reconnect storm, not a blip
STALL_S = 30.0  # a message the broker has not acknowledged for this long, while connected, is a stalled session
OFFLINE_S = 120.0  # off the broker this long (whatever the cause) means nothing reaches the fleet
RESEND_SHARE_MAX = 0.1  # more than this share of what was written had to go again after a broken connection
RESEND_MIN_WRITTEN = 20  # too few messages to judge a share
MAX_EVENTS = 1024  # a bound on the remembered events, whatever the broker does


@dataclass(frozen=True)
class PathVerdict:
    degraded: bool
    reasons: tuple[str, ...]
    metrics: dict[str, float | int | None]


@dataclass
class PathHealthMonitor:
    """Fed by the MQTT thread, read by the agent's loop: every method takes the lock."""

    window_s: float = WINDOW_S
    stall_s: float = STALL_S
    offline_s: float = OFFLINE_S
    _losses: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    _stalls: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    _written: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    _resent: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    _offline_since: float | None = None
    _oldest_unacked: float | None = None
    _stalled: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    total_losses: int = 0
    total_resent: int = 0
    total_stalls: int = 0

    def started(self, now: float) -> None:
        """The publisher starts off the broker: the time to the first connection counts as offline."""
        with self._lock:
            self._offline_since = now

    def connected(self, now: float) -> None:
        with self._lock:
            self._offline_since = None
            self._oldest_unacked = None
            self._stalled = False

    def connection_lost(self, now: float, unconfirmed: int) -> None:
        """`unconfirmed`: messages written on this connection that the broker never confirmed; they go again."""
        with self._lock:
            if self._offline_since is not None:
                return  # a failed attempt while already off the broker is not another loss
            self._offline_since = now
            self._oldest_unacked = None
            self._stalled = False
            self._losses.append(now)
            self.total_losses += 1
            if unconfirmed:
                self._resent.append((now, unconfirmed))
                self.total_resent += unconfirmed

    def wrote(self, now: float, count: int) -> None:
        if count <= 0:
            return
        with self._lock:
            if self._written and now - self._written[-1][0] < 1.0:
                last_time, last_count = self._written[-1]  # one entry a second keeps the deque's bound meaningful
                self._written[-1] = (last_time, last_count + count)
            else:
                self._written.append((now, count))

    def unacknowledged_since(self, now: float, oldest: float | None) -> None:
        """The send time of the oldest message still waiting for the broker (None: nothing waits)."""
        with self._lock:
            self._oldest_unacked = oldest
            stalled = oldest is not None and now - oldest >= self.stall_s
            if stalled and not self._stalled:
                self._stalls.append(now)
                self.total_stalls += 1
            self._stalled = stalled

    def verdict(self, now: float) -> PathVerdict:
        with self._lock:
            since = now - self.window_s
            losses = sum(1 for t in self._losses if t >= since)
            stalls = sum(1 for t in self._stalls if t >= since)
            written = sum(n for t, n in self._written if t >= since)
            resent = sum(n for t, n in self._resent if t >= since)
            offline_s = None if self._offline_since is None else now - self._offline_since
            waiting_s = None if self._oldest_unacked is None else now - self._oldest_unacked
        reasons = []
        if losses >= STORM_LOSSES:
            reasons.append(f"{losses} lost connections in {self.window_s / 60:.0f} min")
        if waiting_s is not None and waiting_s >= self.stall_s:
            reasons.append(f"the broker has not acknowledged a message for {waiting_s:.0f} s")
        elif stalls:
            reasons.append(f"{stalls} stalled sessions in {self.window_s / 60:.0f} min")
        if offline_s is not None and offline_s >= self.offline_s:
            reasons.append(f"off the broker for {offline_s:.0f} s")
        if written >= RESEND_MIN_WRITTEN and resent > RESEND_SHARE_MAX * written:
            reasons.append(f"{resent} of {written} messages had to be sent again after a broken connection")
        metrics: dict[str, float | int | None] = {
            "connection_losses": losses,
            "stalls": stalls,
            "written": written,
            "resent": resent,
            "offline_s": None if offline_s is None else round(offline_s, 1),
            "unacknowledged_s": None if waiting_s is None else round(waiting_s, 1),
        }
        return PathVerdict(bool(reasons), tuple(reasons), metrics)


def uplink_reachability(samples: Iterable) -> dict[str, bool]:
    """endpoint -> reachable, from one round of the connectivity collector's uplink probes."""
    return {s.subject: bool(s.metrics.get("ok")) for s in samples if s.stream == "connectivity.uplink"}


def broker_path_back(before: Mapping[str, bool], now: Mapping[str, bool], broker: str) -> bool:
    """Whether this round's probes saw the way to the broker come back: the broker's own endpoint when it is
    probed, else the uplink as a whole (no endpoint reachable before, one now)."""
    if broker in now:
        return now[broker] and before.get(broker) is False
    return bool(before) and not any(before.values()) and any(now.values())


def ipv4_black_hole_open(issues: Iterable[Any]) -> bool:
    """Whether an IPv4 path-MTU black hole is open among the active issues (the tracker's Issue objects): the
    broker connection then lets routers fragment (fragmentation.py). Any target's hole counts, as the way to the
    broker usually shares the narrow hop (the WAN link)."""
    return any(issue.type == "pmtu_blackhole" and issue.evidence.get("family", "IPv4") == "IPv4" for issue in issues)
