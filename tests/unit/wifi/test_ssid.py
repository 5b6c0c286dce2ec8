"""SSIDs from iw's and hostapd's escaping back to what the network is called."""

from __future__ import annotations

import pytest

from edge_agent.wifi.ssid import decode_hostapd_ssid, decode_iw_ssid, raw_reply_values


def iw(text: str):
    notes: list[str] = []
    return decode_iw_ssid(text, "SSID", notes), notes


def test_escaped_utf8_becomes_text_and_other_bytes_stay_bytes():
    assert iw("\\xe2\\x98\\x83 caf\\xc3\\xa9")[0] == "\u2603 caf\u00e9"
    assert iw("\\xc3")[0] == b"\xc3"


def test_hidden_ssids_are_empty_whatever_their_printed_length():
    assert iw("")[0] == "" and iw("\\x00")[0] == "" and iw("\\x00" * 32)[0] == ""


def test_an_ssid_longer_than_32_bytes_is_no_ssid():
    ssid, notes = iw("a" * 33)
    assert ssid is None and "at most 32" in notes[0]


def test_a_stray_backslash_is_kept_and_noted():
    ssid, notes = iw("a\\qb")
    assert ssid == "a\\qb" and notes


@pytest.mark.parametrize(("printed", "ssid"), [
    ("\\t\\n\\r\\e", "\t\n\r\x1b"), ('\\"q\\"', '"q"'), ("\\\\", "\\"), ("  two  ", "  two  "),
])
def test_hostapd_escapes(printed, ssid):
    assert decode_hostapd_ssid(printed, "ssid", []) == ssid


def test_reply_values_keep_their_spaces_and_the_first_of_a_key_wins():
    assert raw_reply_values("ssid= a \nssid=b\nx=1\r\n") == {"ssid": " a ", "x": "1"}


def test_nothing_printed_is_none():
    assert decode_iw_ssid(None, "SSID", []) is None and decode_hostapd_ssid(None, "ssid", []) is None
