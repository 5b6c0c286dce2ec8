"""Remediation on the simulated premises: actions end the faults they fix, and only those."""

from __future__ import annotations

from edge_agent.clock import ManualClock
from edge_agent.config import FaultConfig, SimulationSection
from edge_agent.remediation.refs import parse_ref
from edge_agent.remediation.settings import RemediationSection
from edge_agent.sim.actions import SimulatedActions
from edge_agent.sim.premises import SimulatedPremises


def premises_with(*faults: FaultConfig, csa: bool = True) -> tuple[SimulatedPremises, SimulatedActions, ManualClock]:
    clock = ManualClock()
    premises = SimulatedPremises(SimulationSection(faults=list(faults), cycle_s=100.0, csa_supported=csa), clock)
    return premises, SimulatedActions(premises, RemediationSection(), "wlan0"), clock


def collect(premises: SimulatedPremises, readings: int = 2) -> float:
    """What the wifi collector does every interval; the survey needs two readings for a delta."""
    return [premises.radio_status("wlan0") for _ in range(readings)][-1].busy_ratio


def test_restarting_the_resolver_ends_a_hung_resolver_for_the_rest_of_its_window_only():
    premises, actions, clock = premises_with(FaultConfig(kind="dns_down", start_s=0, end_s=50))
    assert premises.probe().dns[0].ok is False
    assert actions.run(parse_ref("flush_dns"), 5).ok  # runs, but a flush does not revive a hung resolver
    assert premises.probe().dns[0].ok is False
    result = actions.run(parse_ref("restart_service:dnsmasq"), 5)
    assert result.ok and "ended dns_down" in result.detail
    assert premises.probe().dns[0].ok is True
    clock.advance(100)  # the next cycle: the fault is back
    assert premises.probe().dns[0].ok is False


def test_a_fault_names_its_own_fix():
    premises, actions, _ = premises_with(FaultConfig(kind="uplink_down", start_s=0, end_s=50,
                                                     fixed_by=["custom:modem"]))
    actions.settings = RemediationSection(custom={"modem": {"argv": ["/bin/true"]}})
    actions.run(parse_ref("bounce_interface"), 5)
    assert premises.probe().uplinks[0].ok is False
    actions.run(parse_ref("custom:modem"), 5)
    assert premises.probe().uplinks[0].ok is True


def test_renewing_dhcp_fails_while_the_gateway_is_down():
    _, actions, _ = premises_with(FaultConfig(kind="gateway_down", start_s=0, end_s=50))
    result = actions.run(parse_ref("renew_dhcp"), 5)
    assert not result.ok and "DHCPOFFER" in result.detail


def test_unknown_services_and_undefined_custom_actions_cannot_run():
    _, actions, _ = premises_with()
    assert "no service nginx" in actions.problem(parse_ref("restart_service:nginx"))
    assert "not defined" in actions.problem(parse_ref("custom:modem"))
    assert actions.problem(parse_ref("restart_service:dnsmasq")) is None


def test_switching_away_from_an_interfered_channel_picks_the_quietest_and_can_be_undone():
    premises, actions, _ = premises_with(FaultConfig(kind="interference", channel=6, start_s=0, end_s=50, level=0.55))
    assert collect(premises) > 0.5
    result = actions.run(parse_ref("switch_channel"), 5)
    assert result.ok, result.detail
    assert premises.channel == 11  # 1 is crowded by two loud neighbours; 11 has one faint one
    assert collect(premises) < 0.2
    scores = {s["channel"]: s["score"] for s in result.data["scores"]}
    assert scores[11] < scores[1] < scores[6]
    undone = actions.undo(parse_ref("switch_channel"), result, 5)
    assert undone.ok and premises.channel == 6


def test_a_second_switch_within_the_dwell_time_is_refused():
    premises, actions, clock = premises_with(
        FaultConfig(kind="interference", channel=6, start_s=0, end_s=40, level=0.55),
        FaultConfig(kind="interference", channel=11, start_s=40, end_s=90, level=0.55),
    )
    collect(premises)
    assert actions.run(parse_ref("switch_channel"), 5).ok
    clock.advance(45)
    collect(premises)
    second = actions.run(parse_ref("switch_channel"), 5)
    assert not second.ok and "minimum dwell" in second.detail
    assert premises.channel == 11


def test_a_driver_without_csa_fails_the_switch_and_keeps_the_channel():
    premises, actions, _ = premises_with(FaultConfig(kind="interference", channel=6, start_s=0, end_s=50,
                                                     level=0.55), csa=False)
    collect(premises)
    result = actions.run(parse_ref("switch_channel"), 5)
    assert not result.ok and "FAIL" in result.detail and "not allowed by policy" in result.detail
    assert premises.channel == 6


def test_without_csa_the_policy_may_allow_a_restart_on_the_new_channel():
    clock = ManualClock()
    premises = SimulatedPremises(SimulationSection(faults=[FaultConfig(kind="interference", channel=6, start_s=0,
                                                                       end_s=50, level=0.55)], csa_supported=False),
                                 clock)
    actions = SimulatedActions(premises, RemediationSection(channel={"restart_fallback": True}), "wlan0")
    collect(premises)
    result = actions.run(parse_ref("switch_channel"), 5)
    assert result.ok and result.data["switch"]["outcome"] == "restarted"
    assert premises.channel == 11


def test_wideband_interference_leaves_no_better_channel():
    premises, actions, _ = premises_with(FaultConfig(kind="interference", channel=None, start_s=0, end_s=50,
                                                     level=0.55))
    collect(premises)
    result = actions.run(parse_ref("switch_channel"), 5)
    assert not result.ok and premises.channel == 6
    assert "not clearly better" in result.detail or "already the best" in result.detail


def test_survey_counters_are_cumulative_and_a_driver_reset_never_gives_a_negative_reading():
    premises, _, _ = premises_with()
    readings = []
    for _ in range(400):
        premises.radio_status("wlan0")
        readings.append({s.channel: s for s in premises.channel_surveys("wlan0")})
    assert any(len(r) < 11 for r in readings[1:]), "a reset channel is left out of that reading"
    for reading in readings[1:]:
        assert all(0 <= s.busy_ms <= s.active_ms == 1000 for s in reading.values())


def test_a_walking_station_loses_signal_with_distance_and_walls():
    premises, _, clock = premises_with(FaultConfig(kind="weak_station", start_s=10, end_s=90))
    far = [s.signal_dbm for s in premises.stations("wlan0")][-1]
    clock.advance(20)  # half way
    midway = [s.signal_dbm for s in premises.stations("wlan0")][-1]
    clock.advance(20)  # in the far bedroom
    gone = [s.signal_dbm for s in premises.stations("wlan0")][-1]
    assert -70 < far < -58 and gone < -80 and gone < midway < far
