"""The connectivity rules on DNS integrity, DHCP checks, path MTU, and the consequences of an address conflict."""

from __future__ import annotations

from edge_agent.config import ConnectivityThresholds
from edge_agent.detectors.connectivity import ConnectivityRules, GatewayMacWatch
from edge_agent.model import Sample

ROUTER, SPOOFER = "aa:aa:aa:aa:aa:01", "cc:cc:cc:cc:cc:66"


def dns(mono: float, rcode: str, answers: list[str] | None = None, name: str = "example.com") -> Sample:
    ok = rcode == "NOERROR"
    metrics = {"ok": ok, "latency_ms": 3.0 if rcode != "timeout" else None, "rcode": rcode, "name": name}
    if answers:
        metrics["answers"] = answers
    return Sample("connectivity.dns", "10.0.0.1", metrics, mono, mono)


def present(findings) -> set[str]:
    return {f.type for f in findings if f.present}


def test_a_sinkhole_answer_is_a_lying_resolver_not_a_healthy_one():
    findings = ConnectivityRules(ConnectivityThresholds()).evaluate(dns(1, "NOERROR", ["0.0.0.0"]))
    assert present(findings) == {"dns_resolver_lies"}
    [lie] = [f for f in findings if f.present]
    assert lie.severity.value == "critical" and "0.0.0.0" in lie.summary and lie.evidence["answers"] == "0.0.0.0"


def test_servfail_and_nxdomain_are_their_own_issue_types():
    assert present(ConnectivityRules(ConnectivityThresholds()).evaluate(dns(1, "SERVFAIL"))) == {"dns_upstream_failing"}
    assert present(ConnectivityRules(ConnectivityThresholds()).evaluate(dns(1, "NXDOMAIN"))) == {"dns_name_missing"}


def test_a_resolver_flipping_between_servfail_and_timeouts_stays_one_issue_type():
    rules = ConnectivityRules(ConnectivityThresholds(symptom_quiet_rounds=5))
    kinds = [present(rules.evaluate(dns(i, rcode))) for i, rcode in enumerate(["SERVFAIL", "timeout"] * 4)]
    assert all(kind == {"dns_upstream_failing"} for kind in kinds)


def test_a_different_fault_that_persists_becomes_its_own_issue():
    rules = ConnectivityRules(ConnectivityThresholds(symptom_quiet_rounds=3))
    rules.evaluate(dns(0, "SERVFAIL"))
    kinds = [present(rules.evaluate(dns(i, "NOERROR", ["0.0.0.0"]))) for i in range(1, 5)]
    assert kinds == [{"dns_upstream_failing"}, {"dns_resolver_lies"}, {"dns_resolver_lies"}, {"dns_resolver_lies"}]


def test_expected_answers_from_the_config_catch_a_plausible_wrong_answer():
    rules = ConnectivityRules(ConnectivityThresholds(dns_expected_answers=["10.9.0.0/16"]))
    assert present(rules.evaluate(dns(1, "NOERROR", ["10.9.0.1"], name="probe.test"))) == set()
    assert present(rules.evaluate(dns(2, "NOERROR", ["10.77.0.1"], name="probe.test"))) == {"dns_resolver_lies"}


def gateway(mono: float, macs: list[str], neighbours: list[str] | None = None) -> Sample:
    metrics = {"sent": 5, "received": 5, "loss_pct": 0.0, "rtt_ms": 1.0, "jitter_ms": 0.1, "mac": ROUTER}
    if len(macs) > 1:
        metrics["macs"] = macs
    if neighbours is not None:
        metrics["neighbour_macs"] = neighbours
    return Sample("connectivity.gateway", "10.0.0.1", metrics, mono, mono)


def uplink(mono: float, ok: bool) -> Sample:
    return Sample("connectivity.uplink", "10.0.0.1:1883", {"ok": ok, "connect_ms": 1.0 if ok else None,
                                                           "error": None if ok else "Connection refused"}, mono, mono)


def run(detector, samples):
    return [f for s in samples for f in detector.evaluate(s)]


def test_dns_and_uplink_failures_while_the_host_sends_to_the_spoofer_belong_to_the_ip_conflict():
    rules, watch = ConnectivityRules(ConnectivityThresholds()), GatewayMacWatch(ConnectivityThresholds())
    round1 = [gateway(1, [ROUTER, SPOOFER], [SPOOFER]), dns(1, "unreachable"), uplink(1, False)]
    round2 = [gateway(2, [ROUTER, SPOOFER], [SPOOFER]), dns(2, "unreachable"), uplink(2, False)]
    assert not {"dns_failure", "uplink_down"} & present(run(rules, round1 + round2))
    findings = run(watch, round1 + round2)
    [conflict] = [f for f in findings if f.type == "ip_conflict" and f.present and f.evidence.get("consequences")]
    assert conflict.evidence["consequences"] == {"DNS 10.0.0.1": "unreachable", "uplink 10.0.0.1:1883":
                                                 "Connection refused"}


def test_after_the_spoofer_leaves_failures_stay_explained_while_the_host_still_sends_to_it():
    rules = ConnectivityRules(ConnectivityThresholds())
    run(rules, [gateway(1, [ROUTER, SPOOFER], [SPOOFER])])
    assert not present(run(rules, [gateway(5, [ROUTER], [SPOOFER]), dns(5, "timeout")]))


def test_a_dns_fault_of_its_own_during_a_conflict_counts_once_the_host_sends_to_the_real_gateway():
    rules = ConnectivityRules(ConnectivityThresholds())
    run(rules, [gateway(1, [ROUTER, SPOOFER], [SPOOFER])])
    round2 = [gateway(2, [ROUTER, SPOOFER], [ROUTER]), dns(2, "SERVFAIL")]
    assert present(run(rules, round2)) == {"dns_upstream_failing"}


def test_without_a_neighbour_table_a_conflict_excuses_failures_only_briefly():
    rules = ConnectivityRules(ConnectivityThresholds())
    run(rules, [gateway(1, [ROUTER, SPOOFER])])
    assert not present(run(rules, [gateway(10, [ROUTER]), dns(10, "timeout")]))
    assert present(run(rules, [gateway(40, [ROUTER]), dns(40, "timeout")])) == {"dns_failure"}


def test_no_conflict_no_excuse():
    rules = ConnectivityRules(ConnectivityThresholds())
    assert present(run(rules, [gateway(1, [ROUTER], [ROUTER]), dns(1, "timeout")])) == {"dns_failure"}


def dhcp(metrics: dict, ts: float = 1000.0) -> Sample:
    return Sample("connectivity.dhcp", "eth0", metrics, ts, ts)


def test_no_offer_counts_only_where_a_dhcp_server_is_expected():
    rules = ConnectivityRules(ConnectivityThresholds())
    missed = dhcp({"ok": False, "error": "no offer", "server_expected": True})
    assert present(rules.evaluate(missed)) == {"dhcp_failure"}
    [finding] = rules.evaluate(dhcp({"ok": False, "error": "no offer", "server_expected": False}))
    assert not finding.present  # static addresses: no server to miss


def test_a_lease_past_its_rebind_time_is_a_dhcp_failure_even_while_discover_is_answered():
    rules = ConnectivityRules(ConnectivityThresholds())
    lease = {"address": "10.0.0.2", "renew_ts": 900.0, "rebind_ts": 990.0, "expire_ts": 1020.0}
    [finding] = rules.evaluate(dhcp({"ok": True, "server_expected": True, "lease": lease}))
    assert finding.present and "rebind" in finding.summary and finding.evidence["lease_expires_in_s"] == 20


def test_an_expired_lease_says_so_and_a_fresh_one_is_fine():
    rules = ConnectivityRules(ConnectivityThresholds())
    [expired] = rules.evaluate(dhcp({"lease": {"address": "10.0.0.2", "expire_ts": 900.0}}))
    assert expired.present and "expired 100 s ago" in expired.summary
    [fresh] = rules.evaluate(dhcp({"lease": {"address": "10.0.0.2", "rebind_ts": 1500.0, "expire_ts": 2000.0}}))
    assert not fresh.present


def test_a_dhcp_sample_with_neither_probe_nor_lease_says_nothing():
    assert ConnectivityRules(ConnectivityThresholds()).evaluate(dhcp({})) == []


def pmtu(verdict: str, mono: float = 1, reference_rtt_ms: float = 2.0) -> Sample:
    return Sample("connectivity.pmtu", "203.0.113.9", {"verdict": verdict, "largest_ok": 1280, "local_mtu": 1500,
                                                        "sizes": {"96": "ok", "1280": "ok", "1500": "lost"},
                                                        "reference_rtt_ms": reference_rtt_ms}, mono, mono)


def test_a_path_mtu_black_hole_is_reported_with_the_size_that_passes():
    rules = ConnectivityRules(ConnectivityThresholds())
    rules.evaluate(pmtu("ok", mono=0))  # the path seen once before, unloaded
    [finding] = rules.evaluate(pmtu("blackhole", mono=30, reference_rtt_ms=2.4))
    assert (finding.type, finding.present, finding.evidence["largest_ok"]) == ("pmtu_blackhole", True, 1280)
    assert finding.evidence["reference_rtt_ms"] == 2.4


def test_big_echoes_lost_on_a_loaded_path_are_no_black_hole_and_a_slow_first_check_waits_for_a_second():
    rules = ConnectivityRules(ConnectivityThresholds())
    # nothing to compare a slow reference echo with yet: a far path, or a queued one
    assert rules.evaluate(pmtu("blackhole", mono=0, reference_rtt_ms=40.0)) == []
    rules.evaluate(pmtu("ok", mono=1, reference_rtt_ms=2.0))
    # A full queue delays the small reference echo too (and drops full-size packets far more often)
    assert rules.evaluate(pmtu("blackhole", mono=5, reference_rtt_ms=85.0)) == []
    [ok] = rules.evaluate(pmtu("ok", mono=10, reference_rtt_ms=90.0))  # a good check still resolves
    assert not ok.present
    [hole] = rules.evaluate(pmtu("blackhole", mono=15, reference_rtt_ms=12.0))  # within 3 x 2 ms + 20 ms
    assert hole.present


def test_a_target_that_answers_no_echo_gives_no_pmtu_verdict():
    assert ConnectivityRules(ConnectivityThresholds()).evaluate(pmtu("unknown")) == []
    [ok] = ConnectivityRules(ConnectivityThresholds()).evaluate(pmtu("ok"))
    assert not ok.present


def test_after_a_healthy_spell_the_next_fault_is_named_afresh():
    rules = ConnectivityRules(ConnectivityThresholds())
    rules.evaluate(dns(0, "SERVFAIL"))
    for i in range(1, 4):
        rules.evaluate(dns(i, "NOERROR", ["93.184.215.14"]))
    assert present(rules.evaluate(dns(4, "NXDOMAIN"))) == {"dns_name_missing"}


def test_no_offer_in_a_round_whose_gateway_is_unreachable_says_nothing_about_dhcp():
    rules = ConnectivityRules(ConnectivityThresholds())
    down = Sample("connectivity.gateway", "10.0.0.1", {"sent": 10, "received": 0, "loss_pct": 100.0}, 5, 5)
    assert present(rules.evaluate(down)) == {"gateway_unreachable"}
    assert rules.evaluate(dhcp({"ok": False, "error": "no offer", "server_expected": True}, ts=5)) == []


def test_one_refused_query_before_a_lie_does_not_name_the_episode():
    # dnsmasq restarting with a lie: one round nobody listens, then the lie.
    rules = ConnectivityRules(ConnectivityThresholds())
    kinds = [present(rules.evaluate(dns(i, rcode, answers)))
             for i, (rcode, answers) in enumerate([("unreachable", None)] + [("NOERROR", ["0.0.0.0"])] * 5)]
    assert kinds[0] == kinds[1] == {"dns_failure"}  # not enough rounds for dns_failure to open (shipped: 3)
    assert kinds[2:] == [{"dns_resolver_lies"}] * 4


def test_once_an_episode_is_named_a_different_verdict_must_persist_to_rename_it():
    rules = ConnectivityRules(ConnectivityThresholds(symptom_quiet_rounds=4))
    for i in range(3):
        rules.evaluate(dns(i, "SERVFAIL"))
    kinds = [present(rules.evaluate(dns(i, "timeout"))) for i in range(3, 8)]
    assert kinds == [{"dns_upstream_failing"}] * 3 + [{"dns_failure"}] * 2


def test_a_resolver_that_was_down_for_a_while_and_comes_back_lying_is_renamed_within_five_rounds():
    rules = ConnectivityRules(ConnectivityThresholds())  # shipped: symptom_quiet_rounds 10
    for i in range(4):
        rules.evaluate(dns(i, "unreachable"))
    kinds = [present(rules.evaluate(dns(i, "NOERROR", ["0.0.0.0"]))) for i in range(4, 10)]
    assert kinds == [{"dns_failure"}] * 4 + [{"dns_resolver_lies"}] * 2
