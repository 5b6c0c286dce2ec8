"""ARP resolution of the gateway: every MAC that answers for its address, so that a swapped router, a spoofer
and an address conflict (two answers at once) can be told apart.

One AF_PACKET socket per interface, reused between rounds but drained before each request: an answer left
unread from an earlier round (a second responder's, or a late one) must never be taken for this round's.
Replies are matched to the request (an is-at for the asked address, addressed to us) before they count.
"""

from __future__ import annotations

import fcntl
import select
import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from edge_agent.probes import ProbePermissionError

ETH_P_ARP = 0x0806
ARP_REQUEST, ARP_REPLY = 1, 2
SIOCGIFADDR = 0x8915
BROADCAST = b"\xff" * 6
# After the first answer, wait this much longer for a second one: a conflicting host on the same segment
# answers within a millisecond or two of the first.
SECOND_ANSWER_GRACE_S = 0.05
_ARP = struct.Struct("!HHBBH6s4s6s4s")  # htype, ptype, hlen, plen, op, sha, spa, tha, tpa


@dataclass(frozen=True)
class ArpAnswer:
    macs: tuple[str, ...]  # every distinct MAC that answered, first answer first
    first_ms: float | None  # time to the first answer

    @property
    def mac(self) -> str | None:
        return self.macs[0] if self.macs else None


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def mac_bytes(text: str) -> bytes:
    parts = text.strip().split(":")
    if len(parts) != 6:
        raise ValueError(f"not a MAC address: {text!r}")
    return bytes(int(p, 16) for p in parts)


def build_request(src_mac: bytes, src_ip: str, target_ip: str) -> bytes:
    """A broadcast who-has `target_ip` frame from (src_mac, src_ip)."""
    arp = _ARP.pack(1, 0x0800, 6, 4, ARP_REQUEST, src_mac, socket.inet_aton(src_ip), b"\x00" * 6,
                    socket.inet_aton(target_ip))
    return BROADCAST + src_mac + struct.pack("!H", ETH_P_ARP) + arp


def match_reply(frame: bytes, target_ip: str, our_mac: bytes, our_ip: str) -> str | None:
    """The answering MAC if `frame` is an is-at for `target_ip` addressed to us, else None.

    The sender hardware address inside the ARP body names the answerer (the Ethernet source may be rewritten
    by a bridge or a proxy, the ARP body is what a neighbour cache would learn).
    """
    if len(frame) < 14 + _ARP.size or frame[12:14] != struct.pack("!H", ETH_P_ARP):
        return None
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = _ARP.unpack_from(frame, 14)
    if (htype, ptype, hlen, plen, op) != (1, 0x0800, 6, 4, ARP_REPLY):
        return None
    if spa != socket.inet_aton(target_ip):
        return None
    if tpa != socket.inet_aton(our_ip) and tha != our_mac:
        return None  # somebody else's answer (another host asking for the gateway too)
    return mac_text(sha)


def interface_address(sock: socket.socket, interface: str) -> str:
    """The interface's IPv4 address (SIOCGIFADDR), or 0.0.0.0 without one (an ARP probe, which hosts answer)."""
    request = struct.pack("256s", interface.encode()[:15])
    try:
        reply = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)
    except OSError:
        return "0.0.0.0"
    return socket.inet_ntoa(reply[20:24])


def interface_mac(interface: str) -> bytes:
    return mac_bytes(Path(f"/sys/class/net/{interface}/address").read_text())


class ArpResolver:
    def __init__(self) -> None:
        self._sockets: dict[str, socket.socket] = {}

    def resolve(self, address: str, interface: str, timeout_s: float) -> str | None:
        """The first MAC that answers for `address` on `interface`, or None when nobody answered."""
        return self.ask(address, interface, timeout_s).mac

    def ask(self, address: str, interface: str, timeout_s: float, from_nowhere: bool = False) -> ArpAnswer:
        """Every MAC that answers one who-has for `address` on `interface` within `timeout_s`. `from_nowhere`:
        asked from 0.0.0.0 (an RFC 5227 probe), so that asking for the host's own address teaches nobody
        anything and only another holder of it answers."""
        try:
            sock = self._socket(interface)
            drain(sock)
            our_mac = interface_mac(interface)
            our_ip = "0.0.0.0" if from_nowhere else interface_address(sock, interface)
            sent = time.monotonic()
            sock.send(build_request(our_mac, our_ip, address))
            return collect(sock, address, our_mac, our_ip, sent, timeout_s)
        except (OSError, ValueError):
            self.close()  # the interface went away or down: a fresh socket next time
            return ArpAnswer((), None)

    def _socket(self, interface: str) -> socket.socket:
        if interface not in self._sockets:
            try:
                sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
            except PermissionError as exc:
                raise ProbePermissionError(f"ARP probe needs CAP_NET_RAW: {exc}") from None
            try:
                sock.bind((interface, ETH_P_ARP))
            except OSError:
                sock.close()
                raise
            sock.setblocking(False)
            self._sockets[interface] = sock
        return self._sockets[interface]

    def close(self) -> None:
        for sock in self._sockets.values():
            try:
                sock.close()
            except OSError:
                pass
        self._sockets.clear()


def drain(sock: socket.socket) -> int:
    """Read and drop everything already queued on `sock`; how many frames that was."""
    dropped = 0
    while True:
        try:
            sock.recv(65535)
        except BlockingIOError:
            return dropped
        dropped += 1


def collect(sock: socket.socket, address: str, our_mac: bytes, our_ip: str, sent: float,
            timeout_s: float) -> ArpAnswer:
    """Matching answers until the timeout, or a short grace after the first one."""
    macs: list[str] = []
    first_ms = None
    deadline = sent + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        readable, _, _ = select.select([sock], [], [], remaining)
        if not readable:
            break
        try:
            frame = sock.recv(65535)
        except BlockingIOError:
            continue
        mac = match_reply(frame, address, our_mac, our_ip)
        if mac is None:
            continue
        if first_ms is None:
            first_ms = (time.monotonic() - sent) * 1000
            deadline = min(deadline, time.monotonic() + SECOND_ANSWER_GRACE_S)
        if mac not in macs:
            macs.append(mac)
    return ArpAnswer(tuple(macs), None if first_ms is None else round(first_ms, 3))
