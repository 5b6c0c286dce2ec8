"""One result serving every request for a while: what the control socket's `diagnose` answers from.

Any member of the control group may ask for a diagnosis, and each one runs every collector and probe at once on
the agent's loop. A client asking in a loop had the agent diagnose 33 times a second (73 % of a core, and on a
real gateway the probes' packets on the customer's network). Requests within `reuse_s` of the last run get that
run's report, saying how old it is; requests that arrive while one runs wait for it instead of queueing their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class RecentResult:
    def __init__(self, reuse_s: float, clock: Callable[[], float] = time.monotonic):
        self.reuse_s = reuse_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, Any] | None = None
        self._at = float("-inf")

    def get(self, run: Callable[[], dict[str, Any]], wait_s: float) -> dict[str, Any]:
        """The last result if it is younger than `reuse_s` (with `age_s`), else a fresh one from `run`.
        Raises TimeoutError when another caller's run holds it longer than `wait_s`."""
        if not self._lock.acquire(timeout=wait_s):
            raise TimeoutError
        try:
            age = self._clock() - self._at
            if self._last is not None and age < self.reuse_s:
                return {**self._last, "age_s": round(age, 1)}
            self._last = run()
            self._at = self._clock()
            return self._last
        finally:
            self._lock.release()
