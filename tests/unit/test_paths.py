"""Where the agent keeps state and its socket: private modes whatever the umask, simulation kept apart from the
system's directories, and a runtime directory someone else controls refused before anything is said there."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from edge_agent.config import AgentConfig
from edge_agent.paths import (
    SERVICE_RUNTIME_DIR,
    UnsafeDirectory,
    agent_paths,
    control_socket_path,
    directory_problem,
    ensure_runtime_dir,
    ensure_state_dir,
    make_private,
)

from .support import shared_tmp

OTHER_UID = 65533  # no such user here: someone else, as far as the check can tell
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a directory owned by another user")


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_state_directory_is_made_0750_even_under_umask_000(tmp_path):
    state = tmp_path / "a" / "state"
    with umask(0):
        ensure_state_dir(state)
    assert mode(state) == 0o750
    assert mode(state.parent) == 0o750  # parents it had to make are no wider


def test_a_state_directory_an_older_agent_left_open_is_tightened_with_its_files(tmp_path):
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    journal = state / "events.jsonl"
    journal.write_text("{}\n")
    journal.chmod(0o666)
    ensure_state_dir(state)
    assert (mode(state), mode(journal)) == (0o750, 0o640)


def test_make_private_narrows_to_0640_and_never_widens(tmp_path):
    wide, narrow = tmp_path / "wide", tmp_path / "narrow"
    wide.write_text("x")
    narrow.write_text("x")
    wide.chmod(0o777)
    narrow.chmod(0o600)
    make_private(wide)
    make_private(narrow)
    make_private(tmp_path / "absent")  # nothing to do, no error
    assert (mode(wide), mode(narrow)) == (0o640, 0o600)


def test_a_hardware_agent_uses_the_configured_or_systemd_places(tmp_path):
    env = {"STATE_DIRECTORY": str(tmp_path / "state"), "RUNTIME_DIRECTORY": str(tmp_path / "run")}
    paths = agent_paths(AgentConfig(), env, simulated=False)
    assert (paths.state_dir, paths.socket_path, paths.run_dir) == (
        tmp_path / "state", tmp_path / "run" / "control.sock", None)


def test_a_simulated_run_gets_a_fresh_directory_of_its_own_never_the_system_ones(tmp_path):
    env = {"XDG_RUNTIME_DIR": str(tmp_path), "STATE_DIRECTORY": "/var/lib/edge-agent",
           "RUNTIME_DIRECTORY": str(SERVICE_RUNTIME_DIR)}
    first = agent_paths(AgentConfig(), env, simulated=True)
    second = agent_paths(AgentConfig(), env, simulated=True)
    assert first.run_dir != second.run_dir
    for paths in (first, second):
        assert paths.run_dir.parent == tmp_path and mode(paths.run_dir) == 0o700
        assert paths.state_dir.is_relative_to(paths.run_dir) and paths.socket_path.is_relative_to(paths.run_dir)


def test_a_simulated_run_without_a_runtime_directory_goes_to_the_temporary_directory(tmp_path):
    paths = agent_paths(AgentConfig(), {"TMPDIR": str(tmp_path)}, simulated=True)
    assert paths.run_dir.parent == tmp_path


def test_a_simulated_run_keeps_the_places_the_config_names(tmp_path):
    config = AgentConfig.model_validate({"agent": {"state_dir": str(tmp_path / "s")},
                                         "control": {"socket_path": str(tmp_path / "c.sock")}})
    paths = agent_paths(config, {}, simulated=True)
    assert (paths.state_dir, paths.socket_path, paths.run_dir) == (tmp_path / "s", tmp_path / "c.sock", None)


def test_a_non_root_socket_without_xdg_runtime_dir_goes_to_the_temporary_directory_named_by_tmpdir(
        tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr("edge_agent.paths.SERVICE_RUNTIME_DIR", tmp_path / "no-service")
    path = control_socket_path(AgentConfig(), {"TMPDIR": str(tmp_path)})
    assert path == tmp_path / "edge-agent-1000" / "edge-agent" / "control.sock"


def test_directories_of_root_and_of_this_user_are_trusted(tmp_path):
    assert directory_problem(tmp_path) is None
    assert directory_problem(Path("/")) is None
    assert directory_problem(tmp_path / "not" / "yet") is None  # nobody can listen there


def test_our_own_directory_in_a_sticky_shared_directory_is_trusted():
    with shared_tmp() as shared:
        mine = shared / "edge-agent-0"
        mine.mkdir(mode=0o700)
        assert directory_problem(mine) is None


def test_the_socket_directory_itself_must_not_be_writable_by_others():
    with shared_tmp() as shared:
        problem = directory_problem(shared)
    assert problem is not None and str(shared) in problem and "1777" in problem


@pytest.mark.parametrize("bits", [0o770, 0o757])
def test_a_group_or_world_writable_directory_above_is_refused(tmp_path, bits):
    above = tmp_path / "above"
    (above / "run").mkdir(parents=True)
    above.chmod(bits)
    assert f"{above} (owner" in directory_problem(above / "run")


@needs_root
def test_a_runtime_directory_another_user_made_in_a_shared_directory_is_refused_naming_it_and_its_owner():
    with shared_tmp() as shared:
        spoofed = shared / "edge-agent-0"
        spoofed.mkdir(mode=0o755)
        os.chown(spoofed, OTHER_UID, OTHER_UID)
        problem = directory_problem(spoofed / "edge-agent")
    assert problem is not None
    assert str(spoofed) in problem and f"uid {OTHER_UID}" in problem


@needs_root
def test_a_symlink_another_user_planted_is_refused_even_when_it_points_at_our_directory(tmp_path):
    with shared_tmp() as shared:
        link = shared / "edge-agent-0"
        link.symlink_to(tmp_path)
        os.lchown(link, OTHER_UID, OTHER_UID)
        problem = directory_problem(link)
    assert problem is not None and str(link) in problem


@needs_root
def test_a_directory_root_handed_to_another_user_is_trusted(tmp_path):
    # /run/edge-agent under systemd: made by root in root's /run, owned by the service user.
    handed = tmp_path / "edge-agent"
    handed.mkdir(mode=0o750)
    os.chown(handed, OTHER_UID, OTHER_UID)
    assert directory_problem(handed) is None


@needs_root
def test_the_agent_refuses_a_spoofed_runtime_directory_and_creates_nothing_inside_it():
    with shared_tmp() as shared:
        spoofed = shared / "edge-agent-0"
        spoofed.mkdir()
        spoofed.chmod(0o777)
        os.chown(spoofed, OTHER_UID, OTHER_UID)
        with pytest.raises(UnsafeDirectory, match=f"{spoofed}.*uid {OTHER_UID}"):
            ensure_runtime_dir(spoofed / "edge-agent")
        assert list(spoofed.iterdir()) == []


def test_a_runtime_directory_is_made_in_a_sticky_shared_temporary_directory():
    # A non-root agent without XDG_RUNTIME_DIR: its socket goes to /tmp/edge-agent-UID/edge-agent.
    with shared_tmp() as shared:
        runtime = shared / f"edge-agent-{os.geteuid()}" / "edge-agent"
        ensure_runtime_dir(runtime)
        assert runtime.is_dir() and runtime.parent.stat().st_uid == os.geteuid()


def test_the_runtime_directory_is_made_0755_under_umask_000_and_its_parents_too(tmp_path):
    runtime = tmp_path / "x" / "edge-agent"
    with umask(0):
        ensure_runtime_dir(runtime)
    assert (mode(runtime.parent), mode(runtime)) == (0o755, 0o755)


def test_older_simulated_run_directories_are_pruned_but_a_running_ones_and_others_files_stay(tmp_path):
    import socket
    import time

    from edge_agent.paths import prune_simulation_dirs

    runs = []
    for i in range(8):
        run = tmp_path / f"edge-agent-sim-{i}"
        (run / "state").mkdir(parents=True)
        (run / "state" / "journal.jsonl").write_text("{}\n")
        runs.append(run)
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # the oldest run's agent still answers
    live.bind(str(runs[0] / "control.sock"))
    live.listen(1)
    for i, run in enumerate(runs):
        os.utime(run, (time.time() - 100 + i, time.time() - 100 + i))
    (tmp_path / "edge-agent-sim-file").write_text("not a directory")
    (tmp_path / "unrelated").mkdir()
    try:
        removed = prune_simulation_dirs(tmp_path, keep=3)
    finally:
        live.close()
    assert sorted(removed) == sorted(runs[1:5])
    assert all(run.exists() for run in [runs[0], *runs[5:]])
    assert (tmp_path / "edge-agent-sim-file").exists() and (tmp_path / "unrelated").exists()


def test_a_new_simulation_dir_prunes_the_old_ones_in_its_base(tmp_path):
    from edge_agent.paths import KEEP_SIMULATION_DIRS, new_simulation_dir

    made = [new_simulation_dir({"TMPDIR": str(tmp_path)}) for _ in range(KEEP_SIMULATION_DIRS + 4)]
    left = sorted(tmp_path.glob("edge-agent-sim-*"))
    assert len(left) == KEEP_SIMULATION_DIRS + 1 and made[-1] in left
