"""What kind of link the default route leaves by: Ethernet-like (neighbours with MAC addresses: ARP and DHCP
make sense), or point-to-point (PPPoE, WireGuard, tunnels: no MACs, no DHCP, and at most a peer address)."""

from __future__ import annotations

import fcntl
import socket
import struct
from pathlib import Path

from edge_agent.probes.leases import interface_address

ARPHRD_ETHER = 1  # /sys/class/net/<if>/type of Ethernet and Wi-Fi (and veth, bridges, VLANs)
IFF_POINTOPOINT = 0x10
IFF_NOARP = 0x80
SIOCGIFDSTADDR = 0x8917  # a point-to-point link's peer address


SYS_CLASS_NET = Path("/sys/class/net")


def _sys_number(interface: str, name: str, base: int, sys_class_net: Path = SYS_CLASS_NET) -> int | None:
    try:
        return int((sys_class_net / interface / name).read_text().strip(), base)
    except (OSError, ValueError):
        return None


def has_neighbours(interface: str, sys_class_net: Path = SYS_CLASS_NET) -> bool:
    """Whether the link resolves neighbours by MAC (ARP): Ethernet-like and not flagged NOARP. An interface
    that cannot be read is taken as Ethernet, the common case, as before this check existed."""
    kind = _sys_number(interface, "type", 10, sys_class_net)
    flags = _sys_number(interface, "flags", 16, sys_class_net)
    return (kind is None or kind == ARPHRD_ETHER) and not (flags or 0) & (IFF_NOARP | IFF_POINTOPOINT)


def point_to_point_peer(interface: str) -> str | None:
    """The peer address of a point-to-point link (PPPoE's remote end), or None (WireGuard and most tunnels have
    none, and Ethernet-like links are not point-to-point)."""
    flags = _sys_number(interface, "flags", 16)
    if flags is None or not flags & IFF_POINTOPOINT:
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            reply = fcntl.ioctl(sock.fileno(), SIOCGIFDSTADDR, struct.pack("256s", interface.encode()[:15]))
        except OSError:
            return None
    peer = socket.inet_ntoa(reply[20:24])
    # An address given without a peer reads back as its own peer.
    return None if peer in ("0.0.0.0", interface_address(interface)) else peer


def carrier_state(interface: str, sys_class_net: Path = SYS_CLASS_NET) -> tuple[bool | None, int | None]:
    """Whether the link has carrier now, and how often it has gained or lost it since boot (None: unknown). A
    check whose count moved while it ran saw the link flap: its silence says nothing about the far end."""
    carrier = _sys_number(interface, "carrier", 10, sys_class_net)
    return (None if carrier is None else carrier == 1,
            _sys_number(interface, "carrier_changes", 10, sys_class_net))
