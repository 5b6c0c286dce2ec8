"""Windows of Wi-Fi and connectivity metrics as the window classifier's input: pure functions, no I/O.

One row per probe round, in physical units (dBm, ms, %); `window_array` fills gaps and scales each feature to
about -1..1 the same way for training and on the device, so both always agree on what the model sees.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Feature:
    name: str
    healthy_default: float  # stands in for a value never measured in the window
    log10: bool  # latencies and rates span decades: scale their logarithm
    center: float
    spread: float

    def scale(self, values: np.ndarray) -> np.ndarray:
        if self.log10:
            values = np.log10(np.maximum(values, 0.1))
        return (values - self.center) / self.spread


# Order matters: it is the model's input layout (recorded in the metadata and checked at load).
FEATURES: tuple[Feature, ...] = (
    Feature("signal_dbm", -60.0, False, -65.0, 15.0),  # the weakest connected station
    Feature("noise_dbm", -95.0, False, -90.0, 8.0),
    Feature("busy_ratio", 0.15, False, 0.35, 0.25),
    Feature("retry_ratio", 0.05, False, 0.2, 0.2),  # the worst station's
    Feature("bitrate_mbps", 150.0, True, 2.0, 0.5),  # the weakest station's PHY rate
    Feature("rtt_ms", 2.0, True, 1.0, 0.8),  # gateway
    Feature("loss_pct", 0.0, False, 15.0, 25.0),  # gateway
    Feature("dns_ms", 20.0, True, 1.8, 0.6),  # a failed lookup counts as DNS_TIMEOUT_MS
)
FEATURE_NAMES = tuple(f.name for f in FEATURES)
# What a working collector can report; outside this a reading is broken, not a fault, and the model has never
# seen anything like it.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "signal_dbm": (-120.0, 0.0), "noise_dbm": (-130.0, -20.0), "busy_ratio": (0.0, 1.0), "retry_ratio": (0.0, 1.0),
    "bitrate_mbps": (0.1, 10_000.0), "rtt_ms": (0.0, 60_000.0), "loss_pct": (0.0, 100.0), "dns_ms": (0.0, 60_000.0),
}
DNS_TIMEOUT_MS = 1000.0  # the probe's default timeout
UNREACHABLE_RTT_MS = 1000.0  # every ping lost: as slow as the timeout
CLIP = 4.0

Row = Sequence[float | None]


def round_row(
    radio: Mapping[str, Any] | None,
    stations: Iterable[Mapping[str, Any]],
    gateway: Mapping[str, Any] | None,
    dns: Mapping[str, Any] | None,
) -> list[float | None]:
    """One probe round's metrics (as the collectors put them in samples) as a row; None where not measured."""
    signals = [(s["signal_dbm"], s) for s in stations if _number(s.get("signal_dbm")) is not None]
    weakest = min(signals, key=lambda pair: pair[0])[1] if signals else None
    retries = [r for s in stations if (r := _number(s.get("retry_ratio"))) is not None]
    radio = radio or {}
    return [
        _number(weakest.get("signal_dbm")) if weakest else None,
        _number(radio.get("noise_dbm")),
        _number(radio.get("busy_ratio")),
        max(retries) if retries else None,
        _number(weakest.get("tx_bitrate_mbps")) if weakest else None,
        _gateway_rtt(gateway),
        _number(gateway.get("loss_pct")) if gateway else None,
        _dns_ms(dns),
    ]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def _gateway_rtt(gateway: Mapping[str, Any] | None) -> float | None:
    if not gateway:
        return None
    if gateway.get("received") == 0:
        return UNREACHABLE_RTT_MS
    return _number(gateway.get("rtt_ms"))


def _dns_ms(dns: Mapping[str, Any] | None) -> float | None:
    if not dns:
        return None
    if dns.get("ok") is False:
        return DNS_TIMEOUT_MS
    return _number(dns.get("latency_ms"))


def window_array(rows: Sequence[Row]) -> np.ndarray:
    """Rows (oldest first) → float32 array (len(rows), len(FEATURES)), gaps filled, every feature scaled."""
    return scale_window(fill_gaps(window_raw(rows)))


def window_raw(rows: Sequence[Row]) -> np.ndarray:
    """Rows → float64 array (len(rows), len(FEATURES)) in physical units, NaN where not measured."""
    raw = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float64)
    if raw.ndim != 2 or raw.shape[1] != len(FEATURES):
        raise ValueError(f"each row needs {len(FEATURES)} values ({', '.join(FEATURE_NAMES)}), got shape {raw.shape}")
    return raw


def implausible(raw: np.ndarray) -> str | None:
    """The first reading of a raw window (NaN = not measured) that no working collector reports, described."""
    for column, name in enumerate(FEATURE_NAMES):
        low, high = PLAUSIBLE[name]
        values = raw[:, column]
        bad = ~np.isnan(values) & ((values < low) | (values > high))
        if bad.any():
            return f"{name} {float(values[bad][0]):g} is outside {low:g}..{high:g}"
    return None


def fill_gaps(raw: np.ndarray) -> np.ndarray:
    """A missing value takes the last one measured before it, else the first after it, else a healthy default:
    one lost reading must not look like a fault."""
    filled = raw.copy()
    for column, feature in enumerate(FEATURES):
        values = filled[:, column]
        known = ~np.isnan(values)
        if not known.any():
            values[:] = feature.healthy_default
            continue
        index = np.where(known, np.arange(len(values)), 0)
        np.maximum.accumulate(index, out=index)
        first = np.argmax(known)
        index[:first] = first
        filled[:, column] = values[index]
    return filled


def scale_window(filled: np.ndarray) -> np.ndarray:
    columns = [feature.scale(filled[..., i]) for i, feature in enumerate(FEATURES)]
    return np.clip(np.stack(columns, axis=-1), -CLIP, CLIP).astype(np.float32)


def feature_spec() -> list[dict[str, Any]]:
    """The scaling as data, for the model's metadata (so a reader knows what the input means)."""
    return [
        {"name": f.name, "log10": f.log10, "center": f.center, "spread": f.spread, "missing": f.healthy_default}
        for f in FEATURES
    ]
