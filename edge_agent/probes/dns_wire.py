"""DNS messages on the wire (RFC 1035): one query built, one reply parsed. Pure, no I/O.

The probe asks two questions a round; a general packet library would cost tens of megabytes and milliseconds
for what struct does in microseconds. Replies are untrusted: anything malformed raises ValueError (compression
pointers are skipped, never followed, so a pointer loop cannot hang the parser).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

_HEADER = struct.Struct("!HHHHHH")  # id, flags, qdcount, ancount, nscount, arcount
TYPE_A, TYPE_AAAA = 1, 28


def encode_query(query_id: int, name: str, qtype: int) -> bytes:
    """A recursive query (RD set) for `name`, class IN."""
    return _HEADER.pack(query_id, 0x0100, 1, 0, 0, 0) + encode_name(name) + struct.pack("!HH", qtype, 1)


def encode_name(name: str) -> bytes:
    labels = name.rstrip(".").split(".") if name.strip(".") else []
    out = b""
    for label in labels:
        raw = label.encode("idna") if not label.isascii() else label.encode()
        if not 1 <= len(raw) <= 63:
            raise ValueError(f"{name!r}: a label must be 1-63 bytes")
        out += bytes([len(raw)]) + raw
    if len(out) + 1 > 255:
        raise ValueError(f"{name!r}: longer than 255 bytes")
    return out + b"\x00"


@dataclass(frozen=True)
class Record:
    type: int
    data: bytes

    @property
    def address(self) -> str | None:
        """An A or AAAA record's address as text; None for other types or a wrong length."""
        if self.type == TYPE_A and len(self.data) == 4:
            return str(ipaddress.IPv4Address(self.data))
        if self.type == TYPE_AAAA and len(self.data) == 16:
            return str(ipaddress.IPv6Address(self.data))
        return None


@dataclass(frozen=True)
class Reply:
    id: int
    rcode: int
    answers: tuple[Record, ...]

    def addresses(self, qtype: int) -> list[str]:
        return [r.address for r in self.answers if r.type == qtype and r.address is not None]


def parse_reply(data: bytes) -> Reply:
    """A response message's id, rcode and answer records; ValueError for a query or malformed bytes."""
    if len(data) < _HEADER.size:
        raise ValueError("shorter than a DNS header")
    query_id, flags, qdcount, ancount, _, _ = _HEADER.unpack_from(data)
    if not flags & 0x8000:
        raise ValueError("a query, not a response")
    offset = _HEADER.size
    for _ in range(qdcount):
        offset = _skip_name(data, offset) + 4
    answers = []
    for _ in range(ancount):
        offset = _skip_name(data, offset)
        if offset + 10 > len(data):
            raise ValueError("an answer record is cut short")
        rtype, _, _, length = struct.unpack_from("!HHIH", data, offset)
        offset += 10
        if offset + length > len(data):
            raise ValueError("an answer's data runs past the end")
        answers.append(Record(rtype, data[offset:offset + length]))
        offset += length
    return Reply(query_id, flags & 0x000F, tuple(answers))


def _skip_name(data: bytes, offset: int) -> int:
    """The offset after the (possibly compressed) name at `offset`."""
    while True:
        if offset >= len(data):
            raise ValueError("a name runs past the end")
        length = data[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:
            if offset + 2 > len(data):
                raise ValueError("a compression pointer is cut short")
            return offset + 2  # the pointed-to name is not needed, only where this one ends
        if length & 0xC0:
            raise ValueError("an unknown label type")
        offset += 1 + length
