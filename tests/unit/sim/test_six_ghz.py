"""The simulated premises with a 6 GHz radio: its channel plane, its iw and hostapd outputs read back by the
agent's own parsers, a phy that follows European rules, and a planner that never leaves the usable channels."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.backends import select_backends
from edge_agent.clock import ManualClock
from edge_agent.config import AgentConfig, FaultConfig, SimulationSection
from edge_agent.remediation.settings import ChannelPolicy
from edge_agent.reporting.contract import RadioCard
from edge_agent.schema import ValidationError
from edge_agent.sim.hostapd_emulator import HostapdEmulator, SimulatedIw
from edge_agent.sim.premises import SimulatedPremises
from edge_agent.sim.scenario import ScenarioError, load_scenario
from edge_agent.wifi.channel_action import ChannelPlanner
from edge_agent.wifi.channels import Band, Channel, block
from edge_agent.wifi.hostapd_ctrl import HostapdControl
from edge_agent.wifi.hostapd_replies import parse_status
from edge_agent.wifi.iw import parse_info, parse_scan, parse_survey_dump
from edge_agent.wifi.phy import parse_phy


def six_ghz(*faults: FaultConfig, channel: int = 37, width: int = 80, csa: bool = True) -> SimulationSection:
    return SimulationSection(band=6, channel=channel, width_mhz=width, csa_supported=csa, faults=list(faults))


def interference(channel: int) -> FaultConfig:
    return FaultConfig(kind="interference", channel=channel, start_s=0, end_s=100, level=0.6)


def test_the_default_premises_stay_2_4_ghz_channel_6():
    section = SimulationSection()
    assert (section.band, section.primary, section.width_mhz) == (None, Channel(Band.GHZ_2_4, 6), 20)
    assert SimulationSection(channel=36).primary == Channel(Band.GHZ_5, 36)  # a bare 5 GHz number, as before


@pytest.mark.parametrize(("settings", "problem"), [
    ({"band": 6}, "6GHz has no channel 6"),
    ({"band": 6, "channel": 233, "width_mhz": 80}, "cannot hold a 80 MHz channel"),
    ({"band": 2.4, "channel": 36}, "2.4GHz has no channel 36"),
    ({"band": 6, "channel": 37, "width_mhz": 30}, "cannot hold a 30 MHz channel"),
])
def test_a_channel_its_band_lacks_is_a_config_error_naming_it(settings, problem):
    with pytest.raises(ValidationError, match=problem):
        SimulationSection(**settings)


def test_a_6_ghz_scenario_with_a_channel_the_band_lacks_names_the_problem(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\ndescription = ""\nduration_s = 60\nband = 6\nchannel = 6\n')
    with pytest.raises(ScenarioError, match="6GHz has no channel 6"):
        load_scenario(path)


def test_a_6_ghz_radio_reports_its_band_frequency_and_width():
    status = SimulatedPremises(six_ghz(), ManualClock()).radio_status("wlan0")
    assert (status.channel, status.freq_mhz, status.width_mhz, status.band) == (37, 6135, 80, "6GHz")


def test_interference_on_the_6_ghz_channel_raises_its_busy_time_and_not_the_next_block():
    premises = SimulatedPremises(six_ghz(interference(37)), ManualClock())
    assert premises.channel_busy(37)[0] > 0.6 and premises.channel_busy(53)[0] < 0.1
    # the neighbour's 160 MHz network spans 1-29: those channels are busier than the free ones
    assert premises.channel_busy(21)[0] > premises.channel_busy(85)[0]


def test_iw_and_hostapd_outputs_of_the_6_ghz_radio_read_back_exactly(short_tmp: Path):
    premises = SimulatedPremises(six_ghz(), ManualClock())
    iw = SimulatedIw(premises)
    info = parse_info(iw(["iw", "dev", "wlan0", "info"]))
    assert (info.wiphy, info.freq_mhz, info.width_mhz, info.center1_mhz) == (0, 6135, 80, 6145)
    survey = parse_survey_dump(iw(["iw", "dev", "wlan0", "survey", "dump"]))
    assert {e.primary for e in survey.entries} == {Channel(Band.GHZ_6, n) for n in range(1, 234, 4)}
    assert [e.primary for e in survey.entries if e.in_use] == [Channel(Band.GHZ_6, 37)]
    scan = parse_scan(iw(["iw", "dev", "wlan0", "scan"]))
    assert [(b.primary, b.width_mhz) for b in scan.bsses] == [(Channel(Band.GHZ_6, 5), 160),
                                                             (Channel(Band.GHZ_6, 69), 20)]
    emulator = HostapdEmulator(premises, short_tmp / "hostapd", "wlan0")
    try:
        with HostapdControl(emulator.path.parent, "wlan0", timeout_s=1.0, local_dir=short_tmp) as control:
            status = control.status()
            # a CHAN_SWITCH to a 2.4 GHz frequency is no 6 GHz channel: the radio refuses it
            assert control.request("CHAN_SWITCH 5 2437 bandwidth=20 ht").strip() == "FAIL"
    finally:
        emulator.close()
    assert (status.primary, status.width_mhz, status.centre_mhz) == (Channel(Band.GHZ_6, 37), 80,
                                                                     block(Channel(Band.GHZ_6, 37), 80).centre_mhz)
    assert status.notes == () and premises.channel == 37


@pytest.mark.parametrize("csa", [True, False])
def test_the_simulated_phy_follows_european_rules_and_lists_channel_switch_only_with_csa(csa):
    phy = parse_phy(SimulatedIw(SimulatedPremises(six_ghz(csa=csa), ManualClock()))(["iw", "phy", "phy#0", "info"]))
    usable = [c.channel.number for c in phy.channels if c.usable_for_ap]
    assert usable == list(range(1, 94, 4)) and all(c.disabled for c in phy.channels if c.channel.number >= 97)
    assert phy.supports_channel_switch is csa and phy.bands == (Band.GHZ_6,)


def test_parse_status_of_a_320_mhz_simulated_radio_names_the_eht_width(short_tmp: Path):
    premises = SimulatedPremises(six_ghz(channel=37, width=320), ManualClock())
    from edge_agent.sim.hostapd_emulator import status_text

    status = parse_status(status_text(premises, "wlan0"))
    assert (status.width_mhz, status.primary, "be" in status.standards) == (320, Channel(Band.GHZ_6, 37), True)


def test_the_planner_never_moves_to_a_disabled_channel_even_when_it_is_the_quietest():
    # 37 and 53 both interfered; 117 is free of everything but disabled under European rules
    premises = SimulatedPremises(six_ghz(interference(37), interference(53), width=20), ManualClock())
    premises.next_survey()
    premises.next_survey()
    policy = ChannelPolicy(min_dwell_s=0, allowed_channels=[37, 53, 117])
    result = ChannelPlanner(premises, policy, lambda: 0.0).move("wlan0")
    assert premises.channel == 37 and not result.ok
    assert {s["channel"] for s in result.data["scores"]} == {37, 53}
    # without the phy reading 117 is a candidate: the phy is what keeps the AP legal
    premises.phy_capabilities = lambda interface: None
    assert 117 in {s.channel for s in ChannelPlanner(premises, policy, lambda: 0.0).plan("wlan0")[1].scores}


@pytest.mark.parametrize(("csa", "restart", "method"), [(True, False, "csa"), (False, False, "none"),
                                                        (False, True, "restart")])
def test_the_device_card_of_the_emulated_6_ghz_radio_is_read_through_iw(csa, restart, method):
    config = AgentConfig.model_validate({
        "simulation": {"hostapd_emulation": True, "band": 6, "channel": 37, "width_mhz": 80, "csa_supported": csa},
        "remediation": {"channel": {"restart_fallback": restart}}})
    backends = select_backends(config, ManualClock(), "simulated")
    try:
        card = backends.radio_hardware.card(config.remediation.channel.restart_fallback)
    finally:
        for close in backends.closers:
            close()
    RadioCard.model_validate(card)
    assert (card["phy"], card["bands"], card["channel_switch"], card["switch_method"], card["survey"]) == (
        "phy0", ["6GHz"], csa, method, True)
    assert card["channels"]["6GHz"]["disabled"][0] == 97


def test_the_plain_simulated_premises_carry_a_device_card_too():
    backends = select_backends(AgentConfig.model_validate({}), ManualClock(), "simulated")
    card = backends.radio_hardware.card(False)
    assert (card["bands"], card["switch_method"], card["channels"]["2.4GHz"]["usable"]) == (
        ["2.4GHz"], "csa", list(range(1, 12)))
