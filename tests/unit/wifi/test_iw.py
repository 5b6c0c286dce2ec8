"""iw output parsers against recorded real outputs, and against the ways real outputs go wrong."""

from __future__ import annotations

import pytest

from edge_agent.wifi import ParseError
from edge_agent.wifi.channels import Band, Channel, blocks
from edge_agent.wifi.iw import (
    parse_info,
    parse_link,
    parse_scan,
    parse_station_dump,
    parse_survey_dump,
)

from .samples import sample

LINK_VWIFI = "iw_link__sysprog21_vwifi_pr80.txt"
LINK_LEDE = "iw_link__thuehn_Minstrel-Blues.txt"
INFO_AP = "iw_info__thuehn_Minstrel-Blues_ap.txt"
INFO_MANAGED = "iw_info__thuehn_Minstrel-Blues_managed.txt"
STATIONS_GFIBER = "iw_station_dump__DentonGentry_gfiber-platform.txt"
STATIONS_MESH = "iw_station_dump__libremesh_lime-packages_wlan0-mesh.txt"
STATIONS_MESH_SPACES = "iw_station_dump__libremesh_lime-packages_wlan1-mesh_spaces.txt"
SURVEY_P54 = "iw_survey_dump__linux_p54_commit_0d78156e.txt"
SURVEY_OPENWRT = "iw_survey_dump__openwrt_openwrt_issue17489.txt"
SURVEY_NO_COUNTERS = "iw_survey_dump__greearb_ath10k-ct_issue8_no-counters.txt"
SCAN_SPACES = "iw_scan__kellyjonbrazil_jc_iw-scan0_spaces.txt"
SCAN_HE = "iw_scan__kellyjonbrazil_jc_iw-scan2.txt"

PARSERS = {
    "link": parse_link,
    "info": parse_info,
    "station dump": parse_station_dump,
    "survey dump": parse_survey_dump,
    "scan": parse_scan,
}
TABBED_SAMPLES = [
    (parse_link, LINK_VWIFI),
    (parse_link, LINK_LEDE),
    (parse_info, INFO_AP),
    (parse_info, INFO_MANAGED),
    (parse_station_dump, STATIONS_GFIBER),
    (parse_station_dump, STATIONS_MESH),
    (parse_survey_dump, SURVEY_P54),
    (parse_survey_dump, SURVEY_OPENWRT),
    (parse_survey_dump, SURVEY_NO_COUNTERS),
    (parse_scan, SCAN_HE),
]


# --- iw dev X link ---------------------------------------------------------------------------------------------

def test_link_reads_association_from_vwifi_sample():
    link = parse_link(sample(LINK_VWIFI))
    assert (link.connected, link.bssid, link.interface, link.ssid) == (True, "00:76:77:30:00:00", "vw1", "test")
    assert (link.freq_mhz, link.channel, link.signal_dbm) == (2437, 6, -35.0)
    assert (link.rx_bytes, link.rx_packets, link.tx_bytes, link.tx_packets) == (282, 2, 1184, 14)
    assert (link.rx_bitrate_mbps, link.tx_bitrate_mbps) == (195.0, 195.0)
    assert link.notes == ()


def test_link_from_old_iw_without_rx_bitrate_leaves_it_none():
    link = parse_link(sample(LINK_LEDE))
    assert (link.bssid, link.ssid, link.freq_mhz, link.channel) == ("f4:f2:6d:22:7c:f0", "LEDE-tp1043", 2462, 11)
    assert (link.signal_dbm, link.rx_bytes, link.tx_packets) == (-39.0, 7007190, 226)
    assert link.tx_bitrate_mbps == 13.0
    assert link.rx_bitrate_mbps is None


def test_link_not_connected_is_a_disconnected_link():
    link = parse_link("Not connected.\n")
    assert link.connected is False
    assert link.bssid is None


def test_link_authenticated_but_not_associated_is_not_connected():
    link = parse_link("Authenticated with 02:00:00:00:01:00 (on wlan0)\n\tfreq: 5180\n")
    assert (link.connected, link.bssid, link.freq_mhz) == (False, "02:00:00:00:01:00", 5180)


def test_link_decimal_freq_is_read_as_whole_mhz():
    link = parse_link(sample(LINK_VWIFI).replace("freq: 2437", "freq: 2437.0"))
    assert (link.freq_mhz, link.channel) == (2437, 6)


def test_link_positive_signal_is_invalid_and_noted():
    link = parse_link(sample(LINK_VWIFI).replace("signal: -35 dBm", "signal: 12 dBm"))
    assert link.signal_dbm is None
    assert link.notes == ("link signal 12 dBm is impossible: a level received over the air is below 0 dBm",)


def test_link_command_error_is_not_link_output():
    with pytest.raises(ParseError, match="iw dev link"):
        parse_link("command failed: No such device (-19)\n")


# --- iw dev X info ---------------------------------------------------------------------------------------------

def test_info_reads_ap_channel_width_and_power():
    info = parse_info(sample(INFO_AP))
    assert (info.interface, info.ifindex, info.addr, info.ssid) == ("wlan0", 9, "f4:f2:6d:22:7c:f0", "LEDE-ctrl")
    assert (info.mode, info.wiphy) == ("AP", 0)
    assert (info.channel, info.freq_mhz, info.width_mhz, info.center1_mhz) == (11, 2462, 20, 2462)
    assert info.tx_power_dbm == 25.0


def test_info_of_managed_interface_without_ssid_leaves_ssid_none():
    info = parse_info(sample(INFO_MANAGED))
    assert (info.ifindex, info.addr, info.mode, info.tx_power_dbm) == (373, "a0:f3:c1:64:81:7b", "managed", 20.0)
    assert info.ssid is None


def test_info_reads_80_plus_80_as_160_mhz_with_both_centres():
    info = parse_info(
        "Interface wlan1\n\tifindex 5\n\ttype AP\n"
        "\tchannel 36 (5180 MHz), width: 80+80 MHz, center1: 5210 MHz, center2: 5775 MHz\n"
    )
    assert (info.channel, info.width_mhz, info.center1_mhz, info.center2_mhz) == (36, 160, 5210, 5775)


def test_info_after_phy_banner_line_parses_the_same():
    assert parse_info("phy#0\n" + sample(INFO_AP)) == parse_info(sample(INFO_AP))


# --- iw dev X station dump -------------------------------------------------------------------------------------

def test_station_dump_reads_gfiber_station():
    [station] = parse_station_dump(sample(STATIONS_GFIBER)).stations
    assert (station.mac, station.interface, station.signal_dbm, station.signal_avg_dbm) == (
        "48:d7:05:b4:5a:5f", "wlan1", -43.0, -43.0)
    assert (station.inactive_ms, station.rx_bytes, station.rx_packets) == (1060, 20448, 304)
    assert (station.tx_bytes, station.tx_packets, station.tx_retries, station.tx_failed) == (
        1166923136, 783175, 0, 2)
    assert (station.tx_bitrate_mbps, station.rx_bitrate_mbps, station.authorized) == (6.0, 24.0, True)


def test_station_dump_from_old_iw_without_connected_time_leaves_it_none():
    [station] = parse_station_dump(sample(STATIONS_GFIBER)).stations
    assert station.connected_s is None
    assert station.expected_throughput_mbps is None


def test_station_dump_reads_mesh_peer_with_per_chain_signal():
    dump = parse_station_dump(sample(STATIONS_MESH))
    [peer] = dump.stations
    assert (peer.mac, peer.interface) == ("c0:4a:00:be:7b:09", "wlan0-mesh")
    assert (peer.signal_dbm, peer.chain_signal_dbm, peer.signal_avg_dbm) == (-14.0, (-17.0, -18.0), -14.0)
    assert (peer.tx_retries, peer.tx_failed, peer.connected_s) == (2448, 15, 5070)
    assert (peer.tx_bitrate_mbps, peer.rx_bitrate_mbps, peer.expected_throughput_mbps) == (6.5, 39.0, 2.197)
    assert dump.notes == ()


def test_station_dump_with_tabs_turned_to_spaces_reads_mesh_peer():
    [peer] = parse_station_dump(sample(STATIONS_MESH_SPACES)).stations
    assert (peer.mac, peer.interface, peer.inactive_ms) == ("c0:4a:00:be:7b:0a", "wlan1-mesh", 50)
    assert (peer.signal_dbm, peer.chain_signal_dbm) == (-14.0, (-17.0, -16.0))
    assert peer.signal_avg_dbm == -12.0
    assert (peer.tx_bitrate_mbps, peer.expected_throughput_mbps, peer.connected_s) == (300.0, 58.43, 139)


def test_station_dump_keeps_every_station_in_order():
    text = sample(STATIONS_GFIBER) + sample(STATIONS_MESH)
    assert [s.mac for s in parse_station_dump(text).stations] == ["48:d7:05:b4:5a:5f", "c0:4a:00:be:7b:09"]


def test_station_dump_positive_signal_is_invalid_and_noted():
    text = sample(STATIONS_GFIBER).replace("signal:  \t-43 dBm", "signal:  \t3 dBm")
    dump = parse_station_dump(text)
    assert dump.stations[0].signal_dbm is None
    assert dump.notes == (
        "station 48:d7:05:b4:5a:5f signal 3 dBm is impossible: a level received over the air is below 0 dBm",)


def test_station_dump_impossible_chain_reading_is_none_in_its_place():
    text = sample(STATIONS_MESH).replace("-14 [-17, -18] dBm", "-14 [-17, -256] dBm", 1)
    [peer] = parse_station_dump(text).stations
    assert peer.chain_signal_dbm == (-17.0, None)


def test_station_dump_missing_fields_leave_them_none():
    [station] = parse_station_dump("Station 02:00:00:00:01:00 (on wlan0)\n\tinactive time:\t10 ms\n").stations
    assert station.inactive_ms == 10
    assert (station.signal_dbm, station.tx_bytes, station.authorized, station.chain_signal_dbm) == (
        None, None, None, ())


def test_station_dump_unauthorized_station_is_not_authorized():
    [station] = parse_station_dump(sample(STATIONS_GFIBER).replace("authorized:\tyes", "authorized:\tno")).stations
    assert station.authorized is False


def test_station_dump_empty_output_means_no_stations():
    # iw prints nothing at all for an AP nobody is associated with.
    assert parse_station_dump("").stations == ()


def test_station_dump_without_a_station_line_is_not_station_dump_output():
    with pytest.raises(ParseError, match="iw dev station dump"):
        parse_station_dump("command failed: Operation not supported (-95)\n")


# --- iw dev X survey dump --------------------------------------------------------------------------------------

def test_survey_dump_reads_in_use_channel_counters_from_openwrt_sample():
    dump = parse_survey_dump(sample(SURVEY_OPENWRT))
    assert len(dump.entries) == 6
    in_use = dump.in_use
    assert (in_use.freq_mhz, in_use.channel, in_use.noise_dbm) == (2437, 6, -84.0)
    assert (in_use.active_ms, in_use.busy_ms, in_use.receive_ms, in_use.transmit_ms) == (
        497753, 104676, 87380, 16494)


def test_survey_dump_reads_channels_not_in_use():
    first = parse_survey_dump(sample(SURVEY_OPENWRT)).entries[0]
    assert (first.freq_mhz, first.channel, first.in_use, first.noise_dbm) == (2412, 1, False, -82.0)
    assert (first.active_ms, first.busy_ms, first.receive_ms, first.transmit_ms) == (142, 7, 7, 0)


def test_survey_dump_from_p54_has_no_receive_time():
    dump = parse_survey_dump(sample(SURVEY_P54))
    in_use = dump.in_use
    assert (in_use.freq_mhz, in_use.channel, in_use.noise_dbm) == (5200, 40, -91.0)
    assert (in_use.active_ms, in_use.busy_ms, in_use.transmit_ms) == (811909, 63395, 59636)
    assert in_use.receive_ms is None
    assert (dump.entries[1].freq_mhz, dump.entries[1].channel, dump.entries[1].busy_ms) == (5210, 42, 119)


def test_survey_dump_without_counters_gives_entries_with_none_counters():
    dump = parse_survey_dump(sample(SURVEY_NO_COUNTERS))
    assert len(dump.entries) == 19
    assert (dump.in_use.freq_mhz, dump.in_use.channel) == (5180, 36)
    assert {(e.noise_dbm, e.active_ms, e.busy_ms) for e in dump.entries} == {(None, None, None)}
    assert dump.notes == ()


def test_survey_dump_decimal_frequency_is_read_as_whole_mhz():
    dump = parse_survey_dump(sample(SURVEY_P54).replace("5200 MHz [in use]", "5200.0 MHz [in use]"))
    assert (dump.in_use.freq_mhz, dump.in_use.channel) == (5200, 40)


def test_survey_dump_noise_minus_256_is_invalid_and_noted():
    dump = parse_survey_dump(sample(SURVEY_P54).replace("-91 dBm", "-256 dBm", 1))
    assert dump.in_use.noise_dbm is None
    assert dump.notes == (
        "survey 5200 MHz noise -256 dBm is the driver's 'not available' (a missing level as /proc/net/wireless "
        "prints it)",)


def test_survey_dump_positive_noise_is_invalid():
    dump = parse_survey_dump(sample(SURVEY_P54).replace("-91 dBm", "127 dBm", 1))
    assert dump.in_use.noise_dbm is None


def test_survey_dump_without_in_use_entry_has_none_in_use():
    assert parse_survey_dump(sample(SURVEY_P54).replace(" [in use]", "")).in_use is None


# --- iw dev X scan ---------------------------------------------------------------------------------------------

def test_scan_with_tabs_turned_to_spaces_reads_both_bsses():
    result = parse_scan(sample(SCAN_SPACES))
    assert [(b.bssid, b.ssid, b.freq_mhz, b.channel, b.signal_dbm, b.width_mhz) for b in result.bsses] == [
        ("00:19:a9:cd:c6:80", "Cisco1240", 2412, 1, -45.0, 20),
        ("d0:d0:fd:69:ca:70", "Cisco1250", 2462, 11, -70.0, 20),
    ]
    assert result.notes == ()


def test_scan_reads_he_bss_with_ht_and_vht_operation():
    [bss] = parse_scan(sample(SCAN_HE)).bsses
    assert (bss.ssid, bss.freq_mhz, bss.channel, bss.signal_dbm) == ("Troubleshooting", 2412, 1, -54.0)
    # HT operation: no secondary channel; VHT operation: "0 (20 or 40 MHz)" defers to HT.
    assert bss.width_mhz == 20


def test_scan_redacted_bssid_is_invalid_and_noted():
    result = parse_scan(sample(SCAN_HE))
    assert result.bsses[0].bssid is None
    assert result.notes == ("BSS xx:xx:xx:xx:3e:41 BSSID 'xx:xx:xx:xx:3e:41' is not a MAC address",)


def test_scan_decimal_freq_is_read_as_whole_mhz():
    [bss] = parse_scan(sample(SCAN_HE).replace("freq: 2412", "freq: 2412.0")).bsses
    assert (bss.freq_mhz, bss.channel) == (2412, 1)


def test_scan_freq_with_non_zero_khz_offset_is_invalid_and_noted():
    result = parse_scan(sample(SCAN_HE).replace("freq: 2412", "freq: 2412.500"))
    assert (result.bsses[0].freq_mhz, result.bsses[0].channel) == (None, None)
    assert result.notes[-1] == (
        "BSS xx:xx:xx:xx:3e:41 freq 2412.500 MHz is not a whole MHz: no 2.4/5/6 GHz channel is centred there")


def test_scan_freq_outside_wifi_bands_is_invalid_and_noted():
    result = parse_scan(_bss("aa:bb:cc:00:00:01", 900, "-60.00 dBm"))
    assert result.bsses[0].freq_mhz is None
    assert result.notes == ("BSS aa:bb:cc:00:00:01 freq 900 MHz is outside 2400-7200 MHz, the 2.4/5/6 GHz Wi-Fi bands",)


def test_scan_signal_in_driver_units_is_not_taken_as_dbm():
    result = parse_scan(_bss("aa:bb:cc:00:00:01", 2437, "60/100"))
    assert result.bsses[0].signal_dbm is None
    assert result.notes == ("BSS aa:bb:cc:00:00:01 signal 60/100 is in driver units, not dBm",)


def test_scan_positive_signal_is_invalid():
    assert parse_scan(_bss("aa:bb:cc:00:00:01", 2437, "4.00 dBm")).bsses[0].signal_dbm is None


def test_scan_ht_secondary_channel_means_40_mhz():
    text = _bss("aa:bb:cc:00:00:01", 5180, "-60.00 dBm", "\tHT operation:\n\t\t * primary channel: 36\n"
                "\t\t * secondary channel offset: above\n\t\t * STA channel width: any\n")
    assert parse_scan(text).bsses[0].width_mhz == 40


def test_scan_vht_channel_width_1_means_80_mhz():
    text = _bss("aa:bb:cc:00:00:01", 5180, "-60.00 dBm", _HT40 + "\tVHT operation:\n\t\t * channel width: 1 (80 MHz)\n"
                "\t\t * center freq segment 1: 42\n\t\t * center freq segment 2: 0\n")
    assert parse_scan(text).bsses[0].width_mhz == 80


def test_scan_vht_second_segment_means_160_mhz():
    text = _bss("aa:bb:cc:00:00:01", 5180, "-60.00 dBm", _HT40 + "\tVHT operation:\n\t\t * channel width: 1 (80 MHz)\n"
                "\t\t * center freq segment 1: 42\n\t\t * center freq segment 2: 50\n")
    assert parse_scan(text).bsses[0].width_mhz == 160


def test_scan_6ghz_width_comes_from_he_operation():
    text = _bss("aa:bb:cc:00:00:01", 6135, "-70.00 dBm", "\tHE Operation:\n\t\tHE Operation Parameters: (0x023ff4)\n"
                "\t\t6 GHz Operation Information: 0x25021f2700\n\t\t\tPrimary Channel: 37\n"
                "\t\t\tChannel Width: 80+80 or 160 MHz\n\t\t\tCenter Frequency Segment 0: 31\n")
    [bss] = parse_scan(text).bsses
    assert (bss.channel, bss.width_mhz) == (37, 160)


def test_scan_6ghz_bss_without_he_width_has_unknown_width():
    result = parse_scan(_bss("aa:bb:cc:00:00:01", 5955, "-70.00 dBm"))
    assert result.bsses[0].width_mhz is None
    assert result.notes == ("BSS aa:bb:cc:00:00:01 is a 6 GHz BSS without a channel width in its HE operation element",)


def test_scan_eht_operation_width_wins():
    text = _bss("aa:bb:cc:00:00:01", 6135, "-70.00 dBm", "\tEHT Operation:\n\t\tEHT Operation Parameters: (0x01)\n"
                "\t\tEHT Operation Info:\n\t\t\tChannel Width: 320 MHz\n")
    assert parse_scan(text).bsses[0].width_mhz == 320


def test_scan_hidden_network_has_empty_ssid():
    assert parse_scan(_bss("aa:bb:cc:00:00:01", 2437, "-60.00 dBm") + "\tSSID: \n").bsses[0].ssid == ""


def test_scan_associated_bss_header_is_recognised():
    text = _bss("aa:bb:cc:00:00:01", 2437, "-60.00 dBm").replace("(on wlan0)", "(on wlan0) -- associated")
    assert parse_scan(text).bsses[0].bssid == "aa:bb:cc:00:00:01"


def test_scan_width_is_read_when_tabs_became_single_spaces():
    text = _bss("aa:bb:cc:00:00:01", 5180, "-60.00 dBm", _HT40).replace("\t", " ")
    assert parse_scan(text).bsses[0].width_mhz == 40


def test_scan_empty_output_means_nothing_heard():
    assert parse_scan("").bsses == ()


def test_scan_without_a_bss_line_is_not_scan_output():
    with pytest.raises(ParseError, match="iw dev scan"):
        parse_scan("command failed: Device or resource busy (-16)\n")


# --- all iw parsers --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tab_replacement", [" ", "    "])
@pytest.mark.parametrize(("parse", "name"), TABBED_SAMPLES, ids=[name for _, name in TABBED_SAMPLES])
def test_tabs_turned_to_spaces_parse_the_same(parse, name, tab_replacement):
    text = sample(name)
    assert parse(text.replace("\t", tab_replacement)) == parse(text)


@pytest.mark.parametrize("command", ["link", "info", "survey dump"])
def test_empty_output_is_not_the_command_output(command):
    with pytest.raises(ParseError, match=f"iw dev {command}: empty output"):
        PARSERS[command]("")


@pytest.mark.parametrize("command", list(PARSERS))
def test_blank_lines_between_blocks_are_ignored(command):
    name = {"link": LINK_VWIFI, "info": INFO_AP, "station dump": STATIONS_GFIBER, "survey dump": SURVEY_OPENWRT,
            "scan": SCAN_SPACES}[command]
    text = sample(name)
    assert PARSERS[command](text.replace("\n", "\n\n")) == PARSERS[command](text)


_HT40 = "\tHT operation:\n\t\t * primary channel: 36\n\t\t * secondary channel offset: above\n"


def _bss(bssid: str, freq: int, signal: str, elements: str = "") -> str:
    return f"BSS {bssid}(on wlan0)\n\tfreq: {freq}\n\tsignal: {signal}\n\tlast seen: 10 ms ago\n{elements}"


# --- bands, SSIDs and recorded Wi-Fi 6E/7 outputs (issue 19) ---

def test_a_6_ghz_bss_keeps_its_band():
    bss = parse_scan(sample(SCAN_HE).replace("freq: 2412", "freq: 5955")).bsses[0]
    assert (bss.channel, bss.band, bss.primary) == (1, Band.GHZ_6, Channel(Band.GHZ_6, 1))


@pytest.mark.parametrize(("printed", "ssid"), [
    ("\\xe2\\x98\\x83", "\u2603"),          # iw escapes every non-ASCII byte; valid UTF-8 becomes text
    ("\\x20home\\x20", " home "),           # spaces at either end are escaped, so they survive
    ("my home", "my home"),
    ("\\x00\\x00\\x00\\x00", ""),           # a hidden SSID printed as its zero bytes
    ("\\xff\\xfe", b"\xff\xfe"),            # not UTF-8: the bytes themselves
    ("back\\x5cslash", "back\\slash"),
])
def test_scan_ssids_are_decoded_from_iws_escaping(printed, ssid):
    bss = parse_scan(sample(SCAN_HE).replace("SSID: Troubleshooting", f"SSID: {printed}")).bsses[0]
    assert bss.ssid == ssid


def test_link_and_info_ssids_are_decoded_too():
    link = parse_link("Connected to 02:00:00:00:00:01 (on wlan0)\n\tSSID: caf\\xc3\\xa9\n\tfreq: 2412\n")
    info = parse_info("Interface wlan0\n\tssid caf\\xc3\\xa9\n\ttype AP\n")
    assert link.ssid == info.ssid == "caf\u00e9"


def test_survey_of_a_truncated_noise_line_is_invalid():
    text = "Survey data from wlan0\n\tfrequency:\t2412 MHz\n\tnoise:\t-9 dBm\n"
    dump = parse_survey_dump(text)
    assert dump.entries[0].noise_dbm is None and "no noise floor" in dump.notes[0]


def test_survey_of_a_frequency_between_6_ghz_centres_has_no_channel():
    dump = parse_survey_dump("Survey data from wlan0\n\tfrequency:\t5960 MHz\n")
    assert (dump.entries[0].channel, dump.entries[0].primary, dump.entries[0].band) == (None, None, Band.GHZ_6)


def test_recorded_mt7996_survey_has_one_in_use_entry_per_band():
    # one wiphy, three radios (BPI-R4, openwrt/openwrt#18482): noise only, no time counters
    dump = parse_survey_dump(sample("iw_survey_dump__openwrt_openwrt_issue18482_mt7996-tri-band.txt"))
    assert [(e.primary, e.in_use, e.noise_dbm) for e in dump.entries] == [
        (Channel(Band.GHZ_2_4, 1), True, -82.0), (Channel(Band.GHZ_5, 132), True, -91.0),
        (Channel(Band.GHZ_6, 53), True, -80.0)]
    assert all(e.active_ms is None and e.busy_ms is None for e in dump.entries)
    assert dump.in_use is dump.entries[0] and dump.notes == ()


def test_recorded_ath12k_eht_station_dump():
    # ath12k WCN7850 (linux-wireless, 2025-01-10), indented with spaces as in the mail
    dump = parse_station_dump(sample("iw_station_dump__lore_linux-wireless_ath12k-wcn7850-eht.txt"))
    [station] = dump.stations
    assert (station.mac, station.interface, station.inactive_ms) == ("00:03:7f:12:03:03", "wlo1", 600)
    assert (station.rx_bytes, station.rx_packets, station.tx_bytes, station.tx_packets) == \
        (4642228, 23796, 933967, 8761)
    assert (station.tx_retries, station.tx_failed, station.signal_dbm) == (66, 0, -20.0)
    assert (station.tx_bitrate_mbps, station.rx_bitrate_mbps) == (1441.1, 1801.4)
    assert (station.signal_avg_dbm, station.connected_s, station.authorized) == (None, None, None)
    assert dump.notes == ()


def test_recorded_320_mhz_channel_line_names_a_real_320_mhz_block():
    # Intel CNVi MLD station (canonical/checkbox): the only channel line is link 2's. It is link 2's channel,
    # not the interface's (issue 19: an MLD has no one channel), so it is read into link 2.
    info = parse_info(sample("iw_info__canonical_checkbox_iw_dev_info_succ_mld-320mhz.txt"))
    assert (info.interface, info.ifindex, info.addr, info.ssid, info.mode, info.wiphy) == \
        ("wlp0s20f3", 2, "c8:6e:08:17:85:4a", "cert-be-wpa3-tel-l10", "managed", 0)
    assert (info.freq_mhz, info.channel, info.width_mhz, info.center1_mhz) == (None, None, None, None)
    link1, link2 = info.links
    assert (link1.link_id, link1.address, link1.freq_mhz, link1.band) == (1, "ea:ab:77:e3:d8:e7", None, None)
    assert (link2.link_id, link2.address, link2.freq_mhz, link2.primary, link2.width_mhz, link2.center1_mhz) == \
        (2, "92:4f:25:02:8a:eb", 6375, Channel(Band.GHZ_6, 85), 320, 6265)
    assert link2.center1_mhz in [b.centre_mhz for b in blocks(link2.primary, link2.width_mhz)]
    assert info.mld.address == "c8:6e:08:17:85:4a" and info.mld.link_ids == (1, 2)
    assert info.mld.bands == (None, Band.GHZ_6)
    assert info.notes == ()


def test_recorded_mlo_link_reads_every_link_and_the_mld_stats():
    # Intel CNVi (canonical/checkbox): links 1 (5240) and 2 (6375), then the MLD's own statistics
    link = parse_link(sample("iw_link__canonical_checkbox_iw_dev_link_succ_mlo.txt"))
    assert (link.connected, link.bssid, link.interface, link.ssid) == \
        (True, "f0:a7:31:16:77:a1", "wlp0s20f3", "wifi7-ap")
    assert [(x.link_id, x.address, x.freq_mhz, x.primary) for x in link.links] == [
        (1, "fe:a7:31:16:77:9f", 5240, Channel(Band.GHZ_5, 48)),
        (2, "f2:a7:31:16:77:a3", 6375, Channel(Band.GHZ_6, 85)),
    ]
    # The connection has no one frequency: neither link's is taken as the whole connection's
    assert (link.freq_mhz, link.channel, link.band) == (None, None, None)
    assert (link.mld_address, link.signal_dbm, link.tx_bitrate_mbps, link.rx_bitrate_mbps) == \
        ("f0:a7:31:16:77:a1", -40.0, 4803.8, None)
    assert (link.rx_bytes, link.rx_packets, link.tx_bytes, link.tx_packets) == \
        (585329392, 8827749, 2395896496, 572452)
    assert link.mld.link_ids == (1, 2) and link.mld.bands == (Band.GHZ_5, Band.GHZ_6)


def test_recorded_tri_band_mlo_link_in_driver_order_keeps_each_links_band():
    # WLAN Pi with an Aruba 755: links listed 0, 2, 1 on 6, 2.4 and 5 GHz; the MLD printed signal 0 dBm
    link = parse_link(sample("iw_link__WLAN-Pi_wlanpi-core_mlo-tri-band.txt"))
    assert [(x.link_id, x.address, x.freq_mhz, x.band, x.channel) for x in link.links] == [
        (0, "68:51:34:7c:32:05", 6295, Band.GHZ_6, 69),
        (1, "68:51:34:7c:32:15", 5220, Band.GHZ_5, 44),
        (2, "68:51:34:7c:31:f5", 2462, Band.GHZ_2_4, 11),
    ]
    assert link.freq_mhz is None and link.signal_dbm is None  # 0 dBm is no reading
    assert any("0 dBm is not a reading" in note for note in link.notes)
    assert (link.rx_bitrate_mbps, link.tx_bitrate_mbps) == (1441.1, 1441.1)


def test_recorded_mt7925_mld_interface_with_mail_wrapped_lines():
    # MT7925 (linux-wireless): the post had no "Interface" line, so one is put before it; tabs became spaces
    # and the TXQ rows were wrapped, which must not end up in a link
    info = parse_info("Interface wlp1s0\n" + sample("iw_dev_excerpt__lore_linux-wireless_mt7925-mlo.txt"))
    assert [(x.link_id, x.address, x.freq_mhz, x.width_mhz, x.center1_mhz) for x in info.links] == [
        (0, "ce:67:53:b2:b1:9d", 2437, 40, 2447),
        (1, "c2:e3:9b:67:2b:67", None, None, None),
        (2, "1e:5a:37:e5:97:b2", 6135, 160, 6185),
    ]
    assert [x.band for x in info.links] == [Band.GHZ_2_4, None, Band.GHZ_6]
    assert (info.mode, info.wiphy, info.freq_mhz) == ("managed", 0, None)


# `iw dev X station dump` of an MLO station with per-link statistics, in the layout of iw's per-link station
# printing ("Link N:", then "address:" and the link's own fields one tab deeper). Constructed: no recorded one
# was found; the values are plausible, not measured.
MLO_STATION = """Station 02:11:22:33:44:55 (on wlan0)
\tinactive time:\t120 ms
\trx bytes:\t100000
\ttx packets:\t5000
\ttx retries:\t40
\ttx failed:\t1
\tsignal:  \t-48 dBm
\ttx bitrate:\t2882.4 MBit/s 160MHz EHT-MCS 11 EHT-NSS 2 EHT-GI 0
\tconnected time:\t300 seconds
\tcurrent time:\t1700000000000 ms
\tLink 0:
\t\taddress: 02:11:22:33:44:60
\t\tinactive time:\t120 ms
\t\ttx packets:\t3000
\t\ttx retries:\t10
\t\ttx failed:\t0
\t\tsignal:  \t-48 [-50, -51] dBm
\t\ttx bitrate:\t2882.4 MBit/s 160MHz EHT-MCS 11 EHT-NSS 2 EHT-GI 0
\t\trx bitrate:\t2401.9 MBit/s 160MHz EHT-MCS 9 EHT-NSS 2 EHT-GI 0
\tLink 2:
\t\taddress: 02:11:22:33:44:62
\t\ttx packets:\t2000
\t\ttx retries:\t30
\t\tsignal:  \t-77 dBm
\t\ttx bitrate:\t86.7 MBit/s MCS 7 short GI
Station 02:00:00:00:00:09 (on wlan0)
\tsignal:  \t-60 dBm
\ttx bitrate:\t144.4 MBit/s
"""


def test_mlo_station_reports_each_link_with_its_own_signal_and_rates():
    first, plain = parse_station_dump(MLO_STATION).stations
    assert [(x.link_id, x.address, x.signal_dbm, x.tx_bitrate_mbps, x.rx_bitrate_mbps, x.tx_packets,
             x.tx_retries) for x in first.links] == [
        (0, "02:11:22:33:44:60", -48.0, 2882.4, 2401.9, 3000, 10),
        (2, "02:11:22:33:44:62", -77.0, 86.7, None, 2000, 30),
    ]
    # The station's own fields stay the station's: no link's value fills a field the station lacks
    assert (first.signal_dbm, first.tx_packets, first.rx_bitrate_mbps, first.connected_s) == \
        (-48.0, 5000, None, 300)
    mld = first.mld
    assert (mld.address, mld.link_ids, mld.best_link, mld.worst_link) == ("02:11:22:33:44:55", (0, 2), 0, 2)
    assert (mld.best_signal_dbm, mld.worst_signal_dbm) == (-48.0, -77.0)
    assert plain.links == () and plain.mld is None and plain.signal_dbm == -60.0


def test_mlo_links_no_standard_has_are_dropped_with_a_note_and_duplicates_keep_the_first():
    text = ("Connected to 02:00:00:00:00:01 (on wlan0)\n\tLink 1 BSSID 02:00:00:00:00:02\n\t\tfreq: 5180\n"
            "\tLink 1 BSSID 02:00:00:00:00:03\n\t\tfreq: 2412\n\tLink 99 BSSID 02:00:00:00:00:04\n"
            "\t\tfreq: 5955\n\tsignal: -50 dBm\n")
    link = parse_link(text)
    assert [(x.link_id, x.freq_mhz, x.band) for x in link.links] == [(1, 5180, Band.GHZ_5)]
    assert any("link 1 is listed twice" in note for note in link.notes)
    assert any("link ID 99" in note for note in link.notes)
    assert link.signal_dbm == -50.0 and link.freq_mhz is None


@pytest.mark.timeout(30)
def test_mlo_link_sections_stay_linear_on_hostile_input():
    # 30 000 link headers and as many deeper lines: one pass, links capped by the link ID range
    body = "".join(f"\tLink {n % 20} BSSID 02:00:00:00:00:01\n\t\tfreq: 5180\n" for n in range(30_000))
    link = parse_link("Connected to 02:00:00:00:00:01 (on wlan0)\n" + body)
    assert [x.link_id for x in link.links] == list(range(15))
    with pytest.raises(ParseError):
        parse_link("Connected to 02:00:00:00:00:01 (on wlan0)\n\tLink 1 BSSID 02:00:00:00:00:02\n\t\t"
                   + "f" * 5_000_000 + "\n")
