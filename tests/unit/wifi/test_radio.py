"""The hardware radio backend over recorded hostapd replies and `iw survey dump` outputs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from edge_agent.collectors.wifi import RadioUnavailable
from edge_agent.wifi.channels import Band, Channel
from edge_agent.wifi.hostapd_ctrl import HostapdError
from edge_agent.wifi.hostapd_replies import parse_sta_replies, parse_status
from edge_agent.wifi.radio import HostapdRadio, run_command

from .fake_hostapd import FakeHostapd

DATA = Path(__file__).resolve().parents[2] / "data" / "wifi"
STATUS = (DATA / "hostapd_cli_status__plume-design_opensync.txt").read_text()
# The recorded STATUS (5220 MHz) moved to the channel the recorded survey marks in use (2437 MHz), so both
# describe one radio: the survey entry read is the one at the radio's own frequency.
STATUS_ON_SURVEYED_CHANNEL = STATUS.replace("freq=5220", "freq=2437").replace("channel=44", "channel=6")
STATIONS = (DATA / "hostapd_cli_sta__plume-design_opensync.txt").read_text()
SURVEY = (DATA / "iw_survey_dump__openwrt_openwrt_issue17489.txt").read_text()


def later_survey(active_ms: int, busy_ms: int) -> str:
    """The recorded dump with the in-use channel's counters moved on (a second reading of the same radio)."""
    return SURVEY.replace("channel active time:\t\t497753 ms", f"channel active time:\t\t{active_ms} ms") \
                 .replace("channel busy time:\t\t104676 ms", f"channel busy time:\t\t{busy_ms} ms")


class RecordedHostapd:
    def __init__(self, fail: bool = False, status: str = STATUS):
        self.fail = fail
        self.closed = False
        self.status_text = status

    def status(self):
        if self.fail:
            raise HostapdError("STATUS: no reply from hostapd within 2 s")
        return parse_status(self.status_text)

    def stations(self):
        return parse_sta_replies(STATIONS)

    def close(self):
        self.closed = True


def radio(surveys: list[str], controls: list[RecordedHostapd] | None = None) -> HostapdRadio:
    outputs = list(surveys)
    pool = controls or [RecordedHostapd()]
    return HostapdRadio(Path("/run/hostapd"), run=lambda argv: outputs.pop(0), connect=lambda d, i: pool.pop(0))


def test_the_first_reading_has_no_busy_ratio_and_the_second_has_the_delta():
    backend = radio([SURVEY, later_survey(497753 + 10_000, 104676 + 2_500)],
                    [RecordedHostapd(status=STATUS_ON_SURVEYED_CHANNEL)])
    first = backend.radio_status("wlan0")
    second = backend.radio_status("wlan0")
    assert first.busy_ratio is None
    assert second.busy_ratio == 0.25
    assert (second.noise_dbm, second.freq_mhz, second.channel, second.band) == (-84.0, 2437, 6, "2.4GHz")
    assert second.station_count == len(parse_sta_replies(STATIONS).stations)


def test_a_survey_counter_reset_gives_no_busy_ratio_rather_than_a_negative_one():
    backend = radio([SURVEY, later_survey(1_000, 200)])
    backend.radio_status("wlan0")
    assert backend.radio_status("wlan0").busy_ratio is None


def test_a_driver_without_survey_still_reports_the_radio():
    def no_survey(argv):
        raise OSError("iw dev wlan0 survey dump failed (161): command failed: Operation not supported (-95)")

    backend = HostapdRadio(Path("/run/hostapd"), run=no_survey, connect=lambda d, i: RecordedHostapd())
    status = backend.radio_status("wlan0")
    assert (status.busy_ratio, status.noise_dbm, status.channel) == (None, None, 44)


def test_a_hostapd_that_stops_answering_raises_and_is_reconnected_next_time():
    dead, alive = RecordedHostapd(fail=True), RecordedHostapd()
    backend = radio([SURVEY], controls=[dead, alive])
    with pytest.raises(RadioUnavailable, match="no reply from hostapd"):
        backend.radio_status("wlan0")
    assert dead.closed
    assert backend.radio_status("wlan0").channel == 44


def test_stations_come_from_the_recorded_iw_station_dump():
    dump = (DATA / "iw_station_dump__DentonGentry_gfiber-platform.txt").read_text()
    backend = HostapdRadio(Path("/run/hostapd"), run=lambda argv: dump, connect=lambda d, i: RecordedHostapd())
    stations = backend.stations("wlan0")
    assert stations and all(s.mac and s.mac.count(":") == 5 for s in stations)
    assert stations[0].signal_dbm == -43.0  # "signal:  \t-43 dBm" in the recording


def test_neighbours_come_from_a_scan_at_most_once_per_interval():
    scan = (DATA / "iw_scan__kellyjonbrazil_jc_iw-scan0_spaces.txt").read_text()
    commands: list[list[str]] = []

    def run(argv):
        commands.append(argv)
        return scan

    backend = HostapdRadio(Path("/run/hostapd"), scan_interval_s=900, run=run, connect=lambda d, i: RecordedHostapd())
    first = backend.neighbours("wlan0")
    again = backend.neighbours("wlan0")
    assert first and all(n.channel for n in first)
    assert again is None  # not due yet: scans disturb the stations
    assert commands == [["iw", "dev", "wlan0", "scan"]]


def test_channel_surveys_are_the_deltas_of_every_channel_between_two_dumps():
    later = later_survey(497753 + 10_000, 104676 + 2_500).replace(
        "channel active time:\t\t142 ms", "channel active time:\t\t1142 ms").replace(
        "channel busy time:\t\t7 ms", "channel busy time:\t\t407 ms")
    backend = radio([SURVEY, later])
    assert backend.channel_surveys("wlan0") == []  # nothing to compare before two readings
    backend.radio_status("wlan0")
    backend.radio_status("wlan0")
    surveys = {s.channel: s for s in backend.channel_surveys("wlan0")}
    assert (surveys[1].active_ms, surveys[1].busy_ms) == (1000, 400)
    assert (surveys[6].active_ms, surveys[6].busy_ms) == (10_000, 2_500)
    assert 2 not in surveys  # its counters did not move: no interval to judge


def test_switch_channel_through_a_hostapd_that_is_gone_fails_clearly():
    backend = radio([], [RecordedHostapd(fail=True), RecordedHostapd(fail=True)])
    result = backend.switch_channel("wlan0", 11)
    assert result.outcome == "failed" and "no reply" in result.reason
    assert backend.current_channel("wlan0") is None


def timing_out(argv):
    raise subprocess.TimeoutExpired(argv, 5)


def test_a_station_dump_that_times_out_is_radio_unavailable():
    backend = HostapdRadio(Path("/run/hostapd"), run=timing_out, connect=lambda d, i: RecordedHostapd())
    with pytest.raises(RadioUnavailable, match="iw dev wlan0 station dump"):
        backend.stations("wlan0")


def test_a_scan_that_times_out_is_radio_unavailable_and_not_retried_before_the_interval():
    backend = HostapdRadio(Path("/run/hostapd"), run=timing_out, connect=lambda d, i: RecordedHostapd())
    with pytest.raises(RadioUnavailable, match="iw dev wlan0 scan"):
        backend.neighbours("wlan0")
    assert backend.neighbours("wlan0") is None


def test_a_survey_that_times_out_still_reports_the_radio():
    backend = HostapdRadio(Path("/run/hostapd"), run=timing_out, connect=lambda d, i: RecordedHostapd())
    status = backend.radio_status("wlan0")
    assert (status.channel, status.busy_ratio, status.noise_dbm) == (44, None, None)


def test_iw_printing_something_else_than_a_station_dump_is_radio_unavailable():
    backend = HostapdRadio(Path("/run/hostapd"), run=lambda argv: "command failed: No such device (-19)\n",
                           connect=lambda d, i: RecordedHostapd())
    with pytest.raises(RadioUnavailable, match="printed no readable output"):
        backend.stations("wlan0")


@pytest.mark.timeout(10)
def test_a_command_that_outlives_its_timeout_is_radio_unavailable():
    with pytest.raises(RadioUnavailable, match="sleep 5 did not finish within 0.2 s"):
        run_command(["sleep", "5"], timeout_s=0.2)


def test_a_command_that_cannot_run_is_radio_unavailable():
    with pytest.raises(RadioUnavailable, match="cannot run"):
        run_command(["/nonexistent/iw", "dev"])


def test_a_failing_command_is_radio_unavailable_with_its_error_output():
    with pytest.raises(RadioUnavailable, match=r"failed \(3\): no such device"):
        run_command(["sh", "-c", "echo no such device >&2; exit 3"])


@pytest.mark.timeout(30)
def test_a_command_printing_without_end_is_stopped_as_radio_unavailable():
    with pytest.raises(RadioUnavailable, match="stopped: printed more than"):
        run_command(["yes", "BSS 00:11:22:33:44:55(on wlan0)"], timeout_s=20)


def test_output_that_is_not_utf_8_is_read_with_replacement_characters():
    assert run_command(["printf", "SSID: \\377\\376\\n"]) == "SSID: \ufffd\ufffd\n"


def test_an_empty_status_reply_from_the_socket_is_radio_unavailable(short_tmp: Path):
    server = FakeHostapd(short_tmp, lambda command: [""])
    backend = HostapdRadio(short_tmp, local_dir=short_tmp, run=lambda argv: SURVEY)
    try:
        with pytest.raises(RadioUnavailable, match="empty reply, hostapd is not answering"):
            backend.radio_status("wlan0")
    finally:
        backend.close()
        server.close()


def test_a_status_reply_that_is_no_status_is_radio_unavailable_and_the_socket_reopened():
    class Confused(RecordedHostapd):
        def status(self):
            return parse_status("UNKNOWN COMMAND\n")

    confused, alive = Confused(), RecordedHostapd()
    backend = radio([SURVEY], controls=[confused, alive])
    with pytest.raises(RadioUnavailable, match="hostapd STATUS: none of"):
        backend.radio_status("wlan0")
    assert confused.closed
    assert backend.radio_status("wlan0").channel == 44


def test_unreadable_station_blocks_are_skipped_and_counted_once():
    dump = (DATA / "iw_station_dump__DentonGentry_gfiber-platform.txt").read_text()
    corrupt = "Station 02:00:00:00:00:09 (on wlan0)\n\ttx bytes:\t" + "9" * 40 + "\n"
    backend = HostapdRadio(Path("/run/hostapd"), run=lambda argv: corrupt + dump,
                           connect=lambda d, i: RecordedHostapd())
    stations = backend.stations("wlan0")
    assert [s.mac for s in stations] == [s.mac for s in HostapdRadio(
        Path("/run/hostapd"), run=lambda argv: dump, connect=lambda d, i: RecordedHostapd()).stations("wlan0")]
    assert backend.take_parse_errors("wlan0") == 1
    assert backend.take_parse_errors("wlan0") == 0


def test_a_radio_behind_a_shared_wiphy_reads_its_own_channels_noise():
    # MT7996 (openwrt/openwrt#18482): one wiphy marks 2412, 5660 and 6215 MHz "[in use]"; the 5 GHz radio is
    # the one at 5660 MHz, and its noise floor is -91 dBm, not the first in-use entry's -82
    tri_band = (DATA / "iw_survey_dump__openwrt_openwrt_issue18482_mt7996-tri-band.txt").read_text()
    on_5660 = STATUS.replace("freq=5220", "freq=5660").replace("channel=44", "channel=132")
    backend = radio([tri_band], [RecordedHostapd(status=on_5660)])
    status = backend.radio_status("phy0.1-ap0")
    assert (status.band, status.channel, status.noise_dbm) == ("5GHz", 132, -91.0)


def test_the_channel_for_the_planner_carries_its_band_and_width():
    backend = radio([], [RecordedHostapd()])
    assert (backend.current_channel("wlan0"), backend.current_width("wlan0")) == (Channel(Band.GHZ_5, 44), 80)


def test_iw_and_other_radio_programs_never_see_the_agents_secrets(monkeypatch):
    from edge_agent.wifi.radio import run_command

    monkeypatch.setenv("EDGE_AGENT_MQTT_PASSWORD", "hunter2")
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    seen = run_command(["env"])
    assert "hunter2" not in seen and "NOTIFY_SOCKET" not in seen and "PATH=" in seen


MLO_AP_INFO = """Interface wlan0
\tifindex 5
\taddr 02:00:5e:aa:00:01
\ttype AP
\twiphy 0
\tMLD with links:
\t - link ID  0 link addr 02:00:5e:aa:00:10
\t   channel 36 (5180 MHz), width: 80 MHz, center1: 5210 MHz
\t - link ID  1 link addr 02:00:5e:aa:00:11
\t   channel 37 (6135 MHz), width: 160 MHz, center1: 6185 MHz
"""
MLO_STATION_DUMP = """Station 02:11:22:33:44:55 (on wlan0)
\tsignal:  \t-48 dBm
\ttx packets:\t5000
\tLink 0:
\t\taddress: 02:11:22:33:44:60
\t\tsignal:  \t-70 dBm
\t\ttx bitrate:\t600.0 MBit/s 80MHz HE-MCS 7 HE-NSS 2
\tLink 1:
\t\taddress: 02:11:22:33:44:61
\t\tsignal:  \t-52 dBm
\t\ttx bitrate:\t2882.4 MBit/s 160MHz EHT-MCS 11 EHT-NSS 2 EHT-GI 0
"""


def test_a_multi_link_station_gets_each_link_s_band_from_the_ap_s_links():
    outputs = {"iw dev wlan0 station dump": MLO_STATION_DUMP, "iw dev wlan0 info": MLO_AP_INFO}
    backend = HostapdRadio(Path("/run/hostapd"), run=lambda argv: outputs[" ".join(argv)])
    [station] = backend.stations("wlan0")
    assert [(x.link_id, x.band, x.signal_dbm, x.tx_bitrate_mbps) for x in station.links] == [
        (0, "5GHz", -70.0, 600.0), (1, "6GHz", -52.0, 2882.4)]
    # the AP's info is read only when a station has links
    plain = {"iw dev wlan0 station dump": "Station 02:00:00:00:00:01 (on wlan0)\n\tsignal:  \t-60 dBm\n"}
    [one] = HostapdRadio(Path("/run/hostapd"), run=lambda argv: plain[" ".join(argv)]).stations("wlan0")
    assert one.links == ()


def test_the_restart_fallback_is_told_which_radio_it_moves(short_tmp, monkeypatch):
    moved: list[tuple[str, int]] = []

    class RestartingSwitcher:  # a switch whose CSA failed: it falls back to the restart it was given
        def __init__(self, control, restart, phy=None):
            self.restart = restart

        def switch(self, channel):
            self.restart(channel)

    monkeypatch.setattr("edge_agent.wifi.radio.ChannelSwitcher", RestartingSwitcher)
    backend = HostapdRadio(short_tmp, run=lambda argv: "", connect=lambda d, i: RecordedHostapd(),
                           restart_on_channel=lambda interface, channel: moved.append((interface, channel)))
    backend.switch_channel("wlan1", 11)
    assert moved == [("wlan1", 11)]


def test_an_mld_access_point_s_link_sockets_are_radios_read_through_their_mld_interface():
    # hostapd with mld_ap=1: sockets wlan0_link0 (5 GHz) and wlan0_link1 (6 GHz); iw knows only wlan0
    statuses = {"wlan0_link0": "state=ENABLED\nfreq=5180\nchannel=36\n",
                "wlan0_link1": "state=ENABLED\nfreq=6135\nchannel=37\n"}
    survey = ("Survey data from wlan0\n\tfrequency:\t\t\t5180 MHz [in use]\n\tnoise:\t\t\t\t-91 dBm\n"
              "Survey data from wlan0\n\tfrequency:\t\t\t6135 MHz [in use]\n\tnoise:\t\t\t\t-94 dBm\n")
    scan = "BSS 02:00:5e:bb:00:01(on wlan0)\n\tfreq: 6135\n\tsignal: -60.00 dBm\n"
    outputs = {"iw dev wlan0 station dump": MLO_STATION_DUMP, "iw dev wlan0 info": MLO_AP_INFO,
               "iw dev wlan0 survey dump": survey, "iw dev wlan0 scan": scan}
    asked: list[str] = []
    backend = HostapdRadio(Path("/run/hostapd"), run=lambda argv: asked.append(" ".join(argv)) or
                           outputs[" ".join(argv)],
                           connect=lambda d, name: RecordedHostapd(status=statuses[name]))
    five, six = backend.radio_status("wlan0_link0"), backend.radio_status("wlan0_link1")
    assert (five.band, five.channel, five.noise_dbm) == ("5GHz", 36, -91.0)
    assert (six.band, six.channel, six.noise_dbm) == ("6GHz", 37, -94.0)
    # the MLD's station once, by its lowest link, with both links; never twice
    assert [s.mac for s in backend.stations("wlan0_link0")] == ["02:11:22:33:44:55"]
    assert backend.stations("wlan0_link1") == []
    # one scan serves both links
    assert backend.neighbours("wlan0_link0") is not None and backend.neighbours("wlan0_link1") is None
    assert [n.band for n in backend.known_neighbours("wlan0_link1")] == [Band.GHZ_6]
    assert all(command.startswith("iw dev wlan0 ") for command in asked)
