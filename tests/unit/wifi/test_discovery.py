"""Finding a gateway's radios: hostapd's control sockets (one per interface) in a directory read as untrusted,
and the AP interfaces `iw dev` lists."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from edge_agent.wifi.discovery import (
    MAX_DIR_ENTRIES,
    Discovery,
    RadioSet,
    ap_interfaces,
    ctrl_sockets,
    hostapd_configured,
)
from edge_agent.wifi.iw import parse_dev


def bind(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    return sock


@pytest.fixture
def sockets():
    opened: list[socket.socket] = []
    yield lambda path: opened.append(bind(path))
    for sock in opened:
        sock.close()


def test_every_interface_socket_counts_and_nothing_else(short_tmp, sockets):
    for name in ("wlan2", "wlan0", "wlan1", "global", "bad name", "..x", "x" * 16, "-h"):
        sockets(short_tmp / name)
    (short_tmp / "wlan3").write_text("not a socket")  # a file named like a radio
    (short_tmp / "wlan4").mkdir()
    os.symlink(short_tmp / "wlan0", short_tmp / "wlan5")  # a link could point anywhere
    found = ctrl_sockets(short_tmp)
    # "..x" is a valid (if odd) interface name; "global" is hostapd's global socket on OpenWrt
    assert found.interfaces == ("..x", "wlan0", "wlan1", "wlan2")
    assert any("7 entries" in note for note in found.notes)  # "-h" would read as an option to iw


def test_a_missing_or_unreadable_directory_has_no_radios_and_says_why(tmp_path):
    assert ctrl_sockets(tmp_path / "nothing").interfaces == ()
    assert "no hostapd control directory" in ctrl_sockets(tmp_path / "nothing").notes[0]
    (tmp_path / "file").write_text("")
    assert ctrl_sockets(tmp_path / "file").interfaces == ()


def test_hundreds_of_radios_are_capped_by_name(short_tmp, sockets):
    for number in range(40):
        sockets(short_tmp / f"w{number:02d}")
    found = ctrl_sockets(short_tmp, max_radios=16)
    assert found.interfaces == tuple(f"w{n:02d}" for n in range(16))
    assert any("40 radios found, only the first 16" in note for note in found.notes)


@pytest.mark.timeout(20)
def test_a_directory_of_thousands_of_entries_is_looked_at_only_up_to_its_cap(tmp_path):
    for number in range(MAX_DIR_ENTRIES * 3):
        (tmp_path / f"junk{number}").write_text("")
    found = ctrl_sockets(tmp_path)
    assert found.interfaces == ()
    assert any(f"more than {MAX_DIR_ENTRIES} entries" in note for note in found.notes)


IW_DEV = """phy#2
\tInterface wlan2
\t\tifindex 7
\t\taddr 02:00:5e:aa:00:03
\t\ttype AP
\t\tchannel 37 (6135 MHz), width: 80 MHz, center1: 6145 MHz
phy#1
\tInterface wlan1
\t\ttype AP
\tInterface mon0
\t\ttype monitor
phy#0
\tInterface wlan0
\t\ttype managed
\tInterface ap/evil
\t\ttype AP
"""


def test_iw_dev_lists_the_access_point_interfaces():
    assert parse_dev(IW_DEV) == (("wlan2", "AP"), ("wlan1", "AP"), ("mon0", "monitor"), ("wlan0", "managed"),
                                 ("ap/evil", "AP"))
    assert ap_interfaces(list(parse_dev(IW_DEV))).interfaces == ("wlan1", "wlan2")
    assert parse_dev("") == ()


def test_a_radio_set_keeps_every_radio_once_seen_and_reads_each_new_one_once():
    found = [("wlan0",), ("wlan0", "wlan1"), ("wlan1",)]  # wlan0's hostapd went away in the third round
    seen: list[str] = []
    radios = RadioSet(None, lambda: Discovery(found.pop(0)), on_new=seen.append)
    assert radios() == ["wlan0"]
    assert radios() == ["wlan0", "wlan1"]
    assert radios() == ["wlan0", "wlan1"]  # a radio gone is a radio down: still read, and reported so
    assert seen == ["wlan0", "wlan1"]
    named = RadioSet(["wlan0", "wlan1"], on_new=seen.append)
    assert named() == named() == ["wlan0", "wlan1"] and seen == ["wlan0", "wlan1", "wlan0", "wlan1"]


def test_an_mld_access_point_s_link_sockets_name_their_mld_interface():
    from edge_agent.wifi.discovery import mld_link

    assert mld_link("wlan0_link2") == ("wlan0", 2)
    assert mld_link("phy0-ap0_link0") == ("phy0-ap0", 0)
    assert mld_link("wlan0") == ("wlan0", None)
    assert mld_link("wlan0_link15") == ("wlan0_link15", None)  # no IEEE 802.11be link ID
    assert mld_link("_link1") == ("_link1", None)


@pytest.mark.timeout(30)
def test_iw_dev_output_no_real_iw_prints_raises_only_parse_error():
    from edge_agent.wifi import ParseError

    for text in ("phy#0\n" + "x" * 5_000_000 + "\n", "\tInterface wlan0\n\t\ttype " + "A" * 5_000_000 + "\n",
                 "command failed: No such device (-19)\n"):
        with pytest.raises(ParseError):
            parse_dev(text)
    many = "".join(f"\tInterface w{n}\n\t\ttype AP\n" for n in range(20_000))
    assert ap_interfaces(list(parse_dev(many))).interfaces == tuple(sorted(f"w{n}" for n in range(20_000)))[:16]


@pytest.mark.timeout(10)
def test_a_fifo_among_hostapds_config_files_is_skipped_without_stalling_the_start(tmp_path):
    os.mkfifo(tmp_path / "a.conf")
    (tmp_path / "b.conf").write_text("interface=wlan1\n")
    assert hostapd_configured(tmp_path) == {"wlan1"}
