"""System health of the gateway, read from this machine through psutil."""

from __future__ import annotations

from collections import namedtuple

import psutil
import pytest

from edge_agent.collectors.system import SystemCollector

Reading = namedtuple("Reading", "label current high critical")


def collect(watched_processes=(), disk_paths=("/",)):
    return SystemCollector(10.0, list(watched_processes), list(disk_paths)).collect(5.0, 1_700_000_005.0)


def host_metrics(samples) -> dict:
    [host] = [s for s in samples if s.stream == "system"]
    return dict(host.metrics)


def test_host_sample_reports_cpu_memory_load_and_uptime():
    metrics = host_metrics(collect())
    assert 0 <= metrics["cpu_percent"] <= 100
    assert 0 < metrics["memory_percent"] <= 100
    assert metrics["load1"] >= 0
    assert metrics["uptime_s"] > 0


def test_samples_carry_the_times_they_were_collected_at():
    assert {(s.mono, s.ts) for s in collect()} == {(5.0, 1_700_000_005.0)}


def test_one_disk_sample_per_configured_path(tmp_path):
    samples = collect(disk_paths=["/", str(tmp_path)])
    assert [s.subject for s in samples if s.stream == "system.disk"] == ["/", str(tmp_path)]


def test_disk_sample_reports_how_full_the_file_system_is():
    [disk] = [s for s in collect() if s.stream == "system.disk"]
    assert 0 <= disk.metrics["disk_percent"] <= 100
    assert disk.metrics["free_mb"] >= 0


def test_disk_path_that_cannot_be_read_gives_unknown_fullness_and_the_error(tmp_path):
    [disk] = [s for s in collect(disk_paths=[str(tmp_path / "unmounted")]) if s.stream == "system.disk"]
    assert disk.metrics["disk_percent"] is None
    assert disk.metrics["error"]


def test_watched_process_that_runs_is_reported_running():
    me = psutil.Process().name()
    [proc] = [s for s in collect(watched_processes=[me]) if s.stream == "system.process"]
    assert proc.subject == me
    assert proc.metrics["running"] is True
    assert proc.metrics["count"] >= 1


def test_watched_process_that_is_absent_is_reported_not_running():
    [proc] = [s for s in collect(watched_processes=["no-such-daemon-x"]) if s.stream == "system.process"]
    assert dict(proc.metrics) == {"running": False, "count": 0, "rss_mb": 0.0}


def test_no_process_samples_when_no_process_is_watched():
    assert [s for s in collect() if s.stream == "system.process"] == []


def test_temperature_is_the_hottest_sensor_reading(monkeypatch):
    sensors = {"coretemp": [Reading("Core 0", 48.0, 90, 100), Reading("Core 1", 71.5, 90, 100)],
               "acpitz": [Reading("", 55.0, None, None)]}
    monkeypatch.setattr(psutil, "sensors_temperatures", lambda: sensors)
    assert host_metrics(collect())["temperature_c"] == 71.5


def test_temperature_is_unknown_without_sensors(monkeypatch):
    monkeypatch.setattr(psutil, "sensors_temperatures", lambda: {})
    assert host_metrics(collect())["temperature_c"] is None


def test_temperature_is_unknown_where_psutil_has_no_sensor_support(monkeypatch):
    monkeypatch.delattr(psutil, "sensors_temperatures")
    assert host_metrics(collect())["temperature_c"] is None


@pytest.mark.parametrize("error", [OSError("no hwmon"), RuntimeError("sensor driver busy")])
def test_temperature_is_unknown_when_the_sensors_cannot_be_read(monkeypatch, error):
    def broken():
        raise error

    monkeypatch.setattr(psutil, "sensors_temperatures", broken)
    assert host_metrics(collect())["temperature_c"] is None
