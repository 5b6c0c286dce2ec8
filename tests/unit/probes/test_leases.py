"""The DHCP clients' lease files: dhclient, dhcpcd (binary), systemd-networkd / NetworkManager (KEY=value)."""

from __future__ import annotations

import calendar
import struct
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_agent.probes.leases import (
    MAX_LEASE_BYTES,
    parse_dhclient,
    parse_dhcpcd,
    parse_key_value,
    parse_lease_file,
    read_leases,
)

DHCLIENT = """\
default-duid "\\000\\001\\000\\001";
lease {
  interface "eth0";
  fixed-address 192.168.1.23;
  option subnet-mask 255.255.255.0;
  option dhcp-lease-time 600;
  option dhcp-server-identifier 192.168.1.1;
  renew 0 2026/11/29 13:05:00;
  rebind 0 2026/11/29 13:08:45;
  expire 0 2026/11/29 13:10:00;
}
lease {
  interface "eth0";
  fixed-address 192.168.1.23;
  option dhcp-lease-time 600;
  renew 0 2026/11/29 13:10:00;
  rebind epoch 1795957965; # a db-time-format line
  expire never;
}
lease {
  interface "wlan0";
  fixed-address 10.0.0.9;
  expire 0 2026/11/29 14:00:00;
}
"""


def utc(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y/%m/%d %H:%M:%S")))


def test_dhclient_the_newest_block_per_interface_wins_with_times_in_utc():
    leases = {lease.interface: lease for lease in parse_dhclient(DHCLIENT, "dhclient.leases")}
    eth0 = leases["eth0"]
    assert (eth0.address, eth0.renew_ts, eth0.rebind_ts, eth0.expire_ts) == (
        "192.168.1.23", utc("2026/11/29 13:10:00"), 1795957965.0, None)
    assert leases["wlan0"].expire_ts == utc("2026/11/29 14:00:00")


def test_dhclient_obtained_time_is_expiry_minus_lease_time():
    [lease] = parse_dhclient(DHCLIENT.split("lease {")[0] + "lease {" + DHCLIENT.split("lease {")[1], "x")
    assert lease.obtained_ts == utc("2026/11/29 13:10:00") - 600


@pytest.mark.parametrize("text", [DHCLIENT[:120], DHCLIENT[:260], "lease {", "lease { interface \"eth0\"; }",
                                  "lease { interface \"eth0\"; fixed-address 999.1.1.1; "
                                  "expire 0 2026/13/45 99:99:99; }",
                                  "lease { interface \"" + "x" * 400 + "\"; }", "\x00\xff" * 50])
def test_dhclient_truncated_or_garbled_files_give_partial_leases_or_none_never_an_error(text):
    for lease in parse_dhclient(text, "x"):
        assert lease.address is None or lease.address.count(".") == 3


def test_key_value_lease_times_count_from_the_file_time_with_rfc_defaults():
    text = "# This is private data. Do not parse.\nADDRESS=10.0.0.5\nNETMASK=255.255.255.0\nLIFETIME=3600\n"
    lease = parse_key_value(text, "eth0", "/run/systemd/netif/leases/2", obtained_ts=1000.0)
    assert (lease.address, lease.renew_ts, lease.rebind_ts, lease.expire_ts) == ("10.0.0.5", 2800.0, 4150.0, 4600.0)


def test_key_value_explicit_t1_t2_win_and_an_address_is_required():
    lease = parse_key_value("ADDRESS=10.0.0.5\nLIFETIME=100\nT1=10\nT2=20\n", "eth0", "x", 0.0)
    assert (lease.renew_ts, lease.rebind_ts) == (10.0, 20.0)
    assert parse_key_value("LIFETIME=100\n", "eth0", "x", 0.0) is None
    assert parse_key_value("ADDRESS=nonsense\n", "eth0", "x", 0.0) is None


def bootp(yiaddr: bytes, options: bytes) -> bytes:
    header = bytearray(236)
    header[0] = 2
    header[16:20] = yiaddr
    return bytes(header) + bytes([99, 130, 83, 99]) + options


def option(code: int, value: bytes) -> bytes:
    return bytes([code, len(value)]) + value


def test_dhcpcd_binary_lease_gives_address_and_times():
    data = bootp(bytes([10, 0, 0, 7]), option(53, b"\x05") + option(51, struct.pack("!I", 120)) + b"\xff")
    lease = parse_dhcpcd(data, "eth0", "/var/lib/dhcpcd/eth0.lease", 500.0)
    assert (lease.address, lease.renew_ts, lease.rebind_ts, lease.expire_ts) == ("10.0.0.7", 560.0, 605.0, 620.0)


def test_dhcpcd_truncated_options_keep_what_was_read():
    data = bootp(bytes([10, 0, 0, 7]), option(51, struct.pack("!I", 120)) + bytes([58, 4, 0]))
    lease = parse_dhcpcd(data, "eth0", "x", 0.0)
    assert lease.expire_ts == 120.0
    assert parse_dhcpcd(b"\x02" * 100, "eth0", "x", 0.0) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_no_lease_file_content_raises(data):
    for name in ("eth0.lease", "3", "dhclient.leases"):
        parse_lease_file(Path(name), data, 0.0, lambda index: "eth0")
    parse_lease_file(Path("eth0.lease"), bootp(b"\x01\x02\x03\x04", data), 0.0, lambda index: "eth0")


def test_read_leases_finds_the_interface_in_each_clients_naming_and_skips_huge_files(tmp_path):
    (tmp_path / "dhclient.eth0.leases").write_text(DHCLIENT)
    (tmp_path / "2").write_text("ADDRESS=10.0.0.5\nLIFETIME=60\n")
    (tmp_path / "internal-uuid-eth0.lease").write_text("ADDRESS=10.0.0.6\nLIFETIME=60\n")
    (tmp_path / "huge.leases").write_bytes(b"lease {" + b" " * MAX_LEASE_BYTES)
    found = read_leases([str(tmp_path / "*")], "eth0", index_names=lambda index: {2: "eth0"}.get(index))
    assert sorted(lease.address for lease in found) == ["10.0.0.5", "10.0.0.6", "192.168.1.23"]
    assert read_leases([str(tmp_path / "*")], "eth9", index_names=lambda index: None) == []


@pytest.mark.timeout(5)
@pytest.mark.parametrize("text", [
    "lease {" * 36_000,  # 256 KiB of blocks that never close: minutes of regex before
    "lease { interface \"eth0\"; }\n" + "lease {" * 36_000,
])
def test_dhclient_blocks_that_never_close_are_read_in_linear_time(text):
    leases = parse_dhclient(text, "x")
    assert [lease.interface for lease in leases] == (["eth0"] if "eth0" in text else [])
