"""The real gateway's actions, at the argv level: what runs, in what order, and how results are judged.

The namespace tests (tests/integration/test_remediation_netns.py) run them against real processes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from edge_agent.child_env import DEFAULT_PATH, child_environment
from edge_agent.remediation.executor import CommandOutcome, run_argv
from edge_agent.remediation.redaction import OUTPUT_LIMIT
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
    # "--" before the unit: whatever it is called, systemctl cannot read it as an option
    assert runner.calls == [["systemctl", "restart", "--", "dnsmasq"],
                            ["systemctl", "is-active", "--quiet", "--", "dnsmasq"]]
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
    assert runner.calls[0] == ["dhcpcd", "--rebind", "--", "eth0"]
    assert runner.calls[1] == ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]
    assert result.ok and "holds IPv4 address" in result.detail


def test_renew_dhcp_is_refused_on_a_point_to_point_link_which_has_no_dhcp(tmp_path):
    (tmp_path / "ppp0").mkdir()
    (tmp_path / "ppp0" / "type").write_text("512\n")  # ARPHRD_PPP
    (tmp_path / "ppp0" / "flags").write_text("0x10d1\n")  # UP, POINTOPOINT, NOARP, ...
    runner = RecordingRunner()
    result = actions(runner, tmp_path, commands={"interface": "ppp0"}).run(parse_ref("renew_dhcp"), 10)
    assert runner.calls == [] and not result.ok
    assert "ppp0 is a point-to-point link" in result.detail


def test_renew_dhcp_is_refused_where_no_dhcp_client_holds_a_lease(tmp_path):
    """dhcpcd --rebind on an interface it does not serve starts a client there: a static address could go."""
    runner = RecordingRunner()
    actions_ = SystemActions(RemediationSection.model_validate({"commands": {"interface": "eth0"}}), "wlan0",
                             runner=runner, sys_class_net=tmp_path, holds_lease=lambda interface: False)
    result = actions_.run(parse_ref("renew_dhcp"), 10)
    assert runner.calls == [] and not result.ok and "eth0 holds no DHCP lease" in result.detail
    leased = SystemActions(RemediationSection.model_validate({"commands": {"interface": "eth0"}}), "wlan0",
                           runner=runner, sys_class_net=tmp_path, holds_lease=lambda interface: interface == "eth0")
    assert leased.run(parse_ref("renew_dhcp"), 10) is not None and runner.calls[0][0] == "dhcpcd"


def test_the_lease_holder_reads_the_dhcp_clients_lease_files(tmp_path):
    from edge_agent.probes.leases import lease_holder

    (tmp_path / "dhcpcd-eth0.lease").write_text("ADDRESS=10.0.0.2\nSERVER_ADDRESS=10.0.0.1\nLIFETIME=600\n")
    holds = lease_holder([str(tmp_path / "*.lease")])
    assert holds("eth0") and not holds("eth1")


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


AGENT_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "EDGE_AGENT_MQTT_PASSWORD": "s3cret-Pa55",
                     "EDGE_AGENT_CONFIG": "/etc/edge-agent/agent.toml", "NOTIFY_SOCKET": "/run/systemd/notify",
                     "HOME": "/root", "AWS_SECRET_ACCESS_KEY": "abc"}


def run_in_agent_environment(argv: list[str], timeout_s: float) -> CommandOutcome:
    return run_argv(argv, timeout_s, environ=AGENT_ENVIRONMENT)


def test_a_custom_action_sees_only_a_scrubbed_environment(tmp_path):
    show_env = [sys.executable, "-c", "import os, json; print(json.dumps(dict(os.environ)))"]
    a = SystemActions(RemediationSection.model_validate({"custom": {"show_env": {"argv": show_env}}}), "wlan0",
                      runner=run_in_agent_environment, sys_class_net=tmp_path)
    result = a.run(parse_ref("custom:show_env"), 10)
    assert result.ok, result.detail
    seen = json.loads(result.data["output"])
    assert seen["PATH"] == "/usr/bin:/bin" and seen.get("LANG") == "C.UTF-8"
    # Python may coerce the locale (PEP 538) and add LC_CTYPE; nothing else of the agent's reaches the child.
    assert set(seen) <= {"PATH", "LANG", "LC_CTYPE"}


def test_a_child_gets_a_path_even_when_the_agent_has_none():
    assert child_environment({"EDGE_AGENT_MQTT_PASSWORD": "x"}) == {"PATH": DEFAULT_PATH}


def test_what_a_command_prints_is_kept_short_and_without_secrets(tmp_path):
    chatty = [sys.executable, "-c",
              "print('x' * 5000); print('connecting with password=hunter22 token: abc123'); print('s3cret-Pa55')"]
    a = SystemActions(RemediationSection.model_validate({"custom": {"chatty": {"argv": chatty}}}), "wlan0",
                      runner=run_in_agent_environment, sys_class_net=tmp_path)
    output = a.run(parse_ref("custom:chatty"), 10).data["output"]
    assert len(output) <= OUTPUT_LIMIT
    assert "hunter22" not in output and "abc123" not in output and "s3cret-Pa55" not in output
    assert output.endswith("password=<redacted> token: <redacted>\n<redacted>")


def test_a_failing_commands_line_and_output_are_redacted_in_the_detail(tmp_path):
    runner = RecordingRunner({"/sbin/modem": CommandOutcome(1, "Authorization: Bearer eyJhbGciOi.x.y failed")})
    a = actions(runner, tmp_path, custom={"modem": {"argv": ["/sbin/modem", "--password=hunter22", "reset"]}})
    detail = a.run(parse_ref("custom:modem"), 10).detail
    assert "hunter22" not in detail and "eyJhbGciOi" not in detail
    assert detail == "modem: /sbin/modem --password=<redacted> reset exited 1: Authorization: <redacted> <redacted> " \
                     "failed"


def test_an_interface_from_the_default_route_that_reads_as_an_option_is_refused(tmp_path, monkeypatch):
    import edge_agent.remediation.system_actions as system_actions

    monkeypatch.setattr(system_actions, "default_route_interface", lambda: "-x")
    runner = RecordingRunner()
    a = actions(runner, tmp_path)
    assert "not a plain name" in a.problem(parse_ref("renew_dhcp"))
    assert not a.run(parse_ref("renew_dhcp"), 10).ok and runner.calls == []


def test_every_action_type_builds_its_argv_with_the_target_after_an_end_of_options_marker(tmp_path):
    (tmp_path / "eth0").mkdir()
    (tmp_path / "eth0" / "flags").write_text("0x1003\n")
    runner = RecordingRunner({"ip -o -4 addr": CommandOutcome(0, "2: eth0    inet 10.0.0.2/24")})
    a = actions(runner, tmp_path, targets={"interfaces": ["eth0"]},
                custom={"modem": {"argv": ["/sbin/modem-reset"], "check": ["/sbin/modem-online"]}})
    for ref in ("restart_service:dnsmasq", "bounce_interface:eth0", "renew_dhcp:eth0", "flush_dns", "custom:modem"):
        assert a.run(parse_ref(ref), 10).ok, ref
    assert runner.calls == [
        ["systemctl", "restart", "--", "dnsmasq"], ["systemctl", "is-active", "--quiet", "--", "dnsmasq"],
        ["ip", "link", "set", "dev", "eth0", "down"], ["ip", "link", "set", "dev", "eth0", "up"],
        ["dhcpcd", "--rebind", "--", "eth0"], ["ip", "-o", "-4", "addr", "show", "dev", "eth0"],
        ["resolvectl", "flush-caches"],
        ["/sbin/modem-reset"], ["/sbin/modem-online"],
    ]


@pytest.mark.timeout(30)
def test_an_action_printing_without_end_is_stopped_and_reported_not_held_in_memory():
    flood = run_argv(["yes", "restarting..."], 20)
    assert flood.returncode == 124 and "printed more than" in flood.output
