"""DHCP health: does a server answer a DISCOVER with an OFFER? Run in the background at its own pace and on
demand (diagnose), never inside a probe round.

Only DISCOVER is sent and the OFFER is never requested, so no lease is taken and the gateway's address stays.
It goes out on a packet socket (CAP_NET_RAW), built by probes/wire.py; the socket sees only UDP to port 68 (a
classic BPF filter in the kernel): a busy link's other traffic is never copied to the agent while it waits.
"""

from __future__ import annotations

import ctypes
import random
import socket
import struct
import time

from edge_agent.collectors.connectivity import DhcpProbe
from edge_agent.probes import ProbePermissionError
from edge_agent.probes.arp import interface_mac
from edge_agent.probes.raw_icmp import ETH_P_IP, await_datagrams, drain
from edge_agent.probes.wire import DHCP_OFFER, PROTO_UDP, dhcp_discover, ipv4, parse_dhcp_reply, parse_ipv4, udp

SO_ATTACH_FILTER = 26
BROADCAST_MAC = b"\xff" * 6
# From the IP header on (a SOCK_DGRAM packet socket): UDP, not a fragment, destination port 68.
_UDP_TO_68 = [
    (0x30, 0, 0, 9),       # ldb [9]            protocol
    (0x15, 0, 6, 17),      # jeq #17 else drop
    (0x28, 0, 0, 6),       # ldh [6]            flags and fragment offset
    (0x45, 4, 0, 0x1FFF),  # jset #0x1fff: a fragment, drop
    (0xB1, 0, 0, 0),       # ldxb 4*([0]&0xf)   header length
    (0x48, 0, 0, 2),       # ldh [x+2]          destination port
    (0x15, 0, 1, 68),      # jeq #68 else drop
    (0x06, 0, 0, 0xFFFF),  # accept
    (0x06, 0, 0, 0),       # drop
]


def attach_filter(sock: socket.socket, program: list[tuple[int, int, int, int]]) -> None:
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *op) for op in program))
    fprog = struct.pack("HL", len(program), ctypes.addressof(code))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)  # the kernel copies the program


def dhcp_probe(interface: str, timeout_s: float) -> DhcpProbe:
    mac = interface_mac(interface)
    xid = random.randrange(1, 2**32)
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    except PermissionError as exc:
        raise ProbePermissionError(f"DHCP probe needs CAP_NET_RAW: {exc}") from None
    with sock:
        attach_filter(sock, _UDP_TO_68)
        sock.bind((interface, ETH_P_IP))
        sock.setblocking(False)
        drain(sock)  # what arrived before the filter was attached
        discover = ipv4("0.0.0.0", "255.255.255.255", PROTO_UDP,
                        udp("0.0.0.0", "255.255.255.255", 68, 67, dhcp_discover(mac, xid)))
        sent = time.monotonic()
        sock.sendto(discover, (interface, ETH_P_IP, 0, 0, BROADCAST_MAC))
        answers: list[DhcpProbe] = []

        def take(data: bytes, ancdata: list) -> bool:
            arrived = time.monotonic()
            try:
                packet = parse_ipv4(data)
                if packet.proto != PROTO_UDP or len(packet.payload) < 8:
                    return False
                if struct.unpack_from("!HH", packet.payload) != (67, 68):
                    return False
                offer = parse_dhcp_reply(packet.payload[8:], xid)
            except ValueError:
                return False  # another transaction's answer, or garbage
            answers.append(DhcpProbe(interface, ok=offer.message_type == DHCP_OFFER,
                                     offer_ms=round((arrived - sent) * 1000, 2), server=offer.server_id or packet.src,
                                     offered_address=offer.your_address, error=None))
            return True

        await_datagrams(sock, timeout_s, take)
    if answers:
        return answers[0]
    return DhcpProbe(interface, ok=False, offer_ms=None, server=None, offered_address=None, error="no offer")
