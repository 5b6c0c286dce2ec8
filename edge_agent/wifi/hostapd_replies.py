"""Parsers for hostapd control-interface replies: STATUS, and STA-FIRST / STA-NEXT (what `all_sta` prints).

Pure text to values; talking to the control socket is the client's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge_agent.wifi.channels import channel_for_freq
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

# A radio has at most a few dozen BSSs: an index of more than four digits is no BSS of it.
_BSS_KEY = re.compile(r"(?P<name>bss|bssid|ssid|num_sta)\[(?P<index>[0-9]{1,4})\]")
# Each reply starts with the station's MAC on a line of its own.
_STA_HEADER = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}$", re.IGNORECASE)
# hostapd's *_oper_chwidth: 0 = 20 or 40 MHz (then secondary_channel decides), 1 = 80, 2 = 160, 3 = 80+80,
# 4 = 320. 80+80 counts as the 160 MHz of spectrum it occupies.
_OPER_CHWIDTH_MHZ = {1: 80, 2: 160, 3: 160, 4: 320}
# Newest standard first: its operating width is the one the radio uses.
_CHWIDTH_KEYS = (("ieee80211be", "eht_oper_chwidth"), ("ieee80211ax", "he_oper_chwidth"),
                 ("ieee80211ac", "vht_oper_chwidth"))
_STATUS_KEYS = frozenset({"state", "freq", "channel", "secondary_channel", "ieee80211n", "max_txpower"})


@dataclass(frozen=True)
class HostapdBss:
    """One BSS (SSID) served by the radio."""

    interface: str | None
    bssid: str | None
    ssid: str | None
    station_count: int | None


@dataclass(frozen=True)
class HostapdStatus:
    """The radio's state and operating channel, and its BSSs (hostapd `STATUS`)."""

    state: str | None  # ENABLED, DISABLED, ACS, HT_SCAN, DFS, COUNTRY_UPDATE...
    freq_mhz: int | None
    channel: int | None
    width_mhz: int | None
    max_tx_power_dbm: float | None
    bsses: tuple[HostapdBss, ...]
    notes: tuple[str, ...] = ()

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
    freq = checked_freq(fields.get("freq"), "radio freq", notes)
    channel = channel_for_freq(freq) if freq is not None else first_int(fields.get("channel"), "radio channel")
    return HostapdStatus(
        state=fields.get("state"),
        freq_mhz=freq,
        channel=channel,
        width_mhz=_width_mhz(fields),
        max_tx_power_dbm=first_number(fields.get("max_txpower"), "radio max_txpower"),
        bsses=_bsses(fields, notes),
        notes=tuple(notes),
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


def _width_mhz(fields: dict[str, str]) -> int | None:
    for enabled_key, chwidth_key in _CHWIDTH_KEYS:
        if fields.get(enabled_key) == "1" and chwidth_key in fields:
            width = _OPER_CHWIDTH_MHZ.get(first_int(fields[chwidth_key], f"radio {chwidth_key}") or 0)
            if width is not None:
                return width
    secondary = first_int(fields.get("secondary_channel"), "radio secondary_channel")
    if secondary is None:
        return None
    return 40 if secondary != 0 else 20


def _bsses(fields: dict[str, str], notes: list[str]) -> tuple[HostapdBss, ...]:
    # hostapd numbers its BSSs: bss[0]=wlan0, bssid[0]=..., ssid[0]=..., num_sta[0]=...
    by_index: dict[int, dict[str, str]] = {}
    for key, value in fields.items():
        match = _BSS_KEY.fullmatch(key)
        if match is not None:
            by_index.setdefault(int(match["index"]), {})[match["name"]] = value
    return tuple(
        HostapdBss(
            interface=bss.get("bss"),
            bssid=checked_mac(bss.get("bssid"), f"bss[{index}] bssid", notes),
            ssid=bss.get("ssid"),
            station_count=checked_count(bss.get("num_sta"), f"bss[{index}] num_sta", notes),
        )
        for index, bss in sorted(by_index.items())
    )
