"""Interface counters turned into rates, with resets shown as unknown rather than negative."""

from __future__ import annotations

import pytest

from edge_agent.collectors.interfaces import InterfaceCounters, InterfacesCollector, counter_rate


class FakeNics:
    """Counters and link states a test sets between collections."""

    def __init__(self, **counters: InterfaceCounters):
        self.counters = dict(counters)
        self.link_up: dict[str, bool] = {nic: True for nic in counters}

    def collector(self, include=(), exclude=("lo",)) -> InterfacesCollector:
        return InterfacesCollector(10.0, list(include), list(exclude), lambda: self.counters, lambda: self.link_up)


def counters(rx: int = 0, tx: int = 0, errors: int = 0, drops: int = 0) -> InterfaceCounters:
    return InterfaceCounters(rx_bytes=rx, tx_bytes=tx, errors=errors, drops=drops)


def by_subject(samples) -> dict:
    return {s.subject: dict(s.metrics) for s in samples}


def test_counter_rate_is_the_increase_per_second():
    assert counter_rate(1000, 3000, 4.0) == 500.0


def test_counter_going_backwards_has_no_rate():
    assert counter_rate(5000, 100, 10.0) is None


@pytest.mark.parametrize("elapsed_s", [0.0, -1.0])
def test_counter_rate_needs_time_to_have_passed(elapsed_s):
    assert counter_rate(0, 100, elapsed_s) is None


def test_first_collection_has_counters_but_no_rates():
    metrics = by_subject(FakeNics(eth0=counters(rx=500)).collector().collect(0.0, 0.0))["eth0"]
    assert metrics["rx_bytes"] == 500
    assert [metrics[k] for k in ("rx_bps", "tx_bps", "errors_per_s", "drops_per_s")] == [None] * 4


def test_second_collection_gives_rates_per_second_and_bits_per_second():
    nics = FakeNics(eth0=counters(rx=1000, tx=0, errors=0, drops=0))
    collector = nics.collector()
    collector.collect(0.0, 0.0)
    nics.counters["eth0"] = counters(rx=3500, tx=1000, errors=20, drops=5)
    metrics = by_subject(collector.collect(10.0, 10.0))["eth0"]
    assert (metrics["rx_bps"], metrics["tx_bps"], metrics["errors_per_s"], metrics["drops_per_s"]) == (
        2000.0, 800.0, 2.0, 0.5)


def test_counter_reset_gives_an_unknown_rate_not_a_negative_one():
    nics = FakeNics(eth0=counters(rx=10_000, errors=50))
    collector = nics.collector()
    collector.collect(0.0, 0.0)
    nics.counters["eth0"] = counters(rx=200, errors=0)  # driver reset: counters start again from zero
    metrics = by_subject(collector.collect(10.0, 10.0))["eth0"]
    assert metrics["rx_bps"] is None
    assert metrics["errors_per_s"] is None


def test_rates_resume_after_a_counter_reset():
    nics = FakeNics(eth0=counters(rx=10_000))
    collector = nics.collector()
    collector.collect(0.0, 0.0)
    nics.counters["eth0"] = counters(rx=200)
    collector.collect(10.0, 10.0)
    nics.counters["eth0"] = counters(rx=1200)
    assert by_subject(collector.collect(20.0, 20.0))["eth0"]["rx_bps"] == 800.0


def test_excluded_interfaces_are_not_sampled():
    nics = FakeNics(lo=counters(), eth0=counters(), wlan0=counters())
    assert sorted(by_subject(nics.collector().collect(0.0, 0.0))) == ["eth0", "wlan0"]


def test_include_list_limits_sampling_to_the_named_interfaces():
    nics = FakeNics(lo=counters(), eth0=counters(), wlan0=counters())
    assert list(by_subject(nics.collector(include=["wlan0"]).collect(0.0, 0.0))) == ["wlan0"]


def test_link_state_is_reported_and_unknown_when_the_kernel_gives_none():
    nics = FakeNics(eth0=counters(), eth1=counters())
    nics.link_up = {"eth0": False}
    metrics = by_subject(nics.collector().collect(0.0, 0.0))
    assert (metrics["eth0"]["is_up"], metrics["eth1"]["is_up"]) == (False, None)


def test_real_counters_of_this_machine_are_sampled():
    samples = InterfacesCollector(10.0, [], []).collect(0.0, 0.0)
    assert "lo" in {s.subject for s in samples}
    assert all(s.stream == "interface" for s in samples)
