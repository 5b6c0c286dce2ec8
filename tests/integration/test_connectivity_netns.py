"""Connectivity against a real network: probes from the "cpe" namespace to a real gateway, DNS and DHCP server.

Each fault is injected for real (link down, blackholed replies, dnsmasq frozen or stopped, random ICMP loss,
blocked uplink port, a new gateway MAC); the tests check which issue opens, with which evidence, within how
many probe rounds, and that it resolves once the fault is removed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from agent_process import Daemon, wait_for
from detection import applied, detection
from netns import PremisesNetwork, built, can_build_test_bed

pytestmark = pytest.mark.skipif(can_build_test_bed() is not None, reason=str(can_build_test_bed()))

OPEN_AFTER = 2
PROBE_INTERVAL_S = 1  # PremisesNetwork.agent_config


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    with built(PremisesNetwork(tmp_path_factory.mktemp("netns"))) as test_bed:
        yield test_bed


def config_for(bed: PremisesNetwork) -> str:
    return bed.agent_config("netns-gw", OPEN_AFTER)


def diagnose(bed: PremisesNetwork, root: Path) -> tuple[int, dict]:
    config = root / "diagnose.toml"
    config.write_text(config_for(bed).format(state=root / "dstate", sock=root / "none.sock"))
    result = subprocess.run(
        bed.in_cpe(sys.executable, "-m", "edge_agent", "diagnose", "--json", "--config", str(config)),
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def finding_types(report: dict) -> set[str]:
    return {f["type"] for f in report["findings"]}


def test_diagnose_in_a_healthy_premises_reports_healthy(bed, short_tmp):
    code, report = diagnose(bed, short_tmp)
    assert code == 0 and report["findings"] == []
    samples = {s["stream"]: s for s in report["samples"]}
    assert samples["connectivity.gateway"]["metrics"]["received"] == 5
    assert samples["connectivity.gateway"]["metrics"]["mac"] is not None
    assert samples["connectivity.dns"]["metrics"]["rcode"] == "NOERROR"
    assert samples["connectivity.uplink"]["metrics"]["ok"] is True
    dhcp = samples["connectivity.dhcp"]["metrics"]
    assert dhcp["ok"] is True and dhcp["offered_address"].startswith(bed.prefix + ".")


@pytest.mark.parametrize(
    ("fault", "repair", "expected"),
    [
        ("gateway_silent", "gateway_answers", {"gateway_unreachable"}),
        ("dns_freeze", "dns_thaw", {"dns_failure"}),
        ("stop_dns", "start_dns", {"dns_failure", "dhcp_failure"}),
    ],
)
def test_diagnose_names_the_fault(bed, short_tmp, fault, repair, expected):
    getattr(bed, fault)()
    try:
        code, report = diagnose(bed, short_tmp)
    finally:
        getattr(bed, repair)()
    assert code == 1
    assert expected <= finding_types(report)
    assert all(f["guidance"] for f in report["findings"])


def test_diagnose_with_the_link_down_says_there_is_no_route_to_the_gateway(bed, short_tmp):
    # A fresh process has no gateway to remember: link down deleted the default route with the link.
    bed.link_down()
    try:
        code, report = diagnose(bed, short_tmp)
    finally:
        bed.link_up()
    assert code == 1
    probe = next(f for f in report["findings"] if f["type"] == "probe_failed" and f["subject"] == "gateway")
    assert "no default route" in probe["summary"]


@pytest.mark.parametrize(("name", "rcode", "issue_type"), [("missing.test", "NXDOMAIN", "dns_name_missing"),
                                                          ("example.org", "REFUSED", "dns_failure")])
def test_diagnose_reports_the_resolvers_rcode_for_a_name_it_cannot_answer(bed, short_tmp, name, rcode, issue_type):
    original, bed.dns_name = bed.dns_name, name  # the config asks for this name; dnsmasq only knows probe.test
    try:
        code, report = diagnose(bed, short_tmp)
    finally:
        bed.dns_name = original
    failure = next(f for f in report["findings"] if f["type"] == issue_type)
    assert code == 1 and failure["evidence"]["rcode"] == rcode and failure["subject"] == bed.isp_ip


def test_diagnose_tells_a_frozen_resolver_from_a_stopped_one(bed, short_tmp):
    bed.dns_freeze()
    try:
        _, frozen = diagnose(bed, short_tmp)
    finally:
        bed.dns_thaw()
    bed.stop_dns()
    try:
        _, stopped = diagnose(bed, short_tmp)
    finally:
        bed.start_dns()
    rcode = {name: next(f for f in report["findings"] if f["type"] == "dns_failure")["evidence"]["rcode"]
             for name, report in (("frozen", frozen), ("stopped", stopped))}
    assert rcode == {"frozen": "timeout", "stopped": "unreachable"}


@pytest.fixture
def agent(bed, short_tmp):
    daemon = Daemon(short_tmp, config_text=config_for(bed), prefix=tuple(bed.in_cpe()))
    daemon.start()
    try:
        daemon.wait_notify("READY=1", timeout_s=15)
        wait_for(lambda: connectivity_runs(daemon) >= 3, timeout_s=15, what="three healthy probe rounds")
        assert open_issues(daemon) == [], "the test bed should start healthy"
        yield daemon
    finally:
        daemon.stop()


def connectivity_runs(daemon: Daemon) -> int:
    status = daemon.ask_json("status")
    return next(c["runs"] for c in status["collectors"] if c["name"] == "connectivity")


def open_issues(daemon: Daemon) -> list[dict]:
    return [i for i in daemon.ask_json("issues") if i["state"] != "resolved"]


def detect_and_resolve(daemon: Daemon, inject, repair, issue_type: str, max_rounds: int) -> dict:
    """Inject, wait for `issue_type` to open within `max_rounds` probe rounds (counted from the agent's own record
    of the issue, see detection.py), repair, wait for it to resolve."""
    injected = applied(inject)
    try:
        [issue] = wait_for(lambda: [i for i in open_issues(daemon) if i["type"] == issue_type],
                           timeout_s=max_rounds * 3 + 5, what=f"{issue_type} to open")
    finally:
        repair()
    found = detection(issue, injected, PROBE_INTERVAL_S)
    assert found.rounds <= max_rounds, f"{issue_type} took {found}"

    def resolved():
        return [i for i in daemon.ask_json("issues")
                if i["issue_id"] == issue["issue_id"] and i["state"] == "resolved"]

    wait_for(resolved, timeout_s=20, what=f"{issue_type} to resolve after the repair")
    return issue


def test_gateway_link_down_opens_gateway_unreachable_and_resolves(bed, agent):
    issue = detect_and_resolve(agent, bed.link_down, bed.link_up, "gateway_unreachable", OPEN_AFTER + 1)
    assert issue["severity"] == "critical"
    assert issue["evidence"]["received"] == 0 and issue["subject"] == bed.isp_ip
    assert "cable" in issue["guidance"]


def test_a_silent_gateway_opens_gateway_unreachable_and_resolves(bed, agent):
    detect_and_resolve(agent, bed.gateway_silent, bed.gateway_answers, "gateway_unreachable", OPEN_AFTER + 1)


def test_a_frozen_resolver_opens_dns_failure_with_timeout(bed, agent):
    issue = detect_and_resolve(agent, bed.dns_freeze, bed.dns_thaw, "dns_failure", OPEN_AFTER + 1)
    assert issue["subject"] == bed.isp_ip and issue["evidence"]["rcode"] == "timeout"


def test_a_blocked_uplink_opens_uplink_down(bed, agent):
    issue = detect_and_resolve(agent, lambda: bed.tcp_blocked(53), bed.clear_firewall, "uplink_down", OPEN_AFTER + 1)
    assert issue["subject"] == bed.uplink and issue["evidence"]["error"] == "timeout"


def test_random_icmp_loss_opens_packet_loss(bed, agent):
    # Half of the echo requests dropped: nearly every 5-probe round loses more than the 10 % limit.
    issue = detect_and_resolve(agent, lambda: bed.icmp_loss(0.5), bed.clear_firewall, "gateway_packet_loss", 12)
    assert issue["evidence"]["loss_pct"] > 10


def test_a_congested_uplink_opens_high_latency_with_the_measured_rtt(bed, agent):
    issue = detect_and_resolve(agent, bed.congested_uplink, bed.uncongested_uplink, "gateway_high_latency", 8)
    assert issue["evidence"]["rtt_ms"] > issue["evidence"]["limit"] == 100


def test_a_congested_uplink_is_one_issue_carrying_the_rise_against_the_baseline(bed, agent):
    # Enough healthy rounds for the trend's baseline (warm-up plus quarantine) before the fault.
    wait_for(lambda: connectivity_runs(agent) >= 18, timeout_s=30, what="the trend baseline to be learned")
    bed.congested_uplink()
    try:
        # The rise needs a window of slow rounds, so it joins the open issue a few rounds after it opened.
        [issue] = wait_for(lambda: [i for i in open_issues(agent) if i["type"] == "gateway_high_latency"
                                    and "gateway_latency_rising" in i["evidence"]["symptoms"]],
                           timeout_s=20, what="high latency with the rising trend as evidence")
        types = {i["type"] for i in agent.ask_json("issues")}
    finally:
        bed.uncongested_uplink()
    rising = issue["evidence"]["related"]["gateway_latency_rising"]
    assert rising["recent_rtt_ms"] > rising["trend_limit_ms"] > rising["baseline_rtt_ms"]
    assert types == {"gateway_high_latency"}
    wait_for(lambda: not open_issues(agent), timeout_s=20, what="the latency issue to resolve")


def test_a_new_gateway_mac_opens_at_once_and_resolves_when_the_old_one_returns(bed, agent):
    original = json.loads(subprocess.run(["ip", "-n", bed.isp, "-j", "link", "show", bed.isp_if],
                                         capture_output=True, text=True, check=True).stdout)[0]["address"]
    issue = detect_and_resolve(agent, lambda: bed.gateway_mac("02:00:5e:00:53:99"), lambda: bed.gateway_mac(original),
                               "gateway_mac_changed", 2)
    evidence = dict(issue["evidence"])
    assert evidence.pop("rounds") >= 1  # it counts on each round until the test reads it
    assert evidence == {"known_mac": original, "mac": "02:00:5e:00:53:99", "adopt_after": 60}


def run_diagnose_with(bed: PremisesNetwork, root: Path, *setpriv: str) -> subprocess.CompletedProcess:
    config = root / "privilege.toml"
    config.write_text(config_for(bed).format(state=root / "privilege-state", sock=root / "none.sock"))
    for path in (root, config):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return subprocess.run(
        bed.in_cpe("setpriv", *setpriv, sys.executable, "-m", "edge_agent", "diagnose", "--json",
                   "--config", str(config)),
        capture_output=True, text=True, timeout=30,
    )


def test_without_cap_net_raw_the_raw_socket_probes_report_a_clear_finding(bed, short_tmp):
    # Root minus CAP_NET_RAW: it still reads everything, so this runs in any checkout.
    refused = run_diagnose_with(bed, short_tmp, "--bounding-set=-net_raw", "--inh-caps=-net_raw")
    assert refused.returncode == 1, refused.stderr
    failed = {f["subject"]: f["summary"] for f in json.loads(refused.stdout)["findings"] if f["type"] == "probe_failed"}
    assert "CAP_NET_RAW" in failed["gateway"] and "CAP_NET_RAW" in failed["dhcp"]
    assert not {"dns_failure", "uplink_down"} & {f["type"] for f in json.loads(refused.stdout)["findings"]}


NOBODY = ("--reuid=65534", "--regid=65534", "--clear-groups")


def test_an_unprivileged_user_with_only_cap_net_raw_runs_every_probe(bed, short_tmp):
    if subprocess.run(["setpriv", *NOBODY, sys.executable, "-c", "import edge_agent"],
                      capture_output=True).returncode != 0:
        pytest.skip("the project's Python is not readable by uid 65534 in this checkout")
    granted = run_diagnose_with(bed, short_tmp, *NOBODY, "--inh-caps=+net_raw", "--ambient-caps=+net_raw")
    assert granted.returncode == 0, granted.stdout + granted.stderr
    assert json.loads(granted.stdout)["findings"] == []
