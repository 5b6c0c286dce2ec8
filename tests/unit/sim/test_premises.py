"""The simulated premises: seeded and repeatable, with faults only where and when the timeline puts them."""

from __future__ import annotations

import pytest

from edge_agent.clock import ManualClock
from edge_agent.collectors.wifi import RadioUnavailable
from edge_agent.config import FaultConfig, SimulationSection
from edge_agent.sim.premises import SimulatedPremises

# Neighbour networks keep the channel ~15 % busy (sd 3 %); an interferer at level 0.55 adds about half the time.
QUIET_BUSY_MAX = 0.35
INTERFERED_BUSY_MIN = 0.5


def simulation(*faults: FaultConfig, seed: int = 1, channel: int = 6, cycle_s: float = 180.0) -> SimulationSection:
    return SimulationSection(seed=seed, channel=channel, cycle_s=cycle_s, faults=list(faults))


def interference(channel: int | None = 6, start_s: float = 20, end_s: float = 60) -> FaultConfig:
    return FaultConfig(kind="interference", channel=channel, start_s=start_s, end_s=end_s, level=0.55)


def busy_ratio_by_second(config: SimulationSection, seconds: int) -> dict[int, float]:
    clock = ManualClock()
    premises = SimulatedPremises(config, clock)
    readings = {}
    for second in range(seconds):
        readings[second] = premises.radio_status("wlan0").busy_ratio
        clock.advance(1.0)
    return readings


def run_scenario(config: SimulationSection, rounds: int) -> list:
    clock = ManualClock()
    premises = SimulatedPremises(config, clock)
    readings = []
    for _ in range(rounds):
        readings.append((premises.radio_status("wlan0"), premises.probe()))
        clock.advance(5.0)
    return readings


def test_same_seed_and_clock_give_the_same_readings():
    config = simulation(interference(), FaultConfig(kind="uplink_loss", start_s=30, end_s=50, level=0.3))
    assert run_scenario(config, 40) == run_scenario(config, 40)


def test_different_seeds_give_different_readings():
    assert run_scenario(simulation(seed=1), 10) != run_scenario(simulation(seed=2), 10)


def test_interference_raises_busy_ratio_during_its_window():
    readings = busy_ratio_by_second(simulation(interference(start_s=20, end_s=60)), 60)
    assert min(readings[s] for s in range(20, 60)) > INTERFERED_BUSY_MIN


def test_busy_ratio_stays_at_the_neighbour_level_outside_the_interference_window():
    readings = busy_ratio_by_second(simulation(interference(start_s=20, end_s=60)), 180)
    assert max(readings[s] for s in [*range(0, 20), *range(60, 180)]) < QUIET_BUSY_MAX


def test_interference_on_another_channel_leaves_busy_ratio_alone():
    readings = busy_ratio_by_second(simulation(interference(channel=11), channel=6), 60)
    assert max(readings.values()) < QUIET_BUSY_MAX


def test_interference_without_a_channel_hits_whatever_channel_is_in_use():
    readings = busy_ratio_by_second(simulation(interference(channel=None), channel=36), 60)
    assert min(readings[s] for s in range(20, 60)) > INTERFERED_BUSY_MIN


def test_interference_lifts_the_noise_floor():
    clock = ManualClock()
    premises = SimulatedPremises(simulation(interference(start_s=20, end_s=60)), clock)

    def mean_noise(readings: int = 10) -> float:
        return sum(premises.radio_status("wlan0").noise_dbm for _ in range(readings)) / readings

    before = mean_noise()
    clock.advance(30.0)
    # The interferer at level 0.55 lifts the floor by about 6.6 dB; the floor itself wanders by 1 dB.
    assert mean_noise() - before > 3.0


def test_fault_timeline_repeats_every_cycle():
    clock = ManualClock()
    premises = SimulatedPremises(simulation(interference(start_s=20, end_s=60), cycle_s=180.0), clock)
    clock.advance(180.0 + 30.0)
    assert [f.kind for f in premises.active_faults("interference")] == ["interference"]


def test_fault_is_inactive_from_its_end_time():
    clock = ManualClock()
    premises = SimulatedPremises(simulation(interference(start_s=20, end_s=60)), clock)
    clock.advance(60.0)
    assert premises.active_faults("interference") == []


def test_dns_down_fault_makes_the_resolver_time_out():
    clock = ManualClock()
    premises = SimulatedPremises(simulation(FaultConfig(kind="dns_down", start_s=10, end_s=20)), clock)
    assert premises.probe().dns[0].ok is True
    clock.advance(15.0)
    [dns] = premises.probe().dns
    assert (dns.ok, dns.latency_ms, dns.rcode) == (False, None, "timeout")


def test_total_uplink_loss_loses_every_probe():
    clock = ManualClock()
    premises = SimulatedPremises(simulation(FaultConfig(kind="uplink_loss", start_s=0, end_s=30, level=1.0)), clock)
    gateway = premises.probe().gateway
    assert (gateway.received, gateway.loss_pct, gateway.rtt_ms_median) == (0, 100.0, None)


def test_radio_reports_the_configured_channel_and_its_frequency():
    status = SimulatedPremises(simulation(channel=11), ManualClock()).radio_status("wlan0")
    assert (status.channel, status.freq_mhz) == (11, 2462)


def test_a_weak_station_fault_moves_the_farthest_station_out_of_range_and_raises_its_retries():
    clock = ManualClock(start=0.0)
    premises = SimulatedPremises(simulation(FaultConfig(kind="weak_station", start_s=10, end_s=50)), clock)
    before = premises.stations("wlan0")
    clock.advance(20)
    during = premises.stations("wlan0")
    assert [s.mac for s in before] == [s.mac for s in during] and len(during) == 3
    assert before[-1].signal_dbm > -75 > during[-1].signal_dbm
    assert during[0].signal_dbm > -55  # the others are unaffected


def test_a_radio_down_fault_makes_the_radio_unreadable():
    clock = ManualClock(start=0.0)
    premises = SimulatedPremises(simulation(FaultConfig(kind="radio_down", start_s=0, end_s=30)), clock)
    with pytest.raises(RadioUnavailable, match="no reply from hostapd"):
        premises.radio_status("wlan0")
