"""What a new technician meets first: the command list, and a way out of every dead end (no agent, no access,
a config path that is wrong)."""

from __future__ import annotations

import grp
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from edge_agent.cli import main
from edge_agent.exit_codes import EX_CONFIG, EX_NOPERM, EX_OK

from .support import short_socket_dir
from .test_cli_socket_trust import TECHNICIAN_UID, python_for

# The commands the README walks a technician through; `edge-agent --help` must list every one.
README_COMMANDS = ["run", "status", "issues", "diagnose", "reload", "remediate", "actions", "demo", "sim", "fleet",
                   "camera", "config"]


@pytest.fixture(autouse=True)
def no_config_from_the_environment(monkeypatch):
    monkeypatch.delenv("EDGE_AGENT_CONFIG", raising=False)


def test_help_lists_every_command_with_what_it_does(capsys):
    assert main(["--help"]) == EX_OK
    out = capsys.readouterr().out
    listed = {line.split()[0] for line in out.splitlines() if line.startswith("    ") and line.split()}
    assert set(README_COMMANDS) <= listed


@pytest.mark.parametrize("command", ["status", "issues", "actions", "reload"])
def test_a_config_path_that_does_not_exist_is_named_with_the_check_that_explains_it(command, tmp_path, capsys):
    missing = tmp_path / "edge-agent.toml"
    main([command, "--config", str(missing)])  # whether an agent answers on the default socket does not matter
    warning = capsys.readouterr().err.splitlines()[0]
    assert f"{missing}: file not found" in warning and f"edge-agent config check {missing}" in warning


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a socket only one group may use")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux) to switch user")
def test_a_technician_outside_the_agents_group_is_told_which_group_to_join():
    try:
        group = grp.getgrnam("users")
    except KeyError:
        pytest.skip("no 'users' group on this machine to give the socket to")
    python = python_for(TECHNICIAN_UID)
    if python is None:
        pytest.skip("no Python interpreter the nobody user may run with this project importable")
    with short_socket_dir(mode=0o755) as directory, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        path = directory / "control.sock"
        listener.bind(str(path))
        listener.listen(1)
        os.chown(path, 0, group.gr_gid)
        os.chmod(path, 0o660)
        cli = subprocess.run([*python, "-m", "edge_agent", "status", "--socket", str(path)],
                             capture_output=True, text=True, cwd="/", timeout=30)
    assert cli.returncode == EX_NOPERM, cli.stderr
    assert f"permission denied on {path}" in cli.stderr
    assert "group users" in cli.stderr and "usermod -aG users" in cli.stderr


@pytest.mark.parametrize("command", [["status"], ["diagnose"], ["camera", "check"]])
def test_an_installed_config_the_technician_may_not_read_says_who_may(command, monkeypatch, capsys):
    class Unreadable(type(Path())):
        def exists(self, *args, **kwargs) -> bool:
            raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr("edge_agent.config.DEFAULT_CONFIG_PATH", Unreadable("/etc/edge-agent/edge-agent.toml"))
    assert main(command) == EX_NOPERM
    line = capsys.readouterr().err.strip()
    assert line.startswith("edge-agent: permission denied on /etc/edge-agent/edge-agent.toml: ")
    assert "member of the agent's group" in line


@pytest.mark.parametrize("key", ["group", "admin_group"])
def test_a_socket_group_this_machine_lacks_is_one_config_error_for_check_and_run(key, tmp_path, capsys):
    config = tmp_path / "edge-agent.toml"
    config.write_text(f"[agent]\nstate_dir = '{tmp_path / 'state'}'\n[control]\n{key} = 'no-such-group-7'\n")
    assert main(["config", "check", str(config)]) == EX_CONFIG
    assert main(["run", "--simulate", "--config", str(config)]) == EX_CONFIG
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"edge-agent: config error in {config}: control.{key} = 'no-such-group-7': no such group on "
                     "this machine (create it with `groupadd --system no-such-group-7`, or remove the key)"] * 2
