"""The technician's command line: exit codes from sysexits.h, one line per problem, no tracebacks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from edge_agent.agent.control import ControlServer, RequestRefused
from edge_agent.cli import EX_CONFIG, EX_OK, EX_UNAVAILABLE, main
from edge_agent.exit_codes import (
    EX_CANTCREAT,
    EX_INTERRUPTED,
    EX_IOERR,
    EX_NOPERM,
    EX_SOFTWARE,
    EX_USAGE,
    MEANINGS,
)

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


def says_how_to_start_the_agent(line: str) -> bool:
    """The way out a technician needs: the installed unit, or the socket of an agent started by hand."""
    return "systemctl start edge-agent" in line and "--socket" in line


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
    assert captured.err.startswith(f"edge-agent: the agent is not running (no control socket at {path}): ")
    assert says_how_to_start_the_agent(only_line(captured.err))
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


def test_no_command_is_a_usage_error_in_one_line(capsys):
    assert exit_status([]) == EX_USAGE
    captured = capsys.readouterr()
    assert captured.err == "edge-agent: the following arguments are required: COMMAND (see `edge-agent --help`)\n"
    assert captured.out == ""


def test_version_option_prints_the_version_and_returns_0(capsys):
    assert exit_status(["--version"]) == EX_OK
    assert capsys.readouterr().out.startswith("edge-agent 0.1.0")


def test_help_lists_every_exit_code(capsys):
    assert exit_status(["--help"]) == EX_OK
    out = capsys.readouterr().out
    for code in MEANINGS:
        assert f"\n  {code:>3}  " in out


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
    assert exit_status(["remediate", "--socket", str(agent_socket)]) == EX_USAGE
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
    assert exit_status(["sim", "run", "no-such"]) == EX_USAGE
    assert "no scenario 'no-such'; shipped:" in capsys.readouterr().err


def test_sim_run_prints_the_report_table_and_exits_0_when_it_passes(capsys):
    assert exit_status(["sim", "run", "gateway-mac-swap"]) == EX_OK
    out = capsys.readouterr().out
    assert "gateway-mac-swap" in out and "PASS" in out and "1 of 1 scenarios passed" in out


# Every expected condition ends with one line on stderr and a documented exit code, never a traceback.
def only_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def cli_process(*argv: str) -> list[str]:
    """The command line of a real `edge-agent` process (for pipes and signals, which main() alone cannot show)."""
    return [sys.executable, "-m", "edge_agent", *argv]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("EDGE_AGENT_")}


@pytest.mark.parametrize("argv", [
    ["bogus"], ["sim"], ["fleet"], ["camera"], ["status", "--no-such-option"], ["actions", "--limit", "many"],
    ["run", "--speed", "nan"], ["run", "--speed", "-1"], ["remediate", "flush_dns", "--wait", "inf"],
    ["fleet", "report", "events.jsonl", "--since", "nan"],
])
def test_a_bad_command_line_is_one_line_naming_the_command_and_ex_usage(argv, capsys):
    assert exit_status(argv) == EX_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    line = only_line(captured.err)
    assert line.startswith("edge-agent: ") and line.endswith("--help`)")


def test_a_socket_nobody_listens_on_is_reported_as_such(short_tmp, capsys):
    stale = short_tmp / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(stale))
    assert exit_status(["issues", "--socket", str(stale)]) == EX_UNAVAILABLE
    line = only_line(capsys.readouterr().err)
    assert line.startswith(f"edge-agent: the agent is not running (nothing listens on {stale}): ")
    assert says_how_to_start_the_agent(line)


def answer_once(path: Path, reply: dict[str, Any]) -> threading.Thread:
    """A fake agent that answers one request with `reply`."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def serve() -> None:
        with listener, listener.accept()[0] as conn:
            conn.makefile("rb").readline()
            conn.sendall(json.dumps(reply).encode() + b"\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_permission_denied_by_the_agent_is_one_line_and_ex_noperm(short_tmp, capsys):
    path = short_tmp / "ctl.sock"
    denied = {"ok": False, "error": "permission denied: reload is for root or the admin group", "denied": True}
    server = answer_once(path, denied)
    assert exit_status(["reload", "--socket", str(path)]) == EX_NOPERM
    server.join(timeout=5)
    assert only_line(capsys.readouterr().err) == f"edge-agent: {denied['error']}"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("simulate", [[], ["--simulate"]])
def test_a_second_run_is_refused_in_one_line_before_anything_starts(tmp_path, agent_socket, capsys, simulate):
    state = tmp_path / "state"
    config = write_toml(tmp_path, f"[agent]\nstate_dir = '{state}'\n[control]\nsocket_path = '{agent_socket}'\n")
    assert exit_status(["run", *simulate, "--config", str(config)]) == EX_CANTCREAT
    assert only_line(capsys.readouterr().err) == f"edge-agent: another agent is already listening on {agent_socket}"
    assert not state.exists()
    assert exit_status(["status", "--socket", str(agent_socket)]) == EX_OK  # the first one is untouched


def test_run_refuses_a_control_socket_path_taken_by_a_regular_file(tmp_path, short_tmp, capsys):
    taken = short_tmp / "ctl.sock"
    taken.write_text("not a socket")
    config = write_toml(tmp_path, f"[agent]\nstate_dir = '{tmp_path / 'state'}'\n[control]\nsocket_path = '{taken}'\n")
    assert exit_status(["run", "--config", str(config)]) == EX_CANTCREAT
    assert "exists and is not a socket" in only_line(capsys.readouterr().err)
    assert taken.read_text() == "not a socket"


def run_into_closed_pipe(*argv: str) -> subprocess.CompletedProcess:
    """The command with its stdout a pipe whose reader has already gone, as `edge-agent issues | head` ends."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(cli_process(*argv), stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60,
                              env=clean_env())
    finally:
        os.close(write_end)


@pytest.mark.parametrize("argv", [["sim", "list"], ["--help"], ["issues", "--json"], ["actions"]])
def test_output_into_a_closed_pipe_is_one_line_and_ex_ioerr(argv, agent_socket):
    socket_option = ["--socket", str(agent_socket)] if argv[0] in ("issues", "actions") else []
    finished = run_into_closed_pipe(*argv, *socket_option)
    assert finished.returncode == EX_IOERR
    assert finished.stderr == "edge-agent: the output was closed before it was all written\n"


@pytest.mark.timeout(60)
def test_ctrl_c_while_waiting_for_the_agent_is_one_line_and_130(short_tmp):
    path = short_tmp / "mute.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as mute:
        mute.bind(str(path))
        mute.listen(1)
        mute.settimeout(30)
        cli = subprocess.Popen(cli_process("status", "--socket", str(path)), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=clean_env())
        try:
            connection, _ = mute.accept()  # the command is inside main(), waiting for the agent's answer
            cli.send_signal(signal.SIGINT)
            out, err = cli.communicate(timeout=30)
            connection.close()
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait()
    assert cli.returncode == EX_INTERRUPTED
    assert (out, err) == ("", "edge-agent: interrupted\n")


def test_run_with_a_state_directory_it_cannot_create_is_one_line_naming_it(tmp_path, short_tmp):
    blocker = tmp_path / "plain"
    blocker.write_text("")
    config = write_toml(tmp_path, f"[agent]\nstate_dir = '{blocker / 'state'}'\n"
                                  f"[control]\nsocket_path = '{short_tmp / 'ctl.sock'}'\n")
    finished = subprocess.run(cli_process("run", "--simulate", "--config", str(config)), capture_output=True,
                              text=True, timeout=60, env=clean_env())
    assert finished.returncode == EX_IOERR
    assert finished.stderr == f"edge-agent: {blocker / 'state'}: Not a directory\n"


def test_an_answer_the_views_cannot_show_is_an_internal_error_in_one_line(short_tmp, capsys, monkeypatch):
    with serving(short_tmp / "ctl.sock", {"status": lambda args: {"device_id": "gw-7"}}) as control:
        assert exit_status(["status", "--socket", str(control.path)]) == EX_SOFTWARE
        line = only_line(capsys.readouterr().err)
        assert line.startswith("edge-agent: internal error: KeyError") and "EDGE_AGENT_DEBUG=1" in line
        monkeypatch.setenv("EDGE_AGENT_DEBUG", "1")
        with pytest.raises(KeyError):
            main(["status", "--socket", str(control.path)])
