"""Probe rounds stamped with their time → the window classifier's fixed grid of time slots. Pure.

The model sees time, not rounds: its window spans `window_s` seconds cut into `steps` equal slots, whatever the
probe interval (1 s, 10 s, irregular). A slot holds the mean of the rounds that fell into it; a slot no round
fell into is NaN, and `window_features.fill_gaps` carries the last reading forward, as for any lost reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_agent.ml.window_features import FEATURE_NAMES, Row, window_raw

# The connectivity columns: a window without them has nothing to say about the network.
CONNECTIVITY = tuple(FEATURE_NAMES.index(name) for name in ("rtt_ms", "loss_pct", "dns_ms"))


@dataclass(frozen=True)
class WindowGrid:
    """`steps` slots of window_s / steps seconds each, ending at the newest round."""

    window_s: float
    steps: int

    def __post_init__(self) -> None:
        if not (self.window_s > 0 and self.steps >= 1):
            raise ValueError(f"a window needs a positive span and at least one slot, got {self.window_s} s, "
                             f"{self.steps} slots")

    @property
    def slot_s(self) -> float:
        return self.window_s / self.steps


def resample(times: Sequence[float], rows: Sequence[Row] | np.ndarray, end: float, grid: WindowGrid) -> np.ndarray:
    """Rounds at `times` (seconds, any order) → float array (steps, features) over (end - window_s, end]: each
    slot the per-feature mean of its rounds' measured values, NaN where none. Rounds outside are ignored."""
    values = _as_array(rows)
    stamps = np.asarray(times, dtype=np.float64)
    if stamps.shape != (len(values),):
        raise ValueError(f"{len(values)} rows but {stamps.size} times")
    if not np.all(np.isfinite(stamps)):
        raise ValueError("round times must be finite numbers")
    start = end - grid.window_s
    inside = (stamps > start) & (stamps <= end)
    # Slot k covers (start + k*slot, start + (k+1)*slot]; the newest round closes the last slot.
    slot = np.clip(np.ceil((stamps[inside] - start) / grid.slot_s).astype(np.int64) - 1, 0, grid.steps - 1)
    picked = values[inside]
    known = ~np.isnan(picked)
    sums = np.zeros((grid.steps, values.shape[1]))
    counts = np.zeros((grid.steps, values.shape[1]))
    np.add.at(sums, slot, np.where(known, picked, 0.0))
    np.add.at(counts, slot, known)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def connectivity_coverage(resampled: np.ndarray, grid: WindowGrid, max_gap_s: float) -> float:
    """Share of slots with a connectivity reading (gateway RTT or loss, or DNS) no older than `max_gap_s`:
    below a limit the window is mostly guesses (an agent that was stopped, a probe that did not run)."""
    measured = ~np.all(np.isnan(resampled[:, CONNECTIVITY]), axis=1)
    if not measured.any():
        return 0.0
    reach = max(int(max_gap_s // grid.slot_s), 0)
    covered = measured.copy()
    last = -1  # a round just before the window: the detector asks only once its rounds span the window
    for i, has in enumerate(measured):
        if has:
            last = i
        covered[i] = i - last <= reach
    return float(covered.mean())


def _as_array(rows: Sequence[Row] | np.ndarray) -> np.ndarray:
    if len(rows) == 0:
        return np.empty((0, len(FEATURE_NAMES)))
    return window_raw(rows) if not isinstance(rows, np.ndarray) else window_raw(rows.tolist())
