"""A tri-band gateway (2.4, 5 and 6 GHz radios, one hostapd control socket each): every radio read, scored and
remediated on its own, and its issues kept apart from the other radios'."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.backends import select_backends
from edge_agent.clock import ManualClock
from edge_agent.collectors.wifi import WifiCollector
from edge_agent.config import AgentConfig, FaultConfig, SimulatedRadio, SimulationSection
from edge_agent.remediation.refs import ActionRef
from edge_agent.schema import ValidationError
from edge_agent.sim.premises import SimulatedPremises
from edge_agent.sim.runner import judge, run_scenario
from edge_agent.sim.scenario import find_scenario, load_scenario
from edge_agent.wifi.channels import Band, Channel
from edge_agent.wifi.iw import parse_dev

RADIOS = [{"interface": "wlan0", "band": 2.4, "channel": 6},
          {"interface": "wlan1", "band": 5, "channel": 36, "width_mhz": 40},
          {"interface": "wlan2", "band": 6, "channel": 37, "width_mhz": 80}]


def tri_band(*faults: FaultConfig) -> SimulationSection:
    return SimulationSection(radios=RADIOS, faults=list(faults), cycle_s=None)


def interference(band: float, channel: int) -> FaultConfig:
    return FaultConfig(kind="interference", band=band, channel=channel, start_s=0, end_s=1000, level=0.6)


def test_the_tri_band_scenario_moves_only_the_radio_of_the_band_with_interference(tmp_path: Path):
    run = run_scenario(load_scenario(find_scenario("tri-band-interference")), tmp_path)
    report = judge(run)
    assert report.passed, "\n".join(report.failures + report.steps)
    # One issue per radio that had interference, on that radio: the 5 and 6 GHz issues are separate issues
    opened = [(e["type"], e["subject"]) for e in run.issues("opened") if e["type"] == "wifi_interference"]
    assert opened == [("wifi_interference", "wlan1"), ("wifi_interference", "wlan2")]
    ran = [a for a in run.actions() if a["outcome"] == "attempted"]
    assert [(a["subject"], a["details"]["band"]) for a in ran] == [("wlan1", "5GHz"), ("wlan2", "6GHz")]
    # Each switch stays in its radio's band, onto a channel that exists there; the 6 GHz one onto a preferred
    # scanning channel; the 2.4 GHz radio never moves; no radio moves twice (no flapping)
    for action in ran:
        switch = action["details"]["switch"]
        target = Channel(Band(action["details"]["band"]), switch["to_channel"])
        assert target.is_preferred
    assert run.final_channels == {"wlan0": 6, "wlan1": 44, "wlan2": 53}
    assert Channel(Band.GHZ_6, run.final_channels["wlan2"]).is_preferred
    assert len(run.issues("opened")) == len({(e["type"], e["subject"]) for e in run.issues("opened")})


def test_interference_is_heard_only_by_the_radio_of_its_band():
    premises = SimulatedPremises(tri_band(interference(5, 36)), ManualClock())
    assert premises.channel_busy(36, "wlan1")[0] > 0.6
    assert premises.channel_busy(6, "wlan0")[0] < 0.3  # channel 36 is no 2.4 GHz channel: unheard there
    assert premises.channel_busy(37, "wlan2")[0] < 0.3
    six = SimulatedPremises(tri_band(interference(6, 1)), ManualClock())
    assert six.channel_busy(1, "wlan2")[0] > 0.6
    assert six.channel_busy(1, "wlan0")[0] < 0.6  # 2.4 GHz channel 1 is not 6 GHz channel 1


def test_a_switch_moves_only_its_own_radio_and_never_across_bands():
    premises = SimulatedPremises(tri_band(), ManualClock())
    assert premises.switch_channel("wlan1", Channel(Band.GHZ_5, 44)).outcome == "switched"
    assert premises.channels() == {"wlan0": 6, "wlan1": 44, "wlan2": 37}
    refused = premises.switch_channel("wlan2", Channel(Band.GHZ_5, 36))
    assert refused.outcome == "failed" and premises.channels()["wlan2"] == 37
    assert premises.switch_channel("wlan9", 1).outcome == "failed"


def test_every_radio_is_sampled_with_its_own_band_and_stations_name_their_radio():
    premises = SimulatedPremises(tri_band(), ManualClock())
    samples = WifiCollector(5.0, premises.radio_names(), premises).collect(0.0, 0.0)
    radios = {s.subject: s.metrics for s in samples if s.stream == "wifi.radio"}
    assert {name: (m["band"], m["channel"], m["width_mhz"]) for name, m in radios.items()} == {
        "wlan0": ("2.4GHz", 6, 20), "wlan1": ("5GHz", 36, 40), "wlan2": ("6GHz", 37, 80)}
    stations = [s.metrics for s in samples if s.stream == "wifi.station"]
    assert stations and {(m["interface"], m["band_ghz"]) for m in stations} == {("wlan0", 2.4)}


def test_the_emulated_gateway_has_one_control_socket_per_radio_and_auto_finds_them(tmp_path: Path):
    config = AgentConfig.model_validate({
        "simulation": {"radios": RADIOS, "hostapd_emulation": True, "faults": [], "cycle_s": None},
        "collectors": {"wifi": {"interfaces": "auto"}}})
    backends = select_backends(config, ManualClock(), "simulated", runtime_dir=tmp_path)
    try:
        assert backends.radios() == ["wlan0", "wlan1", "wlan2"]
        statuses = {name: backends.radio.radio_status(name) for name in backends.radios()}
        assert {name: (s.band, s.channel) for name, s in statuses.items()} == {
            "wlan0": ("2.4GHz", 6), "wlan1": ("5GHz", 36), "wlan2": ("6GHz", 37)}
        # each radio's own phy: the 6 GHz one lists 6 GHz channels only
        phy = backends.radio.phy_capabilities("wlan2")
        assert phy is not None and phy.bands == (Band.GHZ_6,)
        assert [name for name, mode in parse_dev(backends.radio._run(["iw", "dev"]))] == ["wlan0", "wlan1", "wlan2"]
        # an untargeted switch_channel for an issue on wlan2 acts on wlan2 only
        result = backends.actions.run(ActionRef("switch_channel").for_subject("wlan2"), 10.0)
        assert result.data["band"] == "6GHz"
    finally:
        for close in backends.closers:
            close()


def test_simulated_radios_are_checked_like_the_single_one():
    with pytest.raises(ValidationError, match="has no channel 36"):
        SimulatedRadio(interface="wlan0", band=2.4, channel=36)
    with pytest.raises(ValidationError, match="cannot hold a 80 MHz"):
        SimulatedRadio(interface="wlan0", band=2.4, channel=6, width_mhz=80)
    with pytest.raises(ValidationError, match="interface name of its own"):
        SimulationSection(radios=[RADIOS[0], RADIOS[0]])
    with pytest.raises(ValidationError, match="has no channel 36"):
        FaultConfig(kind="interference", band=6, channel=36, start_s=0, end_s=1)
