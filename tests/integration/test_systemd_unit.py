"""The shipped systemd unit: valid offline, and hardened below an exposure we can defend."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "edge-agent.service"
EXPOSURE_LIMIT = 3.0  # "OK" on systemd's scale; what remains is raw sockets, the host network and /proc

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """A root with the unit and stubs for the binaries it names, as the install script lays them out."""
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, tmp_path / "etc/systemd/system/edge-agent.service")
    for binary in ("opt/edge-agent/venv/bin/edge-agent", "bin/kill"):
        stub = tmp_path / binary
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    return tmp_path


def test_unit_verifies_offline_without_a_single_warning(fake_root: Path):
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", "--recursive-errors=no", f"--root={fake_root}",
         "/etc/systemd/system/edge-agent.service"],
        capture_output=True, text=True,
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_unit_exposure_is_at_most_three(fake_root: Path):
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", f"--root={fake_root}",
         f"--threshold={int(EXPOSURE_LIMIT * 10)}", "edge-agent.service"],
        capture_output=True, text=True,
    )
    match = re.search(r"Overall exposure level for edge-agent.service: (\d+\.\d)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= EXPOSURE_LIMIT
    assert result.returncode == 0


def test_unit_grants_only_the_network_capabilities_and_watches_the_agent():
    settings = dict(
        line.split("=", 1) for line in UNIT.read_text().splitlines() if "=" in line and not line.startswith("#")
    )
    assert settings["CapabilityBoundingSet"] == "CAP_NET_RAW CAP_NET_ADMIN"
    assert settings["AmbientCapabilities"] == "CAP_NET_RAW CAP_NET_ADMIN"
    assert settings["Type"] == "notify" and int(settings["WatchdogSec"]) > 0
    assert settings["User"] == "edge-agent" and settings["NoNewPrivileges"] == "yes"


def test_unit_starts_after_hostapd_without_pulling_it_in():
    """The radios are read at start: at boot the agent must not race hostapd's control sockets into existence."""
    lines = [line for line in UNIT.read_text().splitlines() if not line.startswith("#")]
    after = " ".join(line.split("=", 1)[1] for line in lines if line.startswith("After="))
    pulled = " ".join(line.split("=", 1)[1] for line in lines if line.startswith(("Wants=", "Requires=")))
    assert "hostapd.service" in after.split() and "hostapd.service" not in pulled.split()
