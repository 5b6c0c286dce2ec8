"""DHCP health: does a server answer a DISCOVER with an OFFER? Run in the background at its own pace and on
demand (diagnose), never inside a probe round.

Only DISCOVER is sent and the OFFER is never requested, so no lease is taken and the gateway's address stays.
It goes out on a packet socket (CAP_NET_RAW), built by probes/wire.py; the socket sees only UDP to port 68 (a
classic BPF filter in the kernel): a busy link's other traffic is never copied to the agent while it waits.

After the first OFFER the probe keeps listening a little longer and tallies every OFFER to its DISCOVER by
server: a second server answering is a rogue DHCP server on the segment. What it keeps is capped, whatever a
flood of forged OFFERs sends.
"""

from __future__ import annotations

import ctypes
import random
import select
import socket
import struct
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from edge_agent.collectors.connectivity import DhcpProbe
from edge_agent.probes import ProbePermissionError
from edge_agent.probes.arp import interface_mac, mac_text
from edge_agent.probes.raw_icmp import ETH_P_IP, drain
from edge_agent.probes.wire import (
    DHCP_OFFER,
    PROTO_UDP,
    DhcpOffer,
    dhcp_discover,
    ipv4,
    parse_dhcp_reply,
    parse_ipv4,
    udp,
)

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


# What one DISCOVER's answers may cost: servers listed, MACs and source addresses per server, and OFFERs taken
# (a flood of forged ones ends the check early with what it has; other traffic never does).
MAX_SERVERS, MAX_ADDRESSES_PER_SERVER, MAX_OFFERS = 8, 4, 256
# How long to listen for other servers after the first OFFER, on demand (diagnose waits for it)
LISTEN_AFTER_OFFER_S = 1.0
PACKET_OUTGOING = 4  # a packet socket's pkttype for what this host sent


@dataclass
class OfferTally:
    """Every OFFER to one DISCOVER, grouped by server: its server identifier (option 54), else the address it
    came from. A relay forwards its server's identifier, so one server behind several relays is one server;
    and a server that answers twice is counted twice, not listed twice. Whether a server answered directly (on
    this segment) or only through relays (its own network beyond them) is kept too."""

    servers: dict[str, dict] = field(default_factory=dict)
    unlisted: int = 0  # offers from servers past MAX_SERVERS

    def add(self, offer: DhcpOffer, source: str, mac: str | None, offer_ms: float) -> None:
        key = offer.server_id or source
        server = self.servers.get(key)
        if server is None:
            if len(self.servers) >= MAX_SERVERS:
                self.unlisted += 1
                return
            server = self.servers[key] = {
                "server": key, "offered_address": offer.your_address, "routers": list(offer.routers),
                "dns_servers": list(offer.dns_servers), "macs": [], "sources": [], "relays": [], "direct": False,
                "offers": 0, "offer_ms": offer_ms}
        server["offers"] += 1
        server["direct"] = server["direct"] or offer.relay is None
        for name, value in (("macs", mac), ("sources", source), ("relays", offer.relay)):
            if value is not None and value not in server[name] and len(server[name]) < MAX_ADDRESSES_PER_SERVER:
                server[name].append(value)

    def listed(self) -> tuple[dict, ...]:
        return tuple(self.servers.values())


def mark_known(servers: tuple[dict, ...], known: Collection[str]) -> tuple[dict, ...]:
    """The servers, those named in `known` (by server address or by a MAC they answered from) marked so: a
    failover partner the operator listed is not a rogue."""
    return tuple({**server, "known": True} if server["server"] in known or any(m in known for m in server["macs"])
                 else server for server in servers)


# A datagram read within the time left (None: none came): its bytes and the packet socket's sender address.
Receive = Callable[[float], "tuple[bytes, tuple] | None"]


def dhcp_probe(interface: str, timeout_s: float, listen_after_offer_s: float = LISTEN_AFTER_OFFER_S) -> DhcpProbe:
    """DISCOVER, then every OFFER until `listen_after_offer_s` after the first one (never past `timeout_s`)."""
    mac = interface_mac(interface)
    xid = random.randrange(1, 2**32)
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    except PermissionError as exc:
        raise ProbePermissionError(f"DHCP probe needs CAP_NET_RAW: {exc}") from None

    def receive(wait_s: float) -> tuple[bytes, tuple] | None:
        until = time.monotonic() + wait_s
        while (left := until - time.monotonic()) > 0 and select.select([sock], [], [], left)[0]:
            try:
                return sock.recvfrom(65535)
            except BlockingIOError:
                continue
        return None

    with sock:
        attach_filter(sock, _UDP_TO_68)
        sock.bind((interface, ETH_P_IP))
        sock.setblocking(False)
        drain(sock)  # what arrived before the filter was attached
        discover = ipv4("0.0.0.0", "255.255.255.255", PROTO_UDP,
                        udp("0.0.0.0", "255.255.255.255", 68, 67, dhcp_discover(mac, xid)))
        sent = time.monotonic()
        sock.sendto(discover, (interface, ETH_P_IP, 0, 0, BROADCAST_MAC))
        tally = collect_offers(receive, xid, sent, timeout_s, listen_after_offer_s)
    servers = tally.listed()
    if not servers:
        return DhcpProbe(interface, ok=False, offer_ms=None, server=None, offered_address=None, error="no offer")
    first = servers[0]
    return DhcpProbe(interface, ok=True, offer_ms=first["offer_ms"], server=first["server"],
                     offered_address=first["offered_address"], error=None, servers=servers,
                     unlisted_offers=tally.unlisted)


def collect_offers(receive: Receive, xid: int, sent: float, timeout_s: float, listen_after_offer_s: float,
                   clock: Callable[[], float] = time.monotonic) -> OfferTally:
    """Every OFFER to `xid` that arrives by `timeout_s` after `sent` and within `listen_after_offer_s` of the
    first one, at most MAX_OFFERS of them."""
    tally = OfferTally()
    deadline = sent + timeout_s
    offers = 0
    while offers < MAX_OFFERS and (remaining := deadline - clock()) > 0:
        datagram = receive(remaining)
        if datagram is None:
            break
        arrived = clock()
        data, sender = datagram
        answer = offer_in(data, xid) if sender[2] != PACKET_OUTGOING else None
        if answer is None:
            continue
        offers += 1
        if offers == 1:
            deadline = min(deadline, arrived + listen_after_offer_s)
        offer, source = answer
        tally.add(offer, source, mac_text(sender[4][:6]) if len(sender[4]) >= 6 else None,
                  round((arrived - sent) * 1000, 2))
    return tally


def offer_in(data: bytes, xid: int) -> tuple[DhcpOffer, str] | None:
    """The OFFER to transaction `xid` in an IPv4 packet, and the address it came from; None for anything else
    (another transaction's answer, another message type, garbage)."""
    try:
        packet = parse_ipv4(data)
        if packet.proto != PROTO_UDP or len(packet.payload) < 8:
            return None
        if struct.unpack_from("!HH", packet.payload) != (67, 68):
            return None
        offer = parse_dhcp_reply(packet.payload[8:], xid)
    except ValueError:
        return None
    return (offer, packet.src) if offer.message_type == DHCP_OFFER else None
