"""The durable outbox: every message is committed to SQLite before it is published, deleted only after PUBACK.

Durability: WAL journal. `sync="full"` (default) fsyncs every commit, so a power cut loses nothing that was
accepted; `sync="normal"` fsyncs only at WAL checkpoints — safe against the agent being killed, but a power cut
may lose the last few messages. Choose "normal" only where the flash is too slow for one fsync per event.

Telemetry inserts and deletes after PUBACK commit without fsync whatever the setting: losing them to a power
cut costs a telemetry sample or a duplicate delivery (consumers drop duplicates by message id), never an event.

Budget: `max_bytes` bounds the files on disk (database, WAL and its index), not only the payloads: the WAL is
checkpointed every `max_bytes/16` and truncated back to that size, and the rest is the database's budget, counted
in pages in use. Events are never dropped for the budget. Telemetry shares it with them: when the outbox is full,
the oldest telemetry is dropped to make room, and new telemetry is refused when only events remain; both counted.

Storage failures (disk full, read-only file system, I/O errors, a database that cannot be opened) never reach
the caller: telemetry is dropped (counted), events are held in a bounded memory queue, in order, and the
publisher sends them from there while the disk refuses them. Every RETRY_S the outbox tries again to open the
database, to move held events to disk and to write the deletes it could not write; once a write succeeds,
storage is healthy again. Held events that leave the queue (written to disk, acknowledged by the broker, or
dropped because even the queue is full) are reported by `take_settled`, so the reporter can write its local
copies only once the event is safe (see reporter.py for why that order matters).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

Kind = Literal["event", "telemetry"]

STORAGE_ERRORS = (sqlite3.Error, OSError)
RETRY_S = 5.0
# Issue and action events are a few hundred bytes and a home makes tens per hour when things go wrong: 4 MiB holds
# days of them, and is small next to the agent's ~60 MiB.
HELD_EVENTS_MAX_BYTES = 4 * 1024 * 1024
SHM_BYTES = 32 * 1024  # the WAL index file next to the database
ROW_OVERHEAD_BYTES = 64  # the columns around a payload, as stored

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    kind    TEXT    NOT NULL CHECK (kind IN ('event', 'telemetry')),
    topic   TEXT    NOT NULL,
    payload BLOB    NOT NULL,
    qos     INTEGER NOT NULL,
    retain  INTEGER NOT NULL DEFAULT 0,
    correlation BLOB,  -- MQTT v5 Correlation Data echoed on command replies
    created REAL    NOT NULL
);
"""


@dataclass(frozen=True)
class QueuedMessage:
    id: int
    kind: str
    topic: str
    payload: bytes
    qos: int
    retain: bool
    correlation: bytes | None = None


@dataclass
class OutboxStats:
    queued_events: int
    queued_telemetry: int
    bytes: int
    dropped_telemetry: int
    corrupt_files_moved: int
    held_events: int = 0
    dropped_events: int = 0
    storage_errors: int = 0
    storage_failing: bool = False
    disk_bytes: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class WalLimits:
    """How the budget splits between the database and its write-ahead log."""

    wal_bytes: int
    checkpoint_pages: int
    database_bytes: int


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def wal_limits(max_bytes: int, page_size: int = 4096) -> WalLimits:
    # SQLite's default checkpoint is every 1000 pages (4 MiB): on a small disk the WAL alone filled it.
    wal_bytes = min(4 * 1024 * 1024, max(4 * page_size, max_bytes // 16))
    # A WAL holds the pages up to the checkpoint plus the last transaction; budget twice the threshold for it.
    return WalLimits(wal_bytes, max(1, wal_bytes // page_size), max_bytes - 2 * wal_bytes - SHM_BYTES)


class Outbox:
    """Thread-safe: the reporter puts from the agent's loop, the MQTT thread peeks and deletes."""

    def __init__(
        self,
        path: Path,
        max_bytes: int,
        sync: Literal["full", "normal"] = "full",
        *,
        held_max_bytes: int = HELD_EVENTS_MAX_BYTES,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.path = path
        self.max_bytes = max_bytes
        self.sync = sync
        self.held_max_bytes = held_max_bytes
        self.limits = wal_limits(max_bytes)
        self.dropped_telemetry = 0
        self.dropped_events = 0
        self.storage_errors = 0
        self.corrupt_files_moved = 0
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._page_size = 4096
        self._bytes = 0
        self._next_id = 1
        self._held: dict[int, QueuedMessage] = {}  # in id order: events the disk refused
        self._held_bytes = 0
        self._undeleted: set[int] = set()  # acknowledged, but the delete could not be written yet
        self._renumbered: set[int] = set()  # ids held events had before a late open moved them past the disk's
        self._settled: list[int] = []  # tickets (the ids put() returned) of held events that left memory
        self._tickets: dict[int, int] = {}  # renumbered id -> the id put() returned
        self._failing: str | None = None
        self._retry_at = 0.0
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file the open database is
        with self._lock:
            self._try_open()

    # Opening.
    def _try_open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._open()
        except STORAGE_ERRORS as exc:
            self._storage_failed("open", exc)
            return
        try:
            self._bytes = db.execute("SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM outbox").fetchone()[0]
            last = db.execute(
                "SELECT MAX(COALESCE((SELECT MAX(id) FROM outbox), 0),"
                " COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0))"
            ).fetchone()[0]
            self._page_size = db.execute("PRAGMA page_size").fetchone()[0]
        except STORAGE_ERRORS as exc:
            db.close()
            self._storage_failed("open", exc)
            return
        self._db = db
        self._identity = _file_identity(self.path)
        self._renumber_held_after(last)
        self._next_id = max(self._next_id, last + 1)

    def _renumber_held_after(self, last: int) -> None:
        """Events held before the database could be opened go after what it already holds, in their order."""
        if not self._held or min(self._held) > last:
            return
        held = list(self._held.values())
        self._renumbered.update(self._held)
        self._held = {}
        for number, message in enumerate(held, start=max(self._next_id, last + 1)):
            self._held[number] = QueuedMessage(number, message.kind, message.topic, message.payload, message.qos,
                                               message.retain, message.correlation)
            self._tickets[number] = self._tickets.pop(message.id, message.id)  # put() returned the first id
        self._next_id = max(self._held) + 1

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise  # full, read-only, locked or failing: the file is not to blame, try again later
            moved = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            log.error("outbox %s is unreadable (%s): moved aside to %s, starting a fresh one", self.path, exc, moved)
            self.path.rename(moved)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self.corrupt_files_moved += 1
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self.sync.upper()}")
            db.execute(f"PRAGMA wal_autocheckpoint={self.limits.checkpoint_pages}")
            db.execute(f"PRAGMA journal_size_limit={self.limits.wal_bytes}")
            result = db.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {result}")
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'outbox'").fetchone() is None:
                db.executescript(_SCHEMA)  # only when missing: a full disk can still open an existing outbox
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _restore_if_replaced(self) -> None:
        """The file removed or replaced while open (a cleanup of the state directory, a restored backup): the open
        database still holds every queued message, but in a file no restart would find. It is written back to its
        path from the open connection (VACUUM INTO: the same ids, so nothing in flight is confused), whatever took
        the path moved aside, and the outbox reopened there."""
        if self._db is None or _file_identity(self.path) == self._identity:
            return
        log.error("outbox %s was removed or replaced while the agent had it open: writing its %d queued bytes "
                  "back there", self.path, self._bytes)
        try:
            if self.path.exists() or self.path.is_symlink():
                self.path.rename(self.path.with_name(f"{self.path.name}.replaced-{int(time.time())}"))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db.execute("VACUUM INTO ?", (str(self.path),))
        except STORAGE_ERRORS as exc:
            self._storage_failed("restore", exc)
            return
        self._db.close()  # the last connection to the old file: its write-ahead log goes with it
        self._db = None
        self._try_open()

    # Storage health.
    def _storage_failed(self, doing: str, exc: BaseException) -> None:
        self.storage_errors += 1
        self._retry_at = self._monotonic() + RETRY_S
        if self._db is not None and self._db.in_transaction:
            with contextlib.suppress(*STORAGE_ERRORS):
                self._db.execute("ROLLBACK")
        if self._db is not None and isinstance(exc, sqlite3.DatabaseError) and not isinstance(
            exc, sqlite3.OperationalError
        ):
            # Not the disk but the file (corrupt, or ids out of step): reopen, which checks it and moves it aside.
            with contextlib.suppress(*STORAGE_ERRORS):
                self._db.close()
            self._db = None
        if self._failing is None:
            log.error("outbox %s cannot %s (%s): telemetry is dropped and events are kept in memory (at most "
                      "%d bytes) until it can; retrying every %g s", self.path, doing, exc, self.held_max_bytes,
                      RETRY_S)
        self._failing = f"{doing}: {exc}"

    def _storage_ok(self) -> None:
        if self._failing is not None:
            log.warning("outbox %s is writable again; %d held events left to write", self.path, len(self._held))
            self._failing = None

    def _retry_due(self) -> bool:
        return self._failing is None or self._monotonic() >= self._retry_at

    def _retry(self) -> None:
        """Open, write held events and pending deletes: whatever failed before, once RETRY_S has passed. With
        nothing left over, the next put is the test: storage counts as healthy once a real write succeeds."""
        if self._failing is None or not self._retry_due():
            return
        if self._db is None:
            self._try_open()
            if self._db is None:
                return
        if self._undeleted and not self._delete_from_disk(sorted(self._undeleted)):
            return
        if self._held:
            self._write_held()

    # Writing.
    def put(
        self, kind: Kind, topic: str, payload: bytes, qos: int, retain: bool = False, correlation: bytes | None = None
    ) -> int | None:
        """Commit one message (or hold an event in memory while the disk refuses it); returns its id, or None when
        telemetry was refused (no room, or no disk) or an event was dropped because even the memory queue is full."""
        with self._lock:
            self._retry()
            self._restore_if_replaced()
            message = QueuedMessage(self._next_id, kind, topic, payload, qos, retain, correlation)
            self._next_id += 1
            if self._db is not None and not self._held and self._retry_due():
                try:
                    return self._insert(message)
                except STORAGE_ERRORS as exc:
                    self._storage_failed("write", exc)
            if kind == "telemetry":
                self.dropped_telemetry += 1
                return None
            return self._hold(message)

    def _insert(self, message: QueuedMessage) -> int | None:
        assert self._db is not None
        if not self._make_room(message):
            self.dropped_telemetry += 1
            return None
        # Telemetry may be lost to a power cut (it is sampled again in seconds); events may not.
        with self._synchronous("NORMAL" if message.kind == "telemetry" else self.sync.upper()):
            self._insert_row(message)
        self._bytes += len(message.payload)
        self._storage_ok()
        return message.id

    def _insert_row(self, message: QueuedMessage) -> None:
        assert self._db is not None
        self._db.execute(
            "INSERT INTO outbox (id, kind, topic, payload, qos, retain, correlation, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (message.id, message.kind, message.topic, message.payload, message.qos, int(message.retain),
             message.correlation, time.time()),
        )

    def _hold(self, message: QueuedMessage) -> int | None:
        size = len(message.payload)
        if self._held_bytes + size > self.held_max_bytes:
            self.dropped_events += 1
            log.error("EVENT LOST: the outbox cannot write to disk and its memory queue is full (%d events, %d "
                      "bytes); dropped %s (%d events dropped so far)", len(self._held), self._held_bytes,
                      message.topic, self.dropped_events)
            return None
        self._held[message.id] = message
        self._held_bytes += size
        return message.id

    def _write_held(self) -> None:
        """Move held events to disk, oldest first, a WAL's worth per transaction so the WAL stays in budget."""
        assert self._db is not None
        while self._held:
            chunk, size = [], 0
            for message in self._held.values():
                if chunk and size + len(message.payload) > self.limits.wal_bytes // 2:
                    break
                chunk.append(message)
                size += len(message.payload)
            try:
                self._make_room_for(sum(len(m.payload) + len(m.topic) + ROW_OVERHEAD_BYTES for m in chunk))
                with self._synchronous(self.sync.upper()):
                    self._db.execute("BEGIN IMMEDIATE")
                    for message in chunk:
                        self._insert_row(message)
                    self._db.execute("COMMIT")
            except STORAGE_ERRORS as exc:
                self._storage_failed("write held events", exc)
                return
            for message in chunk:
                del self._held[message.id]
                self._settle(message.id)
            self._held_bytes -= size
            self._bytes += size
        self._storage_ok()

    @contextlib.contextmanager
    def _synchronous(self, level: str) -> Iterator[None]:
        """Commit the statements inside at this fsync level, then return to the configured one."""
        assert self._db is not None
        if level == self.sync.upper():
            yield
            return
        self._db.execute(f"PRAGMA synchronous={level}")
        try:
            yield
        finally:
            self._db.execute(f"PRAGMA synchronous={self.sync.upper()}")

    def _database_bytes(self) -> int:
        """Bytes of the database file in use (free pages are reused before the file grows)."""
        assert self._db is not None
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * self._page_size

    def _make_room(self, message: QueuedMessage) -> bool:
        """Telemetry fits or is refused; an event drops the oldest telemetry until it fits, or passes anyway."""
        cost = len(message.payload) + len(message.topic) + ROW_OVERHEAD_BYTES
        if message.kind == "telemetry":
            return self._database_bytes() + cost <= self.limits.database_bytes
        self._make_room_for(cost)
        return True

    def _make_room_for(self, cost: int) -> None:
        assert self._db is not None
        while (excess := self._database_bytes() + cost - self.limits.database_bytes) > 0:
            # Drop the oldest telemetry worth the excess (pages free up only when emptied, hence the loop).
            rows = self._db.execute(
                "SELECT id, LENGTH(payload) FROM outbox WHERE kind = 'telemetry' ORDER BY id LIMIT 64"
            ).fetchall()
            if not rows:
                return  # only events left: events are kept even past the budget
            chosen, freed = [], 0
            for row_id, size in rows:
                chosen.append(row_id)
                freed += size
                if freed + len(chosen) * ROW_OVERHEAD_BYTES >= excess:
                    break
            marks = ",".join("?" * len(chosen))
            with self._synchronous("NORMAL"):
                self._db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chosen)
            self._bytes -= freed
            self.dropped_telemetry += len(chosen)

    # Reading and acknowledging (the MQTT thread).
    def peek(self, after_id: int = 0, limit: int = 100) -> list[QueuedMessage]:
        """The oldest messages with id > after_id, in order: from disk and from the memory queue."""
        with self._lock:
            self._retry()
            self._restore_if_replaced()
            stored = self._peek_disk(after_id, limit)
            held = [m for m in self._held.values() if m.id > after_id][:limit]
        return sorted(stored + held, key=lambda m: m.id)[:limit]

    def _peek_disk(self, after_id: int, limit: int) -> list[QueuedMessage]:
        if self._db is None:
            return []
        try:
            rows = self._db.execute(
                "SELECT id, kind, topic, payload, qos, retain, correlation FROM outbox"
                " WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit + len(self._undeleted)),
            ).fetchall()
        except STORAGE_ERRORS as exc:
            self._storage_failed("read", exc)
            return []
        return [
            QueuedMessage(r[0], r[1], r[2], bytes(r[3]), r[4], bool(r[5]), None if r[6] is None else bytes(r[6]))
            for r in rows
            if r[0] not in self._undeleted
        ][:limit]

    def delete(self, ids: list[int]) -> None:
        """Forget acknowledged messages. A delete the disk refuses is remembered and written later."""
        with self._lock:
            on_disk = []
            for message_id in ids:
                if message_id in self._renumbered:
                    self._renumbered.discard(message_id)  # went out under its old id; its copy goes again
                    continue
                held = self._held.pop(message_id, None)
                if held is not None:
                    self._held_bytes -= len(held.payload)
                    self._settle(message_id)
                else:
                    on_disk.append(message_id)
            if on_disk and self._db is not None:
                self._delete_from_disk(on_disk)

    def _delete_from_disk(self, ids: list[int]) -> bool:
        assert self._db is not None
        marks = ",".join("?" * len(ids))
        # A delete lost to a power cut only re-sends a message, which consumers drop by id: no fsync needed.
        try:
            with self._synchronous("NORMAL"):
                self._db.execute("BEGIN IMMEDIATE")
                freed = self._db.execute(
                    f"SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM outbox WHERE id IN ({marks})", ids
                ).fetchone()[0]
                self._db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", ids)
                self._db.execute("COMMIT")
        except STORAGE_ERRORS as exc:
            self._undeleted.update(ids)
            self._storage_failed("delete", exc)
            return False
        self._undeleted.difference_update(ids)
        self._bytes -= freed
        return True

    def _settle(self, message_id: int) -> None:
        self._settled.append(self._tickets.pop(message_id, message_id))

    def is_held(self, message_id: int) -> bool:
        """True while this event waits in memory for the disk (and has not reached the broker)."""
        with self._lock:
            return message_id in self._held

    def take_settled(self) -> list[int]:
        """Ids of held events that left the memory queue (written to disk or acknowledged) since the last call."""
        with self._lock:
            settled, self._settled = self._settled, []
            return settled

    def stats(self) -> OutboxStats:
        with self._lock:
            self._restore_if_replaced()  # every status request and report window asks: a removed file is soon found
            counts: dict[str, int] = {}
            disk_bytes = 0
            if self._db is not None:
                try:
                    counts = dict(self._db.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind").fetchall())
                except STORAGE_ERRORS as exc:
                    self._storage_failed("read", exc)
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    disk_bytes += Path(f"{self.path}{suffix}").stat().st_size
            return OutboxStats(
                queued_events=counts.get("event", 0) - len(self._undeleted) + len(self._held),
                queued_telemetry=counts.get("telemetry", 0),
                bytes=self._bytes + self._held_bytes,
                dropped_telemetry=self.dropped_telemetry,
                corrupt_files_moved=self.corrupt_files_moved,
                held_events=len(self._held),
                dropped_events=self.dropped_events,
                storage_errors=self.storage_errors,
                storage_failing=self._failing is not None,
                disk_bytes=disk_bytes,
            )

    def storage_counters(self) -> dict[str, int]:
        """What the storage health metrics add up (see storage_health.py)."""
        with self._lock:
            return {"held_events": len(self._held), "dropped_events": self.dropped_events,
                    "storage_errors": self.storage_errors}

    @property
    def failing(self) -> str | None:
        """What the disk refused last, while it still refuses; None when storage is healthy."""
        return self._failing

    def close(self) -> None:
        with self._lock:
            if self._held and self._db is not None:
                self._retry_at = 0.0
                self._write_held()
            if self._held:
                log.error("EVENTS LOST: %d events held in memory could not be written to %s before exit",
                          len(self._held), self.path)
            if self._db is not None:
                self._db.close()
                self._db = None
