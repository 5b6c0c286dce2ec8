"""The durable outbox: order, PUBACK-gated deletion, budget on disk (telemetry before events), corruption recovery,
and a disk that refuses writes (events held in memory, telemetry dropped, recovery)."""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest

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
    box = Outbox(tmp_path / "o.sqlite", max_bytes=400_000)
    blob = b"t" * 30_000
    telemetry = [box.put("telemetry", "telemetry/wifi", blob, qos=0) for _ in range(12)]
    kept_before = [m.id for m in box.peek(limit=100)]
    event = box.put("event", "event/issue", b"e" * 30_000, qos=1)

    kept = [m.id for m in box.peek(limit=100)]
    assert event in kept and telemetry[0] not in kept
    assert kept == [t for t in kept_before if t in kept] + [event]  # the oldest went, the order stayed
    assert box.stats().dropped_telemetry >= 1


def test_telemetry_is_refused_when_only_events_fill_the_budget(tmp_path: Path):
    box = Outbox(tmp_path / "o.sqlite", max_bytes=400_000)
    for _ in range(12):
        assert box.put("event", "event/issue", b"e" * 30_000, qos=1) is not None  # events pass the budget
    assert box.put("telemetry", "telemetry/system", b"t" * 10, qos=0) is None
    stats = box.stats()
    assert stats.queued_events == 12 and stats.queued_telemetry == 0 and stats.dropped_telemetry == 1


def files_on_disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


@pytest.fixture
def memory_dir(tmp_path: Path):
    """A tmpfs directory when there is one: a small budget checkpoints often, and fsync costs nothing there."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        yield tmp_path
        return
    directory = Path(tempfile.mkdtemp(prefix="outbox-", dir=shm))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_the_files_on_disk_stay_within_max_bytes_wal_included(memory_dir: Path):
    path = memory_dir / "o.sqlite"
    box = Outbox(path, max_bytes=300_000, sync="normal")
    largest = 0
    for i in range(3_000):  # one commit each, as the broker-down agent writes them
        box.put("telemetry", "telemetry/wifi", b"t" * 400, qos=0)
        if i % 10 == 0:
            box.put("event", "event/issue", b"e" * 300, qos=1)
        largest = max(largest, files_on_disk(path))
    assert largest <= 300_000
    stats = box.stats()
    assert stats.dropped_telemetry > 0 and stats.queued_events == 300  # telemetry went first, every event kept


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


class RefusingDisk:
    """Wraps the outbox's connection: while `full`, every write fails the way SQLite fails on a full disk."""

    WRITES = ("INSERT", "DELETE", "BEGIN IMMEDIATE", "UPDATE")

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self.full = False

    def execute(self, sql: str, *args):
        if self.full and sql.lstrip().upper().startswith(self.WRITES):
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self.db, name)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeMonotonic:
    return FakeMonotonic()


def outbox_on_refusing_disk(path: Path, clock: FakeMonotonic, **kwargs) -> tuple[Outbox, RefusingDisk]:
    box = Outbox(path, max_bytes=1_000_000, monotonic=clock, **kwargs)
    disk = RefusingDisk(box._db)
    box._db = disk
    return box, disk


def test_a_full_disk_drops_telemetry_and_holds_events_without_raising(tmp_path: Path, clock, caplog):
    box, disk = outbox_on_refusing_disk(tmp_path / "o.sqlite", clock)
    disk.full = True
    assert box.put("telemetry", "telemetry/wifi", b"t", qos=0) is None
    event = box.put("event", "event/issue", b"e", qos=1)

    assert event is not None and box.is_held(event)
    stats = box.stats()
    assert (stats.held_events, stats.queued_events, stats.dropped_telemetry) == (1, 1, 1)
    assert stats.storage_failing and box.failing and "disk is full" in box.failing
    assert "cannot write" in caplog.text


def test_held_events_are_offered_to_the_publisher_in_order_after_those_on_disk(tmp_path: Path, clock):
    box, disk = outbox_on_refusing_disk(tmp_path / "o.sqlite", clock)
    first = box.put("event", "event/issue", b"e0", qos=1)
    disk.full = True
    held = [box.put("event", "event/issue", f"e{i}".encode(), qos=1) for i in (1, 2)]

    assert [m.id for m in box.peek()] == [first, *held]
    assert [m.payload for m in box.peek(after_id=first)] == [b"e1", b"e2"]


def test_held_events_are_written_in_order_once_the_disk_takes_writes_again(tmp_path: Path, clock, caplog):
    path = tmp_path / "o.sqlite"
    box, disk = outbox_on_refusing_disk(path, clock)
    disk.full = True
    held = [box.put("event", "event/issue", f"e{i}".encode(), qos=1) for i in range(3)]
    disk.full = False
    clock.now += 4.0
    box.peek()  # not yet: retries wait RETRY_S
    assert box.stats().held_events == 3
    clock.now += 1.0
    later = box.put("event", "event/issue", b"e3", qos=1)

    assert box.stats().held_events == 0 and not box.stats().storage_failing
    assert sorted(box.take_settled()) == held and box.take_settled() == []
    assert "writable again" in caplog.text
    box.close()
    reopened = Outbox(path, max_bytes=1_000_000)
    assert [m.id for m in reopened.peek()] == [*held, later]
    assert [m.payload for m in reopened.peek()] == [b"e0", b"e1", b"e2", b"e3"]


def test_a_held_event_the_broker_acknowledged_is_settled_and_never_written(tmp_path: Path, clock):
    path = tmp_path / "o.sqlite"
    box, disk = outbox_on_refusing_disk(path, clock)
    disk.full = True
    event = box.put("event", "event/issue", b"e", qos=1)
    box.delete([event])
    assert box.take_settled() == [event] and box.stats().held_events == 0
    disk.full = False
    clock.now += 10
    box.close()
    assert Outbox(path, max_bytes=1_000_000).peek() == []


def test_when_even_the_memory_queue_is_full_events_are_dropped_loudly_and_counted(tmp_path: Path, clock, caplog):
    box, disk = outbox_on_refusing_disk(tmp_path / "o.sqlite", clock, held_max_bytes=250)
    disk.full = True
    kept = [box.put("event", "event/issue", b"e" * 100, qos=1) for _ in range(2)]
    assert box.put("event", "event/issue", b"e" * 100, qos=1) is None
    assert all(kept) and box.stats().dropped_events == 1 and box.stats().held_events == 2
    assert "EVENT LOST" in caplog.text


def test_a_delete_the_disk_refuses_is_not_offered_again_and_is_written_later(tmp_path: Path, clock):
    path = tmp_path / "o.sqlite"
    box, disk = outbox_on_refusing_disk(path, clock)
    sent, waiting = (box.put("event", "event/issue", p, qos=1) for p in (b"a", b"b"))
    disk.full = True
    box.delete([sent])
    assert [m.id for m in box.peek()] == [waiting]
    disk.full = False
    clock.now += 10
    box.peek()
    box.close()
    assert [m.id for m in Outbox(path, max_bytes=1_000_000).peek()] == [waiting]


def test_an_outbox_that_cannot_be_opened_starts_in_memory_and_opens_later(tmp_path: Path, clock):
    state = tmp_path / "state"
    state.write_text("a file where the state directory should be")  # mkdir fails, as on a read-only disk
    box = Outbox(state / "o.sqlite", max_bytes=1_000_000, monotonic=clock)
    assert box.stats().storage_failing
    event = box.put("event", "event/issue", b"e", qos=1)
    assert box.put("telemetry", "telemetry/wifi", b"t", qos=0) is None
    assert [m.payload for m in box.peek()] == [b"e"]

    state.unlink()
    clock.now += 10
    box.peek()
    box.close()
    assert [m.id for m in Outbox(state / "o.sqlite", max_bytes=1_000_000).peek()] == [event]


def test_events_held_before_a_late_open_go_after_the_stored_ones_and_an_old_ack_deletes_nothing(
    tmp_path: Path, clock, monkeypatch
):
    path = tmp_path / "o.sqlite"
    earlier = Outbox(path, max_bytes=1_000_000)
    stored = [earlier.put("event", "event/issue", f"old{i}".encode(), qos=1) for i in range(3)]
    earlier.close()
    real_connect = Outbox._connect
    monkeypatch.setattr(Outbox, "_connect", lambda self: (_ for _ in ()).throw(sqlite3.OperationalError("io")))
    box = Outbox(path, max_bytes=1_000_000, monotonic=clock)
    held = box.put("event", "event/issue", b"new", qos=1)
    assert held == stored[0]  # the ids clash: nothing told the outbox what the disk holds
    monkeypatch.setattr(Outbox, "_connect", real_connect)
    clock.now += 10
    box.peek()  # the database opens: the held event moves past the stored ones
    box.delete([held])  # the broker acknowledged it under its first id, after the database opened

    payloads = [m.payload for m in box.peek()]
    assert payloads == [b"old0", b"old1", b"old2", b"new"]
    assert box.take_settled() == [held]  # written to disk: reported under the id put() returned


def test_a_database_found_corrupt_while_running_is_moved_aside_and_the_event_kept(tmp_path: Path, clock):
    path = tmp_path / "o.sqlite"
    box = Outbox(path, max_bytes=1_000_000, monotonic=clock)
    disk = RefusingDisk(box._db)
    box._db = disk
    disk.execute = lambda sql, *args: (_ for _ in ()).throw(sqlite3.DatabaseError("database disk image is malformed"))
    event = box.put("event", "event/issue", b"e", qos=1)
    assert box.is_held(event)
    path.write_bytes(b"garbage" * 1000)  # what the reopen will find
    clock.now += 10
    box.peek()
    box.close()
    assert box.stats().corrupt_files_moved == 1
    assert [m.payload for m in Outbox(path, max_bytes=1_000_000).peek()] == [b"e"]


@pytest.mark.parametrize("change", ["removed", "replaced", "directory removed"])
def test_an_outbox_file_removed_or_replaced_while_open_is_written_back_and_loses_nothing(tmp_path: Path, change):
    path = tmp_path / "state" / "outbox.sqlite"
    box = Outbox(path, max_bytes=1_000_000)
    before = [box.put("event", "event/issue", f"e{i}".encode(), qos=1) for i in range(3)]
    box.delete(before[:1])  # acknowledged: stays gone
    if change == "removed":
        path.unlink()
    elif change == "replaced":
        path.unlink()
        path.write_bytes(b"not the outbox")
    else:
        shutil.rmtree(path.parent)
    after = box.put("event", "event/issue", b"e3", qos=1)
    box.close()
    reopened = Outbox(path, max_bytes=1_000_000)
    assert [(m.id, m.payload) for m in reopened.peek()] == [(before[1], b"e1"), (before[2], b"e2"), (after, b"e3")]
    if change == "replaced":
        assert [p.read_bytes() for p in path.parent.glob("outbox.sqlite.replaced-*")] == [b"not the outbox"]


def test_a_removed_outbox_is_written_back_when_asked_for_its_state_too(tmp_path: Path):
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path, max_bytes=1_000_000)
    box.put("event", "event/issue", b"e0", qos=1)
    path.unlink()
    assert box.stats().queued_events == 1  # no new message needed: the agent's status and reports ask this
    assert path.exists()
    box.close()
