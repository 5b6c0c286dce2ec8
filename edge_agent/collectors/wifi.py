"""Wi-Fi radio and station state, read through a RadioBackend (hostapd and iw on hardware, the simulated
premises elsewhere).

A gateway may have several radios (2.4, 5 and 6 GHz, one hostapd control socket each): each is read on its
own, and one that fails costs only its own samples. Every sample names its radio: `wifi.radio` and
`wifi.neighbours` by subject, `wifi.station` in its `interface` metric.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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
class StationLink:
    """One link of a Wi-Fi 7 multi-link station, with its own band, signal and rates."""

    link_id: int
    band: str | None  # "2.4GHz" | "5GHz" | "6GHz"; None when no output said where the link is
    signal_dbm: float | None
    tx_bitrate_mbps: float | None
    rx_bitrate_mbps: float | None


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
    links: tuple[StationLink, ...] = ()  # a multi-link (MLO) station's links; empty for any other


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


def station_metrics(station: StationStatus, band: str | None) -> dict[str, MetricValue]:
    """A station's link quality as flat metrics. A multi-link station is judged by its best link (the one it
    is heard loudest on: its traffic can move there), and each link is reported on its own as `linkN_*`, with
    `mld_links`, `best_link` and `worst_link`; no link's values are passed off as the station's."""
    metrics: dict[str, MetricValue] = {
        "signal_dbm": station.signal_dbm, "band_ghz": _BAND_GHZ.get(band or ""),
        "tx_bitrate_mbps": station.tx_bitrate_mbps, "rx_bitrate_mbps": station.rx_bitrate_mbps,
    }
    if not station.links:
        return metrics
    heard = sorted((link for link in station.links if link.signal_dbm is not None),
                   key=lambda link: (link.signal_dbm, -link.link_id))
    best, worst = (heard[-1], heard[0]) if heard else (None, None)
    metrics.update({
        "mld_links": len(station.links),
        "best_link": None if best is None else best.link_id,
        "worst_link": None if worst is None else worst.link_id,
        "worst_link_signal_dbm": None if worst is None else worst.signal_dbm,
    })
    if best is not None:
        metrics.update({"signal_dbm": best.signal_dbm, "band_ghz": _BAND_GHZ.get(best.band or ""),
                        "tx_bitrate_mbps": best.tx_bitrate_mbps, "rx_bitrate_mbps": best.rx_bitrate_mbps})
    for link in station.links:
        metrics.update({f"link{link.link_id}_band_ghz": _BAND_GHZ.get(link.band or ""),
                        f"link{link.link_id}_signal_dbm": link.signal_dbm,
                        f"link{link.link_id}_tx_bitrate_mbps": link.tx_bitrate_mbps,
                        f"link{link.link_id}_rx_bitrate_mbps": link.rx_bitrate_mbps})
    return metrics


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
    """Per radio and collection: a radio sample, plus per-station and neighbour samples from backends that read
    them.

    `interfaces` is one radio's name, several, or a function naming them now (discovery: "auto"). A radio once
    named stays read (a radio whose hostapd went away is a radio down, not a radio gone).

    Optional backend methods: `stations(interface)`, `neighbours(interface)` (None when no scan is due) - each
    may raise RadioUnavailable, which costs only that part of that radio's collection - and
    `take_parse_errors(interface)`, reported as the radio sample's `parse_errors`: reply blocks skipped as
    unreadable during the collection.
    """

    name = "wifi"

    def __init__(self, interval_s: float, interfaces: str | Sequence[str] | Callable[[], Sequence[str]],
                 backend: RadioBackend, max_radios: int = 16):
        self.interval_s = interval_s
        self._discover = interfaces if callable(interfaces) else None
        named = [] if callable(interfaces) else [interfaces] if isinstance(interfaces, str) else list(interfaces)
        self.interfaces: list[str] = named[:max_radios]
        self.max_radios = max_radios
        self.backend = backend
        self._previous: dict[str, dict[str, StationStatus]] = {}  # per radio, per station MAC
        self._failing: dict[tuple[str, str], str] = {}  # what last failed per (radio, part): logged once

    @property
    def interface(self) -> str | None:
        """The first radio (the only one on a single-radio gateway)."""
        return self.interfaces[0] if self.interfaces else None

    def radios(self) -> list[str]:
        """The radios read now: those named so far, plus any newly discovered (up to max_radios)."""
        if self._discover is not None:
            for name in self._discover():
                if name not in self.interfaces and len(self.interfaces) < self.max_radios:
                    self.interfaces.append(name)
        return list(self.interfaces)

    def collect(self, mono: float, ts: float) -> list[Sample]:
        samples: list[Sample] = []
        for interface in self.radios():
            samples += self._collect_radio(interface, mono, ts)
        return samples

    def _collect_radio(self, interface: str, mono: float, ts: float) -> list[Sample]:
        try:
            status = self.backend.radio_status(interface)
        except RadioUnavailable as exc:
            return [Sample("wifi.radio", interface, {"available": False, "error": str(exc)}, mono, ts)]
        radio_metrics: dict[str, MetricValue] = asdict(status)
        samples: list[Sample] = []
        # Backends without per-station data or scans skip those; one that fails loses only that part.
        stations = self._optional_read(interface, "stations")
        if stations is not None:
            samples += self._station_samples(interface, stations, status.band, mono, ts)
        neighbours = self._optional_read(interface, "neighbours")
        if neighbours is not None:  # None: no fresh scan this round (scans are rate-limited)
            samples.append(Sample("wifi.neighbours", interface, neighbour_summary(neighbours), mono, ts))
        take_parse_errors = getattr(self.backend, "take_parse_errors", None)
        if take_parse_errors is not None:
            # Station blocks, survey entries and scan entries skipped as unreadable during this collection.
            radio_metrics["parse_errors"] = take_parse_errors(interface)
        return [Sample("wifi.radio", interface, radio_metrics, mono, ts), *samples]

    def _optional_read(self, interface: str, part: str) -> Any:
        """The backend's `part` reading of `interface` (None without one); a failure is logged once while it
        lasts."""
        read = getattr(self.backend, part, None)
        if read is None:
            return None
        try:
            result = read(interface)
        except RadioUnavailable as exc:
            if self._failing.get((interface, part)) != str(exc):
                log.warning("wifi %s on %s: %s", part, interface, exc)
                self._failing[(interface, part)] = str(exc)
            return None
        self._failing.pop((interface, part), None)
        return result

    def _station_samples(self, interface: str, stations: list[StationStatus], band: str | None, mono: float,
                         ts: float) -> list[Sample]:
        samples, current = [], {}
        previous = self._previous.get(interface, {})
        for station in stations:
            retries, failed = retry_ratios(previous.get(station.mac), station)
            current[station.mac] = station
            metrics = {
                **station_metrics(station, band),
                "interface": interface,
                "retry_ratio": retries,
                "failed_ratio": failed,
                "inactive_ms": station.inactive_ms,
                "connected_s": station.connected_s,
            }
            samples.append(Sample("wifi.station", station.mac, metrics, mono, ts))
        self._previous[interface] = current  # stations that left this radio are forgotten
        return samples
