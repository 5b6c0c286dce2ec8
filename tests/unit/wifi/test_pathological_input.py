"""Outputs no tool prints but a broken driver, a corrupt pipe or an attacker could: 5 MB lines, numbers of
thousands of digits. Each parser finishes in one pass over them and refuses what no real output holds, and
one unreadable block leaves the others readable."""

from __future__ import annotations

import sys

import pytest

from edge_agent.wifi import ParseError, fields
from edge_agent.wifi.fields import first_int, first_number, width_mhz
from edge_agent.wifi.hostapd_replies import parse_sta_replies, parse_status
from edge_agent.wifi.iw import parse_info, parse_link, parse_scan, parse_station_dump, parse_survey_dump
from edge_agent.wifi.procfs import parse_proc_net_wireless

from .all_parsers import PARSERS, samples_of

MB5 = 5 * 1024 * 1024
DIGITS = "9" * MB5
# Every field position of every parser at 5 MB would take a minute; 1 MB still makes a quadratic pass take
# hours, so it shows the same.
MB1 = 1024 * 1024
# What joins a key to its value in each parser's output, by its separator.
PARTS = {":": ": ", "=": "=", " ": " "}
# A number just past the 4300 digits int() accepts, on a line short enough to pass the line cap... almost:
# the cap is 4096, so it is tested with the cap lifted too.
LONG_NUMBER = "9" * 4301


def payloads(separator: str, size: int) -> list[str]:
    key = "key: " if separator != "=" else "key="
    return ["9" * size, " " * size, key * (size // len(key)), "[" * size, "-1." * (size // 3)]


def field_positions(name: str) -> list[int]:
    """The line numbers of `name`'s first recorded sample, one per distinct key: the payload replaces the value."""
    separator = PARSERS[name][2]
    first_line_of_key: dict[str, int] = {}
    for number, line in enumerate(samples_of(name)[0].splitlines()):
        first_line_of_key.setdefault(line.strip().partition(separator)[0], number)
    return sorted(first_line_of_key.values())


def with_payload(name: str, line_number: int, payload: str) -> str:
    """`name`'s first sample with line `line_number`'s value (after the separator, or the whole line's end)
    replaced by `payload`."""
    separator = PARSERS[name][2]
    lines = samples_of(name)[0].splitlines()
    key, found, _ = lines[line_number].partition(separator)
    lines[line_number] = key + separator + payload if found else lines[line_number] + " " + payload
    return "\n".join(lines)


def parses_or_refuses(name: str, text: str) -> None:
    try:
        PARSERS[name][0](text)
    except ParseError:
        pass


@pytest.fixture
def no_line_cap(monkeypatch):
    """Lift the line-length cap, so what is checked is that the parsing itself is linear, not that the cap
    turns the line away first."""
    monkeypatch.setattr(fields, "MAX_LINE_CHARS", sys.maxsize)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_1_mb_value_in_every_field_position_finishes_in_one_pass(name, no_line_cap):
    for line_number in field_positions(name):
        for payload in payloads(PARSERS[name][2], MB1):
            parses_or_refuses(name, with_payload(name, line_number, payload))


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_5_mb_value_after_the_first_key_finishes_in_one_pass(name, no_line_cap):
    line_number = next(number for number in field_positions(name) if number > 0)
    for payload in payloads(PARSERS[name][2], MB5):
        parses_or_refuses(name, with_payload(name, line_number, payload))


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_5_mb_line_is_refused_as_no_real_output(name):
    """Parsers of blocks skip the block holding it and count it; the others refuse the whole output."""
    lines = samples_of(name)[0].splitlines()
    middle = len(lines) // 2
    text = "\n".join([*lines[:middle], "\tkey" + PARTS[PARSERS[name][2]] + DIGITS, *lines[middle:]])
    try:
        result = PARSERS[name][0](text)
    except ParseError as exc:
        assert "a line of" in str(exc) and "characters" in str(exc)
    else:
        assert result.skipped == 1



# The measured failures: each took quadratic time or raised ValueError before.

@pytest.mark.timeout(20)
@pytest.mark.parametrize("text", [DIGITS, DIGITS + " MHz", "1 " * (MB1 // 2), "80+" * (MB5 // 3)])
def test_width_text_is_read_in_one_pass(text):
    try:
        width_mhz(text)
    except ParseError as exc:
        assert "characters" in str(exc)


def test_a_width_of_thousands_of_digits_is_refused():
    with pytest.raises(ParseError, match="channel width: a number of 4301 characters"):
        width_mhz(LONG_NUMBER + " MHz")


@pytest.mark.parametrize("read", [first_int, first_number])
def test_a_number_of_thousands_of_digits_is_a_parse_error_not_a_value_error(read):
    with pytest.raises(ParseError, match="tx bytes: a number of 4301 characters"):
        read(LONG_NUMBER, "tx bytes")


@pytest.mark.timeout(20)
def test_hostapd_flags_of_5_mb_unclosed_brackets_are_read_in_one_pass(no_line_cap):
    [station] = parse_sta_replies(f"02:00:00:00:00:01\nflags={'[' * MB5}[AUTH]\n").stations
    assert station.flags == ("[" * MB5 + "AUTH",)


@pytest.mark.timeout(20)
def test_link_byte_counts_of_5_mb_digits_finish_in_one_pass(no_line_cap):
    link = parse_link(f"Connected to 02:00:00:00:00:01 (on wlan0)\n\tRX: {DIGITS}\n\tTX: 10 bytes (1 packets)\n")
    assert (link.rx_bytes, link.tx_bytes) == (None, 10)


@pytest.mark.timeout(20)
def test_info_channel_of_5_mb_digits_finishes_in_one_pass(no_line_cap):
    info = parse_info(f"Interface wlan0\n\tchannel {DIGITS}\n\ttype AP\n")
    assert (info.channel, info.mode) == (None, "AP")


GOOD_STATION = "Station 02:00:00:00:00:01 (on wlan0)\n\ttx bytes:\t1000\n\tsignal:\t-60 dBm\n"
BAD_STATION = f"Station 02:00:00:00:00:02 (on wlan0)\n\ttx bytes:\t{LONG_NUMBER}\n\tsignal:\t-61 dBm\n"


def test_a_station_with_a_counter_of_thousands_of_digits_is_skipped_and_the_others_kept(no_line_cap):
    dump = parse_station_dump(GOOD_STATION + BAD_STATION + GOOD_STATION.replace(":01", ":03"))
    assert [station.mac for station in dump.stations] == ["02:00:00:00:00:01", "02:00:00:00:00:03"]
    assert dump.skipped == 1
    assert dump.notes == ("Station 02:00:00:00:00:02 (on wlan0) skipped: station 02:00:00:00:00:02 "
                          "tx bytes: a number of 4301 characters (999999999999...); no reading or counter is "
                          "longer than 32",)


def test_a_station_with_a_line_longer_than_any_real_one_is_skipped_and_the_others_kept():
    dump = parse_station_dump(GOOD_STATION + BAD_STATION)
    assert [station.mac for station in dump.stations] == ["02:00:00:00:00:01"]
    assert dump.skipped == 1 and "a line of 4312 characters" in dump.notes[0]


def test_a_survey_entry_with_a_counter_of_thousands_of_digits_is_skipped_and_the_others_kept(no_line_cap):
    entry = "Survey data from wlan0\n\tfrequency:\t{freq} MHz\n\tchannel active time:\t{active} ms\n"
    dump = parse_survey_dump(entry.format(freq=2412, active=100) + entry.format(freq=2417, active=LONG_NUMBER)
                             + entry.format(freq=2422, active=300))
    assert [(e.freq_mhz, e.active_ms) for e in dump.entries] == [(2412, 100), (2422, 300)]
    assert dump.skipped == 1


def test_a_scan_entry_with_a_number_of_thousands_of_digits_is_skipped_and_the_others_kept(no_line_cap):
    bss = "BSS 02:00:00:00:00:0{n}(on wlan0)\n\tfreq: {freq}\n\tsignal: -50.00 dBm\n"
    result = parse_scan(bss.format(n=1, freq=2412) + bss.format(n=2, freq=LONG_NUMBER))
    assert [b.bssid for b in result.bsses] == ["02:00:00:00:00:01"]
    assert result.skipped == 1


def test_a_hostapd_station_with_a_counter_of_thousands_of_digits_is_skipped_and_the_others_kept(no_line_cap):
    replies = (f"02:00:00:00:00:01\nrx_bytes={LONG_NUMBER}\n"
               "02:00:00:00:00:02\nrx_bytes=5\n")
    stations = parse_sta_replies(replies)
    assert [(s.mac, s.rx_bytes) for s in stations.stations] == [("02:00:00:00:00:02", 5)]
    assert stations.skipped == 1


def test_a_proc_net_wireless_row_with_a_counter_of_thousands_of_digits_is_skipped_and_the_others_kept(no_line_cap):
    table = parse_proc_net_wireless(f"wlan0: 0000   60.  -50.  -256  {LONG_NUMBER} 0 0 0 0 0\n"
                                    "wlan1: 0000   40.  -70.  -256  0 0 0 0 0 0\n")
    assert [row.interface for row in table.interfaces] == ["wlan1"]
    assert table.skipped == 1


def test_a_proc_net_wireless_line_longer_than_any_real_row_is_skipped_and_counted():
    table = parse_proc_net_wireless("wlan0: 0000   60.  -50.  -256  " + "9 " * 5000 + "\n"
                                    "wlan1: 0000   40.  -70.  -256  0 0 0 0 0 0\n")
    assert [row.interface for row in table.interfaces] == ["wlan1"]
    assert table.skipped == 1


def test_hostapd_status_with_a_number_of_thousands_of_digits_is_a_parse_error(no_line_cap):
    with pytest.raises(ParseError, match="radio freq: a number of 4301 characters"):
        parse_status(f"state=ENABLED\nfreq={LONG_NUMBER}\n")


@pytest.mark.parametrize(("text", "note"), [
    ("\tnoise:\t\t\t\t-9\n", "survey 2412 MHz noise '-9' lacks its unit 'dBm': the line was cut short"),
    ("\tchannel busy time:\t\t12\n", "survey 2412 MHz busy time '12' lacks its unit 'ms': the line was cut short"),
])
def test_a_survey_value_cut_before_its_unit_is_not_read(text, note):
    dump = parse_survey_dump("Survey data from wlan0\n\tfrequency:\t\t\t2412 MHz\n" + text)
    [entry] = dump.entries
    assert (entry.noise_dbm, entry.busy_ms) == (None, None)
    assert dump.notes == (note,)


def test_a_station_signal_cut_before_its_unit_is_not_read():
    dump = parse_station_dump("Station 02:00:00:00:00:01 (on wlan0)\n\tsignal:  \t-6")
    assert dump.stations[0].signal_dbm is None
    assert dump.notes == ("station 02:00:00:00:00:01 signal '-6' lacks its unit 'dBm': the line was cut short",)
