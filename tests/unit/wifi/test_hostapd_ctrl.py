"""The hostapd client against a fake control socket that replays recorded replies (what needs a radio)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from edge_agent.wifi.hostapd_ctrl import HostapdControl, HostapdError

from .fake_hostapd import FakeHostapd

DATA = Path(__file__).resolve().parents[2] / "data" / "wifi"
STATUS = (DATA / "hostapd_cli_status__plume-design_opensync.txt").read_text()


@pytest.fixture
def fake(short_tmp: Path):
    replies = {
        "PING": ["PONG\n"],
        "STATUS": [STATUS],
        "ATTACH": ["OK\n"],
        # A radio with CSA: an event may arrive before the reply to the command that caused it.
        "CHAN_SWITCH": ["<3>CTRL-EVENT-STARTED-CHANNEL-SWITCH freq=5180 ht_enabled=1 ch_offset=1 ch_width=80 MHz",
                        "OK\n", "<3>AP-CSA-FINISHED freq=5180 dfs=0"],
        "STA-FIRST": [""],
    }
    server = FakeHostapd(short_tmp, lambda command: replies.get(command.split()[0], ["UNKNOWN COMMAND\n"]))
    yield short_tmp, server
    server.close()


def test_status_reply_is_parsed_into_the_radio_state(fake):
    ctrl_dir, _ = fake
    with HostapdControl(ctrl_dir, "wlan0") as control:
        status = control.status()
    assert (status.state, status.freq_mhz, status.channel) == ("ENABLED", 5220, 44)


def test_an_event_before_the_reply_is_queued_and_the_reply_still_returned(fake):
    ctrl_dir, server = fake
    with HostapdControl(ctrl_dir, "wlan0") as control:
        control.attach()
        assert control.request("CHAN_SWITCH 5 5180 bandwidth=80 center_freq1=5210 ht vht").strip() == "OK"
        events = control.events(wait_s=0.5)
    assert events == ["CTRL-EVENT-STARTED-CHANNEL-SWITCH freq=5180 ht_enabled=1 ch_offset=1 ch_width=80 MHz",
                      "AP-CSA-FINISHED freq=5180 dfs=0"]
    assert server.commands[-1] == "CHAN_SWITCH 5 5180 bandwidth=80 center_freq1=5210 ht vht"


def test_an_ap_without_stations_gives_an_empty_list(fake):
    ctrl_dir, _ = fake
    with HostapdControl(ctrl_dir, "wlan0") as control:
        assert control.stations().stations == ()


def test_a_command_hostapd_does_not_know_fails_on_attach_style_expectations(fake):
    ctrl_dir, _ = fake
    with HostapdControl(ctrl_dir, "wlan0") as control, pytest.raises(HostapdError, match="DETACH"):
        control.detach()


def test_a_silent_hostapd_times_out_with_the_command_named(short_tmp: Path):
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    silent.bind(str(short_tmp / "wlan0"))
    try:
        with HostapdControl(short_tmp, "wlan0", timeout_s=0.2) as control, \
                pytest.raises(HostapdError, match="STATUS: no reply from hostapd within 0.2 s"):
            control.status()
    finally:
        silent.close()


def test_the_client_socket_file_is_removed_on_close(fake):
    ctrl_dir, _ = fake
    control = HostapdControl(ctrl_dir, "wlan0", local_dir=ctrl_dir)
    assert control.local_path.exists()
    control.close()
    assert not control.local_path.exists()


def test_an_empty_status_reply_is_hostapd_not_answering(short_tmp: Path):
    server = FakeHostapd(short_tmp, lambda command: [""])
    try:
        with HostapdControl(short_tmp, "wlan0") as control, \
                pytest.raises(HostapdError, match="STATUS: empty reply, hostapd is not answering"):
            control.status()
    finally:
        server.close()


@pytest.mark.timeout(10)
def test_a_hostapd_that_stopped_reading_cannot_block_the_send(short_tmp: Path):
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stuck.bind(str(short_tmp / "wlan0"))
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    filler.setblocking(False)
    try:
        while True:  # fill hostapd's receive queue, as a hung hostapd leaves it
            filler.sendto(b"PING", str(short_tmp / "wlan0"))
    except BlockingIOError:
        pass
    try:
        with HostapdControl(short_tmp, "wlan0", timeout_s=0.2) as control, \
                pytest.raises(HostapdError, match="STATUS: hostapd took no command within 0.2 s"):
            control.status()
    finally:
        filler.close()
        stuck.close()


@pytest.mark.timeout(10)
def test_a_station_walk_answered_slowly_ends_within_the_timeout(short_tmp: Path):
    def slow_endless_stations(command: str) -> list[str]:
        time.sleep(0.05)
        return ["02:00:00:00:00:01\nflags=[AUTH]\n"]  # hostapd that never reaches the end of its list

    server = FakeHostapd(short_tmp, slow_endless_stations)
    try:
        with HostapdControl(short_tmp, "wlan0", timeout_s=0.5) as control:
            # Without a deadline for the whole walk, 512 slow replies take 25 s and the timeout mark fails it.
            with pytest.raises(HostapdError, match="no reply from hostapd within 0.5 s"):
                control.stations()
    finally:
        server.close()
