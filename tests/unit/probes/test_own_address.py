"""The own-address check's pace and what the rules make of its answers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from edge_agent.collectors.connectivity import AddressProbe, ConnectivityStatus, status_samples
from edge_agent.config import ConnectivityThresholds
from edge_agent.detectors.connectivity import ConnectivityRules
from edge_agent.probes.own_address import OwnAddressCheck


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_checks_start_when_due_are_handed_over_once_and_never_overlap():
    clock, started = Clock(), []
    with ThreadPoolExecutor(1) as pool:
        check = OwnAddressCheck(30.0, pool, clock)
        check.check = lambda interface: started.append(clock.now) or AddressProbe(interface, "10.0.0.2", ())
        assert check.collect("eth0") is None  # not due yet: the first waits a moment after start
        results = []
        for _ in range(70):
            clock.now += 1.0
            results.append(check.collect("eth0"))
            if check._cadence.job is not None:
                check._cadence.job.result()  # the worker finishes within the round
    assert [round(t - 100) for t in started] == [2, 32, 62]
    assert [r.address for r in results if r is not None] == ["10.0.0.2"] * 3


def test_no_interval_or_no_interface_means_no_check():
    with ThreadPoolExecutor(1) as pool:
        clock = Clock()
        for interval, interface in ((0.0, "eth0"), (30.0, None)):
            check = OwnAddressCheck(interval, pool, clock)
            clock.now += 100
            assert check.collect(interface) is None and check._cadence.job is None


def test_an_answer_for_the_hosts_own_address_is_a_critical_address_conflict():
    rules = ConnectivityRules(ConnectivityThresholds())
    answered = ConnectivityStatus(None, (), own_address=AddressProbe("eth0", "10.0.0.2", ("02:00:00:00:00:99",)))
    [finding] = [f for s in status_samples(answered, 1.0, 1.0) for f in rules.evaluate(s)]
    assert (finding.type, finding.present, finding.severity.value) == ("address_conflict", True, "critical")
    assert "02:00:00:00:00:99" in finding.summary and "10.0.0.2" in finding.summary
    quiet = ConnectivityStatus(None, (), own_address=AddressProbe("eth0", "10.0.0.2", ()))
    [finding] = [f for s in status_samples(quiet, 2.0, 2.0) for f in rules.evaluate(s)]
    assert not finding.present
