"""DNS that lies or fails upstream, a DHCP server that stops, a path MTU black hole, and a spoofer's side effects,
against a real network: each fault is one issue of its own type, found within a few probe rounds, and resolved
after the repair; a healthy stretch gives none.

One bed (cpe, isp with dnsmasq, and a far "wan" host two hops away) and one agent for the whole file; the agent
probes every second with the shipped hysteresis. The DHCP and path-MTU checks, 30 s apart when shipped, run
every 2 s here (and DHCP waits 1 s for an OFFER, not 4) so that their faults fit in a short test.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from agent_process import Daemon, wait_for
from detection import Detection, applied, detection, resolution_s
from netns import PremisesNetwork, built, can_build_test_bed, running_agent

pytestmark = pytest.mark.skipif(can_build_test_bed() is not None, reason=str(can_build_test_bed()))

CHECK_INTERVAL_S = 2
PROBE_INTERVAL_S = 1  # PremisesNetwork.probing_config
# Flap damping off: these faults are sustained, and each episode below is a fault of its own however soon it
# follows the last (test_intermittent_netns.py covers damping).
HOLD_DOWN_S = 0


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    with built(PremisesNetwork(tmp_path_factory.mktemp("netns"), far_end=True, lease_time="2m")) as test_bed:
        yield test_bed


@pytest.fixture(scope="module")
def agent(bed):
    checks = (f"dhcp_check_interval_s = {CHECK_INTERVAL_S}\ndhcp_retry_s = {CHECK_INTERVAL_S}\n"
              f"pmtu_check_interval_s = {CHECK_INTERVAL_S}\ndhcp_timeout_s = 1\n"
              f"dhcp_lease_files = [\"{lease_file(bed)}\"]")
    config = bed.probing_config("netns-integrity", issues=f"hold_down_s = {HOLD_DOWN_S}", connectivity=checks,
                                uplinks=(bed.uplink, bed.far_uplink))
    with running_agent(bed, config, "ea-dns-") as daemon:
        yield daemon


def lease_file(bed: PremisesNetwork) -> Path:
    return bed.workdir / "dhclient.leases"


def write_lease(bed: PremisesNetwork, rebind_in_s: float, expire_in_s: float) -> None:
    """What dhclient writes for the cpe's address (times in UTC), appended as it does at every renewal."""
    def when(delta: float) -> str:
        return time.strftime("%w %Y/%m/%d %H:%M:%S", time.gmtime(time.time() + delta))

    with lease_file(bed).open("a") as leases:
        leases.write(f'lease {{\n  interface "{bed.cpe_if}";\n  fixed-address {bed.cpe_ip};\n'
                     f"  option dhcp-lease-time 120;\n  renew {when(rebind_in_s - 45)};\n"
                     f"  rebind {when(rebind_in_s)};\n  expire {when(expire_in_s)};\n}}\n")


def rounds(daemon: Daemon) -> int:
    status = daemon.ask_json("status")
    return next(c["runs"] for c in status["collectors"] if c["name"] == "connectivity")


def issues(daemon: Daemon, *types: str) -> list[dict]:
    return [i for i in daemon.ask_json("issues") if not types or i["type"] in types]


def open_issues(daemon: Daemon) -> list[dict]:
    return [i for i in issues(daemon) if i["state"] != "resolved"]


def journal_size(daemon: Daemon) -> int:
    path = daemon.root / "state" / "events.jsonl"
    return path.stat().st_size if path.exists() else 0


def openings_since(daemon: Daemon, offset: int) -> list[str]:
    """The type of every issue opened (or reopened as intermittent) since `offset` bytes of the agent's journal."""
    with (daemon.root / "state" / "events.jsonl").open("rb") as journal:
        journal.seek(offset)
        events = [json.loads(line) for line in journal.read().splitlines() if line.strip()]
    return [e["type"] for e in events if e["topic"] == "event/issue" and (
        e["change"] == "opened" or (e["change"] == "updated" and e["state"] == "open"
                                    and e["transitions"][-1]["reason"].startswith("back")))]


def episode(daemon: Daemon, inject, repair, issue_type: str, open_within_s: float) -> tuple[dict, Detection, int]:
    """Inject, wait for `issue_type` to open, repair, wait for it to resolve. Returns the issue as it was
    open, how soon it opened and in how many whole seconds it resolved, from the agent's own record of the
    issue against the times the fault and the repair were in place (same host clock; detection.py). DNS is
    judged every probe round (1 s), so its tests count rounds; the DHCP and path-MTU checks are paced
    (CHECK_INTERVAL_S), so theirs count seconds."""
    wait_for(lambda: not open_issues(daemon), timeout_s=30, what="a healthy premises")
    offset = journal_size(daemon)
    injected = applied(inject)
    try:
        [issue] = wait_for(lambda: [i for i in open_issues(daemon) if i["type"] == issue_type],
                           timeout_s=open_within_s, what=f"{issue_type} to open")
        time.sleep(1)  # the fault goes on: still one issue
    finally:
        repaired = applied(repair)
    [resolved] = wait_for(lambda: [i for i in issues(daemon) if i["issue_id"] == issue["issue_id"]
                                   and i["state"] == "resolved"], timeout_s=30,
                          what=f"{issue_type} to resolve after the repair")
    wait_for(lambda: not open_issues(daemon), timeout_s=10, what="nothing else open")
    assert openings_since(daemon, offset) == [issue_type], "one fault, one issue"
    return issue, detection(issue, injected, PROBE_INTERVAL_S), math.ceil(resolution_s(resolved, repaired))


def test_a_healthy_stretch_opens_no_issue_while_every_check_runs(agent):
    start = rounds(agent)
    wait_for(lambda: rounds(agent) >= start + 8, timeout_s=30, what="8 probe rounds")
    assert issues(agent) == []
    latest = {(s["stream"], s["subject"]): s["metrics"] for s in agent.ask_json("status")["latest"]}
    assert latest[("connectivity.dhcp", bed_interface(latest))]["ok"] is True
    assert {m["verdict"] for (stream, _), m in latest.items() if stream == "connectivity.pmtu"} == {"ok"}


def bed_interface(latest: dict) -> str:
    return next(subject for stream, subject in latest if stream == "connectivity.dhcp")


@pytest.mark.parametrize("sinkhole", ["0.0.0.0", "::"])
def test_a_resolver_answering_a_sinkhole_is_a_lying_resolver(bed, agent, sinkhole):
    issue, found, resolved_in = episode(agent, lambda: bed.dns_lies(sinkhole), bed.dns_truthful,
                                              "dns_resolver_lies", open_within_s=15)
    assert found.rounds <= 6, f"took {found}"
    assert sinkhole in issue["evidence"]["answers"] and "sinkhole" in issue["summary"]
    assert "wrong" in issue["guidance"] and resolved_in <= 8


def test_servfail_is_an_upstream_failure_not_a_resolver_that_does_not_answer(bed, agent):
    issue, found, resolved_in = episode(agent, bed.dns_servfail, bed.dns_truthful, "dns_upstream_failing",
                                              open_within_s=15)
    assert found.rounds <= 6 and resolved_in <= 8, f"took {found}"
    assert issue["evidence"]["rcode"] == "SERVFAIL" and "does not fix" in issue["guidance"]


def test_nxdomain_for_the_probe_name_is_a_missing_name(bed, agent):
    issue, found, resolved_in = episode(agent, bed.dns_nxdomain, bed.dns_truthful, "dns_name_missing",
                                              open_within_s=15)
    assert found.rounds <= 6 and resolved_in <= 8, f"took {found}"
    assert issue["evidence"]["rcode"] == "NXDOMAIN"


def test_a_stopped_dhcp_server_opens_dhcp_failure_and_its_return_resolves_it(bed, agent):
    issue, found, resolved_in = episode(agent, bed.dhcp_stop, bed.dhcp_start, "dhcp_failure",
                                              open_within_s=30)
    # two failed checks, CHECK_INTERVAL_S apart, each waiting 1 s for an OFFER; one good one resolves it
    assert math.ceil(found.seconds) <= 3 * CHECK_INTERVAL_S + 4, f"took {found}"
    assert resolved_in <= 2 * CHECK_INTERVAL_S + 3
    assert issue["evidence"]["server_expected"] is True and "no DHCP server" in issue["summary"]


def test_a_path_mtu_black_hole_beyond_the_gateway_is_found_and_clears(bed, agent):
    issue, found, resolved_in = episode(agent, bed.pmtu_blackhole, bed.pmtu_repaired, "pmtu_blackhole",
                                              open_within_s=30)
    assert issue["subject"] == bed.far_ip, "the gateway itself passes full-size packets"
    assert issue["evidence"]["largest_ok"] == 1280 and issue["evidence"]["local_mtu"] == 1500
    assert "MSS" in issue["guidance"]
    assert math.ceil(found.seconds) <= 3 * CHECK_INTERVAL_S + 6, f"took {found}"
    assert resolved_in <= 2 * CHECK_INTERVAL_S + 6


def test_a_spoofer_for_the_gateway_is_one_ip_conflict_with_the_dns_and_uplink_failures_as_evidence(bed, agent):
    wait_for(lambda: not open_issues(agent), timeout_s=30, what="a healthy premises")
    offset = journal_size(agent)
    bed.poison_neighbour(bed.spoof_gateway())
    try:
        wait_for(lambda: issues(agent, "ip_conflict"), timeout_s=10, what="ip_conflict to open")
        opened = time.monotonic()
        # The failures it causes are recorded as they come (on a loaded machine, a few rounds later).
        [conflict] = wait_for(lambda: [i for i in open_issues(agent) if i["type"] == "ip_conflict"
                                       and i["evidence"].get("consequences")], timeout_s=20,
                              what="the conflict's consequences in its evidence")
        # long enough for DNS and TCP failures to open issues of their own, were they not grouped
        time.sleep(max(0.0, 5.0 - (time.monotonic() - opened)))
    finally:
        bed.stop_spoofing()
    assert openings_since(agent, offset) == ["ip_conflict"]
    assert [i["type"] for i in open_issues(agent)] == ["ip_conflict"]
    # The host's neighbour entry followed the spoofer (its gratuitous ARP), so its DNS queries and TCP
    # connections failed: evidence of the conflict, not issues of their own.
    consequences = conflict["evidence"].get("consequences") or {}
    assert consequences and all(k.startswith(("DNS", "uplink")) for k in consequences), conflict["evidence"]
    # Once the host sends to the real gateway again, nothing else opens either.
    time.sleep(3)
    assert set(openings_since(agent, offset)) == {"ip_conflict"}


def test_a_plausible_but_changed_answer_for_a_local_name_is_a_lie(bed, agent):
    # After many healthy rounds of the true answer, an ordinary-looking private address instead of it.
    issue, found, resolved_in = episode(agent, lambda: bed.dns_lies("10.123.45.67"), bed.dns_truthful,
                                              "dns_resolver_lies", open_within_s=15)
    assert "10.123.45.67" in issue["evidence"]["answers"] and bed.isp_ip in issue["summary"]
    assert found.rounds <= 6 and resolved_in <= 8, f"took {found}"


def test_a_lease_the_client_stopped_renewing_is_a_dhcp_failure_and_its_renewal_resolves_it(bed, agent):
    # The server still answers DISCOVER: the host's own DHCP client is what stopped renewing (its lease file
    # says the rebind time has passed, 15 s before expiry).
    issue, found, resolved_in = episode(agent, lambda: write_lease(bed, rebind_in_s=-10, expire_in_s=15),
                                              lambda: write_lease(bed, rebind_in_s=100, expire_in_s=120),
                                              "dhcp_failure", open_within_s=20)
    assert "rebind" in issue["summary"] and issue["evidence"]["lease"]["address"] == bed.cpe_ip
    assert math.ceil(found.seconds) <= 3 * CHECK_INTERVAL_S + 4, f"took {found}"
    assert resolved_in <= 2 * CHECK_INTERVAL_S + 3
