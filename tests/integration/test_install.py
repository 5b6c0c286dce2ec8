"""scripts/install.sh in a throwaway root: layout, ownership, idempotence, a kept config, uninstall, purge."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "install.sh"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="install.sh runs as root (CI does)")


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (etc / "group").write_text("root:x:0:\n")
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    (etc / "gshadow").write_text("root:*::\n")
    return tmp_path


def install(root: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["bash", str(INSTALL), "--root", str(root), "--pip-arg", "--no-deps", *args],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def account(root: Path, table: str) -> str | None:
    return next((line for line in (root / "etc" / table).read_text().splitlines()
                 if line.startswith("edge-agent:")), None)


def test_install_lays_out_program_config_state_unit_and_account(fake_root: Path):
    host_accounts = Path("/etc/passwd").read_text()
    out = install(fake_root).stdout
    assert Path("/etc/passwd").read_text() == host_accounts  # the throwaway root only
    uid = int(account(fake_root, "passwd").split(":")[2])
    gid = int(account(fake_root, "group").split(":")[2])

    version = subprocess.run([fake_root / "opt/edge-agent/venv/bin/edge-agent", "--version"],
                             capture_output=True, text=True, check=True)
    assert version.stdout.startswith("edge-agent ")
    config = fake_root / "etc/edge-agent/edge-agent.toml"
    assert config.read_text() == (REPO / "config/edge-agent.toml").read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o640 and config.stat().st_gid == gid
    assert f"{config} is valid" in out
    state = fake_root / "var/lib/edge-agent"
    assert (state.stat().st_uid, state.stat().st_gid, stat.S_IMODE(state.stat().st_mode)) == (uid, gid, 0o750)
    assert (fake_root / "etc/systemd/system/edge-agent.service").read_text() == \
        (REPO / "systemd/edge-agent.service").read_text()
    assert (fake_root / "etc/polkit-1/rules.d/50-edge-agent.rules").exists()
    assert "systemctl status edge-agent" in out
    documentation = next(line for line in (REPO / "systemd/edge-agent.service").read_text().splitlines()
                         if line.startswith("Documentation="))
    for uri in documentation.removeprefix("Documentation=").split():  # what `systemctl status` shows as Docs
        assert (fake_root / uri.removeprefix("file:///")).is_file(), uri
    # `sudo edge-agent …` as the README says: the command is on PATH, pointing where the installed system has it.
    assert os.readlink(fake_root / "usr/local/bin/edge-agent") == "/opt/edge-agent/venv/bin/edge-agent"


def test_a_second_install_changes_nothing_and_keeps_a_changed_config(fake_root: Path):
    install(fake_root)
    outbox = fake_root / "var/lib/edge-agent/outbox.sqlite"
    outbox.write_bytes(b"events not yet delivered")
    config = fake_root / "etc/edge-agent/edge-agent.toml"
    config.write_text(config.read_text().replace('# device_id = "gw-0001"', 'device_id = "gw-0042"'))
    second = install(fake_root).stdout

    assert 'device_id = "gw-0042"' in config.read_text()
    assert outbox.read_bytes() == b"events not yet delivered"  # an upgrade keeps the state
    assert (fake_root / "etc/edge-agent/edge-agent.toml.dist").read_text() == \
        (REPO / "config/edge-agent.toml").read_text()
    assert "kept your" in second
    assert [line for line in (fake_root / "etc/passwd").read_text().splitlines()
            if line.startswith("edge-agent:")] == [account(fake_root, "passwd")]


def test_an_upgrade_replaces_the_old_default_config_nobody_changed(fake_root: Path):
    install(fake_root)
    config = fake_root / "etc/edge-agent/edge-agent.toml"
    old_default = "# the default an older version shipped\n" + config.read_text()
    config.write_text(old_default)  # as the older install left it ...
    (fake_root / "opt/edge-agent/edge-agent.toml.shipped").write_text(old_default)  # ... and remembered it
    out = install(fake_root).stdout
    assert config.read_text() == (REPO / "config/edge-agent.toml").read_text()
    assert not (fake_root / "etc/edge-agent/edge-agent.toml.dist").exists()
    assert "updated" in out and "kept your" not in out


def test_the_installed_config_is_the_production_one_and_passes_config_check_without_a_warning(fake_root: Path):
    install(fake_root)
    config = fake_root / "etc/edge-agent/edge-agent.toml"
    check = subprocess.run([fake_root / "opt/edge-agent/venv/bin/edge-agent", "config", "check", str(config)],
                           capture_output=True, text=True, env={**os.environ, "EDGE_AGENT_MODELS_DIR":
                                                                str(fake_root / "opt/edge-agent/models")})
    assert check.returncode == 0, check.stderr
    assert check.stderr == f"edge-agent: {config} is valid\n"  # no demo value left in
    effective = json.loads(check.stdout)
    assert effective["remediation"]["default_mode"] == "dry-run"
    assert effective["premises"]["mode"] == "hardware"
    assert "gw-demo" not in effective["agent"]["device_id"]
    assert "simulation" not in tomllib.loads(config.read_text())  # no scripted faults to mistake for real ones


def test_an_upgrade_says_when_the_kept_config_no_longer_passes_the_check(fake_root: Path):
    install(fake_root)
    config = fake_root / "etc/edge-agent/edge-agent.toml"
    config.write_text(config.read_text().replace('# socket_path = "/run/edge-agent/control.sock"', 'socket_path = ""'))
    out = install(fake_root)
    assert "control.socket_path" in out.stderr and "has the problems above" in out.stdout


def test_an_upgrade_whose_agent_would_refuse_the_config_the_running_one_accepts_changes_nothing(fake_root: Path):
    """A stricter check in a new version must not stop a working gateway at the upgrade's restart."""
    install(fake_root)
    config = fake_root / "etc/edge-agent/edge-agent.toml"
    config.write_text(config.read_text().replace('# socket_path = "/run/edge-agent/control.sock"', 'socket_path = ""'))
    installed = fake_root / "opt/edge-agent/venv/bin/edge-agent"
    installed.write_text("#!/bin/sh\nexit 0\n")  # the installed agent, an older one that accepts this file
    before = {path: path.read_bytes() for path in (installed, config)}

    result = subprocess.run(["bash", str(INSTALL), "--root", str(fake_root), "--pip-arg", "--no-deps"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 78, result.stdout + result.stderr
    assert "control.socket_path" in result.stderr and "nothing was changed" in result.stderr
    assert {path: path.read_bytes() for path in before} == before  # neither the program nor the config touched
    assert not (fake_root / "etc/edge-agent/edge-agent.toml.dist").exists()


def test_uninstall_keeps_config_and_state_and_purge_removes_everything(fake_root: Path):
    install(fake_root)
    (fake_root / "var/lib/edge-agent/outbox.sqlite").write_bytes(b"queued events")
    install(fake_root, "--uninstall")
    assert not (fake_root / "opt/edge-agent").exists()
    assert not (fake_root / "etc/systemd/system/edge-agent.service").exists()
    assert not (fake_root / "usr/local/bin/edge-agent").is_symlink()
    assert (fake_root / "var/lib/edge-agent/outbox.sqlite").read_bytes() == b"queued events"
    assert (fake_root / "etc/edge-agent/edge-agent.toml").exists()
    assert account(fake_root, "passwd") is not None

    install(fake_root, "--uninstall", "--purge")
    assert not (fake_root / "var/lib/edge-agent").exists() and not (fake_root / "etc/edge-agent").exists()
    assert account(fake_root, "passwd") is None and account(fake_root, "group") is None


def test_an_edge_agent_command_that_is_not_ours_is_left_alone(fake_root: Path):
    theirs = fake_root / "usr/local/bin/edge-agent"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("#!/bin/sh\necho someone else's\n")
    out = install(fake_root)
    assert theirs.read_text() == "#!/bin/sh\necho someone else's\n"
    assert f"left {theirs} alone" in out.stdout
    install(fake_root, "--uninstall")
    assert theirs.exists()


def test_purge_without_uninstall_is_refused(fake_root: Path):
    result = subprocess.run(["bash", str(INSTALL), "--root", str(fake_root), "--purge"],
                            capture_output=True, text=True)
    assert result.returncode == 64 and "--purge goes with --uninstall" in result.stderr
