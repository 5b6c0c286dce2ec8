"""The technician's command line: exit codes from sysexits.h, one line per problem, no tracebacks."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from edge_agent.agent.control import ControlServer, RequestRefused
from edge_agent.cli import EX_CONFIG, EX_OK, EX_UNAVAILABLE, main

from .support import example_issue, example_kpis, example_status, serving, short_socket_dir

OPEN_ISSUE = example_issue("open", "wlan0", "Move the access point to a quieter channel.")


class AgentHandlers(dict):
    """What a running agent answers on its control socket, remembering the arguments it was asked with."""

    def __init__(self) -> None:
        super().__init__(status=self.status, issues=self.issues, remediate=self.remediate, actions=self.actions)
        self.issue_args: list[Mapping[str, Any]] = []
        self.remediate_args: list[Mapping[str, Any]] = []

    def status(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return example_status()

    def issues(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.issue_args.append(dict(args))
        return [OPEN_ISSUE]

    def remediate(self, args: Mapping[str, Any]) -> dict[str, Any]:
        self.remediate_args.append(dict(args))
        if args["action"] == "restart_service:hostapd":
            raise RequestRefused("rate limit: restart_service at most 3 per hour; allowed again in 1200 s")
        return {"action_id": "a1", "dry_run": False, "state": "running", "action": args["action"]}

    def actions(self, args: Mapping[str, Any]) -> dict[str, Any]:
        entry = {"ts": 1_700_000_000.0, "outcome": "completed", "name": "restart_service", "target": "dnsmasq",
                 "issue_type": None, "subject": None, "origin": "cli", "reason": "restart succeeded"}
        return {"entries": [entry], "cases": [], "kpis": example_kpis()}


@pytest.fixture(scope="module")
def running_agent() -> Iterator[ControlServer]:
    """One agent for the module: each stop of a control server costs half a second."""
    with short_socket_dir() as socket_dir, serving(socket_dir / "ctl.sock", AgentHandlers()) as control:
        yield control


@pytest.fixture
def agent_handlers(running_agent: ControlServer) -> AgentHandlers:
    running_agent.handlers.issue_args.clear()
    return running_agent.handlers


@pytest.fixture
def agent_socket(running_agent: ControlServer, agent_handlers: AgentHandlers) -> Path:
    return running_agent.path


@pytest.fixture(autouse=True)
def no_config_from_the_environment(monkeypatch):
    for var in ("EDGE_AGENT_CONFIG", "EDGE_AGENT_MQTT_USERNAME", "EDGE_AGENT_MQTT_PASSWORD"):
        monkeypatch.delenv(var, raising=False)


def exit_status(argv: list[str]) -> int:
    """main() returns the exit status for every subcommand; it never raises SystemExit on its own errors."""
    return main(argv)


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge-agent.toml"
    path.write_text(text)
    return path


def test_config_check_of_a_bad_file_exits_with_ex_config(tmp_path):
    assert exit_status(["config", "check", str(write_toml(tmp_path, "[issues]\nopen_after = 0\n"))]) == EX_CONFIG


def test_config_check_prints_one_line_per_problem_naming_file_and_key(tmp_path, capsys):
    path = write_toml(tmp_path, "[issues]\nopen_after = 0\n[mqtt]\nprot = 1883\n")
    exit_status(["config", "check", str(path)])
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"edge-agent: config error in {path}: issues.open_after = 0:")
    assert lines[1].startswith(f"edge-agent: config error in {path}: mqtt.prot: unknown key")


def test_config_check_of_a_bad_file_prints_nothing_on_stdout(tmp_path, capsys):
    exit_status(["config", "check", str(write_toml(tmp_path, "[issues]\nopen_after = 0\n"))])
    assert capsys.readouterr().out == ""


def test_config_check_of_a_missing_file_says_so(tmp_path, capsys):
    path = tmp_path / "absent.toml"
    assert exit_status(["config", "check", str(path)]) == EX_CONFIG
    assert capsys.readouterr().err == f"edge-agent: config error in {path}: file not found\n"


def test_config_check_of_a_valid_file_prints_the_effective_config_as_json(tmp_path, capsys):
    path = write_toml(tmp_path, "[issues]\nopen_after = 5\n")
    assert exit_status(["config", "check", str(path)]) == EX_OK
    captured = capsys.readouterr()
    assert json.loads(captured.out)["issues"]["open_after"] == 5
    assert captured.err == f"edge-agent: {path} is valid\n"


def test_config_check_does_not_print_the_mqtt_password(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EDGE_AGENT_MQTT_PASSWORD", "hunter2")
    exit_status(["config", "check", str(write_toml(tmp_path, "[mqtt]\nhost = 'broker'\n"))])
    assert "hunter2" not in capsys.readouterr().out


def test_status_when_the_agent_is_not_running_exits_ex_unavailable(short_tmp):
    assert exit_status(["status", "--socket", str(short_tmp / "absent.sock")]) == EX_UNAVAILABLE


def test_status_when_the_agent_is_not_running_says_so_in_one_line_without_traceback(short_tmp, capsys):
    path = short_tmp / "absent.sock"
    exit_status(["status", "--socket", str(path)])
    captured = capsys.readouterr()
    assert captured.err == f"edge-agent: the agent is not running (no control socket at {path})\n"
    assert captured.out == ""


def test_status_finds_the_socket_named_in_the_config_file(tmp_path, short_tmp, capsys):
    path = short_tmp / "from-config.sock"
    config = write_toml(tmp_path, f"[control]\nsocket_path = '{path}'\n")
    assert exit_status(["status", "--config", str(config)]) == EX_UNAVAILABLE
    assert str(path) in capsys.readouterr().err


def test_status_shows_the_running_agent_in_words(agent_socket, capsys):
    assert exit_status(["status", "--socket", str(agent_socket)]) == EX_OK
    assert capsys.readouterr().out.startswith("edge-agent 0.1.0 on gw-7 (site site-3)")


def test_status_json_prints_the_agents_answer_unchanged(agent_socket, capsys):
    assert exit_status(["status", "--socket", str(agent_socket), "--json"]) == EX_OK
    assert json.loads(capsys.readouterr().out) == example_status()


def test_status_reaches_the_agent_through_a_config_file_that_has_other_errors(tmp_path, agent_socket, capsys):
    config = write_toml(tmp_path, f"[control]\nsocket_path = '{agent_socket}'\n[issues]\nopen_after = 0\n")
    assert exit_status(["status", "--config", str(config)]) == EX_OK
    captured = capsys.readouterr()
    assert captured.out.startswith("edge-agent 0.1.0 on gw-7")
    assert "warning" in captured.err


def test_issues_asks_for_resolved_ones_too_by_default(agent_socket, agent_handlers):
    exit_status(["issues", "--socket", str(agent_socket)])
    assert agent_handlers.issue_args == [{"all": True}]


def test_issues_open_asks_only_for_unresolved_ones(agent_socket, agent_handlers):
    exit_status(["issues", "--socket", str(agent_socket), "--open"])
    assert agent_handlers.issue_args == [{"all": False}]


def test_issues_shows_guidance_for_an_open_issue(agent_socket, capsys):
    assert exit_status(["issues", "--socket", str(agent_socket)]) == EX_OK
    assert "Move the access point to a quieter channel." in capsys.readouterr().out


def test_no_command_prints_help_and_exits_with_usage_error(capsys):
    assert exit_status([]) == 2
    assert "usage: edge-agent" in capsys.readouterr().out


def test_version_option_prints_the_version(capsys):
    with pytest.raises(SystemExit) as stop:  # argparse's own --version exits
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("edge-agent 0.1.0")


def test_run_with_a_bad_config_exits_ex_config_before_starting(tmp_path, capsys):
    assert exit_status(["run", "--config", str(write_toml(tmp_path, "[agent]\nlog_level = 'loud'\n"))]) == EX_CONFIG
    assert "agent.log_level = 'loud'" in capsys.readouterr().err


def test_run_refuses_to_start_with_a_key_file_everyone_can_read(tmp_path, capsys):
    key = tmp_path / "gw.key"
    key.write_text("secret key material\n")
    key.chmod(0o644)
    path = write_toml(tmp_path, f"[mqtt]\nkey_file = '{key}'\n")
    assert exit_status(["run", "--config", str(path)]) == EX_CONFIG
    err = capsys.readouterr().err
    assert "mqtt.key_file" in err and "readable by every user" in err and "secret key material" not in err


def test_remediate_needs_an_action_or_an_issue_to_approve(agent_socket, capsys):
    assert exit_status(["remediate", "--socket", str(agent_socket)]) == 64
    assert "name an ACTION, or --approve ISSUE_ID" in capsys.readouterr().err


def test_remediate_follows_the_action_to_its_outcome(agent_socket, agent_handlers, capsys):
    assert exit_status(["remediate", "restart_service:dnsmasq", "--socket", str(agent_socket)]) == EX_OK
    out = capsys.readouterr().out
    assert "restart_service:dnsmasq: running" in out and "completed: restart succeeded" in out
    assert agent_handlers.remediate_args[-1] == {"action": "restart_service:dnsmasq", "issue_id": None,
                                                 "dry_run": False}


def test_remediate_refused_by_the_agent_says_why_and_exits_1(agent_socket, capsys):
    assert exit_status(["remediate", "restart_service:hostapd", "--socket", str(agent_socket)]) == 1
    assert "refused: rate limit: restart_service at most 3 per hour" in capsys.readouterr().err


def test_actions_shows_the_audit_log_and_the_kpis(agent_socket, capsys):
    assert exit_status(["actions", "--socket", str(agent_socket)]) == EX_OK
    out = capsys.readouterr().out
    assert "completed" in out and "restart_service:dnsmasq" in out
    assert "issues detected 4, resolved 3 (2 by an action, 1 before becoming an outage), escalated 1" in out


def test_sim_list_names_every_shipped_scenario(capsys):
    assert exit_status(["sim", "list"]) == EX_OK
    out = capsys.readouterr().out
    assert "dns-hang-restart" in out and "healthy-quiet-evening" in out


def test_sim_run_of_an_unknown_scenario_says_which_exist(capsys):
    assert exit_status(["sim", "run", "no-such"]) == 64
    assert "no scenario 'no-such'; shipped:" in capsys.readouterr().err


def test_sim_run_prints_the_report_table_and_exits_0_when_it_passes(capsys):
    assert exit_status(["sim", "run", "gateway-mac-swap"]) == EX_OK
    out = capsys.readouterr().out
    assert "gateway-mac-swap" in out and "PASS" in out and "1 of 1 scenarios passed" in out
