"""Parsers for hostapd control-interface replies: STATUS, and STA-FIRST / STA-NEXT (what `all_sta` prints).

Pure text to values; talking to the control socket is the client's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge_agent.wifi.channels import WIDTHS_MHZ, Band, Channel, band_for_freq, blocks, channel_at
from edge_agent.wifi.fields import (
    checked_count,
    checked_freq,
    checked_level,
    checked_mac,
    checked_rate,
    command_reply_fields,
    first_int,
    first_number,
    header_blocks,
    line_fields,
    readable_items,
)
from edge_agent.wifi.ssid import Ssid, decode_hostapd_ssid, raw_reply_values

# A radio has at most a few dozen BSSs: an index of more than four digits is no BSS of it.
_BSS_KEY = re.compile(r"(?P<name>bss|bssid|ssid|num_sta)\[(?P<index>[0-9]{1,4})\]")
# Each reply starts with the station's MAC on a line of its own.
_STA_HEADER = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}$", re.IGNORECASE)
# hostapd's enum oper_chan_width (src/common/defs.h), what STATUS prints as *_oper_chwidth: 0 = use HT (20 or
# 40 MHz, then secondary_channel decides), 1 = 80, 2 = 160, 3 = 80+80 (the 160 MHz of spectrum it occupies),
# 4-7 = 2160/4320/6480/8640 MHz (60 GHz, DMG/EDMG), 8 = 40 MHz on 6 GHz, 9 = 320.
_OPER_CHWIDTH_MHZ = {1: 80, 2: 160, 3: 160, 8: 40, 9: 320}
_OPER_CHWIDTH_60GHZ = {4: 2160, 5: 4320, 6: 6480, 7: 8640}
# Newest standard first: its operating width is the one the radio uses.
_CHWIDTH_KEYS = (("ieee80211be", "eht_oper_chwidth"), ("ieee80211ax", "he_oper_chwidth"),
                 ("ieee80211ac", "vht_oper_chwidth"))
_SEG0_KEYS = (("ieee80211be", "eht_oper_centr_freq_seg0_idx"), ("ieee80211ax", "he_oper_centr_freq_seg0_idx"),
              ("ieee80211ac", "vht_oper_centr_freq_seg0_idx"))
_STANDARDS = (("ieee80211n", "n"), ("ieee80211ac", "ac"), ("ieee80211ax", "ax"), ("ieee80211be", "be"))
_STATUS_KEYS = frozenset({"state", "freq", "channel", "secondary_channel", "ieee80211n", "max_txpower"})


@dataclass(frozen=True)
class HostapdBss:
    """One BSS (SSID) served by the radio."""

    interface: str | None
    bssid: str | None
    ssid: Ssid | None  # text, or bytes where the SSID is no UTF-8; "" for a hidden one
    station_count: int | None


@dataclass(frozen=True)
class HostapdStatus:
    """The radio's state and operating channel, and its BSSs (hostapd `STATUS`)."""

    state: str | None  # ENABLED, DISABLED, ACS, HT_SCAN, DFS, COUNTRY_UPDATE...
    freq_mhz: int | None  # None while none is chosen (ACS prints freq=0) or outside the 2.4/5/6 GHz bands
    channel: int | None  # the primary channel's number in `band`
    width_mhz: int | None
    max_tx_power_dbm: float | None
    bsses: tuple[HostapdBss, ...]
    notes: tuple[str, ...] = ()
    band: Band | None = None
    centre_mhz: int | None = None  # centre of the whole (bonded) channel, from *_oper_centr_freq_seg0_idx
    # The 802.11 generations enabled: "n", "ac", "ax", "be" (CHAN_SWITCH must keep them)
    standards: tuple[str, ...] = ()

    @property
    def primary(self) -> Channel | None:
        """The operating (primary 20 MHz) channel with its band, None when unknown."""
        return None if self.band is None or self.channel is None else Channel(self.band, self.channel)

    @property
    def station_count(self) -> int | None:
        """Stations over all BSSs; None if hostapd gave no count for any."""
        counts = [bss.station_count for bss in self.bsses if bss.station_count is not None]
        return sum(counts) if counts else None


@dataclass(frozen=True)
class HostapdStation:
    """One associated station as hostapd reports it."""

    mac: str
    flags: tuple[str, ...]  # AUTH, ASSOC, AUTHORIZED, WMM, HT, VHT, HE...
    aid: int | None
    signal_dbm: float | None
    inactive_ms: int | None
    connected_s: int | None
    rx_bytes: int | None
    rx_packets: int | None
    tx_bytes: int | None
    tx_packets: int | None
    rx_rate_mbps: float | None
    tx_rate_mbps: float | None

    @property
    def authorized(self) -> bool:
        return "AUTHORIZED" in self.flags


@dataclass(frozen=True)
class HostapdStations:
    """Stations from one or more STA-FIRST / STA-NEXT replies; hostapd replies with nothing after the last one."""

    stations: tuple[HostapdStation, ...]
    notes: tuple[str, ...] = ()
    skipped: int = 0  # station replies no real hostapd could send; the notes say why


def parse_status(text: str) -> HostapdStatus:
    """Parse the reply to hostapd's `STATUS`."""
    fields = command_reply_fields(text, "hostapd STATUS", _STATUS_KEYS)
    notes: list[str] = []
    primary = _primary_channel(fields, notes)
    width = _width_mhz(fields, notes) if primary is not None else None
    if primary is not None and width is not None and width not in WIDTHS_MHZ[primary.band]:
        notes.append(f"radio width {width} MHz is impossible on {primary.band.value}")
        width = None
    return HostapdStatus(
        state=fields.get("state"),
        freq_mhz=None if primary is None else primary.freq_mhz,
        channel=None if primary is None else primary.number,
        width_mhz=width,
        max_tx_power_dbm=first_number(fields.get("max_txpower"), "radio max_txpower"),
        bsses=_bsses(fields, text, notes),
        notes=tuple(notes),
        band=None if primary is None else primary.band,
        centre_mhz=None if primary is None or width is None else _centre_mhz(fields, primary, width, notes),
        standards=tuple(name for key, name in _STANDARDS if fields.get(key) == "1"),
    )


def parse_sta_replies(text: str) -> HostapdStations:
    """Parse STA-FIRST / STA-NEXT replies (one, or several one after another as `hostapd_cli all_sta` prints).

    Each reply is the station's MAC on a line of its own, then key=value lines. An empty reply means no
    (more) stations; "FAIL" or "UNKNOWN COMMAND" is not a station reply and raises.
    """
    blocks = header_blocks(text, _STA_HEADER, "hostapd STA-FIRST/STA-NEXT", "station MAC", empty_means_none=True)
    notes: list[str] = []
    stations = readable_items(blocks, lambda block, n: _station(block[0].group(), block[1], n),
                              lambda block: f"station {block[0].group()}", notes)
    return HostapdStations(stations, tuple(notes), len(blocks) - len(stations))


def _station(mac: str, body: list[str], notes: list[str]) -> HostapdStation:
    who = f"station {mac}"
    fields = line_fields(body, "=", who)

    def count(key: str) -> int | None:
        return checked_count(fields.get(key), f"{who} {key}", notes)

    def rate(key: str) -> float | None:
        # "<rate in 100 kbit/s>[ mcs N][ vhtmcs N][ shortGI]..."
        tenths = first_int(fields.get(key), f"{who} {key}")
        return checked_rate(None if tenths is None else tenths / 10, f"{who} {key}", notes)

    return HostapdStation(
        mac=mac.lower(),
        flags=_flags(fields.get("flags", "")),
        aid=first_int(fields.get("aid"), f"{who} aid"),
        signal_dbm=checked_level(first_number(fields.get("signal"), f"{who} signal"), f"{who} signal", notes),
        inactive_ms=count("inactive_msec"),
        connected_s=count("connected_time"),
        rx_bytes=count("rx_bytes"),
        rx_packets=count("rx_packets"),
        tx_bytes=count("tx_bytes"),
        tx_packets=count("tx_packets"),
        rx_rate_mbps=rate("rx_rate_info"),
        tx_rate_mbps=rate("tx_rate_info"),
    )


def _flags(text: str) -> tuple[str, ...]:
    """ "[AUTH][ASSOC][AUTHORIZED]" -> ("AUTH", "ASSOC", "AUTHORIZED"), in one pass over the text."""
    flags = []
    for piece in text.split("]")[:-1]:  # the text after the last ']' closes no flag
        _, opened, name = piece.partition("[")
        if opened and name:
            flags.append(name)
    return tuple(flags)


def _primary_channel(fields: dict[str, str], notes: list[str]) -> Channel | None:
    """The operating channel from `freq` (its band); None while there is none (ACS, DFS wait: freq=0) or when
    freq is no 2.4/5/6 GHz channel. The `channel` number alone is never used: it does not say the band."""
    freq_text = fields.get("freq")
    if freq_text is None or first_int(freq_text, "radio freq") == 0:
        return None  # no channel chosen yet: hostapd prints freq=0 channel=0 during ACS
    freq = checked_freq(freq_text, "radio freq", notes)
    primary = channel_at(freq)
    if freq is not None and primary is None:
        notes.append(f"radio freq {freq} MHz is no 20 MHz channel of the {band_for_freq(freq) or '2.4/5/6 GHz'} band")
    number = first_int(fields.get("channel"), "radio channel")
    if primary is not None and number is not None and number != primary.number:
        notes.append(f"radio channel={number} disagrees with freq={freq} (channel {primary}); freq is used")
    return primary


def _width_mhz(fields: dict[str, str], notes: list[str]) -> int | None:
    for enabled_key, chwidth_key in _CHWIDTH_KEYS:
        if fields.get(enabled_key) != "1" or chwidth_key not in fields:
            continue
        code = first_int(fields[chwidth_key], f"radio {chwidth_key}")
        if code in _OPER_CHWIDTH_60GHZ:
            notes.append(f"radio {chwidth_key}={code} is {_OPER_CHWIDTH_60GHZ[code]} MHz, a 60 GHz width no "
                         "2.4/5/6 GHz channel has")
            return None
        if code in _OPER_CHWIDTH_MHZ:
            return _OPER_CHWIDTH_MHZ[code]
        if code != 0:
            notes.append(f"radio {chwidth_key}={fields[chwidth_key][:20]!r} is no channel width hostapd knows")
            return None
    secondary = first_int(fields.get("secondary_channel"), "radio secondary_channel")
    if secondary is None:
        return None
    return 40 if secondary != 0 else 20


def _centre_mhz(fields: dict[str, str], primary: Channel, width: int, notes: list[str]) -> int | None:
    """The bonded channel's centre: the newest generation's seg0 index when it names a block the primary is in,
    else the block the channel plan gives (for 20 and 40 MHz hostapd prints no index)."""
    candidates = blocks(primary, width)
    for enabled_key, seg0_key in _SEG0_KEYS:
        if fields.get(enabled_key) == "1" and seg0_key in fields:
            index = first_int(fields[seg0_key], f"radio {seg0_key}")
            match = next((b for b in candidates if b.centre_number == index), None)
            if match is not None:
                return match.centre_mhz
            if index:
                notes.append(f"radio {seg0_key}={index} is no {width} MHz centre holding channel {primary}")
            break
    # Without an index only an unambiguous block is known (a 6 GHz 320 MHz primary is in two).
    return candidates[0].centre_mhz if len(candidates) == 1 else None


def _bsses(fields: dict[str, str], text: str, notes: list[str]) -> tuple[HostapdBss, ...]:
    # hostapd numbers its BSSs: bss[0]=wlan0, bssid[0]=..., ssid[0]=..., num_sta[0]=...
    raw = raw_reply_values(text)
    by_index: dict[int, dict[str, str]] = {}
    for key, value in fields.items():
        match = _BSS_KEY.fullmatch(key)
        if match is not None:
            by_index.setdefault(int(match["index"]), {})[match["name"]] = value
    return tuple(
        HostapdBss(
            interface=bss.get("bss"),
            bssid=checked_mac(bss.get("bssid"), f"bss[{index}] bssid", notes),
            ssid=decode_hostapd_ssid(raw.get(f"ssid[{index}]"), f"bss[{index}] ssid", notes),
            station_count=checked_count(bss.get("num_sta"), f"bss[{index}] num_sta", notes),
        )
        for index, bss in sorted(by_index.items())
    )
