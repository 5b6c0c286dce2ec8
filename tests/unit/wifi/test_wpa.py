"""wpa_supplicant STATUS and SIGNAL_POLL replies against recorded real replies."""

from __future__ import annotations

import pytest

from edge_agent.wifi import ParseError
from edge_agent.wifi.channels import Band
from edge_agent.wifi.wpa import parse_signal_poll, parse_status

from .samples import sample

STATUS_SAE = "wpa_cli_status__plume-design_opensync.txt"
STATUS_DOC = "wpa_cli_status__w1fi_hostap_doc-ctrl_iface.txt"
SIGNAL = "wpa_cli_signal_poll__nerves-networking_vintage_net_wifi.txt"
BANNER = "Selected interface 'wlan0'\n"


def test_status_reads_wpa3_association():
    status = parse_status(sample(STATUS_SAE))
    assert (status.wpa_state, status.connected, status.bssid, status.ssid) == (
        "COMPLETED", True, "a1:a2:a3:a4:a5:a6", "Dummy_ssid_vif0.0")
    assert (status.freq_mhz, status.channel, status.mode, status.key_mgmt) == (5220, 44, "station", "SAE")
    assert (status.wifi_generation, status.ip_address, status.address) == (6, "192.168.40.204", "aa:bb:cc:dd:ee:ff")
    assert status.notes == ()


def test_status_from_doc_example_without_freq_leaves_it_none():
    status = parse_status(sample(STATUS_DOC))
    assert (status.bssid, status.ssid, status.key_mgmt, status.ip_address) == (
        "02:00:01:02:03:04", "test network", "WPA-PSK", "192.168.1.21")
    assert (status.freq_mhz, status.channel, status.wifi_generation) == (None, None, None)


def test_status_not_completed_is_not_connected():
    assert parse_status("wpa_state=SCANNING\naddress=aa:bb:cc:dd:ee:ff\n").connected is False


def test_status_after_wpa_cli_banner_parses_the_same():
    assert parse_status(BANNER + sample(STATUS_SAE)) == parse_status(sample(STATUS_SAE))


def test_status_ssid_containing_equals_sign_is_kept_whole():
    assert parse_status("wpa_state=COMPLETED\nssid=a=b\n").ssid == "a=b"


def test_signal_poll_reads_levels_and_channel():
    signal = parse_signal_poll(sample(SIGNAL))
    assert (signal.rssi_dbm, signal.link_speed_mbps, signal.freq_mhz, signal.channel) == (-32.0, 300.0, 2472, 13)
    assert (signal.width_mhz, signal.center_freq1_mhz, signal.center_freq2_mhz) == (40, 2462, None)


def test_signal_poll_noise_9999_is_not_available_and_noted():
    signal = parse_signal_poll(sample(SIGNAL))
    assert signal.noise_dbm is None
    assert signal.notes == (
        "uplink NOISE 9999 dBm is wpa_supplicant's 'not available' (the driver reported no value)",)


def test_signal_poll_reads_averages_where_given():
    signal = parse_signal_poll(sample(SIGNAL) + "AVG_RSSI=-35\nAVG_BEACON_RSSI=-33\n")
    assert (signal.avg_rssi_dbm, signal.avg_beacon_rssi_dbm) == (-35.0, -33.0)


def test_signal_poll_positive_rssi_is_invalid():
    assert parse_signal_poll(sample(SIGNAL).replace("RSSI=-32", "RSSI=20")).rssi_dbm is None


def test_signal_poll_legacy_width_is_20_mhz():
    assert parse_signal_poll(sample(SIGNAL).replace("WIDTH=40 MHz", "WIDTH=20 MHz (no HT)")).width_mhz == 20


def test_signal_poll_unknown_width_is_none_and_noted():
    signal = parse_signal_poll(sample(SIGNAL).replace("WIDTH=40 MHz", "WIDTH=unknown"))
    assert signal.width_mhz is None
    assert "uplink WIDTH 'unknown' is not a channel width" in signal.notes


def test_signal_poll_after_wpa_cli_banner_parses_the_same():
    assert parse_signal_poll(BANNER + sample(SIGNAL)) == parse_signal_poll(sample(SIGNAL))


@pytest.mark.parametrize("reply", ["", "FAIL\n", BANNER + "FAIL\n"])
def test_signal_poll_fail_is_not_a_signal_reply(reply):
    # wpa_supplicant answers FAIL when not associated.
    with pytest.raises(ParseError, match="wpa_supplicant SIGNAL_POLL"):
        parse_signal_poll(reply)


def test_empty_status_reply_is_not_a_status():
    with pytest.raises(ParseError, match="wpa_supplicant STATUS: empty reply"):
        parse_status("")


def test_status_ssid_is_decoded_and_keeps_its_spaces():
    status = parse_status("wpa_state=COMPLETED\nbssid=02:00:00:00:00:01\nssid= caf\\xc3\\xa9 \\\"x\\\" \nfreq=5955\n")
    assert status.ssid == ' caf\u00e9 "x" '
    assert (status.channel, status.band) == (1, Band.GHZ_6)  # the number is the frequency's, in its band


def test_signal_poll_noise_cut_short_is_invalid():
    signal = parse_signal_poll("RSSI=-60\nNOISE=-9\nLINKSPEED=144\nFREQUENCY=2412\n")
    assert signal.noise_dbm is None and any("no noise floor" in note for note in signal.notes)
