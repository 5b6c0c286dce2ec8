"""A small or full disk under the real agent (a real tmpfs, root only): the outbox stays within its budget with
telemetry dropped first, a full disk is reported as a storage_failing issue through the broker while events wait
in memory, the agent starts on a full disk, and everything recovers when space returns."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_process import Daemon, wait_for
from mqtt_recorder import Recorder
from test_crash_consistency import flapping_interference, journaled_ids

from edge_agent.local_broker import free_port

SPEED = 20

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")


@pytest.fixture
def small_disk(short_tmp: Path) -> Iterator[Path]:
    """The agent's state directory on a 2 MiB tmpfs, unmounted afterwards."""
    state = short_tmp / "state"
    state.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(state)], check=True)
    try:
        yield state
    finally:
        subprocess.run(["umount", "-l", str(state)], check=False)


def fill(directory: Path) -> Path:
    """Write until the file system says ENOSPC; the file is the space to give back later."""
    filler = directory / "filler"
    chunk = b"\0" * 4096
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
    return filler


def outbox_files(state: Path) -> int:
    return sum(p.stat().st_size for p in state.glob("outbox.sqlite*") if p.is_file())


def agent_config(broker_port: int, outbox_max_bytes: int) -> str:
    return (
        f'\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker_port}\nkeepalive_s = 5\n'
        f"[reporting]\nagent_health_interval_s = 1\noutbox_max_bytes = {outbox_max_bytes}\n"
        "report_interval_s = 1\n"  # contract v2 batches telemetry; 1 s windows keep the outbox as busy as before
        "journal_max_bytes = 100000\n" + flapping_interference(14)
    )


@pytest.mark.timeout(60)
def test_with_the_broker_down_a_small_disk_holds_the_outbox_within_budget_telemetry_dropped_first(
    short_tmp: Path, small_disk: Path
):
    budget = 300_000
    daemon = Daemon(short_tmp, agent_config(free_port(), budget))  # nothing listens: the broker is down
    daemon.speed = SPEED
    daemon.start()
    try:
        daemon.wait_notify("READY=1", 20)
        largest, deadline = 0, time.monotonic() + 12
        while time.monotonic() < deadline:
            largest = max(largest, outbox_files(small_disk))
            assert daemon.proc.poll() is None, daemon.log_text()
            time.sleep(0.05)
        outbox = daemon.ask_json("status")["reporting"]["mqtt"]["outbox"]
    finally:
        daemon.stop()  # SIGKILL: what is on disk now is what a restart would send
    journaled = set(journaled_ids(small_disk))
    queued = events_in_outbox(small_disk / "outbox.sqlite")
    print(f"\nsmall disk: outbox files at most {largest} bytes (budget {budget}); {outbox['dropped_telemetry']} "
          f"telemetry dropped; {len(queued)} events in the outbox, {len(journaled)} journaled")
    assert largest <= budget
    assert outbox["dropped_telemetry"] > 0 and not outbox["storage_failing"]
    assert journaled and journaled <= queued  # every event kept


def events_in_outbox(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT payload FROM outbox WHERE kind = 'event'").fetchall()
    return {json.loads(payload)["id"] for (payload,) in rows}


def issue_changes(recorder: Recorder, issue_type: str) -> list[str]:
    return [b["change"] for b in recorder.bodies() if b.get("type") == issue_type and "change" in b]


@pytest.mark.timeout(120)
def test_a_full_disk_is_reported_through_the_broker_survives_a_restart_and_recovers(
    short_tmp: Path, small_disk: Path, mosquitto
):
    filler = fill(small_disk)
    recorder = Recorder(mosquitto.host, mosquitto.port, "edge/v1/itest-gw/event/#", "disk-full-recorder")
    daemon = Daemon(short_tmp, agent_config(mosquitto.port, 1_000_000))
    daemon.speed = SPEED
    try:
        daemon.start()  # on a disk that is already full
        daemon.wait_notify("READY=1", 20)
        wait_for(lambda: "opened" in issue_changes(recorder, "storage_failing"), 20, "storage_failing at the broker")
        wait_for(lambda: issue_changes(recorder, "wifi_interference"), 20, "events sent from memory")
        status = daemon.ask_json("status")["reporting"]["mqtt"]["outbox"]
        assert status["storage_failing"] and status["dropped_telemetry"] > 0, status

        daemon.proc.send_signal(signal.SIGKILL)  # a restart on the full disk must start too
        daemon.proc.wait(timeout=10)
        daemon.start()
        daemon.wait_notify("READY=1", 20)
        time.sleep(2)
        assert daemon.proc.poll() is None, daemon.log_text()

        filler.unlink()  # space returns
        wait_for(lambda: "resolved" in issue_changes(recorder, "storage_failing"), 30, "storage_failing resolved")
        wait_for(lambda: daemon.ask_json("status")["reporting"]["mqtt"]["outbox"]["held_events"] == 0, 20,
                 "held events written")
        journaled = set(journaled_ids(small_disk))
        wait_for(lambda: journaled <= recorder.ids(), 20, "every journaled event at the broker")
        daemon.proc.send_signal(signal.SIGTERM)
        assert daemon.proc.wait(timeout=10) == 0, daemon.log_text()
    finally:
        recorder.close()
        daemon.stop()
    log = daemon.log_text()
    assert "Traceback" not in log, log
    print(f"\nfull disk: {len(journaled)} events journaled after recovery, all received; storage_failing "
          f"{issue_changes(recorder, 'storage_failing')}")
