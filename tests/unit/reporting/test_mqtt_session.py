"""The MQTT session counter file: best effort on a disk that refuses it, never an exception on the MQTT thread."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge_agent.reporting.mqtt import _read_session, _write_session


def test_the_counter_survives_a_restart(tmp_path: Path):
    _write_session(tmp_path / "mqtt_session", 7)
    assert _read_session(tmp_path / "mqtt_session") == 7


def test_a_disk_that_refuses_the_counter_costs_a_warning_not_the_thread(tmp_path: Path, caplog):
    missing = tmp_path / "gone" / "mqtt_session"  # the write fails as on a full or read-only disk
    _write_session(missing, 3)
    assert "cannot save the MQTT session counter" in caplog.text
    assert not missing.parent.exists()


def test_an_unreadable_counter_starts_from_zero(tmp_path: Path):
    path = tmp_path / "mqtt_session"
    path.mkdir()  # reading it fails with an OSError other than "not found"
    assert _read_session(path) == 0


@pytest.mark.timeout(10)
def test_a_fifo_in_the_counters_place_does_not_stall_the_start(tmp_path: Path, caplog):
    os.mkfifo(tmp_path / "mqtt_session")
    assert _read_session(tmp_path / "mqtt_session") == 0
    assert "not a regular file" in caplog.text
