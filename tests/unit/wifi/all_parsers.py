"""Every Wi-Fi parser with the recorded real outputs it reads, for the tests that feed them hostile text."""

from __future__ import annotations

from collections.abc import Callable

from edge_agent.wifi import hostapd_replies, wpa
from edge_agent.wifi.iw import parse_info, parse_link, parse_scan, parse_station_dump, parse_survey_dump
from edge_agent.wifi.phy import parse_phy
from edge_agent.wifi.procfs import parse_proc_net_wireless

from .samples import SAMPLES_DIR

# name -> (parser, prefix of its recorded samples in tests/data/wifi, the separator of its key/value lines)
PARSERS: dict[str, tuple[Callable[[str], object], str, str]] = {
    "iw link": (parse_link, "iw_link__", ":"),
    "iw info": (parse_info, "iw_info__", " "),
    "iw station dump": (parse_station_dump, "iw_station_dump__", ":"),
    "iw survey dump": (parse_survey_dump, "iw_survey_dump__", ":"),
    "iw scan": (parse_scan, "iw_scan__", ":"),
    "iw phy": (parse_phy, "iw_phy__", ":"),
    "/proc/net/wireless": (parse_proc_net_wireless, "proc_net_wireless__", " "),
    "hostapd STATUS": (hostapd_replies.parse_status, "hostapd_cli_status__", "="),
    "hostapd STA": (hostapd_replies.parse_sta_replies, "hostapd_cli_sta__", "="),
    "wpa_supplicant STATUS": (wpa.parse_status, "wpa_cli_status__", "="),
    "wpa_supplicant SIGNAL_POLL": (wpa.parse_signal_poll, "wpa_cli_signal_poll__", "="),
}


def samples_of(name: str) -> list[str]:
    """The recorded outputs `name`'s parser reads."""
    prefix = PARSERS[name][1]
    return [path.read_text() for path in sorted(SAMPLES_DIR.glob(f"{prefix}*.txt"))]
