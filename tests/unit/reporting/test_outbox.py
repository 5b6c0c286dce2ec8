"""The durable outbox: order, PUBACK-gated deletion, budget (telemetry before events), corruption recovery."""

from __future__ import annotations

import random
from pathlib import Path

from edge_agent.reporting.mqtt import reconnect_delay
from edge_agent.reporting.outbox import Outbox


def test_messages_come_back_in_order_and_survive_reopening(tmp_path: Path):
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path, max_bytes=1_000_000)
    ids = [box.put("event", "event/issue", f"e{i}".encode(), qos=1) for i in range(5)]
    box.close()

    reopened = Outbox(path, max_bytes=1_000_000)
    assert [m.id for m in reopened.peek()] == ids
    assert [m.payload for m in reopened.peek()] == [b"e0", b"e1", b"e2", b"e3", b"e4"]
    assert reopened.stats().queued_events == 5


def test_peek_after_id_skips_what_is_in_flight(tmp_path: Path):
    box = Outbox(tmp_path / "o.sqlite", max_bytes=1_000_000)
    ids = [box.put("event", "t", b"x", qos=1) for _ in range(4)]
    assert [m.id for m in box.peek(after_id=ids[1], limit=10)] == ids[2:]
    assert [m.id for m in box.peek(limit=2)] == ids[:2]


def test_only_deleted_messages_leave_and_the_byte_count_follows(tmp_path: Path):
    box = Outbox(tmp_path / "o.sqlite", max_bytes=1_000_000)
    first = box.put("event", "t", b"12345", qos=1)
    second = box.put("event", "t", b"678", qos=1)
    box.delete([first, 999_999])
    assert [m.id for m in box.peek()] == [second]
    assert box.stats().bytes == 3


def test_full_outbox_drops_oldest_telemetry_to_keep_an_event(tmp_path: Path):
    box = Outbox(tmp_path / "o.sqlite", max_bytes=100_000)
    blob = b"t" * 30_000
    t1 = box.put("telemetry", "telemetry/wifi", blob, qos=0)
    t2 = box.put("telemetry", "telemetry/wifi", blob, qos=0)
    t3 = box.put("telemetry", "telemetry/wifi", blob, qos=0)
    event = box.put("event", "event/issue", b"e" * 20_000, qos=1)

    kept = [m.id for m in box.peek()]
    assert event in kept and t1 not in kept and kept == [t2, t3, event]
    assert box.stats().dropped_telemetry == 1
    assert box.stats().bytes <= 100_000


def test_telemetry_is_refused_when_only_events_fill_the_budget(tmp_path: Path):
    box = Outbox(tmp_path / "o.sqlite", max_bytes=100_000)
    for _ in range(4):
        assert box.put("event", "event/issue", b"e" * 30_000, qos=1) is not None  # events pass the budget
    assert box.put("telemetry", "telemetry/system", b"t" * 10, qos=0) is None
    stats = box.stats()
    assert stats.queued_events == 4 and stats.queued_telemetry == 0 and stats.dropped_telemetry == 1


def test_a_corrupt_outbox_is_moved_aside_and_a_fresh_one_works(tmp_path: Path, caplog):
    path = tmp_path / "outbox.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    box = Outbox(path, max_bytes=1_000_000)

    moved = list(tmp_path.glob("outbox.sqlite.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes().startswith(b"this is not a database")
    assert box.stats().corrupt_files_moved == 1
    assert "moved aside" in caplog.text
    assert box.put("event", "t", b"ok", qos=1) is not None


def test_reconnect_delay_grows_exponentially_with_jitter_and_a_ceiling():
    rng = random.Random(3)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (20, 60.0)]:
        delays = [reconnect_delay(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jitter spreads a fleet out
