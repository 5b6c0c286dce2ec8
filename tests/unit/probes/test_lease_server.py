"""Which DHCP server gave the host its lease, as each client's lease file says (the legitimate server when a
second one answers)."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from edge_agent.collectors.connectivity import LeaseState
from edge_agent.probes.leases import lease_server, parse_lease_server

DHCLIENT = """\
lease {
  interface "eth0";
  fixed-address 192.168.1.23;
  option dhcp-server-identifier 192.168.1.1;
}
lease {
  interface "wlan0";
  fixed-address 10.1.0.5;
  option dhcp-server-identifier 10.1.0.1;
}
lease {
  interface "eth0";
  fixed-address 192.168.1.23;
  option dhcp-server-identifier 192.168.1.254;
}
"""


def dhcpcd_message(*options: bytes) -> bytes:
    header = struct.pack("!BBBBI", 2, 1, 6, 0, 0x1234).ljust(236, b"\x00")
    return header + bytes([99, 130, 83, 99]) + b"".join(options) + b"\xff"


def test_dhclient_names_the_server_of_the_interfaces_newest_lease():
    assert parse_lease_server(DHCLIENT.encode(), "eth0") == "192.168.1.254"
    assert parse_lease_server(DHCLIENT.encode(), "wlan0") == "10.1.0.1"
    assert parse_lease_server(DHCLIENT.encode(), "eth1") is None


def test_dhcpcd_names_the_server_in_option_54_of_the_saved_message():
    data = dhcpcd_message(bytes([53, 1, 5]), bytes([54, 4, 10, 0, 0, 1]))
    assert parse_lease_server(data, "eth0") == "10.0.0.1"
    assert parse_lease_server(dhcpcd_message(bytes([54, 3, 10, 0, 0])), "eth0") is None
    assert parse_lease_server(dhcpcd_message(bytes([53, 1, 5]))[:-1] + bytes([54, 4, 10]), "eth0") is None


def test_networkd_and_network_manager_name_the_server_address():
    text = "# This is private data. Do not parse.\nADDRESS=10.0.0.2\nSERVER_ADDRESS=10.0.0.1\nLIFETIME=600\n"
    assert parse_lease_server(text.encode(), "eth0") == "10.0.0.1"
    assert parse_lease_server(b"ADDRESS=10.0.0.2\nSERVER_ADDRESS=not-an-address\n", "eth0") is None


@given(st.binary(max_size=600))
def test_any_bytes_name_a_server_or_none(data):
    assert parse_lease_server(data, "eth0") is None or isinstance(parse_lease_server(data, "eth0"), str)


def test_the_server_of_a_lease_found_is_read_from_its_file(tmp_path):
    path = tmp_path / "eth0.lease"
    path.write_bytes(dhcpcd_message(bytes([54, 4, 10, 0, 0, 1])))
    lease = LeaseState("eth0", str(path), "10.0.0.2", 1.0, 2.0, 3.0, 4.0)
    assert lease_server(lease) == "10.0.0.1"
    path.unlink()
    assert lease_server(lease) is None  # gone since it was read: no server known, no error
