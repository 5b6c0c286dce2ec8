"""A host whose only default route is IPv6 (its IPv4 reaches the link and no further): the gateway probed is the
IPv6 router, with ICMPv6 echo, not reported as a probe that cannot run; a router that stops answering is
gateway_unreachable, and answering again resolves it."""

from __future__ import annotations

import shutil

import pytest
from agent_process import wait_for
from netns import PremisesNetwork, built, can_build_test_bed, run, running_agent

REASON = can_build_test_bed() or (None if shutil.which("ip6tables") else "needs ip6tables")
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))


def gateway_samples(agent) -> dict[str, dict]:
    return {s["subject"]: s["metrics"] for s in agent.ask_json("status")["latest"]
            if s["stream"] == "connectivity.gateway"}


def test_an_ipv6_only_host_probes_its_ipv6_router_and_finds_it_unreachable(tmp_path_factory):
    with built(PremisesNetwork(tmp_path_factory.mktemp("netns6only"), far_end=True)) as bed:
        bed.add_ipv6()
        run("ip", "-n", bed.cpe, "route", "del", "default")
        config = bed.probing_config("netns-v6only", uplinks=(bed.far6_uplink,))
        with running_agent(bed, config, "ea-v6o-") as agent:
            router = wait_for(lambda: gateway_samples(agent).get(bed.isp_ip6), timeout_s=20,
                              what="a gateway sample for the IPv6 router")
            assert router["received"] > 0 and router["rtt_ms"] is not None, router
            latest = agent.ask_json("status")["latest"]
            assert not [s for s in latest if s["stream"] == "connectivity.probe"], latest
            run("ip", "netns", "exec", bed.isp, "ip6tables", "-A", "INPUT", "-p", "icmpv6", "--icmpv6-type",
                "echo-request", "-j", "DROP")
            [down] = wait_for(lambda: [i for i in agent.ask_json("issues") if i["type"] == "gateway_unreachable"],
                              timeout_s=20, what="gateway_unreachable for the IPv6 router")
            assert down["subject"] == bed.isp_ip6 and down["severity"] == "critical"
            run("ip", "netns", "exec", bed.isp, "ip6tables", "-F", "INPUT")
            wait_for(lambda: [i for i in agent.ask_json("issues") if i["issue_id"] == down["issue_id"]
                              and i["state"] == "resolved"], timeout_s=20, what="the issue to resolve")
