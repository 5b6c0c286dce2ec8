"""The hostapd control-socket client against a real hostapd (driver=wired) with a real 802.1X station.

hostapd runs in an "ap" namespace on one end of a veth; wpa_supplicant (-D wired, EAP-MD5) authenticates
from a "sta" namespace on the other end, so STA-FIRST returns a real, authorised station. What needs a radio
(a successful CHAN_SWITCH, survey data) cannot be had here: hostapd answers FAIL, as a driver without CSA does.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from agent_process import wait_for

from edge_agent.wifi.channel_switch import ChannelSwitcher
from edge_agent.wifi.hostapd_ctrl import HostapdControl, HostapdError

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) or Path(f"/usr/sbin/{t}").exists()
                                 for t in ("hostapd", "wpa_supplicant", "ip")),
    reason="needs root, hostapd and wpa_supplicant (scripts/test.sh installs them when run as root)",
)

HOSTAPD_CONF = """interface={iface}
driver=wired
ctrl_interface={ctrl}
ctrl_interface_group=0
ieee8021x=1
eap_server=1
eap_user_file={users}
"""
SUPPLICANT_CONF = """ctrl_interface={ctrl}
ap_scan=0
network={{
    key_mgmt=IEEE8021X
    eap=MD5
    identity="technician"
    password="not-a-real-secret"
    eapol_flags=0
}}
"""


class WiredAccessPoint:
    def __init__(self, root: Path):
        tag = f"{os.getpid() % 10000:04d}{random.randrange(100):02d}"
        self.ap_ns, self.sta_ns = f"eaap{tag}", f"easta{tag}"
        self.ap_if, self.sta_if = f"va{tag}", f"vs{tag}"
        self.root = root
        self.ctrl = root / "ctrl"
        self.hostapd: subprocess.Popen | None = None
        self.supplicant: subprocess.Popen | None = None

    def setup(self) -> None:
        for args in (["netns", "add", self.ap_ns], ["netns", "add", self.sta_ns],
                     ["link", "add", self.ap_if, "type", "veth", "peer", "name", self.sta_if],
                     ["link", "set", self.ap_if, "netns", self.ap_ns],
                     ["link", "set", self.sta_if, "netns", self.sta_ns],
                     ["-n", self.ap_ns, "link", "set", self.ap_if, "up"],
                     ["-n", self.sta_ns, "link", "set", self.sta_if, "up"]):
            subprocess.run(["ip", *args], check=True, capture_output=True)
        (self.root / "eap_users").write_text('"technician" MD5 "not-a-real-secret"\n')
        conf = self.root / "hostapd.conf"
        conf.write_text(HOSTAPD_CONF.format(iface=self.ap_if, ctrl=self.ctrl, users=self.root / "eap_users"))
        self.hostapd = subprocess.Popen(["ip", "netns", "exec", self.ap_ns, "hostapd", str(conf)],
                                        stdout=(self.root / "hostapd.log").open("wb"), stderr=subprocess.STDOUT)
        wait_for(lambda: (self.ctrl / self.ap_if).exists(), timeout_s=5, what="hostapd's control socket")

    def station_joins(self) -> None:
        conf = self.root / "supplicant.conf"
        conf.write_text(SUPPLICANT_CONF.format(ctrl=self.root / "wctrl"))
        self.supplicant = subprocess.Popen(
            ["ip", "netns", "exec", self.sta_ns, "wpa_supplicant", "-D", "wired", "-i", self.sta_if, "-c", str(conf)],
            stdout=(self.root / "supplicant.log").open("wb"), stderr=subprocess.STDOUT)

    def station_leaves(self) -> None:
        if self.supplicant is not None:
            self.supplicant.terminate()
            self.supplicant.wait(timeout=5)
            self.supplicant = None

    def station_mac(self) -> str:
        out = subprocess.run(["ip", "-n", self.sta_ns, "-o", "link", "show", self.sta_if],
                             capture_output=True, text=True, check=True).stdout
        return out.split("link/ether ")[1].split()[0]

    def stop_hostapd(self) -> None:
        if self.hostapd is not None:
            self.hostapd.terminate()
            self.hostapd.wait(timeout=5)
            self.hostapd = None

    def teardown(self) -> None:
        self.station_leaves()
        self.stop_hostapd()
        for ns in (self.ap_ns, self.sta_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def running(bed):
    """A test bed set up for the test and torn down after it, whatever happened."""
    try:
        bed.setup()
        yield bed
    finally:
        bed.teardown()


@pytest.fixture
def access_point(short_tmp: Path):
    yield from running(WiredAccessPoint(short_tmp))


def authorised_stations(control: HostapdControl) -> list:
    return [s for s in control.stations().stations if "AUTHORIZED" in s.flags]


def test_ping_and_status_come_from_the_real_hostapd(access_point):
    with HostapdControl(access_point.ctrl, access_point.ap_if) as control:
        assert control.ping()
        assert control.status().state == "ENABLED"


def test_sta_first_and_next_return_the_real_authorised_station(access_point):
    access_point.station_joins()
    with HostapdControl(access_point.ctrl, access_point.ap_if) as control:
        [station] = wait_for(lambda: authorised_stations(control), timeout_s=15, what="the station to authorise")
    assert station.mac == access_point.station_mac()


def test_attached_client_sees_the_station_authenticate_and_connect(access_point):
    # A wired supplicant that exits sends no logoff, so a disconnect event cannot be provoked here.
    with HostapdControl(access_point.ctrl, access_point.ap_if) as control:
        control.attach()
        access_point.station_joins()
        mac = access_point.station_mac()
        seen: list[str] = []
        wait_for(lambda: seen.extend(control.events(0.2)) or f"AP-STA-CONNECTED {mac}" in seen,
                 timeout_s=15, what="AP-STA-CONNECTED")
        assert f"CTRL-EVENT-EAP-SUCCESS {mac}" in seen
        # Requests still get their replies while events flow on the same socket.
        assert control.ping()
        control.detach()


def test_a_channel_switch_without_a_radio_is_answered_fail(access_point):
    with HostapdControl(access_point.ctrl, access_point.ap_if) as control:
        assert control.request("CHAN_SWITCH 5 2437").strip() == "FAIL"


def test_a_stopped_hostapd_gives_a_clear_error_not_a_hang(access_point):
    control = HostapdControl(access_point.ctrl, access_point.ap_if, timeout_s=0.5)
    try:
        access_point.stop_hostapd()
        started = time.monotonic()
        assert control.ping() is False
        with pytest.raises(HostapdError) as raised:
            control.status()
        assert time.monotonic() - started < 3
        assert "STATUS" in str(raised.value)
    finally:
        control.close()


def test_no_hostapd_at_the_path_is_a_clear_error(short_tmp):
    with pytest.raises(HostapdError, match="cannot reach hostapd"):
        HostapdControl(short_tmp, "wlan0")


def test_channel_switcher_on_a_driver_without_csa_reports_the_fail_and_changes_nothing(access_point):
    with HostapdControl(access_point.ctrl, access_point.ap_if) as control:
        result = ChannelSwitcher(control, restart_on_channel=None, wait_s=1).switch(11)
        assert control.ping()  # still attached-free and answering
    assert result.outcome == "failed"
    assert "answered 'FAIL'" in result.reason and "not allowed by policy" in result.reason


def test_restart_radio_disables_and_enables_the_real_access_point(access_point):
    from edge_agent.remediation.refs import parse_ref
    from edge_agent.remediation.settings import RemediationSection
    from edge_agent.remediation.system_actions import SystemActions

    actions = SystemActions(RemediationSection(), access_point.ap_if,
                            hostapd_control=lambda name: HostapdControl(access_point.ctrl, name))
    result = actions.run(parse_ref("restart_radio"), timeout_s=10)
    assert result.ok, result.detail
    assert result.detail == f"radio {access_point.ap_if} disabled and enabled; state ENABLED"
    with HostapdControl(access_point.ctrl, access_point.ap_if) as control:
        assert control.status().state == "ENABLED"


def test_switch_channel_action_on_a_driver_without_csa_fails_with_the_reason_and_scores(access_point):
    from edge_agent.remediation.settings import ChannelPolicy
    from edge_agent.wifi.channel_action import ChannelPlanner
    from edge_agent.wifi.channel_scoring import ChannelSurvey, Neighbour
    from edge_agent.wifi.channel_switch import SwitchResult

    class WiredRadio:
        """The real hostapd for STATUS and CHAN_SWITCH; survey data a wired port cannot have, given here."""

        def current_channel(self, interface: str) -> int | None:
            return 6

        def channel_surveys(self, interface: str) -> list[ChannelSurvey]:
            return [ChannelSurvey(1, 1000, 300), ChannelSurvey(6, 1000, 800), ChannelSurvey(11, 1000, 100)]

        def known_neighbours(self, interface: str) -> list[Neighbour]:
            return []

        def switch_channel(self, interface: str, channel: int) -> SwitchResult:
            with HostapdControl(access_point.ctrl, interface) as control:
                return ChannelSwitcher(control, restart_on_channel=None, wait_s=1).switch(channel)

    result = ChannelPlanner(WiredRadio(), ChannelPolicy(), time.monotonic).move(access_point.ap_if)
    assert not result.ok and "answered 'FAIL'" in result.detail
    assert result.data["decision"].startswith("channel 11 scores")
    assert result.data["switch"]["to_channel"] == 11


class TwoWiredRadios:
    """Two real hostapd instances (driver=wired) on two veth ports of one namespace, their control sockets in one
    directory, as one hostapd per radio of a dual-band gateway has them; plus junk the agent must ignore."""

    def __init__(self, root: Path):
        tag = f"{os.getpid() % 10000:04d}{random.randrange(100):02d}"
        self.ns = f"eamr{tag}"
        self.ports = [f"ra{tag}", f"rb{tag}"]
        self.root = root
        self.ctrl = root / "ctrl"
        self.hostapds: list[subprocess.Popen] = []

    def setup(self) -> None:
        subprocess.run(["ip", "netns", "add", self.ns], check=True, capture_output=True)
        for port in self.ports:
            for args in (["link", "add", port, "type", "veth", "peer", "name", f"{port}p"],
                         ["link", "set", port, "up"], ["link", "set", f"{port}p", "up"]):
                subprocess.run(["ip", "-n", self.ns, *args], check=True, capture_output=True)
        (self.root / "eap_users").write_text('"technician" MD5 "not-a-real-secret"\n')
        for port in self.ports:
            conf = self.root / f"{port}.conf"
            conf.write_text(HOSTAPD_CONF.format(iface=port, ctrl=self.ctrl, users=self.root / "eap_users"))
            self.hostapds.append(subprocess.Popen(["ip", "netns", "exec", self.ns, "hostapd", str(conf)],
                                                  stdout=(self.root / f"{port}.log").open("wb"),
                                                  stderr=subprocess.STDOUT))
        wait_for(lambda: all((self.ctrl / port).exists() for port in self.ports), timeout_s=5,
                 what="both hostapd control sockets")
        (self.ctrl / "notes.txt").write_text("not a socket")  # what else a directory may hold
        (self.ctrl / "wlan9").mkdir()

    def teardown(self) -> None:
        for process in self.hostapds:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


@pytest.fixture
def two_radios(short_tmp: Path):
    yield from running(TwoWiredRadios(short_tmp))


def test_the_agent_finds_and_reads_every_hostapd_of_a_multi_radio_gateway(two_radios, short_tmp):
    from edge_agent.collectors.wifi import WifiCollector
    from edge_agent.wifi.discovery import RadioSet
    from edge_agent.wifi.radio import HostapdRadio

    def no_iw(argv: list[str]) -> str:
        raise OSError("a wired port has no iw data")  # the survey is then absent, as on a driver without one

    radio = HostapdRadio(two_radios.ctrl, short_tmp, run=no_iw)
    try:
        radios = RadioSet(None, radio.discover)
        assert radios() == sorted(two_radios.ports)
        samples = WifiCollector(5.0, radios, radio).collect(0.0, 0.0)
        read = {s.subject: s.metrics for s in samples if s.stream == "wifi.radio"}
        assert set(read) == set(two_radios.ports)
        assert all(metrics.get("available", True) is not False for metrics in read.values()), read
        # One hostapd stops: only its radio reads as unavailable, the other is still read
        two_radios.hostapds[0].terminate()
        two_radios.hostapds[0].wait(timeout=5)
        stopped = two_radios.ports[0]
        wait_for(lambda: not (two_radios.ctrl / stopped).exists(), timeout_s=5, what="the socket to go")
        later = {s.subject: s.metrics for s in WifiCollector(5.0, radios, radio).collect(5.0, 5.0)
                 if s.stream == "wifi.radio"}
        assert later[stopped]["available"] is False
        assert later[two_radios.ports[1]].get("available", True) is not False
    finally:
        radio.close()


def test_a_radio_named_before_its_hostapd_starts_reads_unavailable_then_in_full(short_tmp):
    # Boot order on a real gateway is not guaranteed (hostapd may fail, then be restarted): the radio is read
    # from the start, so the agent sees Wi-Fi down, and picks hostapd up once it serves.
    from edge_agent.collectors.wifi import WifiCollector
    from edge_agent.wifi.radio import HostapdRadio

    def no_iw(argv: list[str]) -> str:
        raise OSError("a wired port has no iw data")

    bed = WiredAccessPoint(short_tmp)
    radio = HostapdRadio(bed.ctrl, short_tmp, run=no_iw)
    collector = WifiCollector(5.0, [bed.ap_if], radio)
    try:
        [before] = [s for s in collector.collect(0.0, 0.0) if s.stream == "wifi.radio"]
        assert before.metrics["available"] is False and str(bed.ctrl) in before.metrics["error"]
        bed.setup()  # hostapd starts now
        [after] = [s for s in collector.collect(5.0, 5.0) if s.stream == "wifi.radio"]
        assert after.metrics.get("available", True) is not False, after.metrics
        assert after.metrics["station_count"] == 0  # read from the real hostapd's station list
    finally:
        radio.close()
        bed.teardown()
