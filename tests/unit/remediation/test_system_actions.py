"""The real gateway's actions, at the argv level: what runs, in what order, and how results are judged.

The namespace tests (tests/integration/test_remediation_netns.py) run them against real processes."""

from __future__ import annotations

from pathlib import Path

from edge_agent.remediation.executor import CommandOutcome, run_argv
from edge_agent.remediation.refs import parse_ref
from edge_agent.remediation.settings import RemediationSection
from edge_agent.remediation.system_actions import SystemActions


class RecordingRunner:
    """Answers each argv by its first words; records every call."""

    def __init__(self, answers: dict[str, CommandOutcome] | None = None):
        self.answers = answers or {}
        self.calls: list[list[str]] = []

    def __call__(self, argv: list[str], timeout_s: float) -> CommandOutcome:
        self.calls.append(argv)
        for prefix, outcome in self.answers.items():
            if " ".join(argv).startswith(prefix):
                return outcome
        return CommandOutcome(0, "")


def actions(runner: RecordingRunner, tmp_path: Path, **settings) -> SystemActions:
    return SystemActions(RemediationSection.model_validate(settings), "wlan0", runner=runner,
                         sys_class_net=tmp_path)


def test_restart_service_uses_systemctl_and_checks_the_unit_is_active(tmp_path):
    runner = RecordingRunner({"systemctl is-active": CommandOutcome(3, "inactive")})
    result = actions(runner, tmp_path).run(parse_ref("restart_service:dnsmasq"), 10)
    assert runner.calls == [["systemctl", "restart", "dnsmasq"], ["systemctl", "is-active", "--quiet", "dnsmasq"]]
    assert not result.ok and "dnsmasq is not active" in result.detail


def test_a_service_with_its_own_commands_does_not_touch_systemctl(tmp_path):
    runner = RecordingRunner()
    result = actions(runner, tmp_path, services={"dnsmasq": {"restart": ["/etc/init.d/dnsmasq", "restart"],
                                                             "is_active": ["pidof", "dnsmasq"]}}) \
        .run(parse_ref("restart_service:dnsmasq"), 10)
    assert runner.calls == [["/etc/init.d/dnsmasq", "restart"], ["pidof", "dnsmasq"]]
    assert result.ok


def test_a_failing_restart_reports_the_exit_code_and_output(tmp_path):
    runner = RecordingRunner({"systemctl restart": CommandOutcome(5, "Unit dnsmasq.service not found.")})
    result = actions(runner, tmp_path).run(parse_ref("restart_service:dnsmasq"), 10)
    assert not result.ok and "exited 5: Unit dnsmasq.service not found." in result.detail
    assert len(runner.calls) == 1


def test_renew_dhcp_fills_in_the_interface_and_checks_for_an_address(tmp_path):
    runner = RecordingRunner({"ip -o -4 addr": CommandOutcome(0, "2: eth0    inet 192.168.1.57/24 brd ...")})
    result = actions(runner, tmp_path, commands={"interface": "eth0"}).run(parse_ref("renew_dhcp"), 10)
    assert runner.calls[0] == ["dhcpcd", "--rebind", "eth0"]
    assert result.ok and "holds IPv4 address" in result.detail


def test_bounce_interface_takes_the_link_down_and_up_and_reads_its_flags(tmp_path):
    (tmp_path / "eth1").mkdir()
    (tmp_path / "eth1" / "flags").write_text("0x1003\n")
    runner = RecordingRunner()
    result = actions(runner, tmp_path).run(parse_ref("bounce_interface:eth1"), 10)
    assert runner.calls == [["ip", "link", "set", "dev", "eth1", "down"], ["ip", "link", "set", "dev", "eth1", "up"]]
    assert result.ok and result.undo_state is None  # up again: nothing to undo


def test_an_interface_that_stays_down_after_a_bounce_is_brought_up_by_the_undo(tmp_path):
    (tmp_path / "eth1").mkdir()
    (tmp_path / "eth1" / "flags").write_text("0x1002\n")
    runner = RecordingRunner()
    a = actions(runner, tmp_path)
    result = a.run(parse_ref("bounce_interface:eth1"), 10)
    assert not result.ok and result.undo_state == "eth1"
    assert a.undo(parse_ref("bounce_interface:eth1"), result, 10).ok
    assert runner.calls[-1] == ["ip", "link", "set", "dev", "eth1", "up"]


def test_custom_action_runs_its_argv_then_its_check_and_can_be_undone(tmp_path):
    runner = RecordingRunner({"/sbin/modem-online": CommandOutcome(1, "offline")})
    a = actions(runner, tmp_path, custom={"modem": {"argv": ["/sbin/reset-modem", "--hard"],
                                                    "check": ["/sbin/modem-online"], "undo": ["/sbin/restore"]}})
    result = a.run(parse_ref("custom:modem"), 10)
    assert not result.ok and "offline" in result.detail
    assert a.undo(parse_ref("custom:modem"), result, 10).ok
    assert runner.calls[-1] == ["/sbin/restore"]


def test_radio_and_channel_actions_need_hostapd(tmp_path):
    a = actions(RecordingRunner(), tmp_path)
    assert "no hostapd control socket" in a.problem(parse_ref("restart_radio"))
    assert "no hostapd control socket" in a.problem(parse_ref("switch_channel"))
    assert not a.run(parse_ref("switch_channel"), 5).ok


def test_run_argv_never_uses_a_shell_and_reports_missing_programs_and_timeouts():
    assert run_argv(["echo", "a; rm -rf /"], 5).output == "a; rm -rf /"
    assert run_argv(["/nonexistent/prog"], 5).returncode == 127
    slow = run_argv(["sleep", "5"], 0.2)
    assert slow.returncode == 124 and "no exit within 0.2 s" in slow.output
