"""Parsers for `iw dev X link`, `info`, `station dump`, `survey dump` and `scan` output.

iw writes "key:<tabs>value" lines under a header line; copies from issue threads and fixtures have the tabs
turned into spaces, so fields are found by their key and indentation only matters relative to the header.

Wi-Fi 7 multi-link (MLO) outputs hold one section per link ("Link 1 BSSID ..." in `link`, "- link ID 1 link
addr ..." in `info`, "Link 1:" in a `station dump` with per-link statistics). Each link is read on its own
(`MloLink`, with its own channel, signal and rates), and no link's values are taken as the whole connection's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge_agent.wifi.channels import Band, Channel, band_for_freq, channel_at, channel_for_freq
from edge_agent.wifi.fields import (
    checked_count,
    checked_freq,
    checked_level,
    checked_line,
    checked_mac,
    checked_noise,
    checked_rate,
    first_int,
    first_number,
    header_blocks,
    line_fields,
    number_text,
    readable_items,
    split_field,
    width_mhz,
)
from edge_agent.wifi.ssid import Ssid, decode_iw_ssid

# Header MACs accept letters beyond hex so a redacted "xx:xx:xx:xx:3e:41" still starts a block; checked_mac
# then rejects it.
_MAC_LIKE = r"[0-9a-z]{2}(?::[0-9a-z]{2}){5}"
_ON_INTERFACE = r"\s*(?:\(on\s+(?P<interface>[^)\s]+)\))?"
_LINK_HEADER = re.compile(
    rf"(?P<state>Connected to|Authenticated with|Joined IBSS)\s+(?P<bssid>{_MAC_LIKE}){_ON_INTERFACE}", re.I
)
_NOT_CONNECTED = re.compile(r"Not connected\.?", re.I)
_INFO_HEADER = re.compile(r"Interface\s+(?P<interface>\S+)")
_STATION_HEADER = re.compile(rf"Station\s+(?P<mac>{_MAC_LIKE}){_ON_INTERFACE}", re.I)
_SURVEY_HEADER = re.compile(r"Survey data from\s+(?P<interface>\S+)")
_BSS_HEADER = re.compile(rf"BSS\s+(?P<bssid>{_MAC_LIKE}){_ON_INTERFACE}", re.I)
# "channel 11 (2462 MHz), width: 20 MHz, center1: 2462 MHz[, center2: ...]". Matched from the value's start
# only, and everything after the frequency is optional, so a failed match gives each run back once.
_INFO_CHANNEL = re.compile(
    r"(?P<channel>[0-9]+)\s*\((?P<freq>[0-9.]+)\s*MHz\)"
    r"(?:,\s*width:\s*(?P<width>[^,]+))?"
    r"(?:,\s*center1:\s*(?P<center1>[0-9.]+)\s*MHz)?"
    r"(?:,\s*center2:\s*(?P<center2>[0-9.]+)\s*MHz)?"
)
# A link section's first line in the three MLO layouts: "Link 1 BSSID <mac>" (link), "- link ID  1 link addr
# <mac>" (info) and "Link 1:" (station dump with per-link statistics).
_MLO_LINK_HEADER = re.compile(
    rf"(?:-\s*)?link(?:\s+id)?\s+(?P<link_id>[0-9]{{1,3}})\s*"
    rf"(?:(?:bssid|link\s+addr)\s+(?P<address>{_MAC_LIKE})\s*)?:?", re.I
)
_MLD_STATS = re.compile(rf"MLD\s+(?P<address>{_MAC_LIKE})\s+stats:?", re.I)
MAX_LINK_ID = 14  # IEEE 802.11be link IDs are 0-14 (15 means none)
# "282 bytes (2 packets)", matched from the value's start only (a search would retry inside a digit run)
_BYTES_PACKETS = re.compile(r"(?P<bytes>[0-9]+)\s*bytes\s*\((?P<packets>[0-9]+)\s*packets\)")
# "-14 [-17, -18] dBm": the combined signal, then one per receive chain
_SIGNAL_CHAINS = re.compile(r"(?P<total>[-+]?[0-9]+(?:\.[0-9]+)?)\s*(?:\[(?P<chains>[^\]]*)\])?")


class _OnChannel:
    """What a frequency says: the band and the 20 MHz channel (None when unknown or no channel centre)."""

    freq_mhz: int | None

    @property
    def band(self) -> Band | None:
        return band_for_freq(self.freq_mhz)

    @property
    def primary(self) -> Channel | None:
        return channel_at(self.freq_mhz)


@dataclass(frozen=True)
class MloLink(_OnChannel):
    """One link of a Wi-Fi 7 multi-link connection: its own address, channel, signal and rates. What the
    output did not print for this link is None (iw prints a link's channel in `info` and `link`, and its
    signal and rates only in a `station dump` with per-link statistics)."""

    link_id: int
    address: str | None = None  # the link's BSSID (link) or link address (info, station dump)
    freq_mhz: int | None = None
    channel: int | None = None
    width_mhz: int | None = None
    center1_mhz: int | None = None
    signal_dbm: float | None = None
    signal_avg_dbm: float | None = None
    tx_bitrate_mbps: float | None = None
    rx_bitrate_mbps: float | None = None
    tx_packets: int | None = None
    tx_retries: int | None = None
    tx_failed: int | None = None
    inactive_ms: int | None = None


@dataclass(frozen=True)
class MldSummary:
    """A multi-link device at a glance: its address, its links, and its best and worst link by signal."""

    address: str | None
    link_ids: tuple[int, ...]
    bands: tuple[Band | None, ...]  # per link, in link_ids order
    best_link: int | None  # the link heard loudest; None when no link has a signal
    worst_link: int | None
    best_signal_dbm: float | None
    worst_signal_dbm: float | None


def mld_summary(address: str | None, links: tuple[MloLink, ...]) -> MldSummary:
    """The summary of an MLD with `links` (the strongest and weakest link among those with a signal)."""
    heard = sorted((link for link in links if link.signal_dbm is not None),
                   key=lambda link: (link.signal_dbm, -link.link_id))
    best, worst = (heard[-1], heard[0]) if heard else (None, None)
    return MldSummary(
        address=address,
        link_ids=tuple(link.link_id for link in links),
        bands=tuple(link.band for link in links),
        best_link=None if best is None else best.link_id,
        worst_link=None if worst is None else worst.link_id,
        best_signal_dbm=None if best is None else best.signal_dbm,
        worst_signal_dbm=None if worst is None else worst.signal_dbm,
    )


def _split_links(body: list[str], what: str) -> tuple[list[str], list[tuple[re.Match[str], list[str]]]]:
    """(the lines outside any link section, each link section's header and lines), in one pass.

    A link section is its header line and the lines indented deeper than it; the first line back at the
    header's indentation or shallower ends it. Indentation is compared, never counted, so tabs turned into
    spaces still split the same."""
    own: list[str] = []
    sections: list[tuple[re.Match[str], list[str]]] = []
    depth: int | None = None  # the open section's header indentation
    for line in body:
        indent = _indent(checked_line(line, what))
        if depth is not None and indent > depth:
            sections[-1][1].append(line)
            continue
        depth = None
        match = _MLO_LINK_HEADER.fullmatch(line.strip())
        if match is not None:
            sections.append((match, []))
            depth = indent
        else:
            own.append(line)
    return own, sections


def _mlo_links(sections: list[tuple[re.Match[str], list[str]]], read, what: str,
               notes: list[str]) -> tuple[MloLink, ...]:
    """Each link section read by `read(link_id, address, lines, notes)`; a link ID no standard has, or one
    seen twice, is dropped with a note. Sorted by link ID (iw lists them in the driver's order)."""
    links: dict[int, MloLink] = {}
    for header, lines in sections:
        link_id = int(header["link_id"])
        if link_id > MAX_LINK_ID:
            notes.append(f"{what} link ID {link_id} is above {MAX_LINK_ID}, the highest IEEE 802.11be link ID: "
                         "dropped")
            continue
        if link_id in links:
            notes.append(f"{what} link {link_id} is listed twice: the first kept")
            continue
        address = checked_mac(header["address"], f"{what} link {link_id} address", notes) \
            if header["address"] else None
        links[link_id] = read(link_id, address, lines, notes)
    return tuple(links[link_id] for link_id in sorted(links))


def _channel_number(freq: int | None) -> int | None:
    """The number centred on `freq` (a channel, or a bonded centre some drivers survey, like 5210 MHz: 42)."""
    return channel_for_freq(freq)


@dataclass(frozen=True)
class Link(_OnChannel):
    """A station interface's association (`iw dev X link`); `connected` is False on "Not connected."."""

    connected: bool
    bssid: str | None = None
    interface: str | None = None
    ssid: Ssid | None = None
    freq_mhz: int | None = None
    channel: int | None = None
    signal_dbm: float | None = None
    rx_bytes: int | None = None
    rx_packets: int | None = None
    tx_bytes: int | None = None
    tx_packets: int | None = None
    rx_bitrate_mbps: float | None = None
    tx_bitrate_mbps: float | None = None
    notes: tuple[str, ...] = ()
    # A multi-link connection: each link's BSSID and channel. freq_mhz and channel are then None (the
    # connection has no one channel); signal, bytes and rates are the MLD's ("MLD <address> stats").
    links: tuple[MloLink, ...] = ()
    mld_address: str | None = None

    @property
    def mld(self) -> MldSummary | None:
        return mld_summary(self.mld_address or self.bssid, self.links) if self.links else None


@dataclass(frozen=True)
class InterfaceInfo(_OnChannel):
    """One interface's mode and operating channel (`iw dev X info`)."""

    interface: str
    ifindex: int | None
    addr: str | None
    ssid: Ssid | None
    mode: str | None  # iw's "type": AP, managed, mesh point, monitor...
    wiphy: int | None
    channel: int | None
    freq_mhz: int | None
    width_mhz: int | None
    center1_mhz: int | None
    center2_mhz: int | None
    tx_power_dbm: float | None
    notes: tuple[str, ...] = ()
    # An MLD interface ("MLD with links:"): each link's address and channel; the channel fields above are then
    # only what the interface itself printed outside its links (nothing, on the recorded ones).
    links: tuple[MloLink, ...] = ()

    @property
    def mld(self) -> MldSummary | None:
        return mld_summary(self.addr, self.links) if self.links else None


@dataclass(frozen=True)
class Station:
    """One associated station or mesh peer, as the AP's driver sees it."""

    mac: str | None
    interface: str | None
    signal_dbm: float | None
    signal_avg_dbm: float | None
    # Per receive chain, in antenna order; None where that chain's reading was impossible.
    chain_signal_dbm: tuple[float | None, ...]
    inactive_ms: int | None
    rx_bytes: int | None
    rx_packets: int | None
    tx_bytes: int | None
    tx_packets: int | None
    tx_retries: int | None
    tx_failed: int | None
    tx_bitrate_mbps: float | None
    rx_bitrate_mbps: float | None
    expected_throughput_mbps: float | None
    connected_s: int | None  # old iw does not print "connected time"
    authorized: bool | None
    # A multi-link station with per-link statistics ("Link N:" sections): each link's own signal and rates;
    # the fields above are what iw printed for the station as a whole.
    links: tuple[MloLink, ...] = ()

    @property
    def mld(self) -> MldSummary | None:
        return mld_summary(self.mac, self.links) if self.links else None


@dataclass(frozen=True)
class StationDump:
    """`iw dev X station dump`: no stations prints nothing, so empty output is an empty dump."""

    stations: tuple[Station, ...]
    notes: tuple[str, ...] = ()
    skipped: int = 0  # station blocks no real output could hold; the notes say why


@dataclass(frozen=True)
class SurveyEntry(_OnChannel):
    """One channel's survey counters: cumulative milliseconds since the driver last reset them."""

    freq_mhz: int | None
    channel: int | None
    in_use: bool
    noise_dbm: float | None
    active_ms: int | None
    busy_ms: int | None
    receive_ms: int | None
    transmit_ms: int | None


@dataclass(frozen=True)
class SurveyDump:
    """`iw dev X survey dump`: one entry per channel the driver reports on."""

    entries: tuple[SurveyEntry, ...]
    notes: tuple[str, ...] = ()
    skipped: int = 0  # entries no real output could hold; the notes say why

    @property
    def in_use(self) -> SurveyEntry | None:
        """The entry of the channel the radio operates on, if the driver marks one."""
        return next((entry for entry in self.entries if entry.in_use), None)


@dataclass(frozen=True)
class ScanBss(_OnChannel):
    """A BSS heard in a scan: where it sits, how loud it is, how much spectrum it takes."""

    bssid: str | None
    freq_mhz: int | None
    channel: int | None
    signal_dbm: float | None
    width_mhz: int | None
    ssid: Ssid | None  # "" for a hidden network, None when no SSID element was printed


@dataclass(frozen=True)
class ScanResult:
    """`iw dev X scan` / `scan dump`: nothing heard prints nothing, so empty output is an empty result."""

    bsses: tuple[ScanBss, ...]
    notes: tuple[str, ...] = ()
    skipped: int = 0  # BSS blocks no real output could hold; the notes say why


def parse_link(text: str) -> Link:
    """Parse `iw dev X link`."""
    if any(_NOT_CONNECTED.fullmatch(line.strip()) for line in text.splitlines()):
        return Link(connected=False)
    blocks = header_blocks(text, _LINK_HEADER, "iw dev link", "'Connected to' or 'Not connected.'")
    header, body = blocks[0]
    notes: list[str] = []
    own, sections = _split_links(body, "iw dev link")
    fields = line_fields(own, ":", "iw dev link")
    links = _mlo_links(sections, _link_of_connection, "iw dev link", notes)
    mld_stats = next((m for m in map(_MLD_STATS.fullmatch, (line.strip() for line in own)) if m), None)
    freq = checked_freq(fields.get("freq"), "link freq", notes)
    rx_bytes, rx_packets = _bytes_packets(fields.get("RX"), "link RX")
    tx_bytes, tx_packets = _bytes_packets(fields.get("TX"), "link TX")
    return Link(
        connected=header["state"].lower() != "authenticated with",
        bssid=checked_mac(header["bssid"], "link BSSID", notes),
        interface=header["interface"],
        ssid=decode_iw_ssid(fields.get("SSID"), "link SSID", notes),
        freq_mhz=freq,
        channel=_channel_number(freq),
        signal_dbm=checked_level(first_number(fields.get("signal"), "link signal"), "link signal", notes),
        rx_bytes=rx_bytes,
        rx_packets=rx_packets,
        tx_bytes=tx_bytes,
        tx_packets=tx_packets,
        rx_bitrate_mbps=_rate(fields.get("rx bitrate"), "link rx bitrate", notes),
        tx_bitrate_mbps=_rate(fields.get("tx bitrate"), "link tx bitrate", notes),
        notes=tuple(notes),
        links=links,
        mld_address=None if mld_stats is None else checked_mac(mld_stats["address"], "link MLD address", notes),
    )


def _link_of_connection(link_id: int, address: str | None, lines: list[str], notes: list[str]) -> MloLink:
    """A "Link N BSSID <mac>" section of `iw dev X link`: the link's frequency."""
    fields = line_fields(lines, ":", f"iw dev link link {link_id}")
    freq = checked_freq(fields.get("freq"), f"link {link_id} freq", notes)
    return MloLink(link_id, address, freq, _channel_number(freq),
                   signal_dbm=checked_level(first_number(fields.get("signal"), f"link {link_id} signal"),
                                            f"link {link_id} signal", notes),
                   tx_bitrate_mbps=_rate(fields.get("tx bitrate"), f"link {link_id} tx bitrate", notes),
                   rx_bitrate_mbps=_rate(fields.get("rx bitrate"), f"link {link_id} rx bitrate", notes))


def parse_info(text: str) -> InterfaceInfo:
    """Parse `iw dev X info`; lines are "key value", without a colon."""
    [(header, body), *_] = header_blocks(text, _INFO_HEADER, "iw dev info", "'Interface <name>'")
    own, sections = _split_links(body, "iw dev info")
    fields = _info_fields(own)
    notes: list[str] = []
    links = _mlo_links(sections, _link_of_interface, "iw dev info", notes)
    channel_fields = _info_channel(fields)
    freq = checked_freq(channel_fields.get("freq"), "interface freq", notes)
    return InterfaceInfo(
        interface=header["interface"],
        ifindex=first_int(fields.get("ifindex"), "interface ifindex"),
        addr=checked_mac(fields.get("addr"), "interface addr", notes),
        ssid=decode_iw_ssid(fields.get("ssid"), "interface ssid", notes),
        mode=fields.get("type"),
        wiphy=first_int(fields.get("wiphy"), "interface wiphy"),
        channel=_channel_number(freq),
        freq_mhz=freq,
        width_mhz=width_mhz(channel_fields.get("width"), "interface width"),
        center1_mhz=checked_freq(channel_fields.get("center1"), "interface center1", notes),
        center2_mhz=checked_freq(channel_fields.get("center2"), "interface center2", notes),
        tx_power_dbm=first_number(fields.get("txpower"), "interface txpower"),
        notes=tuple(notes),
        links=links,
    )


def parse_dev(text: str) -> tuple[tuple[str, str | None], ...]:
    """Parse `iw dev` (every wireless interface, under its "phy#N" line): (name, type) of each interface, the
    type None when not printed. No wireless interface prints nothing: an empty tuple."""
    blocks = header_blocks(text, _INFO_HEADER, "iw dev", "'Interface <name>'", empty_means_none=True)
    return tuple((header["interface"], _info_fields(body).get("type")) for header, body in blocks)


def _info_fields(lines: list[str]) -> dict[str, str]:
    """`iw dev X info`'s "key value" lines (no colon); the first of a repeated key wins."""
    fields: dict[str, str] = {}
    for line in lines:
        key, _, value = checked_line(line, "iw dev info").strip().partition(" ")
        fields.setdefault(key, value.strip())
    return fields


def _info_channel(fields: dict[str, str]) -> dict[str, str | None]:
    match = _INFO_CHANNEL.match(fields.get("channel", ""))
    return match.groupdict() if match else {}


def _link_of_interface(link_id: int, address: str | None, lines: list[str], notes: list[str]) -> MloLink:
    """A "- link ID N link addr <mac>" section of `iw dev X info`: the link's channel, if it has one yet."""
    channel_fields = _info_channel(_info_fields(lines))
    what = f"interface link {link_id}"
    freq = checked_freq(channel_fields.get("freq"), f"{what} freq", notes)
    return MloLink(link_id, address, freq, _channel_number(freq),
                   width_mhz=width_mhz(channel_fields.get("width"), f"{what} width"),
                   center1_mhz=checked_freq(channel_fields.get("center1"), f"{what} center1", notes))


def parse_station_dump(text: str) -> StationDump:
    """Parse `iw dev X station dump` (or `station get`)."""
    blocks = header_blocks(text, _STATION_HEADER, "iw dev station dump", "'Station <MAC>'", empty_means_none=True)
    notes: list[str] = []
    stations = readable_items(blocks, lambda block, n: _station(*block, n), _block_name, notes)
    return StationDump(stations, tuple(notes), len(blocks) - len(stations))


def parse_survey_dump(text: str) -> SurveyDump:
    """Parse `iw dev X survey dump`; drivers without counters print only the frequency lines."""
    blocks = header_blocks(text, _SURVEY_HEADER, "iw dev survey dump", "'Survey data from <interface>'")
    notes: list[str] = []
    entries = readable_items(blocks, lambda block, n: _survey_entry(*block, n), _block_name, notes)
    return SurveyDump(entries, tuple(notes), len(blocks) - len(entries))


def parse_scan(text: str) -> ScanResult:
    """Parse `iw dev X scan` or `iw dev X scan dump`: each neighbour's channel, signal and width."""
    blocks = header_blocks(text, _BSS_HEADER, "iw dev scan", "'BSS <BSSID>'", empty_means_none=True)
    notes: list[str] = []
    bsses = readable_items(blocks, lambda block, n: _scan_bss(*block, n), _block_name, notes)
    return ScanResult(bsses, tuple(notes), len(blocks) - len(bsses))


def _block_name(block: tuple[re.Match[str], list[str]]) -> str:
    return block[0].group()  # the header line: "Station 02:00:00:00:00:01 (on wlan0)"


def _station(header: re.Match[str], body: list[str], notes: list[str]) -> Station:
    who = f"station {header['mac']}"
    mac = checked_mac(header["mac"], f"{who} MAC", notes)
    own, sections = _split_links(body, who)
    fields = line_fields(own, ":", who)
    signal, chains = _signal_with_chains(_with_unit(fields.get("signal"), "dBm", f"{who} signal", notes),
                                         f"{who} signal", notes)
    signal_avg, _ = _signal_with_chains(_with_unit(fields.get("signal avg"), "dBm", f"{who} signal avg", notes),
                                        f"{who} signal avg", notes)
    authorized = fields.get("authorized")

    def count(key: str) -> int | None:
        return checked_count(fields.get(key), f"{who} {key}", notes)

    def rate(key: str) -> float | None:
        return _rate(fields.get(key), f"{who} {key}", notes)

    return Station(
        mac=mac,
        interface=header["interface"],
        signal_dbm=signal,
        signal_avg_dbm=signal_avg,
        chain_signal_dbm=chains,
        inactive_ms=count("inactive time"),
        rx_bytes=count("rx bytes"),
        rx_packets=count("rx packets"),
        tx_bytes=count("tx bytes"),
        tx_packets=count("tx packets"),
        tx_retries=count("tx retries"),
        tx_failed=count("tx failed"),
        tx_bitrate_mbps=rate("tx bitrate"),
        rx_bitrate_mbps=rate("rx bitrate"),
        expected_throughput_mbps=rate("expected throughput"),
        connected_s=count("connected time"),
        authorized=None if authorized is None else authorized == "yes",
        links=_mlo_links(sections, _link_of_station, who, notes),
    )


def _link_of_station(link_id: int, address: str | None, lines: list[str], notes: list[str]) -> MloLink:
    """A "Link N:" section of a station with per-link statistics: the link's own signal, rates and counters
    (the frequency is the AP's link's: `iw dev X info` has it)."""
    who = f"link {link_id}"
    fields = line_fields(lines, ":", who)
    if address is None:
        address = checked_mac(fields.get("address"), f"{who} address", notes)
    signal, _ = _signal_with_chains(_with_unit(fields.get("signal"), "dBm", f"{who} signal", notes),
                                    f"{who} signal", notes)
    signal_avg, _ = _signal_with_chains(_with_unit(fields.get("signal avg"), "dBm", f"{who} signal avg", notes),
                                        f"{who} signal avg", notes)
    freq = checked_freq(fields.get("freq"), f"{who} freq", notes)  # not printed today; read if it ever is

    def count(key: str) -> int | None:
        return checked_count(fields.get(key), f"{who} {key}", notes)

    return MloLink(link_id, address, freq, _channel_number(freq), signal_dbm=signal, signal_avg_dbm=signal_avg,
                   tx_bitrate_mbps=_rate(fields.get("tx bitrate"), f"{who} tx bitrate", notes),
                   rx_bitrate_mbps=_rate(fields.get("rx bitrate"), f"{who} rx bitrate", notes),
                   tx_packets=count("tx packets"), tx_retries=count("tx retries"), tx_failed=count("tx failed"),
                   inactive_ms=count("inactive time"))


def _signal_with_chains(
    text: str | None, what: str, notes: list[str]
) -> tuple[float | None, tuple[float | None, ...]]:
    match = _SIGNAL_CHAINS.match(text or "")
    if match is None:
        return None, ()
    total = checked_level(float(number_text(match["total"], what)), what, notes)
    chain_texts = (match["chains"] or "").split(",")
    chains = tuple(
        checked_level(first_number(chain, what), f"{what} chain {index}", notes)
        for index, chain in enumerate(chain_texts)
        if chain.strip()
    )
    return total, chains


def _survey_entry(header: re.Match[str], body: list[str], notes: list[str]) -> SurveyEntry:
    fields = line_fields(body, ":", f"survey of {header['interface']}")
    frequency = fields.get("frequency")
    freq = checked_freq(frequency, "survey frequency", notes)
    who = f"survey {freq if freq is not None else frequency} MHz"

    def duration(key: str) -> int | None:
        what = f"{who} {key} time"
        return checked_count(_with_unit(fields.get(f"channel {key} time"), "ms", what, notes), what, notes)

    noise = _with_unit(fields.get("noise"), "dBm", f"{who} noise", notes)

    return SurveyEntry(
        freq_mhz=freq,
        channel=_channel_number(freq),
        in_use="[in use]" in (frequency or ""),
        noise_dbm=checked_noise(first_number(noise, f"{who} noise"), f"{who} noise", notes),
        active_ms=duration("active"),
        busy_ms=duration("busy"),
        receive_ms=duration("receive"),
        transmit_ms=duration("transmit"),
    )


def _scan_bss(header: re.Match[str], body: list[str], notes: list[str]) -> ScanBss:
    who = f"BSS {header['bssid']}"
    bssid = checked_mac(header["bssid"], f"{who} BSSID", notes)
    top, sections = _scan_sections([checked_line(line, who) for line in body])
    freq = checked_freq(top.get("freq"), f"{who} freq", notes)
    return ScanBss(
        bssid=bssid,
        freq_mhz=freq,
        channel=_channel_number(freq),
        signal_dbm=_scan_signal(top.get("signal"), f"{who} signal", notes),
        width_mhz=_bss_width(sections, freq, who, notes),
        ssid=decode_iw_ssid(top.get("ssid"), f"{who} SSID", notes),
    )


def _scan_sections(body: list[str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The BSS's own fields, and each information element's sub-fields by element name (keys lower-cased).

    A line indented like the block's shallowest line is the BSS's own field or an element's heading; deeper
    lines belong to the element above them ("* primary channel: 1" under "HT operation:").
    """
    base = min((_indent(line) for line in body), default=0)
    top: dict[str, str] = {}
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in body:
        field = split_field(line.strip().lstrip("*").strip(), ":")
        if _indent(line) <= base:
            current = {}
            if field is not None:
                top.setdefault(field[0].lower(), field[1])
                current = sections.setdefault(field[0].lower(), {})
        elif field is not None:
            current.setdefault(field[0].lower(), field[1])
    return top, sections


def _scan_signal(text: str | None, what: str, notes: list[str]) -> float | None:
    if text is not None and "/100" in text:
        # NL80211_BSS_SIGNAL_UNSPEC: a driver-defined 0-100 scale, not dBm.
        notes.append(f"{what} {text} is in driver units, not dBm")
        return None
    return checked_level(first_number(text, what), what, notes)


def _bss_width(sections: dict[str, dict[str, str]], freq: int | None, who: str, notes: list[str]) -> int | None:
    """The BSS's operating width from the newest operation element it carries."""
    for element in ("eht operation", "he operation"):
        # Only 6 GHz BSSs put a channel width in HE Operation; EHT Operation carries up to 320 MHz.
        width = width_mhz(sections.get(element, {}).get("channel width"), f"{who} {element} channel width")
        if width is not None:
            return width
    vht = sections.get("vht operation", {})
    vht_code = first_int(vht.get("channel width"), f"{who} VHT channel width")
    if vht_code == 1:
        # A non-zero second segment with code 1 is how current APs announce 160 and 80+80 MHz.
        return 160 if first_int(vht.get("center freq segment 2"), f"{who} VHT segment 2") else 80
    if vht_code in (2, 3):
        return 160
    ht = sections.get("ht operation")
    if ht is not None:
        offset = ht.get("secondary channel offset")
        if offset is None:
            return 40 if ht.get("sta channel width") == "any" else 20
        return 40 if offset in ("above", "below") else 20
    if freq is not None and band_for_freq(freq) is Band.GHZ_6:
        notes.append(f"{who} is a 6 GHz BSS without a channel width in its HE operation element")
        return None
    # No HT operation element: an 802.11a/b/g BSS, which can only use 20 MHz.
    return 20


def _with_unit(text: str | None, unit: str, what: str, notes: list[str]) -> str | None:
    """`text` if it ends in the unit iw always prints after this value; else None and a note, because the line
    was cut short (a truncated "-92 dBm" can read "-9") and its number cannot be trusted."""
    if text is None or text.endswith(unit):
        return text
    notes.append(f"{what} {text[:40]!r} lacks its unit {unit!r}: the line was cut short")
    return None


def _rate(text: str | None, what: str, notes: list[str]) -> float | None:
    return checked_rate(first_number(text, what), what, notes)


def _bytes_packets(text: str | None, what: str) -> tuple[int | None, int | None]:
    match = _BYTES_PACKETS.match(text or "")
    if match is None:
        return None, None
    return int(number_text(match["bytes"], what)), int(number_text(match["packets"], what))


def _indent(line: str) -> int:
    expanded = line.expandtabs(8)
    return len(expanded) - len(expanded.lstrip())

