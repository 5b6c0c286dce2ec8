"""/proc/net/wireless rows against recorded real files, including the "-256 means no noise" marker."""

from __future__ import annotations

import pytest

from edge_agent.wifi import ParseError
from edge_agent.wifi.procfs import parse_proc_net_wireless

from .samples import sample

TELEGRAF = "proc_net_wireless__influxdata_telegraf.txt"
NETDATA = "proc_net_wireless__netdata_netdata_issue6333.txt"
HEADER = (
    "Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE\n"
    " face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22\n"
)


def test_reads_both_interfaces_of_telegraf_sample():
    table = parse_proc_net_wireless(sample(TELEGRAF))
    assert [(i.interface, i.status, i.link_quality, i.signal_dbm) for i in table.interfaces] == [
        ("wlan0", 0, 60.0, -50.0),
        ("wlan1", 0, 70.0, -39.0),
    ]


def test_reads_discard_counters_and_missed_beacons():
    wlan1 = parse_proc_net_wireless(sample(TELEGRAF)).interfaces[1]
    assert (wlan1.discarded_nwid, wlan1.discarded_crypt, wlan1.discarded_frag) == (0, 0, 0)
    assert (wlan1.discarded_retry, wlan1.discarded_misc, wlan1.missed_beacon) == (12096, 191188, 0)


def test_noise_minus_256_is_not_available_and_noted():
    table = parse_proc_net_wireless(sample(TELEGRAF))
    assert [i.noise_dbm for i in table.interfaces] == [None, None]
    assert table.notes == (
        "wlan0 noise level -256 dBm is the driver's 'not available' (a missing level as /proc/net/wireless prints it)",
        "wlan1 noise level -256 dBm is the driver's 'not available' (a missing level as /proc/net/wireless prints it)",
    )


def test_interface_name_running_into_the_margin_is_read():
    [row] = parse_proc_net_wireless(sample(NETDATA)).interfaces
    assert (row.interface, row.link_quality, row.signal_dbm, row.noise_dbm) == ("wlp5s0", 68.0, -42.0, None)
    assert (row.discarded_retry, row.discarded_misc, row.missed_beacon) == (0, 3851, 0)


def test_values_without_the_updated_dot_are_read_alike():
    text = HEADER + " wlan0: 0000   60   -50   -95        0      0      0   1525      0        0\n"
    [row] = parse_proc_net_wireless(text).interfaces
    assert (row.link_quality, row.signal_dbm, row.noise_dbm) == (60.0, -50.0, -95.0)


def test_positive_level_is_invalid_and_noted():
    # Drivers reporting relative levels (no dBm flag) print them positive.
    text = HEADER + " wlan0: 0000   60.  190.  -256        0      0      0   1525      0        0\n"
    table = parse_proc_net_wireless(text)
    assert table.interfaces[0].signal_dbm is None
    assert table.notes[0] == (
        "wlan0 signal level 190 dBm is impossible: a level received over the air is below 0 dBm")


def test_truncated_row_leaves_missing_counters_none():
    [row] = parse_proc_net_wireless(HEADER + " wlan0: 0000   60.  -50.\n").interfaces
    assert (row.signal_dbm, row.noise_dbm, row.discarded_nwid, row.missed_beacon) == (-50.0, None, None, None)


def test_header_only_means_no_wireless_interfaces():
    assert parse_proc_net_wireless(HEADER).interfaces == ()


def test_empty_file_is_not_proc_net_wireless():
    with pytest.raises(ParseError, match="/proc/net/wireless: empty output"):
        parse_proc_net_wireless("")


def test_other_proc_file_is_not_proc_net_wireless():
    with pytest.raises(ParseError, match="/proc/net/wireless"):
        parse_proc_net_wireless("MemTotal:       16314828 kB\n")


def test_proc_net_dev_is_not_proc_net_wireless():
    net_dev = (
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
        "carrier compressed\n"
        "    lo: 1234      12    0    0    0     0          0         0     1234      12    0    0    0     0       0"
        "          0\n"
    )
    with pytest.raises(ParseError, match="/proc/net/wireless"):
        parse_proc_net_wireless(net_dev)
