"""DHCP health: does a server answer a DISCOVER with an OFFER? Run on demand (diagnose), not every round.

Only DISCOVER is sent and the OFFER is never requested, so no lease is taken and the gateway's address stays.
"""

from __future__ import annotations

import random

from edge_agent.collectors.connectivity import DhcpProbe
from edge_agent.probes import ProbePermissionError


def dhcp_probe(interface: str, timeout_s: float) -> DhcpProbe:
    from scapy.arch import get_if_hwaddr
    from scapy.config import conf
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    # The OFFER comes from the server's address, not the broadcast we sent to: let scapy match it anyway.
    conf.checkIPaddr = False
    mac = get_if_hwaddr(interface)
    xid = random.randrange(1, 2**32)
    discover = (
        Ether(dst="ff:ff:ff:ff:ff:ff", src=mac)
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
        / BOOTP(chaddr=bytes.fromhex(mac.replace(":", "")), xid=xid, flags=0x8000)
        / DHCP(options=[("message-type", "discover"), "end"])
    )
    try:
        sock = conf.L2socket(iface=interface)
    except PermissionError as exc:
        raise ProbePermissionError(f"DHCP probe needs CAP_NET_RAW: {exc}") from None
    try:
        answer = sock.sr1(discover, timeout=timeout_s, verbose=0)
    finally:
        sock.close()
    if answer is None or BOOTP not in answer:
        return DhcpProbe(interface, ok=False, offer_ms=None, server=None, offered_address=None, error="no offer")
    options = {opt[0]: opt[1] for opt in answer[DHCP].options if isinstance(opt, tuple) and len(opt) >= 2}
    return DhcpProbe(
        interface,
        ok=options.get("message-type") == 2,  # OFFER
        offer_ms=round((answer.time - discover.sent_time) * 1000, 2),
        server=str(options.get("server_id") or answer[IP].src),
        offered_address=str(answer[BOOTP].yiaddr),
        error=None,
    )
