"""Crash consistency: the real agent SIGKILLed again and again on one state directory, at random instants and
right after its journal grows; every event it journaled reaches a real broker, and an id never names two messages.

Reproduce the numbers in docs/BENCHMARKS.md (more kills, another seed):
    CHAOS_KILLS=100 CHAOS_SEED=2 .venv/bin/python -m pytest tests/integration/test_crash_consistency.py -s
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest
from agent_process import Daemon
from mqtt_recorder import Recorder

KILLS = int(os.environ.get("CHAOS_KILLS", "20"))
SEED = int(os.environ.get("CHAOS_SEED", "1"))
SPEED = 20


def flapping_interference(periods: int) -> str:
    """Interference on and off every few simulated seconds, so issues open and resolve all the time."""
    return "".join(
        f"[[simulation.faults]]\nkind = \"interference\"\nchannel = 6\nstart_s = {2 + 12 * k}\n"
        f"end_s = {8 + 12 * k}\nlevel = 0.7\n"
        for k in range(periods)
    )


def journaled_ids(state: Path) -> list[str]:
    """Every envelope id in events.jsonl and actions.jsonl (rotated generations too); a torn line is no event."""
    ids = []
    for name in ("events.jsonl.1", "events.jsonl", "actions.jsonl.1", "actions.jsonl"):
        path = state / name
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            try:
                ids.append(json.loads(line)["id"])
            except (ValueError, KeyError):
                continue
    return ids


def drain_notifications(daemon: Daemon) -> None:
    """Watchdog pings pile up in the notify socket between runs; read them so the agent never blocks on it."""
    daemon.notify.settimeout(0)
    try:
        while True:
            daemon.notify.recv(4096)
    except (TimeoutError, BlockingIOError):
        pass


def journal_size(state: Path) -> int:
    try:
        return (state / "events.jsonl").stat().st_size
    except FileNotFoundError:
        return 0


def kill_right_after_the_journal_grows(daemon: Daemon, state: Path, limit_s: float) -> None:
    before = journal_size(state)
    deadline = time.monotonic() + limit_s
    while journal_size(state) == before and time.monotonic() < deadline:
        time.sleep(0.002)
    daemon.proc.send_signal(signal.SIGKILL)


@pytest.mark.timeout(240)
def test_every_journaled_event_reaches_the_broker_through_repeated_sigkills(short_tmp: Path, mosquitto):
    rng = random.Random(SEED)
    extra = (
        f'\n[mqtt]\nenabled = true\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\nkeepalive_s = 5\n'
        "[reporting]\nagent_health_interval_s = 1\noutbox_sync = \"normal\"\n" + flapping_interference(14)
    )
    daemon = Daemon(short_tmp, extra)
    daemon.speed = SPEED
    state = short_tmp / "state"
    recorder = Recorder(mosquitto.host, mosquitto.port, "edge/v1/itest-gw/event/#", "chaos-recorder")
    started = time.monotonic()
    try:
        for kill in range(KILLS):
            daemon.start()
            daemon.wait_notify("READY=1", 20)
            if kill % 2:
                kill_right_after_the_journal_grows(daemon, state, limit_s=1.5)
            else:
                time.sleep(rng.uniform(0.0, 1.0))
                daemon.proc.send_signal(signal.SIGKILL)
            assert daemon.proc.wait(timeout=10) == -signal.SIGKILL, daemon.log_text()
            drain_notifications(daemon)
        kill_phase_s = time.monotonic() - started

        daemon.start()  # one last, clean run: whatever the kills left in the outbox goes out
        daemon.wait_notify("READY=1", 20)
        journaled = set(journaled_ids(state))
        deadline = time.monotonic() + 30
        while not journaled <= recorder.ids() and time.monotonic() < deadline:
            time.sleep(0.2)
        daemon.proc.send_signal(signal.SIGTERM)
        assert daemon.proc.wait(timeout=10) == 0, daemon.log_text()
        time.sleep(0.5)  # the last acknowledged messages reach the recorder

        journaled = set(journaled_ids(state))
        received = recorder.ids()
        by_id = recorder.payloads_by_id()
        deliveries = len(recorder.received)
        print(f"\nchaos: {KILLS} SIGKILLs (seed {SEED}) in {kill_phase_s:.1f} s; {len(journaled)} events journaled, "
              f"{len(received)} distinct received ({deliveries} deliveries, "
              f"{deliveries - len(received)} duplicates dropped by id), {len(journaled - received)} journaled but "
              f"not received, {len(received - journaled)} received but not journaled")
        assert len(journaled) >= KILLS, "too few events for the test to mean anything"
        assert journaled - received == set(), "journaled events never reached the broker"
        assert [i for i, payloads in by_id.items() if len(payloads) > 1] == [], "one id, two different messages"
    finally:
        recorder.close()
        daemon.stop()
