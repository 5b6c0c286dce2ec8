"""The real RadioBackend: hostapd's STATUS and stations over its control socket, `iw survey dump` for the
channel's busy time and noise floor, and at start `iw phy` for what the hardware can do (`hardware`).

Busy time is a ratio of two survey readings (the counters are cumulative); the first reading of an interface
has none yet. Counter resets give None, never a negative or >100 % ratio (survey.channel_load).

A gateway with several radios has one control socket per radio in the same directory (hostapd's
ctrl_interface): every method takes the radio's interface, and `discover` names them all. A Wi-Fi 7 MLD access
point has one socket per link instead (wlan0_link0, wlan0_link1, ...): each link is a radio of its own for
hostapd, while iw knows only the MLD interface (wlan0). Its stations are then reported once, by its lowest link,
and it is scanned once for all its links.

Every call out (a command, the control socket) is bounded in time, and every way it can fail - a timeout, a
dead socket, an empty or unreadable reply - leaves this module as RadioUnavailable. Blocks of a reply that
no real output could hold are skipped by the parsers and counted (`take_parse_errors`).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from edge_agent.bounded_run import run_bounded
from edge_agent.child_env import child_environment
from edge_agent.collectors.wifi import NeighbourNetwork, RadioStatus, RadioUnavailable, StationLink, StationStatus
from edge_agent.wifi import ParseError
from edge_agent.wifi.channel_scoring import ChannelSurvey, Neighbour, surveys_from_deltas
from edge_agent.wifi.channel_switch import ChannelSwitcher, SwitchResult
from edge_agent.wifi.channels import Band, Channel
from edge_agent.wifi.discovery import Discovery, ap_interfaces, ctrl_sockets, mld_link
from edge_agent.wifi.hardware import RadioHardware
from edge_agent.wifi.hostapd_ctrl import HostapdControl, HostapdError
from edge_agent.wifi.hostapd_replies import HostapdStatus
from edge_agent.wifi.iw import (
    MloLink,
    SurveyEntry,
    parse_dev,
    parse_info,
    parse_scan,
    parse_station_dump,
    parse_survey_dump,
)
from edge_agent.wifi.phy import PhyCapabilities, parse_phy
from edge_agent.wifi.survey import channel_load

_Parsed = TypeVar("_Parsed")
# The largest honest output is a scan of a dense block of flats (a few KiB per BSS); a flood is stopped here.
RADIO_OUTPUT_MAX_BYTES = 4 << 20


def run_command(argv: list[str], timeout_s: float = 5.0) -> str:
    """A command's standard output; raises RadioUnavailable when it cannot run, fails or outlives `timeout_s`."""
    command = " ".join(argv)
    try:
        result = run_bounded(argv, timeout_s, RADIO_OUTPUT_MAX_BYTES, env=child_environment(os.environ))
    except OSError as exc:
        raise RadioUnavailable(f"{command} cannot run: {exc.strerror or exc}") from None
    if result.timed_out:
        raise RadioUnavailable(f"{command} did not finish within {timeout_s:g} s")
    if result.problem is not None:
        raise RadioUnavailable(f"{command} stopped: {result.problem}")
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", errors="replace").strip()[:200]
        raise RadioUnavailable(f"{command} failed ({result.returncode}): {stderr}")
    # Undecodable bytes (a corrupt SSID) become U+FFFD: the parsers judge the text, not the decoder.
    return result.stdout.decode("utf-8", errors="replace")


class HostapdRadio:
    def __init__(
        self,
        ctrl_dir: Path,
        local_dir: Path | None = None,
        scan_interval_s: float = 900.0,
        run: Callable[[list[str]], str] = run_command,
        connect: Callable[[Path, str], HostapdControl] | None = None,
        restart_on_channel: Callable[[str, int], None] | None = None,
    ):
        """`local_dir` holds our end of the control socket. It must be visible to hostapd: under systemd with
        PrivateTmp=yes the agent's /tmp is not, so the daemon passes its runtime directory.
        `restart_on_channel(interface, channel)` is the CSA fallback for that radio (None: not allowed)."""
        self.ctrl_dir = ctrl_dir
        self._run = run
        self._connect = connect or (lambda directory, interface: HostapdControl(directory, interface,
                                                                               local_dir=local_dir))
        self._controls: dict[str, HostapdControl] = {}
        self._last_survey: dict[str, SurveyEntry] = {}
        self._dumps: dict[str, tuple[list[SurveyEntry], list[SurveyEntry]]] = {}  # (previous, latest)
        self._last_scan: dict[str, float] = {}
        self._neighbours: dict[str, list[NeighbourNetwork]] = {}
        self._parse_errors: dict[str, int] = {}
        self._hardware: dict[str, RadioHardware] = {}
        self.scan_interval_s = scan_interval_s
        self.restart_on_channel = restart_on_channel

    def _control(self, interface: str) -> HostapdControl:
        if interface not in self._controls:
            self._controls[interface] = self._connect(self.ctrl_dir, interface)
        return self._controls[interface]

    def radio_status(self, interface: str) -> RadioStatus:
        try:
            control = self._control(interface)
            status = control.status()
            replies = control.stations()
        except (HostapdError, ParseError) as exc:
            # hostapd restarted (new socket), is gone or answers nonsense: reconnect next time; the collector
            # reports it.
            self._drop(interface)
            raise RadioUnavailable(str(exc)) from None
        self._count_skipped(interface, replies.skipped)
        stations = replies.stations
        survey = self._survey(interface, status.freq_mhz)
        load = None
        if survey is not None:
            before = self._last_survey.get(interface)
            load = channel_load(before, survey) if before is not None else None
            self._last_survey[interface] = survey
        return RadioStatus(
            channel=status.channel,  # None (never 0) while hostapd has no channel: ACS, or not a 2.4/5/6 GHz one
            freq_mhz=status.freq_mhz,
            width_mhz=status.width_mhz,
            noise_dbm=survey.noise_dbm if survey else None,
            busy_ratio=round(load.busy_ratio, 3) if load else None,
            tx_power_dbm=status.max_tx_power_dbm,
            station_count=len(stations),
            band=None if status.band is None else status.band.value,
        )

    def discover(self) -> Discovery:
        """The radios to read: every interface with a control socket in ctrl_dir; without any, the AP
        interfaces `iw dev` lists (their hostapd may not be up yet). Bounded and safe on a hostile directory
        (discovery.py)."""
        found = ctrl_sockets(self.ctrl_dir)
        if found.interfaces:
            return found
        try:
            listed = ap_interfaces(list(self._parse(parse_dev, ["iw", "dev"])))
        except RadioUnavailable as exc:
            return Discovery((), (*found.notes, f"no AP interface from iw dev: {exc}"))
        return Discovery(listed.interfaces, (*found.notes, *listed.notes))

    def stations(self, interface: str) -> list[StationStatus]:
        """Per-station link quality from `iw station dump` (hostapd's view lacks retry counters). A multi-link
        station's links each come with their own signal and rates, and the band of the AP's link they use
        (`iw dev X info`).

        Raises RadioUnavailable when the dump cannot be read; a station block it cannot read is skipped.
        """
        dump = self._iw(parse_station_dump, interface, "station", "dump")
        self._count_skipped(interface, dump.skipped)
        link_id = mld_link(interface)[1]
        ap_links = self._ap_links(interface) if link_id is not None or any(s.links for s in dump.stations) else {}
        if link_id is not None and link_id != min(ap_links, default=0):
            return []  # the MLD's stations are its lowest link's to report: once, not once per link
        return [
            StationStatus(s.mac, s.signal_dbm if s.signal_dbm is not None else s.signal_avg_dbm, s.tx_bitrate_mbps,
                          s.rx_bitrate_mbps, s.tx_packets, s.tx_retries, s.tx_failed, s.inactive_ms, s.connected_s,
                          links=tuple(_station_link(link, ap_links.get(link.link_id)) for link in s.links))
            for s in dump.stations
            if s.mac is not None
        ]

    def _ap_links(self, interface: str) -> dict[int, MloLink]:
        """The AP MLD's links by link ID (`iw dev X info`); none when it cannot be read."""
        try:
            return {link.link_id: link for link in self._iw(parse_info, interface, "info").links}
        except RadioUnavailable:
            return {}

    def neighbours(self, interface: str) -> list[NeighbourNetwork] | None:
        """Other networks from `iw dev X scan`, at most once per `scan_interval_s`: a scan takes the radio off
        its channel for a moment, which the stations feel. None when no scan is due; RadioUnavailable when the
        scan failed (the next is due an interval later all the same)."""
        now = time.monotonic()
        netdev = mld_link(interface)[0]  # an MLD's links share one scan
        last = self._last_scan.get(netdev)
        if last is not None and now - last < self.scan_interval_s:
            return None
        self._last_scan[netdev] = now
        result = self._iw(parse_scan, interface, "scan")
        self._count_skipped(interface, result.skipped)
        networks = [NeighbourNetwork(b.bssid, b.primary.number, b.signal_dbm, b.width_mhz, b.primary.band.value)
                    for b in result.bsses if b.primary is not None]
        self._neighbours[netdev] = networks
        return networks

    def _survey(self, interface: str, freq_mhz: int | None) -> SurveyEntry | None:
        """The operating channel's survey entry; None where the driver keeps no survey. Keeps the whole dump
        for channel scoring.

        The entry is the one at the radio's own frequency: a driver with several radios behind one wiphy
        (MT7996) marks one entry "[in use]" per radio. Only without a known frequency does a lone "[in use]"
        entry count."""
        try:
            dump = self._iw(parse_survey_dump, interface, "survey", "dump")
        except RadioUnavailable:
            return None
        self._count_skipped(interface, dump.skipped)
        previous = self._dumps.get(interface, ([], []))[1]
        self._dumps[interface] = (previous, list(dump.entries))
        if freq_mhz is not None:
            return next((entry for entry in dump.entries if entry.freq_mhz == freq_mhz), None)
        in_use = [entry for entry in dump.entries if entry.in_use]
        return in_use[0] if len(in_use) == 1 else None

    def hardware(self, interface: str) -> RadioHardware:
        """What the radio behind `interface` can do, read once (`iw dev X info` for its wiphy, `iw phy phyN info`,
        and whether `iw survey dump` has busy-time counters); what cannot be read is None, with the reason in
        the notes. Later calls return the first reading: the hardware does not change while the agent runs."""
        if interface not in self._hardware:
            self._hardware[interface] = self._read_hardware(interface)
        return self._hardware[interface]

    def known_hardware(self) -> list[RadioHardware]:
        """Every radio's hardware read so far, by interface name; never reads (safe on any thread)."""
        return [self._hardware[name] for name in sorted(dict(self._hardware))]

    def phy_capabilities(self, interface: str) -> PhyCapabilities | None:
        """The radio's `iw phy` capabilities as read at start (None: not read, or unreadable)."""
        known = self._hardware.get(interface)
        return None if known is None else known.phy

    def _read_hardware(self, interface: str) -> RadioHardware:
        notes: list[str] = []
        phy = None
        try:
            wiphy = self._iw(parse_info, interface, "info").wiphy
            if wiphy is None:
                notes.append(f"iw dev {interface} info names no wiphy")
            else:
                phy = self._parse(parse_phy, ["iw", "phy", f"phy#{wiphy}", "info"])  # by index: a phy may be renamed
        except RadioUnavailable as exc:
            notes.append(f"radio capabilities unknown: {exc}")
        try:
            dump = self._iw(parse_survey_dump, interface, "survey", "dump")
            survey: bool | None = any(e.active_ms is not None and e.busy_ms is not None for e in dump.entries)
            if not survey:
                notes.append("iw survey dump gives no busy-time counters: channel load and scoring are blind")
        except RadioUnavailable as exc:
            survey = False
            notes.append(f"no survey: {exc}")
        return RadioHardware(interface, phy, survey, tuple(notes))

    def take_parse_errors(self, interface: str) -> int:
        """How many blocks of `interface`'s replies were skipped as unreadable since the last call."""
        return self._parse_errors.pop(interface, 0)

    def _iw(self, parse: Callable[[str], _Parsed], interface: str, *command: str) -> _Parsed:
        """`iw dev <interface> <command>` parsed (for an MLD link's socket, the MLD interface's); RadioUnavailable
        when it fails or prints something else."""
        return self._parse(parse, ["iw", "dev", mld_link(interface)[0], *command])

    def _parse(self, parse: Callable[[str], _Parsed], argv: list[str]) -> _Parsed:
        try:
            return parse(self._run(argv))
        except (OSError, subprocess.SubprocessError) as exc:
            raise RadioUnavailable(f"{' '.join(argv)}: {exc}") from None
        except ParseError as exc:
            raise RadioUnavailable(f"{' '.join(argv)} printed no readable output: {exc}") from None

    def _count_skipped(self, interface: str, skipped: int) -> None:
        if skipped:
            self._parse_errors[interface] = self._parse_errors.get(interface, 0) + skipped

    # ChannelRadio: what the switch_channel action needs.
    def current_channel(self, interface: str) -> Channel | None:
        status = self._status_or_none(interface)
        return None if status is None else status.primary

    def current_width(self, interface: str) -> int | None:
        status = self._status_or_none(interface)
        return None if status is None else status.width_mhz

    def _status_or_none(self, interface: str) -> HostapdStatus | None:
        try:
            return self._control(interface).status()
        except (HostapdError, ParseError):
            self._drop(interface)
            return None

    def channel_surveys(self, interface: str) -> list[ChannelSurvey]:
        """Every surveyed channel's counters over the last collection interval."""
        previous, latest = self._dumps.get(interface, ([], []))
        before = {e.freq_mhz: e for e in previous if e.freq_mhz}
        return surveys_from_deltas((before[e.freq_mhz], e) for e in latest if e.freq_mhz in before)

    def known_neighbours(self, interface: str) -> list[Neighbour]:
        return [Neighbour(n.channel, n.signal_dbm, Band(n.band), n.width_mhz)
                for n in self._neighbours.get(mld_link(interface)[0], [])
                if n.signal_dbm is not None and n.band is not None]

    def switch_channel(self, interface: str, channel: int | Channel) -> SwitchResult:
        """Move `interface`'s radio, and only it, to `channel` of its band."""
        fallback = self.restart_on_channel
        restart = None if fallback is None else (lambda number: fallback(interface, number))
        try:
            return ChannelSwitcher(self._control(interface), restart,
                                   phy=self.phy_capabilities(interface)).switch(channel)
        except (HostapdError, ParseError) as exc:
            self._drop(interface)
            number = channel.number if isinstance(channel, Channel) else channel
            return SwitchResult("failed", None, number, f"hostapd on {interface}: {exc}", 0, None)

    def _drop(self, interface: str) -> None:
        control = self._controls.pop(interface, None)
        if control is not None:
            control.close()

    def close(self) -> None:
        for interface in list(self._controls):
            self._drop(interface)


def _station_link(link: MloLink, ap_link: MloLink | None) -> StationLink:
    """A station's link with the band its own line gave, else the band of the AP's link with the same ID."""
    band = link.band or (ap_link.band if ap_link is not None else None)
    return StationLink(link.link_id, None if band is None else band.value, link.signal_dbm, link.tx_bitrate_mbps,
                       link.rx_bitrate_mbps)
