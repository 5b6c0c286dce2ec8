"""What a DNS answer says about the resolver: down, upstream failing, name missing, or lying."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.detectors.dns_verdict import DOWN, LIES, MISSING, UPSTREAM, is_public_name, judge, parse_expected


@pytest.mark.parametrize(("rcode", "expected"), [("timeout", DOWN), ("unreachable", DOWN), ("REFUSED", DOWN),
                                                 ("error: Network is unreachable", DOWN), ("SERVFAIL", UPSTREAM),
                                                 ("NXDOMAIN", MISSING), ("NODATA", MISSING)])
def test_each_failure_has_its_own_type(rcode, expected):
    assert judge(rcode, [], "example.com").issue_type == expected


@pytest.mark.parametrize("answer", ["0.0.0.0", "0.1.2.3", "127.0.0.1", "127.53.0.9", "::", "::1", "::ffff:0.0.0.0",
                                    "::ffff:127.0.0.1"])
@pytest.mark.parametrize("name", ["example.com", "probe.test", "cloud.vendor.io", "router.lan"])
def test_a_sinkhole_answer_is_a_lie_whatever_the_name(answer, name):
    verdict = judge("NOERROR", ["198.51.100.7", answer], name)
    assert verdict.issue_type == LIES and "sinkhole" in verdict.reason


@pytest.mark.parametrize("answer", ["10.1.2.3", "192.168.0.10", "172.16.5.5", "100.64.0.1", "169.254.1.1",
                                    "fd00::1", "fe80::1", "::ffff:192.168.1.1"])
def test_a_private_answer_for_a_public_name_is_a_lie(answer):
    assert judge("NOERROR", [answer], "updates.vendor.example.net").issue_type == LIES


@pytest.mark.parametrize("name", ["probe.test", "nas.lan", "printer.local", "router.home.arpa", "gateway"])
def test_a_private_answer_for_a_private_name_is_normal(name):
    assert judge("NOERROR", ["10.1.2.3"], name).issue_type is None


def test_a_split_horizon_resolver_may_answer_public_names_privately():
    assert judge("NOERROR", ["10.1.2.3"], "example.com", private_answers_ok=True).issue_type is None


def test_public_answers_for_a_public_name_are_healthy():
    assert judge("NOERROR", ["93.184.215.14", "2606:2800:21f:cb07::1"], "example.com").issue_type is None


def test_an_answer_outside_the_expected_networks_is_a_lie_even_if_it_looks_normal():
    expected = parse_expected(["10.9.0.0/16", "2001:db8::/32"])
    assert judge("NOERROR", ["10.9.1.1", "2001:db8::5"], "probe.test", expected).issue_type is None
    verdict = judge("NOERROR", ["10.9.1.1", "10.10.0.1"], "probe.test", expected)
    assert verdict.issue_type == LIES and "10.10.0.1" in verdict.reason


def test_an_answer_that_is_not_an_address_is_a_lie():
    assert judge("NOERROR", ["not-an-address"], "example.com").issue_type == LIES


def test_an_answer_without_addresses_to_judge_is_healthy():
    assert judge("NOERROR", [], "example.com").issue_type is None


@pytest.mark.parametrize(("name", "public"), [("example.com", True), ("a.b.c.io", True), ("probe.test", False),
                                              ("host", False), ("x.home.arpa", False), ("EXAMPLE.COM.", True),
                                              ("test.example.org", True)])
def test_public_names(name, public):
    assert is_public_name(name) is public


@given(st.integers(0x7F000000, 0x7FFFFFFF), st.sampled_from(["example.com", "probe.test", "other.name.org"]))
def test_every_loopback_answer_is_a_lie(value, name):
    assert judge("NOERROR", [str(ipaddress.IPv4Address(value))], name).issue_type == LIES


def test_a_private_name_answered_differently_after_a_stable_spell_is_a_lie_until_the_new_answer_is_adopted():
    from edge_agent.detectors.dns_verdict import AnswerMemory

    memory = AnswerMemory(learn_rounds=5, adopt_after=4)
    assert all(memory.judge("probe.test", ["10.1.1.1"]).issue_type is None for _ in range(5))
    verdicts = [memory.judge("probe.test", ["10.66.6.6"]).issue_type for _ in range(4)]
    assert verdicts == [LIES, LIES, LIES, None]  # the host really moved: accepted
    assert memory.judge("probe.test", ["10.66.6.6"]).issue_type is None


def test_a_lie_on_fast_probes_is_not_adopted_before_its_time_has_passed_too():
    from edge_agent.detectors.dns_verdict import AnswerMemory

    memory = AnswerMemory(learn_rounds=5, adopt_after=4, adopt_after_s=900.0)
    for second in range(5):
        memory.judge("probe.test", ["10.1.1.1"], float(second))
    # a round a second: four rounds are long past at 60 s, fifteen minutes are not
    verdicts = {second: memory.judge("probe.test", ["10.66.6.6"], float(second)).issue_type
                for second in range(5, 905)}
    assert set(verdicts.values()) == {LIES}
    assert memory.judge("probe.test", ["10.66.6.6"], 905.0).issue_type is None  # held 900 s: a host that moved


def test_answers_are_not_judged_by_history_for_public_names_or_before_they_are_learned():
    from edge_agent.detectors.dns_verdict import AnswerMemory

    public = AnswerMemory(learn_rounds=2, adopt_after=10)
    for address in ["93.184.215.14", "93.184.215.14", "93.184.215.14", "23.215.0.136"]:
        assert public.judge("example.com", [address]).issue_type is None  # a CDN rotates
    young = AnswerMemory(learn_rounds=5, adopt_after=10)
    young.judge("nas.lan", ["10.0.0.5"])
    assert young.judge("nas.lan", ["10.0.0.6"]).issue_type is None


def test_an_answer_that_overlaps_the_known_one_is_not_a_lie():
    from edge_agent.detectors.dns_verdict import AnswerMemory

    memory = AnswerMemory(learn_rounds=1, adopt_after=10)
    memory.judge("svc.lan", ["10.0.0.5", "10.0.0.6"])
    memory.judge("svc.lan", ["10.0.0.5", "10.0.0.6"])
    assert memory.judge("svc.lan", ["10.0.0.6", "10.0.0.7"]).issue_type is None
