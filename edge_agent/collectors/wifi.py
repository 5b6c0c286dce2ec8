"""Wi-Fi radio and station state, read through a RadioBackend (hostapd and iw on hardware, the simulated
premises elsewhere)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from edge_agent.model import MetricValue, Sample
from edge_agent.wifi.channels import Band, band_for_freq

log = logging.getLogger(__name__)


class RadioUnavailable(Exception):
    """The backend cannot read the radio (hostapd not answering, interface gone): a finding, not a crash."""


@dataclass(frozen=True)
class RadioStatus:
    """The access point's radio now. Unknown stays None (no channel during ACS, no width without the fields),
    never 0 or a guess."""

    channel: int | None  # the primary channel's number in `band`
    freq_mhz: int | None
    width_mhz: int | None
    noise_dbm: float | None
    # Fraction of time the channel was busy since the last reading; None when the driver gives no counters.
    busy_ratio: float | None
    tx_power_dbm: float | None
    station_count: int
    band: str | None = None  # "2.4GHz" | "5GHz" | "6GHz"; read from freq_mhz when not given

    def __post_init__(self) -> None:
        if self.band is None and self.freq_mhz is not None:
            band = band_for_freq(self.freq_mhz)
            object.__setattr__(self, "band", None if band is None else band.value)


@dataclass(frozen=True)
class StationStatus:
    mac: str
    signal_dbm: float | None
    tx_bitrate_mbps: float | None
    rx_bitrate_mbps: float | None
    tx_packets: int | None  # cumulative counters: the collector turns them into per-interval rates
    tx_retries: int | None
    tx_failed: int | None
    inactive_ms: int | None
    connected_s: int | None


@dataclass(frozen=True)
class NeighbourNetwork:
    bssid: str | None
    channel: int
    signal_dbm: float | None
    width_mhz: int | None
    band: str | None = None  # "2.4GHz" | "5GHz" | "6GHz"; None when the scan did not say


# Band prefixes of the neighbour metrics: a channel number alone is ambiguous (2.4 and 6 GHz both have 1).
_BAND_KEYS = {Band.GHZ_2_4.value: "2.4GHz", Band.GHZ_5.value: "5GHz", Band.GHZ_6.value: "6GHz"}


def neighbour_summary(neighbours: list[NeighbourNetwork]) -> dict[str, float | int | None]:
    """Flat metrics (telemetry values are scalars): the number of other networks, per band `<band>_networks`,
    and per band and channel N `<band>_chN_networks` and `<band>_chN_loudest_dbm`, e.g. `6GHz_ch37_networks`.
    A network of unknown band counts only in the total."""
    summary: dict[str, float | int | None] = {"networks": len(neighbours)}
    for network in neighbours:
        band = _BAND_KEYS.get(network.band or "")
        if band is None:
            continue
        summary[f"{band}_networks"] = int(summary.get(f"{band}_networks") or 0) + 1
        count_key = f"{band}_ch{network.channel}_networks"
        loudest_key = f"{band}_ch{network.channel}_loudest_dbm"
        summary[count_key] = int(summary.get(count_key) or 0) + 1
        loudest = summary.get(loudest_key)
        if network.signal_dbm is not None and (loudest is None or network.signal_dbm > loudest):
            summary[loudest_key] = network.signal_dbm
        else:
            summary.setdefault(loudest_key, None)
    return summary


_BAND_GHZ = {Band.GHZ_2_4.value: 2.4, Band.GHZ_5.value: 5, Band.GHZ_6.value: 6}  # stations' band_ghz


class RadioBackend(Protocol):
    def radio_status(self, interface: str) -> RadioStatus:
        """Raises RadioUnavailable when the radio cannot be read."""
        ...


def retry_ratios(before: StationStatus | None, after: StationStatus) -> tuple[float | None, float | None]:
    """(retries, failures) per transmitted packet over the interval; None without a previous reading, without
    traffic, or after a counter reset (reconnect)."""
    if before is None or after.tx_packets is None or before.tx_packets is None:
        return None, None
    sent = after.tx_packets - before.tx_packets
    if sent <= 0:
        return None, None

    def ratio(a: int | None, b: int | None) -> float | None:
        if a is None or b is None or b < a:
            return None
        return round((b - a) / sent, 3)

    return ratio(before.tx_retries, after.tx_retries), ratio(before.tx_failed, after.tx_failed)


class WifiCollector:
    """A radio sample per collection, plus per-station and neighbour samples from backends that read them.

    Optional backend methods: `stations(interface)`, `neighbours(interface)` (None when no scan is due) - each
    may raise RadioUnavailable, which costs only that part of the collection - and `take_parse_errors(interface)`,
    reported as the radio sample's `parse_errors`: reply blocks skipped as unreadable during the collection.
    """

    name = "wifi"

    def __init__(self, interval_s: float, interface: str, backend: RadioBackend):
        self.interval_s = interval_s
        self.interface = interface
        self.backend = backend
        self._previous: dict[str, StationStatus] = {}
        self._failing: dict[str, str] = {}  # what last failed, so a lasting failure is logged once

    def collect(self, mono: float, ts: float) -> list[Sample]:
        try:
            status = self.backend.radio_status(self.interface)
        except RadioUnavailable as exc:
            return [Sample("wifi.radio", self.interface, {"available": False, "error": str(exc)}, mono, ts)]
        radio_metrics: dict[str, MetricValue] = asdict(status)
        samples: list[Sample] = []
        # Backends without per-station data or scans skip those; one that fails loses only that part.
        stations = self._optional_read("stations")
        if stations is not None:
            samples += self._station_samples(stations, _BAND_GHZ.get(status.band or ""), mono, ts)
        neighbours = self._optional_read("neighbours")
        if neighbours is not None:  # None: no fresh scan this round (scans are rate-limited)
            samples.append(Sample("wifi.neighbours", self.interface, neighbour_summary(neighbours), mono, ts))
        take_parse_errors = getattr(self.backend, "take_parse_errors", None)
        if take_parse_errors is not None:
            # Station blocks, survey entries and scan entries skipped as unreadable during this collection.
            radio_metrics["parse_errors"] = take_parse_errors(self.interface)
        return [Sample("wifi.radio", self.interface, radio_metrics, mono, ts), *samples]

    def _optional_read(self, part: str) -> Any:
        """The backend's `part` reading (None without one); a failure is logged once while it lasts."""
        read = getattr(self.backend, part, None)
        if read is None:
            return None
        try:
            result = read(self.interface)
        except RadioUnavailable as exc:
            if self._failing.get(part) != str(exc):
                log.warning("wifi %s on %s: %s", part, self.interface, exc)
                self._failing[part] = str(exc)
            return None
        self._failing.pop(part, None)
        return result

    def _station_samples(self, stations: list[StationStatus], band_ghz: float | None, mono: float,
                         ts: float) -> list[Sample]:
        samples, current = [], {}
        for station in stations:
            retries, failed = retry_ratios(self._previous.get(station.mac), station)
            current[station.mac] = station
            metrics = {
                "signal_dbm": station.signal_dbm,
                "band_ghz": band_ghz,
                "tx_bitrate_mbps": station.tx_bitrate_mbps,
                "rx_bitrate_mbps": station.rx_bitrate_mbps,
                "retry_ratio": retries,
                "failed_ratio": failed,
                "inactive_ms": station.inactive_ms,
                "connected_s": station.connected_s,
            }
            samples.append(Sample("wifi.station", station.mac, metrics, mono, ts))
        self._previous = current  # stations that left are forgotten
        return samples
