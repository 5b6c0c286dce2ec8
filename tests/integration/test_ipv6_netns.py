"""IPv6 path MTU and resolvers compared with each other, against a real dual-stack network: an IPv6 black hole
(a 1280-byte hop whose ICMPv6 Packet Too Big is dropped) is one `pmtu_blackhole` that says IPv6 and clears on the
repair, the same hop that does send Packet Too Big is no issue; of two resolvers, one that starts answering a
plausible public address nobody else gives is `dns_resolver_lies`, while two honest ones giving different
addresses of one CDN-like /24 are no issue.

One bed (cpe, isp as an IPv4 and IPv6 router with two resolvers of its own, and a far "wan" host with an A and
an AAAA name) and one agent for the file. The agent probes every second; path MTU is checked every
CHECK_INTERVAL_S and the resolvers compared every COMPARE_INTERVAL_S (30 s and 60 s when shipped).
"""

from __future__ import annotations

import shutil
import time

import pytest
from agent_process import Daemon, wait_for
from netns import PremisesNetwork, built, can_build_test_bed, running_agent, two_resolver_config

REASON = can_build_test_bed() or (None if shutil.which("ip6tables") else "needs ip6tables")
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))

CHECK_INTERVAL_S = 1
COMPARE_INTERVAL_S = 1
DISAGREE_CHECKS = 3
CDN = "cdn.example.net"
# Two honest resolvers that share an address, until the second one rotates to other addresses of the same /24,
# as a CDN does. The lie is an ordinary public address.
FIRST_ANSWERS, SECOND_ANSWERS = ["23.45.67.10"], ["23.45.67.10", "23.45.67.20"]
ROTATED = ["23.45.67.30", "23.45.67.31"]
LIE = "45.33.10.10"


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    with built(PremisesNetwork(tmp_path_factory.mktemp("netns6"), far_end=True)) as test_bed:
        test_bed.add_ipv6()
        test_bed.first = test_bed.start_resolver(3, {CDN: FIRST_ANSWERS})
        test_bed.second = test_bed.start_resolver(4, {CDN: SECOND_ANSWERS})
        yield test_bed


@pytest.fixture(scope="module")
def agent(bed):
    # the dual-stack uplink, and the path MTU checked at test pace
    config = two_resolver_config("netns-ipv6", bed.first, bed.second, CDN, bed.far6_uplink, COMPARE_INTERVAL_S,
                                 DISAGREE_CHECKS, pmtu_s=CHECK_INTERVAL_S)
    with running_agent(bed, config, "ea-ipv6-") as daemon:
        yield daemon


def issues(daemon: Daemon) -> list[dict]:
    return daemon.ask_json("issues")


def open_issues(daemon: Daemon) -> list[dict]:
    return [i for i in issues(daemon) if i["state"] != "resolved"]


def latest(daemon: Daemon, stream: str) -> dict[str, dict]:
    """The newest sample's metrics of `stream`, per subject."""
    return {s["subject"]: s["metrics"] for s in daemon.ask_json("status")["latest"] if s["stream"] == stream}


def fault_episode(daemon: Daemon, inject, repair, issue_type: str, open_within_s: float) -> tuple[dict, float, float]:
    """Inject, wait for `issue_type` to open, repair, wait for it to resolve, with nothing else opening. Returns
    the issue as it was open, and the seconds from the fault in place to the opening and from the repair in
    place to the resolution (the agent's own timestamps, the same host clock)."""
    wait_for(lambda: not open_issues(daemon), timeout_s=30, what="a healthy network")
    before = {i["issue_id"] for i in issues(daemon)}
    inject()
    injected = time.time()
    try:
        [issue] = wait_for(lambda: [i for i in open_issues(daemon) if i["type"] == issue_type],
                           timeout_s=open_within_s, what=f"{issue_type} to open")
    finally:
        repair()
        repaired = time.time()
    [resolved] = wait_for(lambda: [i for i in issues(daemon) if i["issue_id"] == issue["issue_id"]
                                   and i["state"] == "resolved"], timeout_s=30, what=f"{issue_type} to resolve")
    wait_for(lambda: not open_issues(daemon), timeout_s=10, what="nothing else open")
    assert [i["type"] for i in issues(daemon) if i["issue_id"] not in before] == [issue_type], "one fault, one issue"
    print(f"{issue_type}: opened {issue['opened_ts'] - injected:.1f} s after the fault, resolved "
          f"{resolved['resolved_ts'] - repaired:.1f} s after the repair")
    return issue, issue["opened_ts"] - injected, resolved["resolved_ts"] - repaired


def comparisons_seen(daemon: Daemon, resolver: str, answers: list[str], count: int) -> None:
    """Wait until the agent has compared the resolvers `count` times since `resolver` answered `answers`."""
    seen: set[float] = set()  # the comparisons' stamps

    def enough() -> bool:
        for sample in daemon.ask_json("status")["latest"]:
            if (sample["stream"], sample["subject"]) == ("connectivity.dns_comparison", CDN) and sorted(
                    sample["metrics"]["answers"].get(resolver, [])) == sorted(answers):
                seen.add(sample["ts"])
        return len(seen) >= count

    wait_for(enough, timeout_s=count * (COMPARE_INTERVAL_S + 2) + 10, what=f"{count} comparisons")


def test_a_healthy_dual_stack_network_with_cdn_like_answers_opens_nothing(bed, agent):
    # Both families' gateways and the far host pass full-size echoes.
    wait_for(lambda: {s: m["verdict"] for s, m in latest(agent, "connectivity.pmtu").items()} == {
        bed.isp_ip: "ok", bed.far_ip: "ok", bed.isp_ip6: "ok", bed.far_ip6: "ok"},
        timeout_s=20, what="every path MTU check, IPv4 and IPv6, ok")
    comparisons_seen(agent, bed.second, SECOND_ANSWERS, 1)
    # The second resolver moves on to other addresses of the same /24: not one address in common any more, for
    # more comparisons in a row than it takes to call a resolver a liar.
    bed.start_resolver(4, {CDN: ROTATED})
    comparisons_seen(agent, bed.second, ROTATED, DISAGREE_CHECKS + 1)
    assert issues(agent) == []


def test_an_ipv6_path_mtu_black_hole_is_found_says_ipv6_and_clears(bed, agent):
    issue, opened_s, resolved_s = fault_episode(agent, bed.pmtu6_blackhole, bed.pmtu6_repaired,
                                                "pmtu_blackhole", open_within_s=30)
    assert issue["subject"] == bed.far_ip6, "the IPv6 gateway passes full-size packets, and IPv4 is told too big"
    assert issue["evidence"]["family"] == "IPv6" and issue["summary"].startswith("IPv6 packets of 1500 bytes")
    assert issue["evidence"]["largest_ok"] == 1280 and issue["evidence"]["sizes"]["1500"] == "lost"
    assert "packet too big" in issue["guidance"]
    # two checks to open (each waits a second for the lost echoes, and the next starts CHECK_INTERVAL_S after
    # a round has handed the last one over), one to resolve
    assert opened_s <= 2 * (CHECK_INTERVAL_S + 2) + 4 and resolved_s <= CHECK_INTERVAL_S + 2 + 4


def test_a_lower_ipv6_path_mtu_that_sends_packet_too_big_is_no_issue(bed, agent):
    wait_for(lambda: not open_issues(agent), timeout_s=30, what="a healthy network")
    bed.pmtu6_blackhole(too_big_dropped=False)
    try:
        far = wait_for(lambda: latest(agent, "connectivity.pmtu").get(bed.far_ip6, {}).get("sizes", {}).get("1500")
                       == "too big (mtu 1280)" and latest(agent, "connectivity.pmtu")[bed.far_ip6],
                       timeout_s=20, what="the router's Packet Too Big")
        time.sleep(3 * CHECK_INTERVAL_S)  # three more checks: pmtu_blackhole opens after two
        assert far["verdict"] == "ok" and open_issues(agent) == []
    finally:
        bed.pmtu6_repaired()


def test_a_resolver_that_starts_giving_a_plausible_other_address_is_found_by_comparison(bed, agent):
    issue, opened_s, resolved_s = fault_episode(
        agent, lambda: bed.start_resolver(4, {CDN: [LIE]}), lambda: bed.start_resolver(4, {CDN: ROTATED}),
        "dns_resolver_lies", open_within_s=30)
    assert issue["subject"] == bed.second
    assert issue["evidence"]["answers"] == LIE and issue["evidence"]["agreed_answers"] == FIRST_ANSWERS[0]
    assert issue["evidence"]["name"] == CDN and LIE in issue["guidance"]
    # DISAGREE_CHECKS comparisons (each COMPARE_INTERVAL_S after a round handed the last one over), then the
    # shipped three rounds of a DNS verdict
    assert opened_s <= DISAGREE_CHECKS * (COMPARE_INTERVAL_S + 1) + 3 + 5 and resolved_s <= 10
