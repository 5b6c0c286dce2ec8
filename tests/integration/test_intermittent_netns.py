"""Faults that come and go, against a real network: one issue per fault episode, never a storm.

One agent in the "cpe" namespace probes a real gateway every second with the shipped hysteresis, except a
short hold-down (8 s) so that an intermittent issue's resolution fits in a test. In turn: a healthy soak (no
issue at all), a host claiming the gateway's address that comes and goes (ARP conflict), random loss on the
gateway's ICMP, and a link that flaps. Each test counts the issues and their "opened" events in the agent's
own journal, the probe rounds until detection (from the agent's record of the issue: detection.py), and waits
for the resolution after the repair.
"""

from __future__ import annotations

import json
import time

import pytest
from agent_process import Daemon, wait_for
from detection import detection
from netns import PremisesNetwork, built, can_build_test_bed, running_agent

pytestmark = pytest.mark.skipif(can_build_test_bed() is not None, reason=str(can_build_test_bed()))

HOLD_DOWN_S = 8
PROBE_INTERVAL_S = 1  # PremisesNetwork.probing_config
RESOLVE_WAIT_S = 45  # generous: the hold-down is at least 8 s, twice the longest gap between drops here


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    with built(PremisesNetwork(tmp_path_factory.mktemp("netns"))) as test_bed:
        yield test_bed


@pytest.fixture(scope="module")
def agent(bed):
    config = bed.probing_config("netns-intermittent", issues=f"hold_down_s = {HOLD_DOWN_S}")
    with running_agent(bed, config, "ea-int-") as daemon:
        yield daemon


def rounds(daemon: Daemon) -> int:
    status = daemon.ask_json("status")
    return next(c["runs"] for c in status["collectors"] if c["name"] == "connectivity")


def issues(daemon: Daemon, *types: str) -> list[dict]:
    return [i for i in daemon.ask_json("issues") if not types or i["type"] in types]


def journal(daemon: Daemon, topic: str) -> list[dict]:
    path = daemon.root / "state" / "events.jsonl"
    return [e for e in map(json.loads, path.read_text().splitlines()) if e["topic"] == topic]


def journal_changes(daemon: Daemon, issue_type: str) -> list[str]:
    """Every change the agent journaled for issues of this type, in order."""
    return [e["change"] for e in journal(daemon, "event/issue") if e["type"] == issue_type]


def wait_rounds(daemon: Daemon, count: int) -> None:
    start = rounds(daemon)
    wait_for(lambda: rounds(daemon) >= start + count, timeout_s=count * 2 + 10, what=f"{count} probe rounds")


def wait_healthy(daemon: Daemon) -> None:
    wait_for(lambda: not [i for i in issues(daemon) if i["state"] != "resolved"], timeout_s=RESOLVE_WAIT_S + 15,
             what="no open issue")


def test_a_healthy_soak_opens_no_issue_at_all(agent):
    wait_rounds(agent, 15)
    assert issues(agent) == []


def test_a_host_claiming_the_gateways_address_on_and_off_is_one_ip_conflict_that_resolves(bed, agent):
    wait_healthy(agent)
    spoofer = bed.spoof_gateway()
    spoofing = time.time()
    try:
        [conflict] = wait_for(lambda: issues(agent, "ip_conflict"), timeout_s=10, what="ip_conflict to open")
        for _ in range(2):  # on 4 s, off 4 s, twice more
            time.sleep(4)
            bed.stop_spoofing()
            time.sleep(4)
            bed.spoof_gateway()
        time.sleep(3)
    finally:
        bed.stop_spoofing()
    found = detection(conflict, spoofing, PROBE_INTERVAL_S)
    assert found.rounds <= 2, f"ip_conflict took {found}"
    assert spoofer in conflict["evidence"]["macs"] and conflict["severity"] == "critical"
    assert [i["issue_id"] for i in issues(agent, "ip_conflict")] == [conflict["issue_id"]]
    assert journal_changes(agent, "ip_conflict").count("opened") == 1
    # The real gateway never stopped answering, and its MAC never changed.
    assert issues(agent, "gateway_mac_changed", "gateway_unreachable") == []
    wait_for(lambda: issues(agent, "ip_conflict")[0]["state"] == "resolved", timeout_s=RESOLVE_WAIT_S,
             what="ip_conflict to resolve after the spoofer left")


def test_random_loss_on_the_gateway_is_one_issue_for_the_whole_episode(bed, agent):
    wait_healthy(agent)
    loss_types = ("gateway_packet_loss", "gateway_loss_rising")
    known = {i["issue_id"] for i in issues(agent, *loss_types)}
    bed.icmp_loss(0.3)
    lossy = time.time()
    try:
        opened = wait_for(lambda: [i for i in issues(agent, *loss_types) if i["issue_id"] not in known],
                          timeout_s=40, what="a loss issue to open")
        wait_rounds(agent, 8)  # the fault goes on: it must stay one open issue
        during = [i for i in issues(agent, *loss_types) if i["issue_id"] not in known]
    finally:
        bed.clear_firewall()
    found = detection(opened[0], lossy, PROBE_INTERVAL_S)
    assert found.rounds <= 25, f"loss took {found}"
    assert [i["issue_id"] for i in during] == [opened[0]["issue_id"]] and during[0]["state"] != "resolved"
    assert during[0]["evidence"]["sent"] >= 10
    assert issues(agent, "gateway_unreachable") == []
    wait_for(lambda: [i for i in issues(agent, *loss_types) if i["issue_id"] == opened[0]["issue_id"]
                      and i["state"] == "resolved"], timeout_s=30, what="the loss issue to resolve")


def test_a_flapping_link_is_one_intermittent_issue_and_remediation_acts_once(bed, agent):
    wait_healthy(agent)
    before_opened = journal_changes(agent, "gateway_unreachable").count("opened")
    known = {i["issue_id"] for i in issues(agent, "gateway_unreachable")}
    for _ in range(4):  # down 2 s every 6 s
        bed.link_down()
        time.sleep(2)
        bed.link_up()
        time.sleep(4)
    episode = [i for i in issues(agent, "gateway_unreachable") if i["issue_id"] not in known]
    assert len(episode) == 1, [(i["issue_id"], i["state"]) for i in episode]
    assert journal_changes(agent, "gateway_unreachable").count("opened") - before_opened == 1
    [issue] = episode
    assert issue["state"] != "resolved", "held open while it keeps dropping"
    assert issue["evidence"]["intermittent"]["drops"] >= 3
    assert "comes and goes" in issue["guidance"]
    actions = [a for a in journal(agent, "event/action") if a.get("issue_id") == issue["issue_id"]]
    assert len(actions) == 1, "one remediation case for the episode, not one per flap"
    wait_for(lambda: [i for i in issues(agent, "gateway_unreachable") if i["issue_id"] == issue["issue_id"]
                      and i["state"] == "resolved"], timeout_s=RESOLVE_WAIT_S, what="the flapping issue to resolve")
