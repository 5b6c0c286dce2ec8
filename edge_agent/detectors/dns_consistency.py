"""Whether the resolvers agree on a public name: one that, comparison after comparison, answers nothing of what the
others agree on is lying. Pure: each comparison's answers in, per resolver a disagreement (or none) out.

CDNs give different resolvers different addresses, so agreement is loose: two answers agree when they share an
address or only an IPv4 /24 or IPv6 /48 (the smallest prefixes announced on the Internet). A resolver is compared
only with answers at least two sources agreed on (now, or in the last MEMORY_CHECKS comparisons), and only once
it has agreed itself: what is caught is a resolver that starts lying. One that has differed from the start
accuses no one and is not accused on the answers alone: a CDN that answers each resolver from a different place
(two of the provider's resolvers and a public one across the country) looks just like that, and with two
resolvers and no history there is no telling which one is right. The certificates tell (probes/certificates.py):
an address that presents no valid certificate for the name, where the others' address does, is a lie from the
first answer; one that holds the name's certificate is no lie, however far from the others' it is. An address
that refuses the connection proves nothing either way (a CDN's edge may be down).
"""

from __future__ import annotations

import ipaddress
from collections import Counter, deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from edge_agent.collectors.connectivity import NO_TLS, REJECTED, VALID
from edge_agent.detectors.dns_verdict import LIES, DnsVerdict, is_public_name

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
V4_PREFIX, V6_PREFIX = 24, 48
# Answers agreed on stay known this many comparisons: a CDN's rotation that one resolver follows a TTL later
# than another is no lie.
MEMORY_CHECKS = 10


def answer_network(address: str) -> Network | None:
    """The /24 (IPv4) or /48 (IPv6) an answer is in; None for what is not an address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    prefix = V4_PREFIX if parsed.version == 4 else V6_PREFIX
    return ipaddress.ip_network((parsed, prefix), strict=False)


def networks(answers: Sequence[str]) -> frozenset[Network]:
    return frozenset(n for n in map(answer_network, answers) if n is not None)


@dataclass(frozen=True)
class Disagreement:
    """A resolver's answer for `name` that shares nothing with what the other sources agree on."""

    name: str
    answers: tuple[str, ...]
    agreed: tuple[str, ...]  # the others' answers that at least two sources agree on (or the one vouched for)
    checks: int  # comparisons in a row
    certificate: str = ""  # why the answer's certificate failed where the others' held, when that is the proof


@dataclass
class NameAgreement:
    """One name across the sources, comparison after comparison."""

    name: str
    memory: deque[frozenset[Network]] = field(default_factory=lambda: deque(maxlen=MEMORY_CHECKS))
    streaks: dict[str, Disagreement] = field(default_factory=dict)
    agreed_before: set[str] = field(default_factory=set)  # sources that have shared an answer with the others

    def compare(self, answers: Mapping[str, Sequence[str]], judged: Collection[str],
                certificates: Mapping[str, Mapping[str, str]] | None = None) -> None:
        """One comparison: `answers` of every source that answered with addresses; `judged` are the sources a
        verdict is kept for (the host's resolvers, not the references); `certificates` what the probe learnt of
        a judged source's answer (probes/certificates.py). A source that did not answer keeps its streak (a
        timeout is no agreement, and another issue already); one with nothing agreed to compare with loses it
        (no evidence either way)."""
        nets = {source: networks(a) for source, a in answers.items() if networks(a)}
        remembered = frozenset().union(*self.memory)
        agreed_now = frozenset(n for n, count in Counter(n for s in nets.values() for n in s).items() if count > 1)
        for source in judged:
            if source not in nets:
                continue
            own = nets[source]
            vouched = _certificate_proof(certificates, source, answers[source])
            if vouched is not None:
                self._certified(source, answers[source], *vouched)
                continue
            others = {s: n for s, n in nets.items() if s != source}
            families = {n.version for n in own}
            agreed = [a for s in others for a in answers[s]
                      if (net := answer_network(a)) in (agreed_now | remembered) and net.version in families]
            if own & frozenset().union(*others.values()) or own & remembered:
                self.agreed_before.add(source)
                self.streaks.pop(source, None)
                continue
            if not agreed or source not in self.agreed_before:
                self.streaks.pop(source, None)
                continue
            before = self.streaks.get(source)
            self.streaks[source] = Disagreement(self.name, tuple(answers[source]), tuple(dict.fromkeys(agreed)),
                                                (before.checks if before else 0) + 1)
        self.memory.append(agreed_now)

    def _certified(self, source: str, answers: Sequence[str], valid: bool, control: str, detail: str) -> None:
        if valid:
            self.streaks.pop(source, None)  # the address holds the name's certificate: no lie
            return
        before = self.streaks.get(source)
        self.streaks[source] = Disagreement(self.name, tuple(answers), (control,),
                                            (before.checks if before else 0) + 1, detail or "no valid certificate")


def _certificate_proof(certificates: Mapping[str, Mapping[str, str]] | None, source: str,
                       answers: Sequence[str]) -> tuple[bool, str, str] | None:
    """(holds the name's certificate, the control address, why not) when the probe's check of this answer
    decides; None when there was none, it proved nothing, or the others' address failed too (a path that
    intercepts TLS, or a name without HTTPS)."""
    check = (certificates or {}).get(source)
    if not isinstance(check, Mapping) or check.get("address") not in answers:
        return None
    control, result = check.get("control"), check.get("result")
    if check.get("control_result") != VALID or not isinstance(control, str):
        return None
    if result == VALID:
        return True, control, ""
    if result in (REJECTED, NO_TLS):
        detail = check.get("detail")
        return False, control, f"{result}: {detail}" if isinstance(detail, str) and detail else result
    return None


class ResolverAgreement:
    """Every compared name; which host resolver has disagreed `disagree_after` comparisons in a row."""

    def __init__(self, disagree_after: int, varying: Sequence[str] = ()):
        self.disagree_after = disagree_after
        self.varying = tuple(v.lower().strip(".") for v in varying)
        self._names: dict[str, NameAgreement] = {}

    def comparable(self, name: str) -> bool:
        lowered = name.lower().rstrip(".")
        varies = any(lowered == v or lowered.endswith("." + v) for v in self.varying)
        return is_public_name(name) and not varies

    def compare(self, name: str, answers: Mapping[str, Sequence[str]], references: Collection[str],
                certificates: Mapping[str, Mapping[str, str]] | None = None) -> None:
        if not self.comparable(name):
            return
        agreement = self._names.setdefault(name.lower().rstrip("."), NameAgreement(name))
        agreement.compare(answers, [s for s in answers if s not in references], certificates)

    def disagreement(self, resolver: str) -> Disagreement | None:
        """The longest-standing disagreement of `resolver` that has held long enough to call it a lie."""
        held = [a.streaks[resolver] for a in self._names.values() if resolver in a.streaks]
        lie = max(held, key=lambda d: d.checks, default=None)
        return lie if lie is not None and lie.checks >= self.disagree_after else None


def lie_verdict(disagreement: Disagreement) -> DnsVerdict:
    d = disagreement
    if d.certificate:
        return DnsVerdict(LIES, f"it answers {', '.join(d.answers)} for {d.name}, which presents no valid "
                                f"certificate for the name ({d.certificate}) where the other resolvers' "
                                f"{', '.join(d.agreed)} does, {d.checks} comparisons in a row")
    return DnsVerdict(LIES, f"it answers {', '.join(d.answers)} where the other resolvers agree on "
                            f"{', '.join(d.agreed)}, not even in the same /24 or /48, {d.checks} comparisons in a row")
