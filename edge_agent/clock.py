"""Injectable time: the real clock, and a scaled one that runs the simulated premises faster than life."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def wall(self) -> float: ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Sleep up to `seconds` of this clock's time, waking early when `event` is set."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(0.0, seconds))


class ScaledClock:
    """Time that passes `speed` times faster than real time, from the moment it is created.

    Wall time advances at the same rate, so reported timestamps stay consistent with intervals.
    """

    def __init__(self, speed: float):
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._real_mono0 = time.monotonic()
        self._wall0 = time.time()

    def monotonic(self) -> float:
        return self._real_mono0 + (time.monotonic() - self._real_mono0) * self.speed

    def wall(self) -> float:
        return self._wall0 + (time.monotonic() - self._real_mono0) * self.speed

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(0.0, seconds) / self.speed)


class ManualClock:
    """A clock that moves only when told: for tests of scheduling and hysteresis."""

    def __init__(self, start: float = 1000.0, wall_start: float = 1_700_000_000.0):
        self._mono = start
        self._wall_offset = wall_start - start

    def advance(self, seconds: float) -> None:
        self._mono += seconds

    def monotonic(self) -> float:
        return self._mono

    def wall(self) -> float:
        return self._mono + self._wall_offset

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        self._mono += max(0.0, seconds)
        return event.is_set()
