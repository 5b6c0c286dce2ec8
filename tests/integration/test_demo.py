"""`edge-agent demo`, the README's main command, as a user runs it: with mosquitto, and without a broker."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import mosquitto_binary

SPEED = "40"  # 200 s of simulated time in 5 s


def run_demo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge_agent", "demo", "--speed", SPEED, *args],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed (scripts/test.sh installs it)")
def test_the_demo_narrates_the_whole_loop_as_the_fleet_sees_it_and_cleans_up():
    result = run_demo()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    steps = ["reported   demo-gw is online", "sampled    wifi.radio", "detected   wifi_interference",
             "remediated switch_channel for wifi_interference: channel 6 → 11", "verified   switch_channel fixed",
             "detected   dns_failure", "action     flush_dns failed", "verified   restart_service:dnsmasq fixed",
             "detected   wifi_weak_station", "detected   gateway_led_red", "reported   demo-gw is offline (shutdown"]
    positions = [out.find(step) for step in steps]
    assert all(p >= 0 for p in positions), [s for s, p in zip(steps, positions, strict=True) if p < 0]
    assert positions == sorted(positions)  # in the order they happen
    assert "summary: 5 issues detected, 2 fixed by the agent" in out
    assert "(0 invalid, 0 duplicates)" in out
    broker_pid = int(re.search(r"a local mosquitto \(pid (\d+)\)", out)[1])
    assert not Path(f"/proc/{broker_pid}").exists()  # the demo stopped the broker it started


def test_without_a_broker_the_demo_shows_the_outbox_keeping_everything():
    result = run_demo("--no-broker")
    assert result.returncode == 0, result.stderr
    assert "no broker" in result.stdout
    assert "action fixed      switch_channel" in result.stdout
    assert "events wait in the outbox for the cloud (nothing is lost)" in result.stdout
