"""Wi-Fi radio state, read through a RadioBackend (hostapd/iw on hardware, the simulated premises elsewhere)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

from edge_agent.model import Sample


@dataclass(frozen=True)
class RadioStatus:
    channel: int
    freq_mhz: int
    width_mhz: int
    noise_dbm: float | None
    # Fraction of time the channel was busy since the last reading; None when the driver gives no counters.
    busy_ratio: float | None
    tx_power_dbm: float | None
    station_count: int


class RadioBackend(Protocol):
    def radio_status(self, interface: str) -> RadioStatus: ...


class WifiCollector:
    name = "wifi"

    def __init__(self, interval_s: float, interface: str, backend: RadioBackend):
        self.interval_s = interval_s
        self.interface = interface
        self.backend = backend

    def collect(self, mono: float, ts: float) -> list[Sample]:
        status = self.backend.radio_status(self.interface)
        return [Sample("wifi.radio", self.interface, asdict(status), mono, ts)]
