"""Metric values as the telemetry contract carries them: numbers for aggregation and the latency histogram's
buckets. Pure and light: the agent's report windows use it without loading the contract's pydantic models
(contract.py, for schemas and consumers), which the agent never needs at run time."""

from __future__ import annotations

import math
from typing import Any

# Upper bounds of the latency histogram's buckets in milliseconds; the last bucket holds everything above.
HISTOGRAM_BOUNDS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def as_number(value: Any) -> float | None:
    """A metric value as a float for aggregation, or None when it is not a finite number (text, null, NaN,
    infinity, an integer beyond a float's range). true/false count as 1/0."""
    if not isinstance(value, bool | int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
