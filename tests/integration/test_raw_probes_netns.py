"""The raw-socket probes (probes/icmp.py, pmtu.py and dhcp.py) against a real gateway and DHCP server in a
namespace test bed: answers counted, the MAC the echoes go to is the one pinned (not the kernel's choice), a
silent gateway and a stopped server are reported as such, and scapy is never loaded for any of it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from netns import PremisesNetwork, built, can_build_test_bed

pytestmark = pytest.mark.skipif(can_build_test_bed() is not None, reason=str(can_build_test_bed()))

PROBE = r"""
import dataclasses, json, sys
from edge_agent.probes.arp import ArpResolver
from edge_agent.probes.dhcp import dhcp_probe
from edge_agent.probes.icmp import IcmpProber as EchoProber
from edge_agent.probes.pmtu import pmtu_probe

gateway, interface, step = sys.argv[1], sys.argv[2], sys.argv[3]
prober = EchoProber()
out = {}
if step == "healthy":
    out["kernel_path"] = prober.ping(gateway, 5, 1.0).received
    mac = ArpResolver().resolve(gateway, interface, 0.5)
    prober.use_neighbour(gateway, mac)
    out["pinned"] = prober.ping(gateway, 5, 1.0).received
    prober.use_neighbour(gateway, "02:00:00:00:00:99")  # a MAC nobody has: the echoes must go there, unanswered
    out["wrong_mac"] = prober.ping(gateway, 3, 0.3).received
    out["pmtu"] = pmtu_probe(gateway, 1500, 1.0).results
    out["dhcp"] = dataclasses.asdict(dhcp_probe(interface, 3.0))
else:
    out["silent"] = prober.ping(gateway, 3, 0.3).received
    out["dhcp"] = dataclasses.asdict(dhcp_probe(interface, 0.5))
out["scapy"] = any(name.startswith("scapy") for name in sys.modules)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    with built(PremisesNetwork(tmp_path_factory.mktemp("rawprobes"))) as test_bed:
        yield test_bed


def run_probe(bed: PremisesNetwork, step: str) -> dict:
    result = subprocess.run(bed.in_cpe(sys.executable, "-c", PROBE, bed.isp_ip, bed.cpe_if, step),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_echoes_dhcp_and_path_mtu_against_a_healthy_gateway(bed):
    out = run_probe(bed, "healthy")
    assert out["kernel_path"] == 5 and out["pinned"] == 5
    assert out["wrong_mac"] == 0
    assert set(out["pmtu"].values()) == {"ok"} and max(map(int, out["pmtu"])) == 1500
    dhcp = out["dhcp"]
    assert dhcp["ok"] and dhcp["server"] == bed.isp_ip and dhcp["offered_address"].startswith(bed.prefix + ".")
    assert out["scapy"] is False


def test_a_silent_gateway_and_a_stopped_dhcp_server_are_reported(bed):
    bed.gateway_silent()
    bed.stop_dns()
    try:
        out = run_probe(bed, "faulty")
    finally:
        bed.gateway_answers()
        bed.start_dns()
    assert out["silent"] == 0
    assert out["dhcp"]["ok"] is False and out["dhcp"]["error"] == "no offer"
