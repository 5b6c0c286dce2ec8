"""The limits every action passes before it runs, whoever asked for it (pure: time is passed in).

Per-action rate (max N per hour), a global cap, exponential backoff after an action failed to fix,
a minimum gap between disruptive actions, and quiet hours for disruptive ones.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from edge_agent.remediation.refs import ActionRef
from edge_agent.remediation.settings import QUIET_HOURS, RemediationSection

HOUR_S = 3600.0
DAY_MIN = 24 * 60


@dataclass(frozen=True)
class Blocked:
    reason: str
    not_before: float  # monotonic time from which the action would be allowed


def quiet_minutes_left(quiet_hours: str, minute_of_day: float) -> float:
    """Minutes until the quiet period ends, 0 outside it. `quiet_hours` is HH:MM-HH:MM and may wrap midnight."""
    match = QUIET_HOURS.match(quiet_hours)
    if not quiet_hours or not match:
        return 0.0
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        return 0.0
    since_start = (minute_of_day - start) % DAY_MIN
    length = (end - start) % DAY_MIN
    return length - since_start if since_start < length else 0.0


def local_minute_of_day(wall: float) -> float:
    t = time.localtime(wall)
    return t.tm_hour * 60 + t.tm_min + t.tm_sec / 60


class SafetyGates:
    def __init__(self, settings: RemediationSection):
        self.settings = settings
        self._runs: deque[tuple[float, str]] = deque()  # (mono, action name) of the last hour
        self._last_disruptive: float | None = None
        self._failures: dict[str, tuple[int, float]] = {}  # str(ref) -> (failures in a row, mono of the last)

    def check(self, ref: ActionRef, disruptive: bool, mono: float, wall: float) -> Blocked | None:
        """None when `ref` may run now; else why not and from when it could."""
        self._forget_before(mono - HOUR_S)
        s = self.settings
        limit = s.limits(ref.name).max_per_hour
        own = [t for t, name in self._runs if name == ref.name]
        if len(own) >= limit:
            when = own[-limit] + HOUR_S if limit else float("inf")
            return Blocked(f"rate limit: {ref.name} at most {limit} per hour", when)
        if len(self._runs) >= s.max_actions_per_hour:
            when = self._runs[-s.max_actions_per_hour][0] + HOUR_S if s.max_actions_per_hour else float("inf")
            return Blocked(f"global cap: at most {s.max_actions_per_hour} actions per hour", when)
        failures, last = self._failures.get(str(ref), (0, 0.0))
        if failures:
            wait = s.backoff_base_s * 2 ** (failures - 1)
            if mono < last + wait:
                return Blocked(f"backoff: {ref} failed to fix {failures} time(s) in a row", last + wait)
        if not disruptive:
            return None
        if self._last_disruptive is not None and mono < self._last_disruptive + s.min_disruptive_gap_s:
            return Blocked(f"disruptive actions at least {s.min_disruptive_gap_s:g} s apart",
                           self._last_disruptive + s.min_disruptive_gap_s)
        quiet_left = quiet_minutes_left(s.quiet_hours, local_minute_of_day(wall))
        if quiet_left:
            return Blocked(f"quiet hours {s.quiet_hours}", mono + quiet_left * 60)
        return None

    def record_run(self, ref: ActionRef, disruptive: bool, mono: float) -> None:
        self._runs.append((mono, ref.name))
        if disruptive:
            self._last_disruptive = mono

    def record_result(self, ref: ActionRef, fixed: bool, mono: float) -> None:
        if fixed:
            self._failures.pop(str(ref), None)
            return
        failures, _ = self._failures.get(str(ref), (0, 0.0))
        self._failures[str(ref)] = (failures + 1, mono)

    def runs_last_hour(self, mono: float) -> int:
        self._forget_before(mono - HOUR_S)
        return len(self._runs)

    def _forget_before(self, cutoff: float) -> None:
        while self._runs and self._runs[0][0] <= cutoff:
            self._runs.popleft()
