"""The CLI says nothing to a control socket in a directory someone else controls: a spoofed socket there would
answer a technician's `remediate` with a fake reply."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from edge_agent.cli import main
from edge_agent.exit_codes import EX_NOPERM
from edge_agent.paths import SERVICE_RUNTIME_DIR

from .support import shared_tmp

OTHER_UID = 65533  # whoever got to the shared directory first
TECHNICIAN_UID = 65534  # nobody: a non-root technician without XDG_RUNTIME_DIR
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a directory owned by another user")


@contextmanager
def spoofed_socket(shared: Path, owner_of: str) -> Iterator[tuple[Path, socket.socket]]:
    """Another user's directory in a sticky shared one, with a socket listening in it (made by root here)."""
    spoofed = shared / owner_of
    (spoofed / "edge-agent").mkdir(parents=True)
    path = spoofed / "edge-agent" / "control.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(8)
    os.chmod(path, 0o666)
    for directory in (spoofed / "edge-agent", spoofed):
        directory.chmod(0o777)
        os.chown(directory, OTHER_UID, OTHER_UID)
    try:
        yield path, listener
    finally:
        listener.close()


def nobody_connected(listener: socket.socket) -> bool:
    listener.setblocking(False)
    try:
        listener.accept()[0].close()
    except BlockingIOError:
        return True
    return False


@needs_root
def test_remediate_to_a_socket_in_another_users_directory_is_refused_before_connecting(capsys):
    with shared_tmp() as shared, spoofed_socket(shared, "edge-agent-0") as (path, listener):
        status = main(["remediate", "restart_service:dnsmasq", "--socket", str(path)])
        assert nobody_connected(listener)
    err = capsys.readouterr().err
    assert status == EX_NOPERM
    assert str(path.parent.parent) in err and f"uid {OTHER_UID}" in err


@needs_root
def test_run_refuses_a_socket_directory_someone_else_controls_before_asking_who_listens(capsys, tmp_path: Path):
    with shared_tmp() as shared, spoofed_socket(shared, "edge-agent-0") as (path, listener):
        config = tmp_path / "agent.toml"
        config.write_text(f'[agent]\nstate_dir = "{tmp_path / "state"}"\n[control]\nsocket_path = "{path}"\n'
                          '[premises]\nmode = "simulated"\n')
        status = main(["run", "--config", str(config)])
        assert nobody_connected(listener)  # not even asked whether an agent listens there
    assert status == EX_NOPERM and f"uid {OTHER_UID}" in capsys.readouterr().err
    assert not (tmp_path / "state").exists()


def python_for(uid: int) -> list[str] | None:
    """An interpreter another user may run, with this project and its dependencies importable; None if none."""
    site = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    project = str(Path(__file__).resolve().parents[2])
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join([project, *site])}
    for python in (sys.executable, "/usr/bin/python3"):
        probe = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "env", "-i",
                                *(f"{k}={v}" for k, v in env.items()), python, "-c", "import edge_agent.cli"],
                               capture_output=True, cwd="/", timeout=30)
        if probe.returncode == 0:
            return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "env", "-i",
                    *(f"{k}={v}" for k, v in env.items()), python]
    return None


@needs_root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux) to switch user")
def test_a_technician_without_xdg_runtime_dir_is_not_answered_by_a_squatted_temporary_directory():
    if SERVICE_RUNTIME_DIR.is_dir():
        pytest.skip(f"{SERVICE_RUNTIME_DIR} exists here: a non-root CLI looks there, not in the temporary directory")
    python = python_for(TECHNICIAN_UID)
    if python is None:
        pytest.skip("no Python interpreter the nobody user may run with this project importable")
    with shared_tmp() as shared, spoofed_socket(shared, f"edge-agent-{TECHNICIAN_UID}") as (path, listener):
        cli = subprocess.run([*python[:-1], f"TMPDIR={shared}", python[-1], "-m", "edge_agent", "remediate",
                              "restart_service:dnsmasq"], capture_output=True, text=True, cwd="/", timeout=30)
        assert nobody_connected(listener)
    assert cli.returncode == EX_NOPERM, cli.stderr
    assert str(path.parent.parent) in cli.stderr and f"uid {OTHER_UID}" in cli.stderr
