"""Connectivity detectors: the gateway's reachability, DNS, the uplink, DHCP, path MTU, and who answers for the
gateway.

The gateway's loss, latency and jitter are judged in gateway_quality.py; what a DNS answer means in
dns_verdict.py; a DHCP check in dhcp_verdict.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_agent.config import ConnectivityThresholds
from edge_agent.detectors.dhcp_verdict import judge_dhcp
from edge_agent.detectors.dns_consistency import ResolverAgreement, lie_verdict
from edge_agent.detectors.dns_verdict import DNS_TYPES, DOWN, LIES, UPSTREAM, AnswerMemory, judge, parse_expected
from edge_agent.detectors.estimators import ReachRecord, z_for
from edge_agent.detectors.pmtu_verdict import ReferenceRtts, black_hole_judgeable
from edge_agent.detectors.rules import finite_number
from edge_agent.model import Finding, Sample, Severity

DNS_SEVERITY = {DOWN: Severity.CRITICAL, UPSTREAM: Severity.CRITICAL, LIES: Severity.CRITICAL}
# Healthy answers in a row that end a resolver's episode (the shipped resolve_after): the next fault is judged
# afresh, not named after the last one. Also the rounds after which an episode's type is kept (open_after).
DNS_EPISODE_ENDS_AFTER = 3
# Rounds another verdict must hold to rename a named episode (at most symptom_quiet_rounds): a resolver that
# comes back from a restart lying must not wait long to be called a liar.
DNS_RENAME_AFTER = 5
# A private name's answer is known after this many rounds; a different one is accepted after ANSWER_ADOPT_AFTER
# rounds and ANSWER_ADOPT_AFTER_S seconds, whichever is later.
ANSWER_LEARN_ROUNDS, ANSWER_ADOPT_AFTER, ANSWER_ADOPT_AFTER_S = 20, 60, 900.0
# While the host still sends to a MAC that answered for the gateway in a conflict, its DNS and TCP failures are
# the conflict's doing; without a neighbour table to tell, for this long after the last conflicting round.
CONFLICT_AFTERMATH_S = 15.0
# With the neighbour table as proof, still at most this long after the last conflicting round.
CONFLICT_AFTERMATH_MAX_S = 120.0
# An uplink endpoint's failure rate is judged over its last UPLINK_WINDOW attempts, needs UPLINK_MIN_ATTEMPTS
# to say anything, and is clear at once when the last UPLINK_RECENT all connected.
UPLINK_WINDOW, UPLINK_RECENT, UPLINK_MIN_ATTEMPTS = 40, 20, 10
# A connection that took this much longer than TCP's own round trip waited for a resent SYN (Linux resends the
# first after 1 s): the first was lost. One that took its round trip was a slow path.
RESENT_SYN_MS = 500.0
# A resolver leaving more of its queries than this unanswered (the rest answered) is slow (judged like the uplink).
DNS_UNANSWERED_PCT_MAX = 10.0


@dataclass
class ConflictAftermath:
    """Whether this round's DNS and uplink failures are consequences of an address conflict on the gateway.

    A spoofer answering ARP for the gateway takes over the host's neighbour entry, so the host's own DNS queries
    and TCP connections go to the spoofer and fail: those failures belong to the `ip_conflict` issue. A fault
    of their own still counts as soon as the host sends to the real gateway again."""

    suspects: set[str] = field(default_factory=set)  # MACs that answered for the gateway beside the real one
    last_conflict_mono: float | None = None
    round_mono: float | None = None
    misdirected: bool | None = None  # None: the host's neighbour table is not known

    def gateway(self, sample: Sample) -> None:
        mac = sample.metrics.get("mac")
        macs = {m for m in sample.metrics.get("macs") or [mac] if isinstance(m, str)}
        if len(macs) > 1:
            self.last_conflict_mono = sample.mono
            self.suspects |= macs - {mac}
        self.round_mono = sample.mono
        neighbours = [m for m in sample.metrics.get("neighbour_macs") or [] if isinstance(m, str)]
        self.misdirected = any(m in self.suspects for m in neighbours) if neighbours else None

    def explains(self, sample: Sample) -> bool:
        if self.last_conflict_mono is None or sample.mono != self.round_mono:
            return False
        since = sample.mono - self.last_conflict_mono
        if self.misdirected is None:
            return since <= CONFLICT_AFTERMATH_S
        return self.misdirected and since <= CONFLICT_AFTERMATH_MAX_S


@dataclass
class _DnsEpisode:
    """One resolver's trouble as one issue. Its type is the verdict seen most often so far (the first on a tie:
    one refused query while dnsmasq restarts does not name a lie that follows); once that type has been
    reported DNS_EPISODE_ENDS_AFTER rounds in a row it is kept, and changes only when another verdict has held
    for DNS_RENAME_AFTER rounds (a resolver flipping between timeouts and SERVFAIL is one fault, not two issues taking
    turns)."""

    lead: str | None = None
    counts: dict[str, int] = field(default_factory=dict)  # verdicts of this episode, in order of first sight
    lead_rounds: int = 0
    fixed: bool = False
    other_rounds: int = 0
    good_rounds: int = 0


class ConnectivityRules:
    name = "rules.connectivity"

    def __init__(self, thresholds: ConnectivityThresholds):
        self.t = thresholds
        self._unreachable_round: float | None = None  # mono of the last round the gateway did not answer
        self._lossy_round: float | None = None  # mono of the last round the gateway lost some of its pings
        self._echoed: set[str] = set()  # gateways that have answered a ping since the agent started
        self._filtering: set[str] = set()  # gateways seen forwarding that have never answered a ping
        self._aftermath = ConflictAftermath()
        self._dns_episodes: dict[str, _DnsEpisode] = {}
        self._answers: dict[tuple[str, str | None], AnswerMemory] = {}
        self._expected = parse_expected(thresholds.dns_expected_answers)
        self._reach: dict[str, ReachRecord] = {}  # uplink endpoint -> its recent connection attempts
        self._dns_reach: dict[str, ReachRecord] = {}  # resolver -> which of its recent queries were answered
        self._z = z_for(thresholds.loss_confidence)
        self._agreement = ResolverAgreement(thresholds.dns_disagree_checks, thresholds.dns_varying_names)
        self._pmtu_rtts: dict[str, ReferenceRtts] = {}  # path-MTU target -> its reference echoes' round trips

    def evaluate(self, sample: Sample) -> list[Finding]:
        stream = sample.stream
        if stream == "connectivity.gateway":
            self._aftermath.gateway(sample)
            return self._gateway(sample)
        if stream == "connectivity.address":
            return self._own_address(sample)
        if stream == "connectivity.dhcp" and sample.mono == self._unreachable_round:
            return []  # no OFFER through a dead link says nothing about the DHCP server
        if self._first_hop_explains(sample):
            return []  # undecided for this round: its issues neither open nor resolve on it
        if stream == "connectivity.dns_comparison":
            return self._compare_resolvers(sample)
        if stream == "connectivity.dns":
            return self._dns(sample)
        if stream == "connectivity.uplink":
            return self._uplink(sample)
        if stream == "connectivity.dhcp":
            return judge_dhcp(sample, self.name)
        if stream == "connectivity.pmtu":
            return self._pmtu(sample)
        if stream == "connectivity.probe":
            return _ok_finding(sample, "probe_failed", self.name, Severity.CRITICAL, "error",
                               "the {subject} probe cannot run")
        return []

    def _first_hop_explains(self, sample: Sample) -> bool:
        """Whether this round's result beyond the gateway is a consequence of the first hop, not a fault of its
        own. Beyond an unreachable gateway nothing can answer; while the host's traffic goes to a device claiming
        the gateway's address nothing answers properly (gateway_unreachable, ip_conflict). And a query left
        unanswered in a round whose gateway lost pings may well have lost both its tries there: a resolver that
        is down fails in the rounds without loss too."""
        stream = sample.stream
        if stream not in ("connectivity.dns", "connectivity.uplink", "connectivity.pmtu",
                          "connectivity.dns_comparison"):
            return False
        if sample.mono == self._unreachable_round or self._aftermath.explains(sample):
            return True
        return stream == "connectivity.dns" and sample.mono == self._lossy_round and \
            sample.metrics.get("rcode") == "timeout"

    def _gateway(self, sample: Sample) -> list[Finding]:
        received, loss = sample.metrics.get("received"), sample.metrics.get("loss_pct")
        silent = received == 0 if received is not None else loss == 100.0
        sent = sample.metrics.get("sent")
        lossy = (finite_number(loss) or 0) > 0 or (
            isinstance(sent, int) and isinstance(received, int) and received < sent)
        self._lossy_round = sample.mono if lossy and not silent else None
        evidence = {"sent": sent, "received": received}
        if not silent:
            self._echoed.add(sample.subject)
            self._filtering.discard(sample.subject)
        forwarded = finite_number(sample.metrics.get("forwarded")) or 0
        self._unreachable_round = None
        if silent and forwarded:
            # Connections through it got through this round: up and forwarding, only not answering pings (a
            # filter, or a router too busy for ICMP). Not unreachable.
            if sample.subject not in self._echoed:
                self._filtering.add(sample.subject)
            return [Finding("gateway_unreachable", sample.subject, False, Severity.CRITICAL, self.name, "",
                            {**evidence, "forwarded": int(forwarded)})]
        if silent and sample.subject in self._filtering:
            # It has forwarded while never answering a ping: its silence says nothing. The DNS and uplink
            # probes tell whether traffic gets through; undecided here.
            return []
        self._unreachable_round = sample.mono if silent else None
        summary = f"gateway {sample.subject} answered none of {sent or 'the'} probes" if silent else ""
        # loss, latency and jitter: GatewayQuality
        return [Finding("gateway_unreachable", sample.subject, silent, Severity.CRITICAL, self.name,
                        summary, evidence)]

    def _own_address(self, sample: Sample) -> list[Finding]:
        """Another device answering ARP for the host's own address (probes/own_address.py)."""
        macs = [m for m in sample.metrics.get("macs") or [] if isinstance(m, str)][:8]
        interface = sample.metrics.get("interface") if isinstance(sample.metrics.get("interface"), str) else None
        summary = (f"another device ({', '.join(macs)}) answers for this gateway's own address {sample.subject}"
                   + (f" on {interface}" if interface else "")) if macs else ""
        return [Finding("address_conflict", sample.subject, bool(macs), Severity.CRITICAL, self.name, summary,
                        {"macs": ", ".join(macs), "interface": interface})]

    def _dns(self, sample: Sample) -> list[Finding]:
        if sample.metrics.get("ok") is None:
            return []
        metrics = sample.metrics
        rcode = metrics.get("rcode") if isinstance(metrics.get("rcode"), str) else None
        answers = [a for a in metrics.get("answers") or [] if isinstance(a, str)]
        name = metrics.get("name") if isinstance(metrics.get("name"), str) else None
        if rcode is None:
            rcode = "NOERROR" if metrics["ok"] else "failed"
        verdict = judge(rcode, answers, name, self._expected, self.t.dns_private_answers_ok)
        if verdict.issue_type is None and not self._expected:
            memory = self._answers.setdefault((sample.subject, name),
                                              AnswerMemory(ANSWER_LEARN_ROUNDS, ANSWER_ADOPT_AFTER,
                                                           ANSWER_ADOPT_AFTER_S))
            verdict = memory.judge(name, answers, sample.mono)
        disagreement = self._agreement.disagreement(sample.subject) if verdict.issue_type is None else None
        if disagreement is not None:  # the other resolvers agree on something else for a name compared
            verdict, name, answers = lie_verdict(disagreement), disagreement.name, list(disagreement.answers)
        episode = self._dns_episodes.setdefault(sample.subject, _DnsEpisode())
        lead = self._dns_lead(sample.subject, episode, verdict.issue_type)
        evidence = {"ok": verdict.issue_type is None, "rcode": rcode, "name": name, "answers": ", ".join(answers),
                    "verdict": verdict.issue_type or "healthy", "reason": verdict.reason}
        if disagreement is not None:
            evidence["agreed_answers"] = ", ".join(disagreement.agreed)
            evidence["comparisons"] = disagreement.checks
        findings = []
        for issue_type in DNS_TYPES:
            present = issue_type == lead and verdict.issue_type is not None
            summary = f"resolver {sample.subject} for {name or 'the probe name'}: {verdict.reason}" if present else ""
            findings.append(Finding(issue_type, sample.subject, present, DNS_SEVERITY.get(issue_type, Severity.WARNING),
                                    self.name, summary, evidence))
        return findings + self._dns_slow(sample, rcode == "timeout", verdict.issue_type is None)

    def _dns_slow(self, sample: Sample, timed_out: bool, healthy: bool) -> list[Finding]:
        """Slow: answers over the latency limit, or queries left unanswered within the timeout on and off while
        others are answered (a resolver that answers in more than the timeout does exactly that: the probe
        gives up, and a later query is answered at once from the reply to the earlier one)."""
        record = self._dns_reach.setdefault(sample.subject,
                                            ReachRecord(UPLINK_WINDOW, UPLINK_RECENT, UPLINK_MIN_ATTEMPTS))
        unanswered = record.add(not timed_out, DNS_UNANSWERED_PCT_MAX / 100, self._z)
        limit = self.t.dns_latency_ms_max
        latency = sample.metrics.get("latency_ms")
        over = latency > limit if healthy and sample.metrics.get("ok") and isinstance(latency, (int, float)) else None
        if unanswered.unreliable is None and over is None:
            return []
        evidence = {"latency_ms": latency, "limit": limit, "unanswered": unanswered.failed,
                    "queries": unanswered.attempts}
        if unanswered.unreliable:
            summary = (f"resolver {sample.subject} left {unanswered.failed} of the last {unanswered.attempts} "
                       "queries unanswered within the probe's timeout, and answered the others")
        elif over:
            summary = f"latency_ms on {sample.subject} is {latency}, limit {limit}"
        else:
            summary = ""
        return [Finding("dns_slow", sample.subject, bool(unanswered.unreliable or over), Severity.WARNING,
                        self.name, summary, evidence)]

    def _compare_resolvers(self, sample: Sample) -> list[Finding]:
        """One comparison of the resolvers' answers for a name: remembered, judged with each resolver's next sample
        (a finding of its own would contradict that resolver's round verdict)."""
        answers = sample.metrics.get("answers")
        if not isinstance(answers, dict):
            return []
        clean = {str(r): [a for a in addresses if isinstance(a, str)] for r, addresses in answers.items()
                 if isinstance(addresses, list)}
        references = [r for r in sample.metrics.get("references") or [] if isinstance(r, str)]
        certificates = sample.metrics.get("certificates")
        self._agreement.compare(sample.subject, clean, references,
                                certificates if isinstance(certificates, dict) else None)
        return []

    def _dns_lead(self, subject: str, episode: _DnsEpisode, current: str | None) -> str | None:
        quiet = self.t.symptom_quiet_rounds
        if current is None:
            episode.good_rounds += 1
            if episode.good_rounds >= min(quiet, DNS_EPISODE_ENDS_AFTER):
                self._dns_episodes[subject] = _DnsEpisode()
            return episode.lead
        episode.good_rounds = 0
        episode.counts[current] = episode.counts.get(current, 0) + 1
        if not episode.fixed:
            lead = max(episode.counts, key=episode.counts.__getitem__)  # max keeps the first of equals
            episode.lead_rounds = episode.lead_rounds + 1 if lead == episode.lead else 1
            episode.lead = lead
            episode.fixed = episode.lead_rounds >= DNS_EPISODE_ENDS_AFTER
            return lead
        episode.other_rounds = episode.other_rounds + 1 if current != episode.lead else 0
        if episode.other_rounds >= min(quiet, DNS_RENAME_AFTER):
            episode.lead, episode.other_rounds = current, 0  # a different fault now: its own issue
        return episode.lead

    def _pmtu(self, sample: Sample) -> list[Finding]:
        verdict = sample.metrics.get("verdict")
        if verdict not in ("ok", "blackhole"):
            return []  # the target answers no echo at all: nothing to judge
        reference_rtt = sample.metrics.get("reference_rtt_ms")
        history = self._pmtu_rtts.setdefault(sample.subject, ReferenceRtts())
        judgeable, _ = black_hole_judgeable(history, sample.mono, reference_rtt)
        if verdict == "blackhole" and not judgeable:
            return []  # a loaded path (or one seen first now) drops big packets too: undecided, not a black hole
        blackhole = verdict == "blackhole"
        largest, mtu = sample.metrics.get("largest_ok"), sample.metrics.get("local_mtu")
        family = "IPv6" if ":" in sample.subject else "IPv4"
        summary = (f"{family} packets of {mtu} bytes to {sample.subject} vanish without an error while {largest} "
                   "bytes pass: a path MTU black hole") if blackhole else ""
        # what the hole swallows: the error a router must send for a packet too big for its next hop
        missing = "ICMPv6 'packet too big'" if family == "IPv6" else "ICMP 'fragmentation needed'"
        evidence = {"largest_ok": largest, "local_mtu": mtu, "sizes": sample.metrics.get("sizes"), "family": family,
                    "missing_error": missing, "reference_rtt_ms": reference_rtt}
        return [Finding("pmtu_blackhole", sample.subject, blackhole, Severity.CRITICAL, self.name, summary, evidence)]

    def _uplink(self, sample: Sample) -> list[Finding]:
        if sample.metrics.get("ok") is None:
            return []
        ok = bool(sample.metrics["ok"])
        record = self._reach.setdefault(sample.subject, ReachRecord(UPLINK_WINDOW, UPLINK_RECENT, UPLINK_MIN_ATTEMPTS))
        late = late_connection(sample.metrics)
        if late is not None:
            record.answered_late(failed_all_the_same=late.resent_syn)
        limit = self.t.uplink_failure_pct_max
        connect_ms = finite_number(sample.metrics.get("connect_ms"))
        rtt_ms = finite_number(sample.metrics.get("rtt_ms"))
        resent = ok and resent_syn(connect_ms, rtt_ms)
        verdict = record.add(ok, limit / 100, self._z, resent=resent)
        error = sample.metrics.get("error")
        evidence = {"ok": ok, "error": error, "failed": verdict.failed, "attempts": verdict.attempts,
                    "in_a_row": verdict.run, "limit": limit}
        if late is not None:
            evidence |= {"late_connect_ms": late.connect_ms, "late_resent_syn": late.resent_syn}
        # Down only when every attempt fails since a clean spell: connections that fail on and off (a lossy
        # path, a full queue) are an unreliable uplink, a warning, not an outage to restart things for. And
        # never in a round that learnt the endpoint answered the attempt before: this one is most likely late too.
        down = verdict.down and late is None
        findings = [Finding("uplink_down", sample.subject, down, Severity.CRITICAL, self.name,
                            f"no TCP connection to {sample.subject}" + (f": {error}" if error else "")
                            if down else "", evidence)]
        if verdict.unreliable is not None:
            rate = round(100 * verdict.failed / verdict.attempts, 1) if verdict.attempts else 0.0
            summary = (f"{verdict.failed} of the last {verdict.attempts} connections to {sample.subject} failed "
                       f"({rate} %), limit {limit:g} %") if verdict.unreliable else ""
            findings.append(Finding("uplink_unreliable", sample.subject, verdict.unreliable, Severity.WARNING,
                                    self.name, summary, {**evidence, "failure_pct": rate}))
        if ok and connect_ms is not None:
            # A connection that waited for a resent SYN says the path lost one, not how fast it is: TCP's own
            # round trip does.
            findings.append(self._slow(sample.subject, rtt_ms if resent and rtt_ms is not None else connect_ms))
        elif late is not None and not late.resent_syn:
            findings.append(self._slow(sample.subject, late.connect_ms, late=True))
        return findings

    def _slow(self, subject: str, connect_ms: float, late: bool = False) -> Finding:
        limit = self.t.uplink_connect_ms_max
        present = connect_ms > limit
        waits = ", longer than the probe waits" if late else ""
        summary = f"connections to {subject} take {connect_ms:.0f} ms{waits}; limit {limit:g} ms" if present else ""
        return Finding("uplink_slow", subject, present, Severity.WARNING, self.name, summary,
                       {"connect_ms": connect_ms, "limit": limit, "late": late})


@dataclass(frozen=True)
class LateConnection:
    connect_ms: float
    resent_syn: bool  # it waited for a resent SYN: the first was lost, the path itself may be fast


def late_connection(metrics: dict) -> LateConnection | None:
    """The previous round's attempt that connected after its timeout, from this round's sample."""
    late = finite_number(metrics.get("late_connect_ms"))
    if late is None:
        return None
    return LateConnection(late, resent_syn(late, finite_number(metrics.get("late_rtt_ms"))))


def resent_syn(connect_ms: float | None, rtt_ms: float | None) -> bool:
    """Whether a connection waited for a resent SYN. Without TCP's round trip (not Linux) the wait cannot be
    split: the connection took that long, a slow path."""
    return connect_ms is not None and rtt_ms is not None and connect_ms - rtt_ms >= RESENT_SYN_MS


def _ok_finding(
    sample: Sample, issue_type: str, detector: str, severity: Severity, detail_key: str, summary: str
) -> list[Finding]:
    """A finding on the sample's `ok` flag; none when it is unknown."""
    if sample.metrics.get("ok") is None:
        return []
    ok = bool(sample.metrics["ok"])
    detail = sample.metrics.get(detail_key)
    text = "" if ok else summary.format(subject=sample.subject) + (f": {detail}" if detail else "")
    return [Finding(issue_type, sample.subject, not ok, severity, detector, text, {"ok": ok, detail_key: detail})]


class GatewayMacWatch:
    """Who answers for the gateway's address.

    Two MACs answering the same request is an address conflict (or a spoofer racing the router): `ip_conflict`.
    One answer from a MAC other than the learned one is a swapped or spoofed router: `gateway_mac_changed`; a
    new MAC that persists for `gateway_mac_adopt_after` rounds is adopted (a replaced router), which resolves
    the issue with the new MAC as evidence.
    """

    name = "watch.gateway_mac"

    def __init__(self, thresholds: ConnectivityThresholds):
        self.adopt_after = thresholds.gateway_mac_adopt_after
        self._known: dict[str, str] = {}
        self._strange_rounds: dict[str, int] = {}
        self._aftermath = ConflictAftermath()
        # what failed because of the conflict in the last round: "dns <resolver>" -> what it said
        self._consequences: dict[str, str] = {}

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream in ("connectivity.dns", "connectivity.uplink"):
            self._note_consequence(sample)
            return []
        mac = sample.metrics.get("mac") if sample.stream == "connectivity.gateway" else None
        if not isinstance(mac, str):
            return []
        self._aftermath.gateway(sample)
        consequences, self._consequences = self._consequences, {}
        gateway = sample.subject
        macs = [m for m in sample.metrics.get("macs") or [mac] if isinstance(m, str)]
        known = self._known.setdefault(gateway, mac)
        conflict = len(set(macs)) > 1
        summary = f"{len(set(macs))} devices answer for the gateway {gateway}: {', '.join(macs)}" if conflict else ""
        evidence: dict = {"macs": ", ".join(macs), "known_mac": known}
        if conflict and consequences:
            summary += "; the host's traffic goes astray: " + "; ".join(f"{k} {v}" for k, v in consequences.items())
            evidence["consequences"] = consequences
        findings = [Finding("ip_conflict", gateway, conflict, Severity.CRITICAL, self.name, summary, evidence)]
        if conflict and known in macs:
            # The real gateway still answers: the other one is the conflict, not a replacement.
            self._strange_rounds[gateway] = 0
            return [*findings, self._unchanged(gateway, mac)]
        if mac == known:
            self._strange_rounds[gateway] = 0
            return [*findings, self._unchanged(gateway, mac)]
        rounds = self._strange_rounds.get(gateway, 0) + 1
        self._strange_rounds[gateway] = rounds
        evidence = {"known_mac": known, "mac": mac, "rounds": rounds, "adopt_after": self.adopt_after}
        if rounds >= self.adopt_after:
            self._known[gateway] = mac
            self._strange_rounds[gateway] = 0
            return [*findings, Finding("gateway_mac_changed", gateway, False, Severity.CRITICAL, self.name, "",
                                       evidence)]
        summary = f"gateway {gateway} answers from {mac}, known as {known}"
        return [*findings, Finding("gateway_mac_changed", gateway, True, Severity.CRITICAL, self.name, summary,
                                   evidence)]

    def _note_consequence(self, sample: Sample) -> None:
        """A DNS or TCP failure the conflict explains: evidence for the ip_conflict issue of the next round."""
        if sample.metrics.get("ok") is not False or not self._aftermath.explains(sample):
            return
        kind = "DNS" if sample.stream == "connectivity.dns" else "uplink"
        self._consequences[f"{kind} {sample.subject}"] = str(sample.metrics.get("rcode") or sample.metrics.get("error"))

    def _unchanged(self, gateway: str, mac: str) -> Finding:
        return Finding("gateway_mac_changed", gateway, False, Severity.CRITICAL, self.name, "", {"mac": mac})
