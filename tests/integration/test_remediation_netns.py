"""Remediation against real processes: the agent probes a real dnsmasq across network namespaces and restarts it
through a service controller (tests/integration/service_ctl.py, as an init script would), verifies the fix with its
own DNS probe, escalates what restarting cannot fix, and keeps to its policy and rate limits.

The paths: fixed, escalated, dry-run, approval (and a technician's manual action), rate-limited.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from agent_process import Daemon, wait_for
from netns import PremisesNetwork, built, can_build_test_bed

pytestmark = pytest.mark.skipif(can_build_test_bed() is not None, reason=str(can_build_test_bed()))

SERVICE_CTL = Path(__file__).with_name("service_ctl.py")
REMEDIATION_CONFIG = """
[remediation]
default_mode = "{mode}"
verify_window_s = 5
min_disruptive_gap_s = 0
backoff_base_s = 0
recurrence_window_s = 0
max_defer_s = 0
[remediation.policy.dns_failure]
ladder = ["flush_dns", "restart_service:dnsmasq"]
[remediation.actions.restart_service]
max_per_hour = {restarts_per_hour}
[remediation.commands]
flush_dns = ["{python}", "{ctl}", "{svc}", "hup"]
[remediation.services.dnsmasq]
restart = ["{python}", "{ctl}", "{svc}", "restart"]
is_active = ["{python}", "{ctl}", "{svc}", "is-active"]
[remediation.authority.cli]
actions = ["flush_dns", "restart_service"]
mode = "{cli_mode}"
"""


class ControlledDns(PremisesNetwork):
    """The test bed with dnsmasq run by the service controller instead of the test process."""

    def __init__(self, workdir: Path):
        super().__init__(workdir)
        self.service_dir = workdir / "dnsmasq-svc"

    def start_dns(self) -> None:
        self.service_dir.mkdir(exist_ok=True)
        spec = {"argv": self.dnsmasq_argv(), "ready": self.dns_ready_probe(), "ready_text": self.isp_ip}
        (self.service_dir / "service.json").write_text(json.dumps(spec))
        self.ctl("start")

    def stop_dns(self) -> None:
        if self.service_dir.exists():
            self.ctl("stop")

    def ctl(self, verb: str) -> int:
        return subprocess.run([sys.executable, str(SERVICE_CTL), str(self.service_dir), verb],
                              capture_output=True, timeout=15).returncode

    def dns_pid(self) -> int:
        return int((self.service_dir / "pid").read_text())

    def dns_starts(self) -> int:
        return int((self.service_dir / "starts").read_text())

    def dns_freeze(self) -> None:
        os.kill(self.dns_pid(), signal.SIGSTOP)

    def dns_thaw(self) -> None:
        os.kill(self.dns_pid(), signal.SIGCONT)

    def dns_blocked(self) -> None:
        """DNS queries dropped on the way in (cleared by clear_firewall): restarting dnsmasq cannot help."""
        subprocess.run(["ip", "netns", "exec", self.isp, "iptables", "-A", "INPUT", "-p", "udp", "--dport", "53",
                        "-j", "DROP"], check=True, capture_output=True)


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    with built(ControlledDns(tmp_path_factory.mktemp("remedy"))) as test_bed:
        yield test_bed


@pytest.fixture
def start_agent(bed, short_tmp):
    daemons = []

    def start(mode: str = "auto", restarts_per_hour: int = 3, cli_mode: str = "dry-run") -> Daemon:
        """`cli_mode`: a technician's requests that name no issue (the shipped dry-run unless a test says)."""
        text = bed.agent_config("remedy-gw", open_after=2) + REMEDIATION_CONFIG.format(
            mode=mode, restarts_per_hour=restarts_per_hour, python=sys.executable, ctl=SERVICE_CTL,
            svc=bed.service_dir, cli_mode=cli_mode)
        daemon = Daemon(short_tmp, config_text=text, prefix=tuple(bed.in_cpe()))
        daemons.append(daemon)
        daemon.start()
        daemon.wait_notify("READY=1", timeout_s=15)
        wait_for(lambda: not dns_issues(daemon) and connectivity_runs(daemon) >= 2, timeout_s=20,
                 what="two healthy probe rounds")
        return daemon

    yield start
    for daemon in daemons:
        daemon.stop()
    bed.clear_firewall()
    if bed.ctl("is-active") != 0:
        bed.ctl("start")
    else:
        bed.dns_thaw()


def connectivity_runs(daemon: Daemon) -> int:
    return next(c["runs"] for c in daemon.ask_json("status")["collectors"] if c["name"] == "connectivity")


def dns_issues(daemon: Daemon, state: str | None = None) -> list[dict]:
    issues = [i for i in daemon.ask_json("issues") if i["type"] == "dns_failure" and i["state"] != "resolved"]
    return [i for i in issues if state is None or i["state"] == state]


def audit(daemon: Daemon) -> list[dict]:
    return daemon.ask_json("actions", "--limit", "0")["entries"]


def steps(entries: list[dict]) -> list[tuple[str, str]]:
    return [(e["name"] + (f":{e['target']}" if e["target"] else ""), e["outcome"]) for e in entries]


def test_a_hung_resolver_is_restarted_and_the_fix_verified_by_the_probe(bed, start_agent):
    daemon = start_agent()
    pid_before, starts_before = bed.dns_pid(), bed.dns_starts()
    bed.dns_freeze()
    wait_for(lambda: any(e["outcome"] == "fixed" for e in audit(daemon)), timeout_s=40, what="a verified fix")
    assert steps(audit(daemon)) == [("flush_dns", "attempted"), ("flush_dns", "failed"),
                                    ("restart_service:dnsmasq", "attempted"), ("restart_service:dnsmasq", "fixed")]
    assert bed.dns_starts() == starts_before + 1 and bed.dns_pid() != pid_before  # really restarted
    fixed = audit(daemon)[-1]
    assert fixed["evidence_before"]["rcode"] == "timeout" and fixed["evidence_after"]["rcode"] == "NOERROR"
    assert fixed["details"]["time_to_fix_s"] > 0
    [issue] = [i for i in daemon.ask_json("issues") if i["issue_id"] == fixed["issue_id"]]
    assert [t["state"] for t in issue["transitions"]] == ["open", "remediating", "verifying", "remediating",
                                                         "verifying", "resolved"]
    kpis = daemon.ask_json("actions")["kpis"]
    assert kpis["auto_resolved"] == 1 and kpis["actions"]["restart_service"]["fixed"] == 1


def test_a_fault_restarting_cannot_fix_climbs_the_ladder_once_and_escalates(bed, start_agent):
    daemon = start_agent()
    starts_before = bed.dns_starts()
    bed.dns_blocked()
    wait_for(lambda: dns_issues(daemon, "escalated"), timeout_s=45, what="the issue to be escalated")
    time.sleep(3)  # an escalated issue gets no more actions
    entries = audit(daemon)
    assert steps(entries) == [("flush_dns", "attempted"), ("flush_dns", "failed"),
                              ("restart_service:dnsmasq", "attempted"), ("restart_service:dnsmasq", "failed"),
                              ("restart_service:dnsmasq", "escalated")]
    assert bed.dns_starts() == starts_before + 1
    assert entries[-1]["details"]["tried"] == ["flush_dns", "restart_service:dnsmasq"]
    assert entries[-1]["details"]["guidance"].startswith(f"The DNS resolver {bed.isp_ip} does not answer")


def test_dry_run_reports_what_it_would_do_and_changes_nothing(bed, start_agent):
    daemon = start_agent(mode="dry-run")
    pid_before, starts_before = bed.dns_pid(), bed.dns_starts()
    bed.dns_freeze()
    wait_for(lambda: audit(daemon), timeout_s=20, what="the dry-run decision")
    time.sleep(6)  # longer than a verification window: nothing else may happen
    assert steps(audit(daemon)) == [("flush_dns", "skipped")]
    assert audit(daemon)[0]["reason"] == "policy dry-run: would run flush_dns, then restart_service:dnsmasq"
    assert (bed.dns_pid(), bed.dns_starts()) == (pid_before, starts_before)
    assert dns_issues(daemon, "open")  # still broken, still reported

    # A technician's request that names no issue is a dry run too, unless the config says otherwise.
    manual = daemon.cli("remediate", "restart_service:dnsmasq")
    assert manual.returncode == 0 and manual.stdout.startswith("dry-run: would run restart_service:dnsmasq")
    assert (bed.dns_pid(), bed.dns_starts()) == (pid_before, starts_before)


def test_approval_waits_for_a_technician_then_fixes(bed, start_agent):
    daemon = start_agent(mode="approval", cli_mode="auto")
    starts_before = bed.dns_starts()
    bed.dns_freeze()
    [issue] = wait_for(lambda: dns_issues(daemon), timeout_s=20, what="dns_failure to open")
    time.sleep(3)
    assert steps(audit(daemon)) == [("flush_dns", "pending")]
    assert bed.dns_starts() == starts_before
    approved = daemon.cli("remediate", "--approve", issue["issue_id"], "--wait", "30")
    assert approved.returncode == 1, approved.stdout + approved.stderr  # the flush does not revive a hung dnsmasq
    assert "failed: the issue was still there" in approved.stdout
    wait_for(lambda: any(e["outcome"] == "fixed" for e in audit(daemon)), timeout_s=30, what="the ladder's fix")
    assert bed.dns_starts() == starts_before + 1
    assert {e["origin"] for e in audit(daemon)[1:]} == {"cli"}

    # A technician's manual restart, naming no issue: it runs, and its own check (is-active) completes it.
    manual = daemon.cli("remediate", "restart_service:dnsmasq")
    assert manual.returncode == 0, manual.stderr
    assert "completed:" in manual.stdout
    assert bed.dns_starts() == starts_before + 2


def test_rate_limit_holds_under_a_fault_that_keeps_coming_back(bed, start_agent):
    daemon = start_agent(restarts_per_hour=2, cli_mode="auto")
    # Flap damping off: the fault here comes back on purpose, at once, to spend the rate limit.
    daemon_config = daemon.config.read_text().replace('ladder = ["flush_dns", "restart_service:dnsmasq"]',
                                                      'ladder = ["restart_service:dnsmasq"]').replace(
        "[issues]\n", "[issues]\nhold_down_s = 0\n")
    daemon.config.write_text(daemon_config)
    assert daemon.cli("reload").returncode == 0
    starts_before = bed.dns_starts()
    for round_number in range(4):
        bed.dns_freeze()
        wait_for(lambda: dns_issues(daemon), timeout_s=20, what=f"dns_failure #{round_number + 1}")
        if round_number >= 2:  # held back: the agent escalates, a person (the test) repairs
            wait_for(lambda: dns_issues(daemon, "escalated"), timeout_s=20, what="escalation")
            bed.dns_thaw()
        wait_for(lambda: not dns_issues(daemon), timeout_s=30, what=f"dns_failure #{round_number + 1} to clear")
    assert bed.dns_starts() == starts_before + 2
    outcomes = steps(audit(daemon))
    assert outcomes.count(("restart_service:dnsmasq", "fixed")) == 2
    assert outcomes.count(("restart_service:dnsmasq", "skipped")) == 2
    skipped = [e for e in audit(daemon) if e["outcome"] == "skipped"]
    assert {e["reason"] for e in skipped} == {"rate limit: restart_service at most 2 per hour"}
    refused = daemon.cli("remediate", "restart_service:dnsmasq")
    assert refused.returncode == 1 and "refused: rate limit" in refused.stderr
    assert bed.dns_starts() == starts_before + 2
