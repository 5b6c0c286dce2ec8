"""Whether a path-MTU check may call a black hole: only on a path that is not loaded.

A black hole drops full-size packets and nothing else, so the check's small reference echo takes its usual
time. A full queue (a saturated uplink, bufferbloat) also drops full-size packets far more often than small
ones, since a byte-limited queue has room for 96 bytes long before it has room for 1500; but it delays every
packet, the reference echo too. So a check whose reference echo took much longer than the quickest one recently
seen on that path is left undecided: the issue neither opens nor resolves on it. The first check of a path has
nothing to compare with: it is judged only when its reference echo is quick in any terms (a path with a queue
full enough to drop 1500-byte packets delays a 96-byte one by more); otherwise it waits for the next check (a
failing check is repeated within seconds).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

BASELINE_WINDOW_S = 1800.0  # the quickest reference echo of the last half hour: a changed route is relearnt
LOADED_FACTOR = 3.0
LOADED_MARGIN_MS = 20.0  # jitter an idle path has (Wi-Fi, an internet path) is not load
MAX_KEPT = 512


@dataclass
class ReferenceRtts:
    """One path's recent reference-echo round trips (monotonic time, ms)."""

    kept: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=MAX_KEPT))

    def floor(self, now: float) -> float | None:
        while self.kept and self.kept[0][0] < now - BASELINE_WINDOW_S:
            self.kept.popleft()
        return min((rtt for _, rtt in self.kept), default=None)

    def add(self, now: float, rtt_ms: float) -> None:
        self.kept.append((now, rtt_ms))


def loaded_limit_ms(floor_ms: float) -> float:
    return floor_ms * LOADED_FACTOR + LOADED_MARGIN_MS


def black_hole_judgeable(history: ReferenceRtts, now: float, reference_rtt_ms: float | None) -> tuple[bool, str]:
    """Whether this check's black-hole verdict may stand, and why not; records the round trip either way."""
    if not isinstance(reference_rtt_ms, (int, float)) or reference_rtt_ms != reference_rtt_ms:
        return False, "the reference echo's round trip is unknown"
    floor = history.floor(now)
    history.add(now, float(reference_rtt_ms))
    if floor is None:
        if reference_rtt_ms <= LOADED_MARGIN_MS:
            return True, ""
        return False, "no earlier check of this path to compare with"
    if reference_rtt_ms > loaded_limit_ms(min(floor, reference_rtt_ms)):
        return False, (f"the path is loaded: the reference echo took {reference_rtt_ms:.1f} ms against "
                       f"{floor:.1f} ms at best recently")
    return True, ""
