"""On a gateway with several radios, a radio action acts on the radio its issue is on, and only on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.backends import restart_hostapd_on_channel
from edge_agent.config import WifiCollectorConfig
from edge_agent.remediation.executor import ActionResult
from edge_agent.remediation.refs import ActionRef, parse_ref
from edge_agent.remediation.settings import RemediationSection
from edge_agent.remediation.system_actions import SystemActions


class RecordingMover:
    def __init__(self) -> None:
        self.policy = RemediationSection().channel
        self.moved: list[str] = []

    def move(self, interface: str) -> ActionResult:
        self.moved.append(interface)
        return ActionResult(True, f"moved {interface}", undo_state=36)

    def move_back(self, interface: str, channel: int) -> ActionResult:
        self.moved.append(f"back {interface} {channel}")
        return ActionResult(True, "back")


def gateway() -> tuple[SystemActions, RecordingMover]:
    mover = RecordingMover()
    actions = SystemActions(RemediationSection(), "wlan0", channel_mover=mover,
                            radios=lambda: ["wlan0", "wlan1", "wlan2"])
    return actions, mover


def test_an_untargeted_switch_for_an_issue_moves_that_issue_s_radio():
    actions, mover = gateway()
    result = actions.run(parse_ref("switch_channel").for_subject("wlan1"), 10)
    actions.undo(parse_ref("switch_channel").for_subject("wlan1"), result, 10)
    assert mover.moved == ["wlan1", "back wlan1 36"]


def test_a_subject_that_is_no_radio_and_a_named_target_keep_their_meaning():
    actions, mover = gateway()
    actions.run(parse_ref("switch_channel").for_subject("premises"), 10)  # a classifier's issue: the default
    actions.run(parse_ref("switch_channel:wlan2").for_subject("wlan1"), 10)  # a named target wins
    actions.run(parse_ref("switch_channel"), 10)  # a manual request without an issue
    assert mover.moved == ["wlan0", "wlan2", "wlan0"]


def test_the_subject_is_no_target_for_the_authority_and_no_part_of_the_action():
    ref = parse_ref("switch_channel").for_subject("wlan1")
    assert (ref.target, ref.subject, str(ref)) == (None, "wlan1", "switch_channel")
    assert ref == ActionRef("switch_channel")
    assert parse_ref("restart_service:{subject}").for_subject("dnsmasq").target == "dnsmasq"


def test_the_restart_fallback_refuses_to_rewrite_another_radio_s_hostapd_conf(tmp_path: Path):
    conf = tmp_path / "hostapd.conf"
    conf.write_text("interface=wlan0\nhw_mode=g\nchannel=6\n")
    policy = RemediationSection.model_validate({"channel": {"hostapd_conf": str(conf)}}).channel

    class Restarts:
        def run(self, ref, timeout_s):
            return ActionResult(True, "restarted")

    with pytest.raises(OSError, match="configures wlan0, not wlan1"):
        restart_hostapd_on_channel(Restarts(), policy, 11, "wlan1")
    assert "channel=6" in conf.read_text()
    restart_hostapd_on_channel(Restarts(), policy, 11, "wlan0")
    assert "channel=11" in conf.read_text()


def test_the_radios_to_read_keep_the_single_interface_form():
    assert WifiCollectorConfig().interfaces is None and WifiCollectorConfig().default_interface == "wlan0"
    listed = WifiCollectorConfig(interfaces=["wlan1", "wlan2"])
    assert listed.default_interface == "wlan1"
    assert WifiCollectorConfig(interface="wlan2", interfaces=["wlan1", "wlan2"]).default_interface == "wlan2"
    for bad in ([], ["wlan0", "wlan0"], ["wlan0;reboot"], [f"w{n}" for n in range(17)], "all"):
        with pytest.raises(ValueError):
            WifiCollectorConfig(interfaces=bad)


@pytest.mark.timeout(30)
def test_a_disk_that_fills_during_the_rewrite_leaves_hostapd_conf_whole(tmp_path: Path):
    conf = tmp_path / "hostapd.conf"
    original = "# " + "x" * 300 + "\ninterface=wlan0\nhw_mode=g\nchannel=6\n"
    conf.write_text(original)
    # RLIMIT_FSIZE stands in for a full disk: no file of this process may grow past 100 bytes (Python ignores
    # SIGXFSZ, so the write fails with EFBIG as it would with ENOSPC).
    result = subprocess.run([sys.executable, "-c", f"""
import resource
from pathlib import Path
from edge_agent.backends import restart_hostapd_on_channel
from edge_agent.remediation.executor import ActionResult
from edge_agent.remediation.settings import RemediationSection

class Restarts:
    def run(self, ref, timeout_s):
        return ActionResult(True, "restarted")

policy = RemediationSection.model_validate({{"channel": {{"hostapd_conf": {str(conf)!r}}}}}).channel
resource.setrlimit(resource.RLIMIT_FSIZE, (100, resource.RLIM_INFINITY))
try:
    restart_hostapd_on_channel(Restarts(), policy, 11, "wlan0")
except OSError as exc:
    print("refused:", exc)
"""], capture_output=True, text=True, timeout=30)
    assert "refused:" in result.stdout, result.stderr
    assert conf.read_text() == original
    assert [p.name for p in tmp_path.iterdir()] == ["hostapd.conf"]  # no temporary file left behind


def test_the_rewrite_keeps_the_files_mode(tmp_path: Path):
    conf = tmp_path / "hostapd.conf"
    conf.write_text("interface=wlan0\nchannel=6\n")
    conf.chmod(0o640)
    policy = RemediationSection.model_validate({"channel": {"hostapd_conf": str(conf)}}).channel

    class Restarts:
        def run(self, ref, timeout_s):
            return ActionResult(True, "restarted")

    restart_hostapd_on_channel(Restarts(), policy, 11, "wlan0")
    assert "channel=11" in conf.read_text() and conf.stat().st_mode & 0o777 == 0o640
