"""The [remediation] config's validation and the pure safety limits."""

from __future__ import annotations

import pytest

from edge_agent.config import ConfigError, load_config
from edge_agent.remediation.refs import ActionRef, parse_ref
from edge_agent.remediation.safety import SafetyGates, quiet_minutes_left
from edge_agent.remediation.settings import RemediationSection


def write(tmp_path, text: str):
    path = tmp_path / "edge-agent.toml"
    path.write_text(text)
    return path


def problems(tmp_path, text: str) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text), env={})
    return "; ".join(raised.value.problems)


def test_naming_one_policy_keeps_the_shipped_ladders(tmp_path):
    config = load_config(write(tmp_path, '[remediation.policy.process_down]\nladder = ["restart_service:{subject}"]\n'
                                         'mode = "auto"\n'), env={})
    assert config.remediation.policy_for("process_down") == ("auto", [ActionRef("restart_service", "{subject}")])
    assert config.remediation.policy_for("dns_failure")[0] == "dry-run"  # the installed default mode
    assert config.remediation.policy_for("high_cpu") == ("off", [])


@pytest.mark.parametrize("toml, expected", [
    ('[remediation.policy.dns_failure]\nladder = ["reboot"]', "unknown action 'reboot'"),
    ('[remediation.policy.dns_failure]\nladder = ["restart_service"]', "restart_service needs a target"),
    ('[remediation.policy.dns_failure]\nladder = ["flush_dns", "flush_dns"]', "never repeats blindly"),
    ('[remediation.policy.dns_failure]\nladder = ["custom:modem"]', "custom:modem, which [remediation.custom]"),
    ('[remediation.policy.dns_failure]\nmode = "sometimes"', "remediation.policy.dns_failure.mode"),
    ('[remediation]\nquiet_hours = "23-7"', "HH:MM-HH:MM"),
    ('[remediation.actions.reboot]\nmax_per_hour = 1', "unknown action 'reboot'"),
    ('[remediation.custom.modem]\nargv = []', "never a shell string"),
    ('[remediation.services.dnsmasq]\nrestart = [""]', "remediation.services.dnsmasq.restart"),
    ('[remediation]\nverify_window_s = 0', "remediation.verify_window_s = 0"),
])
def test_bad_remediation_config_names_the_key_and_the_problem(tmp_path, toml, expected):
    assert expected in problems(tmp_path, toml)


def test_a_custom_action_defined_and_named_in_a_ladder_is_accepted(tmp_path):
    config = load_config(write(tmp_path, '[remediation.custom.modem]\nargv = ["/bin/true"]\ndisruptive = false\n'
                                         '[remediation.policy.uplink_down]\nladder = ["custom:modem"]\n'), env={})
    assert config.remediation.disruptive(parse_ref("custom:modem")) is False


@pytest.mark.parametrize("quiet, minute, left", [
    ("23:00-07:00", 23 * 60, 480), ("23:00-07:00", 2 * 60 + 30, 270), ("23:00-07:00", 7 * 60, 0),
    ("23:00-07:00", 12 * 60, 0), ("01:00-03:00", 60 + 59.5, 60.5), ("", 0, 0), ("05:00-05:00", 300, 0),
])
def test_quiet_minutes_left_wraps_midnight(quiet, minute, left):
    assert quiet_minutes_left(quiet, minute) == pytest.approx(left)


def test_gates_count_only_the_last_hour():
    gates = SafetyGates(RemediationSection(actions={"flush_dns": {"max_per_hour": 2}}, min_disruptive_gap_s=0))
    ref = parse_ref("flush_dns")
    gates.record_run(ref, False, 0.0)
    gates.record_run(ref, False, 100.0)
    blocked = gates.check(ref, False, 200.0, 0.0)
    assert blocked is not None and blocked.not_before == 3600.0
    assert gates.check(ref, False, 3600.5, 0.0) is None
    assert gates.runs_last_hour(3600.5) == 1


def test_an_action_limited_to_zero_is_never_allowed():
    gates = SafetyGates(RemediationSection(actions={"restart_radio": {"max_per_hour": 0}}))
    blocked = gates.check(parse_ref("restart_radio"), True, 0.0, 0.0)
    assert blocked is not None and blocked.not_before == float("inf")


def test_a_fix_resets_the_backoff():
    gates = SafetyGates(RemediationSection(backoff_base_s=50))
    ref = parse_ref("flush_dns")
    gates.record_result(ref, fixed=False, mono=0.0)
    gates.record_result(ref, fixed=False, mono=10.0)
    assert gates.check(ref, False, 20.0, 0.0).not_before == 110.0
    gates.record_result(ref, fixed=True, mono=20.0)
    assert gates.check(ref, False, 20.0, 0.0) is None
