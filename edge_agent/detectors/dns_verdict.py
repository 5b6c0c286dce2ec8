"""What one DNS probe says about a resolver: healthy, down, failing upstream, missing the name, or lying.

Pure: the probe's rcode and answers in, a verdict out. A resolver "lies" when it answers a name with an
address no real service has (a sinkhole: 0.0.0.0/8, ::, loopback), with a private or link-local address for a
public name, or outside the answers configured as expected for the name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

DOWN, UPSTREAM, MISSING, LIES = "dns_failure", "dns_upstream_failing", "dns_name_missing", "dns_resolver_lies"
DNS_TYPES = (DOWN, UPSTREAM, MISSING, LIES)

# Names under these suffixes are not in the public DNS (RFC 6761, RFC 8375, common home-router domains): a
# private answer for them is normal.
PRIVATE_SUFFIXES = ("test", "local", "localhost", "invalid", "example", "home.arpa", "arpa", "lan", "home",
                    "internal", "intranet", "corp", "private", "localdomain", "domain")
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


@dataclass(frozen=True)
class DnsVerdict:
    issue_type: str | None  # None: healthy
    reason: str


def is_public_name(name: str) -> bool:
    labels = name.lower().rstrip(".").split(".")
    if len(labels) < 2:
        return False  # a single label is resolved by search domains, not by the public DNS
    return not any(name.lower().rstrip(".").endswith("." + s) or name.lower().rstrip(".") == s
                   for s in PRIVATE_SUFFIXES)


def sinkhole(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address a blocking resolver gives instead of the real one; no service on the network has it."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return sinkhole(address.ipv4_mapped)
    if isinstance(address, ipaddress.IPv4Address) and address in THIS_NETWORK:
        return True
    return address.is_unspecified or address.is_loopback


def private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return private(address.ipv4_mapped)
    in_shared = isinstance(address, ipaddress.IPv4Address) and address in SHARED_ADDRESS_SPACE
    return address.is_private or address.is_link_local or in_shared


def parse_expected(entries: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Addresses or networks the name must resolve into; ValueError names a bad entry."""
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


def judge(
    rcode: str | None,
    answers: Sequence[str],
    name: str | None,
    expected: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = (),
    private_answers_ok: bool = False,
) -> DnsVerdict:
    if rcode is None:
        return DnsVerdict(None, "")
    if rcode == "SERVFAIL":
        return DnsVerdict(UPSTREAM, "the resolver answers SERVFAIL: it cannot get an answer from upstream")
    if rcode in ("NXDOMAIN", "NODATA"):
        return DnsVerdict(MISSING, f"the resolver says {rcode} for a name that should exist")
    if rcode != "NOERROR":
        return DnsVerdict(DOWN, _down_reason(rcode))
    return _judge_answers(answers, name, expected, private_answers_ok)


def _down_reason(rcode: str) -> str:
    if rcode == "timeout":
        return "no answer"
    if rcode == "unreachable":
        return "nothing listens on its DNS port"
    if rcode == "REFUSED":
        return "it refuses to resolve for this device"
    return rcode


def _judge_answers(
    answers: Sequence[str],
    name: str | None,
    expected: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
    private_answers_ok: bool,
) -> DnsVerdict:
    addresses = []
    for answer in answers:
        try:
            addresses.append(ipaddress.ip_address(answer))
        except ValueError:
            return DnsVerdict(LIES, f"the answer {answer!r} is not an address")
    if not addresses:
        return DnsVerdict(None, "")  # no address to judge (a probe that does not report them)
    sunk = [a for a in addresses if sinkhole(a)]
    if sunk:
        return DnsVerdict(LIES, f"it answers {', '.join(map(str, sunk))}, a sinkhole address: the name is blocked "
                                "or hijacked")
    if expected:
        outside = [a for a in addresses if not any(a.version == n.version and a in n for n in expected)]
        if outside:
            return DnsVerdict(LIES, f"it answers {', '.join(map(str, outside))}, not one of the expected "
                                    f"{', '.join(map(str, expected))}")
        return DnsVerdict(None, "")
    if name is not None and is_public_name(name) and not private_answers_ok:
        inside = [a for a in addresses if private(a)]
        if inside:
            return DnsVerdict(LIES, f"it answers {', '.join(map(str, inside))}, a private address, for the public "
                                    f"name {name}")
    return DnsVerdict(None, "")


@dataclass
class AnswerMemory:
    """What a resolver has answered for a private name (a .test, .lan, single-label name: one host, no CDN).

    A name that resolved to the same addresses for `learn_rounds` and now resolves to entirely different ones
    is answered wrongly, until the new answer has held for `adopt_after` rounds and `adopt_after_s` seconds (a
    host that really moved): counted in time as well, so that a lie is not accepted within a minute where the
    probes run every second. Public names are left alone: their addresses rotate legitimately."""

    learn_rounds: int
    adopt_after: int
    adopt_after_s: float = 0.0
    known: frozenset[str] = frozenset()
    rounds: int = 0
    strange: int = 0
    strange_since: float | None = None

    def judge(self, name: str | None, answers: Sequence[str], mono: float = 0.0) -> DnsVerdict:
        current = frozenset(answers)
        if not current or name is None or is_public_name(name):
            return DnsVerdict(None, "")
        if not self.known or current & self.known:
            self.known, self.strange = self.known | current, 0
            self.rounds += 1
            return DnsVerdict(None, "")
        if self.rounds < self.learn_rounds:
            self.known, self.rounds, self.strange = current, 1, 0  # too new to know
            return DnsVerdict(None, "")
        if self.strange == 0:
            self.strange_since = mono
        held_s = mono - (self.strange_since if self.strange_since is not None else mono)
        if self.strange + 1 >= self.adopt_after and held_s >= self.adopt_after_s:
            # A host that moved, or a lie that lasted: the new answer is accepted, and the old one stays known,
            # so that its return (the repair of a lie) is not called a lie in turn.
            self.known, self.rounds, self.strange = self.known | current, 1, 0
            return DnsVerdict(None, "")
        self.strange += 1
        return DnsVerdict(LIES, f"it answers {', '.join(sorted(current))} where it answered "
                                f"{', '.join(sorted(self.known))} for {self.rounds} rounds")
