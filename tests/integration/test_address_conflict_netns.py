"""Another device using the agent host's own address, on a real segment: the running agent's RFC 5227 probe (an
ARP who-has for its own address, asked from 0.0.0.0) is answered by it, which opens one critical
address_conflict naming its MAC; it resolves once the device is gone, and a healthy segment opens nothing."""

from __future__ import annotations

import time

import pytest
from agent_process import wait_for
from netns import PremisesNetwork, built, can_build_test_bed, running_agent

pytestmark = pytest.mark.skipif(can_build_test_bed() is not None, reason=str(can_build_test_bed()))


def conflicts(agent) -> list[dict]:
    return [i for i in agent.ask_json("issues") if i["type"] == "address_conflict"]


def test_a_device_holding_the_hosts_own_address_is_an_address_conflict_that_resolves_when_it_leaves(
        tmp_path_factory):
    with built(PremisesNetwork(tmp_path_factory.mktemp("netns"))) as bed:
        config = bed.probing_config("netns-own-address", connectivity="address_check_interval_s = 1")
        with running_agent(bed, config, "ea-oac-") as agent:
            wait_for(lambda: [s for s in agent.ask_json("status")["latest"] if s["stream"] == "connectivity.address"],
                     timeout_s=20, what="an own-address check")
            time.sleep(3)
            assert agent.ask_json("issues") == []  # its own address answered by nobody else: healthy
            intruder = bed.claim_address(bed.cpe_ip)
            try:
                [conflict] = wait_for(lambda: conflicts(agent), timeout_s=20, what="address_conflict to open")
            finally:
                bed.stop_spoofing()
            assert conflict["subject"] == bed.cpe_ip and conflict["severity"] == "critical"
            assert intruder in conflict["evidence"]["macs"] and intruder in conflict["summary"]
            wait_for(lambda: [i for i in conflicts(agent) if i["state"] == "resolved"], timeout_s=20,
                     what="address_conflict to resolve")
            assert len(conflicts(agent)) == 1
