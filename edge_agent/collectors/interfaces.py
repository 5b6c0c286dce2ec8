"""Network interface counters (bytes, errors, drops) turned into rates."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import psutil

from edge_agent.model import Sample


@dataclass(frozen=True)
class InterfaceCounters:
    rx_bytes: int
    tx_bytes: int
    errors: int
    drops: int


def counter_rate(previous: int, current: int, elapsed_s: float) -> float | None:
    """Per-second rate between two readings; None when the counter went backwards (driver or link reset)."""
    if elapsed_s <= 0 or current < previous:
        return None
    return (current - previous) / elapsed_s


def read_psutil_counters() -> dict[str, InterfaceCounters]:
    return {
        nic: InterfaceCounters(
            rx_bytes=c.bytes_recv,
            tx_bytes=c.bytes_sent,
            errors=c.errin + c.errout,
            drops=c.dropin + c.dropout,
        )
        for nic, c in psutil.net_io_counters(pernic=True).items()
    }


def read_psutil_link_up() -> dict[str, bool]:
    return {nic: stats.isup for nic, stats in psutil.net_if_stats().items()}


class InterfacesCollector:
    name = "interfaces"

    def __init__(
        self,
        interval_s: float,
        include: list[str],
        exclude: list[str],
        read_counters: Callable[[], Mapping[str, InterfaceCounters]] = read_psutil_counters,
        read_link_up: Callable[[], Mapping[str, bool]] = read_psutil_link_up,
    ):
        self.interval_s = interval_s
        self.include = set(include)
        self.exclude = set(exclude)
        self._read_counters = read_counters
        self._read_link_up = read_link_up
        self._previous: dict[str, tuple[float, InterfaceCounters]] = {}

    def _wanted(self, nic: str) -> bool:
        if self.include:
            return nic in self.include
        return nic not in self.exclude

    def collect(self, mono: float, ts: float) -> list[Sample]:
        link_up = self._read_link_up()
        samples = []
        for nic, counters in sorted(self._read_counters().items()):
            if not self._wanted(nic):
                continue
            metrics: dict = {
                "is_up": link_up.get(nic),
                "rx_bytes": counters.rx_bytes,
                "tx_bytes": counters.tx_bytes,
                "rx_bps": None,
                "tx_bps": None,
                "errors_per_s": None,
                "drops_per_s": None,
            }
            previous = self._previous.get(nic)
            if previous is not None:
                metrics.update(_rates(previous[1], counters, mono - previous[0]))
            self._previous[nic] = (mono, counters)
            samples.append(Sample("interface", nic, metrics, mono, ts))
        return samples


def _rates(before: InterfaceCounters, after: InterfaceCounters, elapsed_s: float) -> dict:
    rx = counter_rate(before.rx_bytes, after.rx_bytes, elapsed_s)
    tx = counter_rate(before.tx_bytes, after.tx_bytes, elapsed_s)
    return {
        "rx_bps": None if rx is None else round(rx * 8, 1),
        "tx_bps": None if tx is None else round(tx * 8, 1),
        "errors_per_s": counter_rate(before.errors, after.errors, elapsed_s),
        "drops_per_s": counter_rate(before.drops, after.drops, elapsed_s),
    }
