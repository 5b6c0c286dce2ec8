"""The emulated access point speaks hostapd's control protocol and iw's formats: the agent's own clients and
parsers read the simulation back exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.clock import ManualClock
from edge_agent.config import FaultConfig, SimulationSection
from edge_agent.sim.hostapd_emulator import HostapdEmulator, SimulatedIw
from edge_agent.sim.premises import NEIGHBOURS, SimulatedPremises
from edge_agent.wifi.channel_switch import ChannelSwitcher
from edge_agent.wifi.hostapd_ctrl import HostapdControl, HostapdError
from edge_agent.wifi.iw import parse_scan, parse_station_dump, parse_survey_dump


@pytest.fixture
def access_point(short_tmp: Path):
    premises = SimulatedPremises(SimulationSection(faults=[]), ManualClock())
    emulator = HostapdEmulator(premises, short_tmp / "hostapd", "wlan0")
    yield premises, emulator
    emulator.close()


def client(emulator: HostapdEmulator, short_tmp: Path) -> HostapdControl:
    return HostapdControl(emulator.path.parent, "wlan0", timeout_s=1.0, local_dir=short_tmp)


def test_ping_status_and_the_station_walk_come_back_through_the_real_client(access_point, short_tmp):
    premises, emulator = access_point
    with client(emulator, short_tmp) as control:
        assert control.ping()
        status = control.status()
        stations = control.stations().stations
    assert (status.state, status.channel, status.freq_mhz, status.station_count) == ("ENABLED", 6, 2437, 3)
    assert [s.mac for s in stations] == [s.mac for s in premises.stations("wlan0")]


def test_chan_switch_moves_the_ap_and_announces_csa_finished_to_attached_clients(access_point, short_tmp):
    premises, emulator = access_point
    with client(emulator, short_tmp) as control:
        result = ChannelSwitcher(control, wait_s=2).switch(11)
    assert result.outcome == "switched" and premises.channel == 11
    assert result.stations_after == 3


def test_a_driver_without_csa_answers_fail_and_the_channel_stays(short_tmp: Path):
    premises = SimulatedPremises(SimulationSection(faults=[], csa_supported=False), ManualClock())
    emulator = HostapdEmulator(premises, short_tmp / "hostapd", "wlan0")
    try:
        with client(emulator, short_tmp) as control:
            assert control.request("CHAN_SWITCH 5 2462 bandwidth=20 ht").strip() == "FAIL"
    finally:
        emulator.close()
    assert premises.channel == 6


def test_a_hung_hostapd_does_not_answer(short_tmp: Path):
    premises = SimulatedPremises(SimulationSection(faults=[FaultConfig(kind="radio_down", start_s=0, end_s=50)]),
                                 ManualClock())
    emulator = HostapdEmulator(premises, short_tmp / "hostapd", "wlan0")
    try:
        with client(emulator, short_tmp) as control, pytest.raises(HostapdError, match="no reply"):
            control.status()
    finally:
        emulator.close()


def test_iw_output_parses_back_to_the_simulated_values():
    premises = SimulatedPremises(SimulationSection(faults=[]), ManualClock())
    iw = SimulatedIw(premises)
    survey = parse_survey_dump(iw(["iw", "dev", "wlan0", "survey", "dump"]))
    assert [e.channel for e in survey.entries] == list(range(1, 12))
    assert [e.channel for e in survey.entries if e.in_use] == [6]
    dump = parse_station_dump(iw(["iw", "dev", "wlan0", "station", "dump"]))
    assert len(dump.stations) == 3 and all(s.signal_dbm < -30 and s.tx_retries is not None for s in dump.stations)
    scan = parse_scan(iw(["iw", "dev", "wlan0", "scan"]))
    assert [(b.channel, b.signal_dbm) for b in scan.bsses] == [(n.channel, n.signal_dbm) for n in NEIGHBOURS]
    with pytest.raises(OSError, match="not an iw command"):
        iw(["iw", "dev", "wlan0", "link"])
