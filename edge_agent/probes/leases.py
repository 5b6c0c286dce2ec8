"""The host DHCP client's own account of its lease: dhclient, dhcpcd, systemd-networkd and NetworkManager files.

Parsing is pure (text or bytes in, LeaseState out) and tolerant: a truncated, garbled or hostile file gives
no lease or a partial one, never an exception, and a file larger than MAX_LEASE_BYTES is not read at all.
"""

from __future__ import annotations

import calendar
import glob
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from edge_agent.collectors.connectivity import LeaseState

MAX_LEASE_BYTES = 256 * 1024  # a real lease file is a few KB; dhclient's grows by one block per renewal
# Where the common clients keep their leases on Debian, Raspberry Pi OS, Ubuntu and OpenWrt-like systems.
DEFAULT_LEASE_GLOBS = (
    "/var/lib/dhcp/dhclient*.leases", "/var/lib/dhclient/*.lease*",  # ISC dhclient
    "/var/lib/dhcpcd/*.lease", "/var/lib/dhcpcd5/*.lease", "/var/db/dhcpcd/*.lease",  # dhcpcd (binary)
    "/run/systemd/netif/leases/*",  # systemd-networkd (file named by ifindex)
    "/var/lib/NetworkManager/*.lease",  # NetworkManager (internal client, or dhclient format)
)

_BLOCK = re.compile(r"lease\s*\{(.*?)\}", re.S)
_STATEMENT = re.compile(r"^\s*(option\s+)?([A-Za-z0-9-]+)\s+(.*?);", re.M)
_DHCLIENT_TIME = re.compile(r"^\d\s+(\d{4})/(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})$")
_EPOCH = re.compile(r"^epoch\s+(\d{1,12})")
BOOTP_HEADER = 236
MAGIC_COOKIE = bytes([99, 130, 83, 99])


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip())) if value else None
    except ValueError:
        return None


def _dhclient_time(value: str) -> float | None:
    """`renew 2 2026/11/29 13:10:00` (UTC) or `epoch 1764421800` (db-time-format local); `never` is None."""
    value = value.strip()
    if (epoch := _EPOCH.match(value)) is not None:
        return float(epoch.group(1))
    if (match := _DHCLIENT_TIME.match(value)) is None:
        return None
    try:
        return float(calendar.timegm(time.struct_time((*map(int, match.groups()), 0, 0, 0))))
    except (ValueError, OverflowError):
        return None


def parse_dhclient(text: str, source: str) -> list[LeaseState]:
    """The newest lease per interface in an ISC dhclient lease file (later blocks supersede earlier ones)."""
    newest: dict[str, LeaseState] = {}
    # Only up to the last "}": a "lease {" with no "}" after it (a truncated or garbled file) made the lazy block
    # pattern scan to the end from each one, quadratic (256 KiB of them: minutes holding the GIL). With a "}"
    # after every start, the blocks found never overlap and each byte is read once.
    for block in _BLOCK.findall(text, 0, text.rfind("}") + 1):
        fields = {key: value.strip().strip('"') for _, key, value in _STATEMENT.findall(block)}
        interface = fields.get("interface")
        if not interface or len(interface) > 15:
            continue
        expire = _dhclient_time(fields.get("expire", ""))
        lease_time = _seconds(fields.get("dhcp-lease-time"))
        newest[interface] = LeaseState(
            interface, source, _address(fields.get("fixed-address")),
            obtained_ts=expire - lease_time if expire is not None and lease_time is not None else None,
            renew_ts=_dhclient_time(fields.get("renew", "")), rebind_ts=_dhclient_time(fields.get("rebind", "")),
            expire_ts=expire)
    return list(newest.values())


def _seconds(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit() or len(value.strip()) > 10:
        return None
    return float(value.strip())


def _relative(obtained: float, lifetime: float | None, t1: float | None, t2: float | None
              ) -> tuple[float | None, float | None, float | None]:
    """Renew, rebind and expiry times from durations; RFC 2131 defaults T1 = 0.5 and T2 = 0.875 of the lease."""
    if lifetime is None:
        return None, None, None
    t1 = t1 if t1 is not None else 0.5 * lifetime
    t2 = t2 if t2 is not None else 0.875 * lifetime
    return obtained + t1, obtained + t2, obtained + lifetime


def parse_key_value(text: str, interface: str, source: str, obtained_ts: float) -> LeaseState | None:
    """systemd-networkd's and NetworkManager's internal client's `KEY=value` lease; written at every renewal,
    so the file's modification time is when the lease was obtained."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().isupper():
            fields[key.strip()] = value.strip()
    address = _address(fields.get("ADDRESS"))
    if address is None:
        return None
    renew, rebind, expire = _relative(obtained_ts, _seconds(fields.get("LIFETIME")), _seconds(fields.get("T1")),
                                      _seconds(fields.get("T2")))
    return LeaseState(interface, source, address, obtained_ts, renew, rebind, expire)


def parse_dhcpcd(data: bytes, interface: str, source: str, obtained_ts: float) -> LeaseState | None:
    """dhcpcd's lease: the server's DHCP message as received (BOOTP header, magic cookie, options)."""
    options = _dhcpcd_options(data)
    if options is None:
        return None

    def duration(code: int) -> float | None:
        value = options.get(code)
        return float(int.from_bytes(value, "big")) if value is not None and len(value) == 4 else None

    address = str(ipaddress.IPv4Address(data[16:20]))
    renew, rebind, expire = _relative(obtained_ts, duration(51), duration(58), duration(59))
    return LeaseState(interface, source, address, obtained_ts, renew, rebind, expire)


def _dhcpcd_options(data: bytes) -> dict[int, bytes] | None:
    """The options of the DHCP message dhcpcd saved; None if it is not one."""
    if len(data) < BOOTP_HEADER + len(MAGIC_COOKIE) or data[BOOTP_HEADER:BOOTP_HEADER + 4] != MAGIC_COOKIE:
        return None
    options: dict[int, bytes] = {}
    at = BOOTP_HEADER + 4
    while at < len(data):
        code = data[at]
        if code == 255:
            break
        if code == 0:
            at += 1
            continue
        if at + 1 >= len(data) or at + 2 + data[at + 1] > len(data):
            break  # truncated: keep what was read
        options.setdefault(code, data[at + 2:at + 2 + data[at + 1]])
        at += 2 + data[at + 1]
    return options


def parse_lease_server(data: bytes, interface: str) -> str | None:
    """Which DHCP server gave the lease in this file (its server identifier), for `interface`; None if the
    file does not say. dhclient: the interface's newest block; dhcpcd: option 54 of the saved message;
    systemd-networkd and NetworkManager's internal client: SERVER_ADDRESS."""
    if b"lease {" in data or b"lease{" in data:
        server = None
        for block in _BLOCK.findall(data.decode("utf-8", "replace")):
            fields = {key: value.strip().strip('"') for _, key, value in _STATEMENT.findall(block)}
            if fields.get("interface") == interface:
                server = _address(fields.get("dhcp-server-identifier"))
        return server
    options = _dhcpcd_options(data)
    if options is not None:
        value = options.get(54, b"")
        return str(ipaddress.IPv4Address(value)) if len(value) == 4 else None
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "SERVER_ADDRESS":
            return _address(value)
    return None


def lease_server(lease: LeaseState) -> str | None:
    """The server behind a lease read_leases found, from its file (read again: a few KB, once per check)."""
    path = Path(lease.source)
    try:
        if not path.is_file() or path.stat().st_size > MAX_LEASE_BYTES:
            return None
        with path.open("rb") as handle:
            data = handle.read(MAX_LEASE_BYTES)
    except OSError:
        return None
    return parse_lease_server(data, lease.interface)


def _interface_of(path: Path, index_names: Callable[[int], str | None]) -> str | None:
    """dhcpcd: `eth0.lease` or `dhcpcd-eth0.lease`; networkd: the ifindex; NetworkManager: `...-eth0.lease`."""
    stem = path.name.removesuffix(".lease")
    if stem.isdigit():
        return index_names(int(stem))
    name = stem.rsplit("-", 1)[-1]
    return name if re.fullmatch(r"[A-Za-z0-9_.@]{1,15}", name) else None


def parse_lease_file(path: Path, data: bytes, mtime: float,
                     index_names: Callable[[int], str | None]) -> list[LeaseState]:
    """Whatever lease this file holds, whichever client wrote it."""
    if b"lease {" in data or b"lease{" in data:
        return parse_dhclient(data.decode("utf-8", "replace"), str(path))
    interface = _interface_of(path, index_names)
    if interface is None:
        return []
    if data[BOOTP_HEADER:BOOTP_HEADER + 4] == MAGIC_COOKIE:
        lease = parse_dhcpcd(data, interface, str(path), mtime)
    else:
        lease = parse_key_value(data.decode("utf-8", "replace"), interface, str(path), mtime)
    return [lease] if lease is not None else []


def _index_name(index: int) -> str | None:
    try:
        return socket.if_indextoname(index)
    except OSError:
        return None


def read_leases(patterns: Iterable[str], interface: str,
                index_names: Callable[[int], str | None] = _index_name) -> list[LeaseState]:
    """The leases on `interface` that the host's DHCP clients wrote, the newest first. Unreadable files are
    skipped: a lease watch is evidence, never a reason to stop probing."""
    leases: list[LeaseState] = []
    for pattern in patterns:
        for name in sorted(glob.glob(pattern)):
            path = Path(name)
            try:
                stat = path.stat()
                if not path.is_file() or stat.st_size > MAX_LEASE_BYTES:
                    continue
                with path.open("rb") as handle:
                    data = handle.read(MAX_LEASE_BYTES)
            except OSError:
                continue
            leases += [lease for lease in parse_lease_file(path, data, stat.st_mtime, index_names)
                       if lease.interface == interface]
    return sorted(leases, key=lambda lease: lease.obtained_ts or lease.expire_ts or 0.0, reverse=True)


def interface_address(interface: str) -> str | None:
    """The interface's primary IPv4 address (SIOCGIFADDR), None without one."""
    import fcntl
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            reply = fcntl.ioctl(sock.fileno(), 0x8915, struct.pack("256s", interface.encode()[:15]))
        except OSError:
            return None
    return socket.inet_ntoa(reply[20:24])


def lease_holder(patterns: Iterable[str] | None) -> Callable[[str], bool]:
    """Whether a DHCP client holds (or held) a lease on an interface, by its lease files (`patterns`; None: the
    usual places): where none does, the address is static and there is nothing to renew."""
    globs = tuple(patterns) if patterns is not None else DEFAULT_LEASE_GLOBS
    return lambda interface: bool(read_leases(globs, interface))
