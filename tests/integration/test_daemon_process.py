"""The real daemon as a subprocess on simulated premises: sd_notify, CLI queries, SIGHUP, SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from agent_process import Daemon, wait_for


@pytest.fixture
def daemon(short_tmp: Path):
    d = Daemon(short_tmp)
    d.start()
    try:
        yield d
    finally:
        d.stop()


def test_daemon_detects_and_resolves_the_scripted_fault_and_shuts_down_cleanly(daemon: Daemon):
    ready = daemon.wait_notify("READY=1", timeout_s=15)
    assert "STATUS=" in ready and f"MAINPID={daemon.proc.pid}" in ready

    status = daemon.ask_json("status")
    assert status["device_id"] == "itest-gw"
    assert status["premises"] == "simulated"
    assert {c["name"] for c in status["collectors"]} == {"system", "interfaces", "wifi", "connectivity", "camera",
                                                         "agent"}

    def interference_resolved():
        issues = daemon.ask_json("issues")
        return [i for i in issues if i["type"] == "wifi_interference" and i["state"] == "resolved"]

    # 20 simulated seconds of fault + hysteresis, at SPEED: a few real seconds.
    [issue] = wait_for(interference_resolved, timeout_s=30, what="the interference issue to open and resolve")
    assert [t["state"] for t in issue["transitions"]] == ["open", "resolved"]
    assert issue["subject"] == "wlan0"
    assert issue["evidence"]["channel"] == 6
    assert "quieter channel" in issue["guidance"]

    table = daemon.cli("issues")
    assert table.returncode == 0
    assert "wifi_interference" in table.stdout and "resolved" in table.stdout

    journal = [json.loads(line) for line in (daemon.root / "state" / "events.jsonl").read_text().splitlines()]
    changes = [(e["change"], e["type"]) for e in journal if e["topic"] == "event/issue"]
    assert ("opened", "wifi_interference") in changes and ("resolved", "wifi_interference") in changes
    seqs = [e["seq"] for e in journal]
    assert seqs == sorted(seqs) and all(e["device_id"] == "itest-gw" for e in journal)

    daemon.wait_notify("WATCHDOG=1", timeout_s=5)

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=5) == 0
    daemon.wait_notify("STOPPING=1", timeout_s=2)
    assert not daemon.sock.exists()
    gone = daemon.cli("status")
    assert gone.returncode == 69
    assert "not running" in gone.stderr and "Traceback" not in gone.stderr


def with_wifi_interval(config_text: str, value: str) -> str:
    old = "[collectors.wifi]\ninterval_s = 1\n"
    assert old in config_text
    return config_text.replace(old, f"[collectors.wifi]\ninterval_s = {value}\n")


def test_sighup_with_a_bad_config_keeps_the_old_one_and_a_good_one_applies(daemon: Daemon):
    daemon.wait_notify("READY=1", timeout_s=15)
    good_config = daemon.config.read_text()

    daemon.config.write_text(with_wifi_interval(good_config, "-1"))
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_notify("reload failed", timeout_s=10)
    assert "collectors.wifi.interval_s = -1" in daemon.log_text()
    assert "keeping the previous config" in daemon.log_text()
    status = daemon.ask_json("status")
    assert status["reload_failures"] == 1 and status["reloads"] == 0
    wifi = next(c for c in status["collectors"] if c["name"] == "wifi")
    assert wifi["interval_s"] == 1

    daemon.config.write_text(with_wifi_interval(good_config, "2"))
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: daemon.ask_json("status")["reloads"] == 1, timeout_s=10, what="the reload to apply")
    wifi = next(c for c in daemon.ask_json("status")["collectors"] if c["name"] == "wifi")
    assert wifi["interval_s"] == 2

    daemon.proc.send_signal(signal.SIGINT)
    assert daemon.proc.wait(timeout=5) == 0


def test_a_broken_config_exits_78_with_one_line_naming_the_key(short_tmp: Path):
    bad = short_tmp / "bad.toml"
    bad.write_text("[issues]\nopen_after = 0\n")
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent", "run", "--config", str(bad)], capture_output=True, text=True, timeout=20
    )
    assert result.returncode == 78
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "issues.open_after = 0" in lines[0] and "greater than or equal to 1" in lines[0]


def test_reload_through_the_cli_applies_a_good_config_and_refuses_a_bad_one(daemon):
    daemon.wait_notify("READY=1", timeout_s=15)
    good_config = daemon.config.read_text()

    daemon.config.write_text(with_wifi_interval(good_config, "3"))
    applied = daemon.cli("reload")
    assert applied.returncode == 0 and "reloaded" in applied.stdout
    wifi = next(c for c in daemon.ask_json("status")["collectors"] if c["name"] == "wifi")
    assert wifi["interval_s"] == 3

    daemon.config.write_text(with_wifi_interval(good_config, "-3"))
    refused = daemon.cli("reload")
    assert refused.returncode == 78 and "old one kept" in refused.stderr
    assert next(c for c in daemon.ask_json("status")["collectors"] if c["name"] == "wifi")["interval_s"] == 3
