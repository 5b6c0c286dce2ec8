"""Parsers for wpa_supplicant control-interface replies: STATUS and SIGNAL_POLL (a gateway's Wi-Fi uplink)."""

from __future__ import annotations

from dataclasses import dataclass

from edge_agent.wifi.channels import Band, band_for_freq, channel_for_freq
from edge_agent.wifi.fields import (
    checked_freq,
    checked_level,
    checked_mac,
    checked_noise,
    checked_rate,
    command_reply_fields,
    first_int,
    first_number,
    width_mhz,
)
from edge_agent.wifi.ssid import Ssid, decode_hostapd_ssid, raw_reply_values

_STATUS_KEYS = frozenset({"wpa_state", "bssid", "ssid", "freq", "key_mgmt", "address", "mode"})
_SIGNAL_KEYS = frozenset({"RSSI", "LINKSPEED", "NOISE", "FREQUENCY", "WIDTH", "AVG_RSSI"})


@dataclass(frozen=True)
class WpaStatus:
    """The station's association state (wpa_supplicant `STATUS`)."""

    wpa_state: str | None  # COMPLETED when associated and keyed; SCANNING, DISCONNECTED, ...
    bssid: str | None
    ssid: Ssid | None  # text, or bytes where the SSID is no UTF-8
    freq_mhz: int | None
    channel: int | None
    mode: str | None
    key_mgmt: str | None
    wifi_generation: int | None  # 4 = 802.11n, 5 = ac, 6 = ax; only newer wpa_supplicant prints it
    ip_address: str | None
    address: str | None
    notes: tuple[str, ...] = ()

    @property
    def connected(self) -> bool:
        return self.wpa_state == "COMPLETED"

    @property
    def band(self) -> Band | None:
        return band_for_freq(self.freq_mhz)


@dataclass(frozen=True)
class WpaSignal:
    """The current link's levels (wpa_supplicant `SIGNAL_POLL`)."""

    rssi_dbm: float | None
    noise_dbm: float | None
    link_speed_mbps: float | None
    freq_mhz: int | None
    channel: int | None
    width_mhz: int | None
    center_freq1_mhz: int | None
    center_freq2_mhz: int | None
    avg_rssi_dbm: float | None
    avg_beacon_rssi_dbm: float | None
    notes: tuple[str, ...] = ()

    @property
    def band(self) -> Band | None:
        return band_for_freq(self.freq_mhz)


def parse_status(text: str) -> WpaStatus:
    """Parse the reply to wpa_supplicant's `STATUS` (`wpa_cli status`)."""
    fields = command_reply_fields(text, "wpa_supplicant STATUS", _STATUS_KEYS)
    notes: list[str] = []
    freq = checked_freq(fields.get("freq"), "uplink freq", notes)
    return WpaStatus(
        wpa_state=fields.get("wpa_state"),
        bssid=checked_mac(fields.get("bssid"), "uplink BSSID", notes),
        ssid=decode_hostapd_ssid(raw_reply_values(text).get("ssid") if "ssid" in fields else None, "uplink SSID",
                                 notes),
        freq_mhz=freq,
        channel=channel_for_freq(freq),
        mode=fields.get("mode"),
        key_mgmt=fields.get("key_mgmt"),
        wifi_generation=first_int(fields.get("wifi_generation"), "uplink wifi_generation"),
        ip_address=fields.get("ip_address"),
        address=checked_mac(fields.get("address"), "uplink address", notes),
        notes=tuple(notes),
    )


def parse_signal_poll(text: str) -> WpaSignal:
    """Parse the reply to wpa_supplicant's `SIGNAL_POLL` (`wpa_cli signal_poll`); not associated, it says FAIL."""
    fields = command_reply_fields(text, "wpa_supplicant SIGNAL_POLL", _SIGNAL_KEYS)
    notes: list[str] = []
    freq = checked_freq(fields.get("FREQUENCY"), "uplink FREQUENCY", notes)
    width_text = fields.get("WIDTH")
    width = width_mhz(width_text, "uplink WIDTH")
    if width_text is not None and width is None:
        notes.append(f"uplink WIDTH {width_text!r} is not a channel width")

    def level(key: str) -> float | None:
        return checked_level(first_number(fields.get(key), f"uplink {key}"), f"uplink {key}", notes)

    return WpaSignal(
        rssi_dbm=level("RSSI"),
        noise_dbm=checked_noise(first_number(fields.get("NOISE"), "uplink NOISE"), "uplink NOISE", notes),
        link_speed_mbps=checked_rate(first_number(fields.get("LINKSPEED"), "uplink LINKSPEED"), "uplink LINKSPEED",
                                     notes),
        freq_mhz=freq,
        channel=channel_for_freq(freq),
        width_mhz=width,
        center_freq1_mhz=checked_freq(fields.get("CENTER_FRQ1"), "uplink CENTER_FRQ1", notes),
        center_freq2_mhz=checked_freq(fields.get("CENTER_FRQ2"), "uplink CENTER_FRQ2", notes),
        avg_rssi_dbm=level("AVG_RSSI"),
        avg_beacon_rssi_dbm=level("AVG_BEACON_RSSI"),
        notes=tuple(notes),
    )

