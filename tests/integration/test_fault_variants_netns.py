"""Members of known fault classes that scripts/bench_fault_variants.py found mishandled, against a real network.

One agent in the "cpe" namespace probes a real gateway and a TCP service two hops away every second, with the
shipped hysteresis (the bed's 0.5 s probe timeout). In turn: heavy random loss beyond the gateway (connections to
the far end fail on and off: an unreliable uplink, a warning, not a critical outage and not a storm), a
gateway that answers pings after the probe's timeout (slow, not unreachable, and nothing to remediate), and a
path beyond it slower than the probe's timeout (a slow uplink, not a down one).
"""

from __future__ import annotations

import json
import time

import pytest
from agent_process import Daemon, wait_for
from netns import PremisesNetwork, built, can_build_test_bed, running_agent

pytestmark = pytest.mark.skipif(can_build_test_bed() is not None, reason=str(can_build_test_bed()))

PROBE_TIMEOUT_S = 0.5  # the bed's (netns.PROBING_CONFIG)


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    with built(PremisesNetwork(tmp_path_factory.mktemp("netns"), far_end=True)) as test_bed:
        yield test_bed


@pytest.fixture(scope="module")
def agent(bed):
    config = bed.probing_config("netns-variants", uplinks=(bed.far_uplink,))
    with running_agent(bed, config, "ea-var-") as daemon:
        yield daemon


def issues(daemon: Daemon, *types: str) -> list[dict]:
    return [i for i in daemon.ask_json("issues") if not types or i["type"] in types]


def journal(daemon: Daemon, topic: str) -> list[dict]:
    path = daemon.root / "state" / "events.jsonl"
    if not path.exists():
        return []
    return [e for e in map(json.loads, path.read_text().splitlines()) if e["topic"] == topic]


def wait_healthy(daemon: Daemon) -> None:
    wait_for(lambda: not [i for i in issues(daemon) if i["state"] != "resolved"], timeout_s=60, what="no open issue")


def test_connections_beyond_the_gateway_failing_on_and_off_are_one_unreliable_uplink_warning(bed, agent):
    wait_healthy(agent)
    time.sleep(12)  # a clean spell for the uplink's record
    known = {i["issue_id"] for i in issues(agent)}
    started = time.time()
    bed.path_loss(0.4)
    try:
        opened = wait_for(lambda: [i for i in issues(agent, "uplink_unreliable") if i["issue_id"] not in known],
                          timeout_s=60, what="uplink_unreliable to open")
        time.sleep(15)  # the fault goes on: still one issue, and no outage
        during = [i for i in issues(agent) if i["issue_id"] not in known]
    finally:
        bed.clear_path_loss()
    [unreliable] = opened
    assert unreliable["severity"] == "warning" and unreliable["evidence"]["attempts"] >= 10
    assert [i["issue_id"] for i in during if i["type"] == "uplink_unreliable"] == [unreliable["issue_id"]]
    # A short uplink_down is possible only at the onset, when the first failures come three in a row after a
    # clean spell; never once the failures are known to be scattered, and never more than one.
    downs = [i for i in during if i["type"] == "uplink_down"]
    assert len(downs) <= 1 and all(i["opened_ts"] - started < 10 for i in downs), downs
    assert not [i for i in during if i["type"] not in ("uplink_unreliable", "uplink_down")], during
    wait_for(lambda: [i for i in issues(agent, "uplink_unreliable") if i["issue_id"] == unreliable["issue_id"]
                      and i["state"] == "resolved"], timeout_s=40, what="uplink_unreliable to resolve")


def test_a_gateway_answering_after_the_probe_timeout_is_slow_not_unreachable(bed, agent):
    wait_healthy(agent)
    known = {i["issue_id"] for i in issues(agent)}
    before_actions = len(journal(agent, "event/action"))
    bed.late_echo(PROBE_TIMEOUT_S * 1000 * 1.2)
    try:
        [slow] = wait_for(lambda: [i for i in issues(agent, "gateway_high_latency") if i["issue_id"] not in known],
                          timeout_s=20, what="gateway_high_latency to open")
        time.sleep(5)
        during = [i for i in issues(agent) if i["issue_id"] not in known]
    finally:
        bed.prompt_echo()
    assert slow["evidence"]["rtt_ms"] > PROBE_TIMEOUT_S * 1000
    assert [i["type"] for i in during] == ["gateway_high_latency"], [(i["type"], i["summary"]) for i in during]
    assert len(journal(agent, "event/action")) == before_actions  # nothing to restart for a slow gateway
    wait_for(lambda: [i for i in issues(agent, "gateway_high_latency") if i["issue_id"] == slow["issue_id"]
                      and i["state"] == "resolved"], timeout_s=30, what="gateway_high_latency to resolve")


def test_a_path_slower_than_the_probe_timeout_beyond_the_gateway_is_slow_not_down(bed, agent):
    # A full second of queueing towards the far end: every connection takes longer than the probe waits (0.5 s)
    # and connects a little later. That is a slow uplink (a warning with the real time), not an outage.
    wait_healthy(agent)
    known = {i["issue_id"] for i in issues(agent)}
    before_actions = len(journal(agent, "event/action"))
    bed.queued_path(1000)
    try:
        [slow] = wait_for(lambda: [i for i in issues(agent, "uplink_slow") if i["issue_id"] not in known],
                          timeout_s=30, what="uplink_slow to open")
        # A technician's diagnosis is one round: it waits for the slow connection instead of calling it down.
        diagnosis = json.loads(agent.cli("diagnose", "--json").stdout)
        found = {f["type"] for f in diagnosis["findings"]}
        time.sleep(6)
        during = [i for i in issues(agent) if i["issue_id"] not in known]
    finally:
        bed.unqueued_path()
    assert slow["evidence"]["late"] and slow["evidence"]["connect_ms"] > 900, slow["evidence"]
    assert "uplink_slow" in found and "uplink_down" not in found, diagnosis["findings"]
    assert [i["type"] for i in during] == ["uplink_slow"], [(i["type"], i["summary"]) for i in during]
    assert len(journal(agent, "event/action")) == before_actions
    wait_for(lambda: [i for i in issues(agent, "uplink_slow") if i["issue_id"] == slow["issue_id"]
                      and i["state"] == "resolved"], timeout_s=30, what="uplink_slow to resolve")


def test_a_full_queue_beyond_the_gateway_drops_big_echoes_but_is_no_path_mtu_black_hole(bed):
    # A byte-limited queue kept full (a saturated uplink) has room for a small echo long before it has room for
    # a full-size one: the path-MTU check's big echoes vanish as in a black hole. The small reference echo waits
    # in the same queue, though, and a black hole delays nothing: a loaded path is never judged.
    config = bed.probing_config("netns-queue", connectivity="pmtu_check_interval_s = 2", uplinks=(bed.far_uplink,))
    with running_agent(bed, config, "ea-vq-") as agent:
        def far_check() -> dict | None:
            return next((s["metrics"] for s in agent.ask_json("status")["latest"]
                         if s["stream"] == "connectivity.pmtu" and s["subject"] == bed.far_ip), None)

        wait_for(lambda: (far_check() or {}).get("verdict") == "ok", timeout_s=30, what="a clean path-MTU check")
        bed.queued_path(300)
        verdicts = []
        try:
            for _ in range(30):  # about 15 checks through the full queue
                time.sleep(1.0)
                check = far_check()
                verdicts.append((check or {}).get("verdict"))
        finally:
            bed.unqueued_path()
        black_holes = issues(agent, "pmtu_blackhole")
    assert "blackhole" in verdicts, f"the queue never looked like a black hole: {verdicts}"
    assert black_holes == [], black_holes
