"""Resolvers compared on a public name: a resolver that answers nothing of what the others agree on, comparison
after comparison, is lying; CDN-like answers (other addresses in the same /24 or /48, overlapping sets, a rotation
one resolver follows a TTL later, answers by location that never agreed) are not."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from edge_agent.config import ConnectivityThresholds
from edge_agent.detectors.connectivity import ConnectivityRules
from edge_agent.detectors.dns_consistency import ResolverAgreement, answer_network
from edge_agent.guidance import guidance_for
from edge_agent.model import Sample

NAME = "cdn.example.net"
A, B, C, REF = "192.168.1.1", "192.168.1.2", "192.168.1.3", "9.9.9.9"
TRUE, LIE = ["23.45.67.10"], ["45.33.10.10"]


def agreement(after: int = 3, varying: tuple[str, ...] = ()) -> ResolverAgreement:
    return ResolverAgreement(after, varying)


def compare(agree: ResolverAgreement, times: int, answers: dict, references=(), name: str = NAME) -> None:
    for _ in range(times):
        agree.compare(name, answers, references)


def test_a_resolver_that_leaves_what_both_agreed_on_is_a_liar_after_n_comparisons():
    agree = agreement(after=3)
    compare(agree, 2, {A: TRUE, B: TRUE})
    compare(agree, 2, {A: TRUE, B: LIE})
    assert agree.disagreement(B) is None  # two comparisons: not yet
    compare(agree, 1, {A: TRUE, B: LIE})
    lie = agree.disagreement(B)
    assert lie is not None and (lie.name, lie.answers, lie.agreed, lie.checks) == (NAME, tuple(LIE), tuple(TRUE), 3)
    assert agree.disagreement(A) is None  # the one that kept the agreed answer is not accused


def test_agreeing_again_ends_the_disagreement():
    agree = agreement(after=1)
    compare(agree, 1, {A: TRUE, B: TRUE})
    compare(agree, 1, {A: TRUE, B: LIE})
    assert agree.disagreement(B) is not None
    compare(agree, 1, {A: TRUE, B: TRUE})
    assert agree.disagreement(B) is None


def test_two_resolvers_that_never_agreed_accuse_neither():
    # A CDN answering each resolver from a different place looks like this: no majority, no history.
    agree = agreement(after=1)
    compare(agree, 20, {A: TRUE, B: LIE})
    assert agree.disagreement(A) is None and agree.disagreement(B) is None


def test_of_three_the_one_that_leaves_the_majority_is_the_liar():
    agree = agreement(after=3)
    compare(agree, 2, {A: TRUE, B: TRUE, C: TRUE})
    compare(agree, 3, {A: TRUE, B: LIE, C: TRUE})
    assert agree.disagreement(B) is not None and agree.disagreement(A) is None and agree.disagreement(C) is None


def test_one_that_has_differed_from_the_start_is_not_accused_even_by_a_majority():
    # Two of the provider's resolvers and a public one far away: a CDN answers the far one from another place.
    agree = agreement(after=1)
    compare(agree, 20, {A: TRUE, C: ["23.45.67.99"], B: ["104.16.5.5"]})
    assert agree.disagreement(B) is None


def test_other_addresses_in_the_same_slash_24_or_48_and_overlapping_sets_agree():
    agree = agreement(after=1)
    compare(agree, 5, {A: ["23.45.67.10", "2a02:26f0:10::1"], B: ["23.45.67.200", "2a02:26f0:10:ff::9"]})
    compare(agree, 5, {A: ["151.101.1.10", "151.101.65.10"], B: ["151.101.65.10", "151.101.129.10"]})
    compare(agree, 5, {A: ["2a02:26f0:10::1"], B: ["2a02:26f0:10:abcd::1"]})
    assert agree.disagreement(A) is None and agree.disagreement(B) is None


def test_a_cdn_rotation_one_resolver_follows_a_comparison_later_is_no_lie():
    agree = agreement(after=3)
    compare(agree, 3, {A: ["23.45.67.10"], B: ["23.45.67.11"]})
    compare(agree, 2, {A: ["104.16.5.5"], B: ["23.45.67.11"]})  # A's TTL ran out first
    compare(agree, 3, {A: ["104.16.5.5"], B: ["104.16.5.6"]})
    assert agree.disagreement(A) is None and agree.disagreement(B) is None


def test_an_answer_in_another_family_is_not_compared_with():
    agree = agreement(after=1)
    compare(agree, 3, {A: TRUE + ["2001:4860::1"], B: TRUE + ["2001:4860::1"]})
    compare(agree, 3, {A: TRUE, B: ["2001:4860::1"]})  # B lost its A record, kept the agreed AAAA
    compare(agree, 3, {A: TRUE, B: ["2606:4700::5"]})  # and now an AAAA nobody agreed on: nothing to compare
    assert agree.disagreement(B) is None


def test_a_reference_resolver_is_compared_with_but_never_accused():
    agree = agreement(after=2)
    compare(agree, 2, {A: TRUE, REF: TRUE}, references=[REF])
    compare(agree, 2, {A: TRUE, REF: LIE}, references=[REF])
    assert agree.disagreement(REF) is None and agree.disagreement(A) is None
    compare(agree, 3, {A: TRUE, REF: TRUE}, references=[REF])
    compare(agree, 2, {A: LIE, REF: TRUE}, references=[REF])
    lie = agree.disagreement(A)
    assert lie is not None and lie.agreed == tuple(TRUE)


def test_a_timeout_keeps_the_streak_and_nothing_to_compare_with_ends_it():
    agree = agreement(after=3)
    compare(agree, 1, {A: TRUE, B: TRUE})
    compare(agree, 2, {A: TRUE, B: LIE})
    compare(agree, 1, {A: TRUE})  # B did not answer this time
    compare(agree, 1, {A: TRUE, B: LIE})
    assert agree.disagreement(B).checks == 3
    fresh = agreement(after=1)
    compare(fresh, 1, {A: TRUE, B: TRUE})
    compare(fresh, 1, {A: TRUE, B: LIE})
    for _ in range(10):  # the agreed answer is forgotten while A is down: no evidence left either way
        compare(fresh, 1, {B: LIE})
    compare(fresh, 1, {A: ["104.16.5.5"], B: LIE})
    assert fresh.disagreement(B) is None


def test_varying_names_and_private_names_are_not_compared():
    agree = agreement(after=1, varying=("akamaiedge.net",))
    for name in ("e1234.a.akamaiedge.net", "AKAMAIEDGE.NET.", "printer.lan", "router"):
        compare(agree, 1, {A: TRUE, B: TRUE}, name=name)
        compare(agree, 3, {A: TRUE, B: LIE}, name=name)
    assert agree.disagreement(B) is None


def test_answers_are_compared_by_their_slash_24_and_slash_48():
    assert str(answer_network("23.45.67.200")) == "23.45.67.0/24"
    assert str(answer_network("2a02:26f0:10:ff::9")) == "2a02:26f0:10::/48"
    assert str(answer_network("::ffff:23.45.67.1")) == "23.45.67.0/24"
    assert answer_network("not an address") is None


addresses = st.sampled_from(["23.45.67.10", "23.45.67.99", "45.33.10.10", "104.16.5.5", "2a02:26f0:10::1",
                             "2a02:26f0:99::1", "garbage"])
answer_sets = st.dictionaries(st.sampled_from([A, B, C, REF]), st.lists(addresses, min_size=1, max_size=3),
                              max_size=4)


@given(st.lists(answer_sets, max_size=15), st.integers(1, 4))
def test_a_liar_is_only_ever_one_that_shared_nothing_with_anyone_in_its_last_n_comparisons(history, after):
    agree = agreement(after=after)
    for answers in history:
        agree.compare(NAME, answers, [REF])
    for resolver in (A, B, C):
        lie = agree.disagreement(resolver)
        if lie is None:
            continue
        assert lie.checks >= after and resolver != REF
        own = {answer_network(a) for a in lie.answers} - {None}
        assert own and not own & {answer_network(a) for a in lie.agreed}


@given(st.lists(st.lists(addresses, min_size=1, max_size=3), min_size=1, max_size=12))
def test_resolvers_that_always_share_an_address_are_never_accused(rounds):
    agree = agreement(after=1)
    for extra in rounds:
        agree.compare(NAME, {A: ["23.45.67.10", *extra], B: ["23.45.67.10"], C: [*extra, "23.45.67.10"]}, [])
    assert all(agree.disagreement(r) is None for r in (A, B, C))


def comparison(answers: dict, references=()) -> Sample:
    return Sample("connectivity.dns_comparison", NAME, {"answers": answers, "failed": {},
                                                        "references": list(references)}, 1.0, 1.0)


def dns(resolver: str, mono: float) -> Sample:
    return Sample("connectivity.dns", resolver, {"ok": True, "latency_ms": 3.0, "rcode": "NOERROR",
                                                 "answers": ["10.0.0.5"], "name": "probe.test"}, mono, mono)


def test_the_rules_call_the_disagreeing_resolver_a_liar_with_both_answers_as_evidence():
    rules = ConnectivityRules(ConnectivityThresholds(dns_disagree_checks=2))
    rules.evaluate(comparison({A: TRUE, B: TRUE}))
    for _ in range(2):
        rules.evaluate(comparison({A: TRUE, B: LIE}))
    lies = [f for f in rules.evaluate(dns(B, 5.0)) if f.type == "dns_resolver_lies"]
    assert lies and lies[0].present
    evidence = lies[0].evidence
    assert (evidence["name"], evidence["answers"], evidence["agreed_answers"]) == (NAME, LIE[0], TRUE[0])
    assert "23.45.67.10" in lies[0].summary and "45.33.10.10" in guidance_for(lies[0].type, B, evidence)
    honest = [f for f in rules.evaluate(dns(A, 5.0)) if f.type == "dns_resolver_lies"]
    assert honest and not honest[0].present


def test_a_hostile_comparison_sample_is_ignored_not_a_crash():
    rules = ConnectivityRules(ConnectivityThresholds(dns_disagree_checks=1))
    for metrics in ({"answers": "x"}, {"answers": {A: "23.45.67.10"}}, {"answers": {A: [1, None]}},
                    {"answers": {A: TRUE, B: LIE}, "references": "zz"}, {}):
        assert rules.evaluate(Sample("connectivity.dns_comparison", NAME, metrics, 1.0, 1.0)) == []


def test_the_comparison_is_judged_with_the_same_rounds_resolver_sample_not_a_round_later():
    rules = ConnectivityRules(ConnectivityThresholds(dns_disagree_checks=1))
    rules.evaluate(comparison({A: TRUE, B: TRUE}))
    rules.evaluate(comparison({A: TRUE, B: LIE}))
    [lie] = [f for f in rules.evaluate(dns(B, 2.0)) if f.type == "dns_resolver_lies"]
    assert lie.present and ipaddress.ip_address(lie.evidence["answers"]) == ipaddress.ip_address(LIE[0])


def certified(address: str, result: str, control: str = TRUE[0], control_result: str = "valid",
              detail: str = "") -> dict:
    return {"address": address, "control": control, "control_result": control_result, "result": result,
            "detail": detail}


def test_a_resolver_whose_first_answer_holds_no_certificate_for_the_name_is_a_liar_without_history():
    # The same two resolvers that accuse neither on the answers alone: the certificate tells which one is right.
    agree = agreement(after=3)
    proof = {B: certified(LIE[0], "rejected", detail="Hostname mismatch, certificate is not valid for 'x'")}
    for _ in range(2):
        agree.compare(NAME, {A: TRUE, B: LIE}, (), proof)
    assert agree.disagreement(B) is None  # the streak still counts comparisons
    agree.compare(NAME, {A: TRUE, B: LIE}, (), proof)
    lie = agree.disagreement(B)
    assert lie is not None and lie.checks == 3 and lie.agreed == tuple(TRUE) and "Hostname mismatch" in lie.certificate
    assert agree.disagreement(A) is None
    # the answer moves to an address holding the certificate (a repair): no lie any more
    agree.compare(NAME, {A: TRUE, B: ["23.45.99.1"]}, (), {B: certified("23.45.99.1", "valid")})
    assert agree.disagreement(B) is None


def test_an_answer_far_from_the_others_that_holds_the_certificate_is_no_lie_even_after_agreeing_before():
    agree = agreement(after=1)
    compare(agree, 2, {A: TRUE, B: TRUE})
    for _ in range(5):  # B moves to another provider's network, as a CDN's traffic steering may
        agree.compare(NAME, {A: TRUE, B: LIE}, (), {B: certified(LIE[0], "valid")})
    assert agree.disagreement(B) is None


def test_a_certificate_check_that_proves_nothing_leaves_the_answers_to_decide():
    for check in (certified(LIE[0], "refused"),  # an edge may be down
                  certified(LIE[0], "no_answer"),
                  certified(LIE[0], "rejected", control_result="rejected"),  # the path intercepts TLS: both fail
                  certified(LIE[0], "rejected", control_result="no_answer"),  # a name without HTTPS
                  certified("45.33.99.99", "rejected"),  # not the address answered now
                  {"address": LIE[0], "result": "rejected"},  # no control at all
                  {"address": [LIE[0]], "control": 5, "control_result": "valid", "result": "rejected"}):
        agree = agreement(after=1)
        for _ in range(5):
            agree.compare(NAME, {A: TRUE, B: LIE}, (), {B: check})
        assert agree.disagreement(B) is None, check


def test_a_certified_lie_reads_as_such_and_hostile_certificate_metrics_are_ignored():
    rules = ConnectivityRules(ConnectivityThresholds(dns_disagree_checks=2))
    proof = {B: certified(LIE[0], "no_tls", detail="wrong version number")}
    for i in range(2):
        rules.evaluate(Sample("connectivity.dns_comparison", NAME,
                              {"answers": {A: TRUE, B: LIE}, "references": [A], "certificates": proof},
                              float(i), float(i)))
    [finding] = [f for f in rules.evaluate(Sample("connectivity.dns", B, {"ok": True, "latency_ms": 3.0,
                                                                         "rcode": "NOERROR", "answers": LIE,
                                                                         "name": NAME}, 3.0, 3.0))
                 if f.type == "dns_resolver_lies"]
    assert finding.present and "no valid certificate" in finding.summary and "wrong version number" in finding.summary
    for hostile in ("x", 5, [proof], {B: "valid"}, {B: {"address": None}}, {B: {**proof[B], "detail": ["x"]}}):
        rules.evaluate(Sample("connectivity.dns_comparison", NAME,
                              {"answers": {A: TRUE, B: LIE}, "references": [A], "certificates": hostile}, 9.0, 9.0))
