"""The DNS probe against a local UDP resolver stand-in: answers, a lost query sent again, and silence."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from edge_agent.probes.dns import dns_probe

from .dns_stand_in import Resolver


@pytest.fixture
def resolver(request):
    server = Resolver(**getattr(request, "param", {}))
    yield server
    server.close()


def test_an_answered_query_is_ok_with_its_latency(resolver):
    result = dns_probe("127.0.0.1", "probe.test", timeout_s=1.0, port=resolver.port)
    assert (result.ok, result.rcode) == (True, "NOERROR") and result.latency_ms < 500
    assert result.answers == ("192.0.2.1",) and result.name == "probe.test"
    assert resolver.by_type == {"A": 1, "AAAA": 1}  # one query per address family


@pytest.mark.parametrize("resolver", [{"drop": 1}], indirect=True)
def test_one_lost_query_is_sent_again_and_the_answer_counts_from_the_resend(resolver):
    result = dns_probe("127.0.0.1", "probe.test", timeout_s=0.4, port=resolver.port)
    assert (result.ok, result.rcode) == (True, "NOERROR")
    assert resolver.by_type["A"] == 2  # the lost A query, then its resend
    assert result.latency_ms < 200  # not the 200 ms spent waiting for the lost one


@pytest.mark.parametrize("resolver", [{"answer": False}], indirect=True)
def test_a_silent_resolver_times_out_after_two_tries(resolver):
    result = dns_probe("127.0.0.1", "probe.test", timeout_s=0.2, port=resolver.port)
    assert (result.ok, result.rcode, result.latency_ms) == (False, "timeout", None)
    assert resolver.by_type == {"A": 2, "AAAA": 2}


def test_nobody_listening_is_unreachable():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert dns_probe("127.0.0.1", "probe.test", timeout_s=0.5, port=port).rcode == "unreachable"



def test_the_probe_loads_no_packet_library(resolver):
    # scapy's import took ~0.2 s out of the first probe's timeout and ~22 MiB for good; the probe needs neither.
    code = ("import sys; from edge_agent.probes.dns import dns_probe; "
            f"r = dns_probe('127.0.0.1', 'probe.test', 2.0, port={resolver.port}); "
            "print(r.ok, any(m.startswith('scapy') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.split() == ["True", "False"], result.stderr


@pytest.mark.parametrize("resolver", [{"records": {"A": ["0.0.0.0"], "AAAA": ["::"]}}], indirect=True)
def test_a_sinkhole_answer_is_an_answer_and_its_addresses_are_reported_for_the_detector(resolver):
    result = dns_probe("127.0.0.1", "probe.test", timeout_s=0.5, port=resolver.port)
    assert (result.ok, result.rcode, result.answers) == (True, "NOERROR", ("0.0.0.0", "::"))


@pytest.mark.parametrize("resolver", [{"records": {"AAAA": ["2001:db8::7"]}}], indirect=True)
def test_a_name_with_only_an_ipv6_address_is_answered(resolver):
    result = dns_probe("127.0.0.1", "probe.test", timeout_s=0.5, port=resolver.port)
    assert (result.ok, result.answers) == (True, ("2001:db8::7",))


@pytest.mark.parametrize("resolver", [{"records": {}}], indirect=True)
def test_no_address_in_either_family_is_nodata(resolver):
    assert dns_probe("127.0.0.1", "probe.test", timeout_s=0.5, port=resolver.port).rcode == "NODATA"


@pytest.mark.parametrize("resolver", [{"lose": ("A",), "rcodes": {"AAAA": 3}}, {"lose": ("A",), "rcodes": {"AAAA": 2}},
                                      {"lose": ("A",)}], indirect=True)
def test_an_a_query_lost_twice_beside_an_aaaa_answer_without_address_is_a_timeout_not_that_answers_rcode(resolver):
    # On a lossy line both A queries may be lost while the AAAA one gets through; a resolver that says NXDOMAIN
    # (or SERVFAIL, or nothing) to the family a name lacks must not make that a missing name: in the namespace
    # bed's bursty loss it opened a critical dns_name_missing for a name that resolves.
    result = dns_probe("127.0.0.1", "probe.test", timeout_s=0.5, port=resolver.port)
    assert (result.ok, result.rcode, result.answers, result.latency_ms) == (False, "timeout", (), None)
    assert resolver.by_type == {"A": 2, "AAAA": 1}


@pytest.mark.parametrize(("resolver", "rcode"), [({"rcode": 2}, "SERVFAIL"), ({"rcode": 3}, "NXDOMAIN"),
                                                ({"rcode": 5}, "REFUSED")], indirect=["resolver"])
def test_an_error_answer_keeps_its_rcode(resolver, rcode):
    result = dns_probe("127.0.0.1", "probe.test", timeout_s=0.5, port=resolver.port)
    assert (result.ok, result.rcode, result.answers) == (False, rcode, ())
    assert result.latency_ms is not None  # it answered: not a timeout


@pytest.mark.parametrize("resolver", [{"garbage_first": True}], indirect=True)
def test_a_garbled_datagram_is_skipped_and_the_real_answer_counts(resolver):
    assert dns_probe("127.0.0.1", "probe.test", timeout_s=0.5, port=resolver.port).ok
