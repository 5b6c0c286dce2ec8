"""Injectable clocks: the manual one tests steer, and the scaled one the simulation runs on."""

from __future__ import annotations

import threading
import time

import pytest

from edge_agent.clock import ManualClock, ScaledClock, SystemClock


def test_manual_clock_stands_still_until_advanced():
    clock = ManualClock(start=50.0)
    assert clock.monotonic() == clock.monotonic() == 50.0


def test_manual_clock_advance_moves_monotonic_and_wall_together():
    clock = ManualClock(start=50.0, wall_start=1_700_000_000.0)
    clock.advance(2.5)
    assert (clock.monotonic(), clock.wall()) == (52.5, 1_700_000_002.5)


def test_manual_clock_wait_passes_the_whole_time_and_reports_no_wake():
    clock = ManualClock(start=0.0)
    assert clock.wait(threading.Event(), 7.0) is False
    assert clock.monotonic() == 7.0


def test_manual_clock_wait_on_a_set_event_returns_at_once_without_passing_time():
    clock = ManualClock(start=0.0)
    event = threading.Event()
    event.set()
    assert clock.wait(event, 7.0) is True
    assert clock.monotonic() == 0.0


def test_manual_clock_wait_of_negative_seconds_does_not_go_back():
    clock = ManualClock(start=10.0)
    clock.wait(threading.Event(), -3.0)
    assert clock.monotonic() == 10.0


def test_system_clock_wait_wakes_when_the_event_is_set():
    event = threading.Event()
    event.set()
    assert SystemClock().wait(event, 10.0) is True


def test_system_clock_wait_of_negative_seconds_returns_at_once():
    started = time.monotonic()
    assert SystemClock().wait(threading.Event(), -5.0) is False
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("speed", [0, -2.0])
def test_scaled_clock_refuses_a_speed_that_is_not_positive(speed):
    with pytest.raises(ValueError):
        ScaledClock(speed)


def test_scaled_clock_runs_speed_times_faster_than_real_time():
    clock = ScaledClock(100.0)
    before = clock.monotonic()
    time.sleep(0.05)
    assert clock.monotonic() - before >= 100.0 * 0.05


def test_scaled_clock_wait_takes_its_seconds_divided_by_speed_in_real_time():
    clock = ScaledClock(1000.0)
    started = time.monotonic()
    clock.wait(threading.Event(), 2.0)
    assert time.monotonic() - started < 0.5


def test_scaled_clock_wall_time_advances_with_monotonic_time():
    clock = ScaledClock(100.0)
    mono0, wall0 = clock.monotonic(), clock.wall()
    time.sleep(0.05)
    mono1, wall1 = clock.monotonic(), clock.wall()
    assert (wall1 - wall0) == pytest.approx(mono1 - mono0, abs=0.05)
