"""The durable outbox: every message is committed to SQLite before it is published, deleted only after PUBACK.

Durability: WAL journal. `sync="full"` (default) fsyncs every commit, so a power cut loses nothing that was
accepted; `sync="normal"` fsyncs only at WAL checkpoints — safe against the agent being killed, but a power cut
may lose the last few messages. Choose "normal" only where the flash is too slow for one fsync per event.

Telemetry inserts and deletes after PUBACK commit without fsync whatever the setting: losing them to a power
cut costs a telemetry sample or a duplicate delivery (consumers drop duplicates by message id), never an event.

Budget: events are never dropped. Telemetry shares `max_bytes` with them: when the outbox is full, the oldest
telemetry is dropped to make room, and new telemetry is refused when only events remain; both are counted.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

Kind = Literal["event", "telemetry"]

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

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class Outbox:
    """Thread-safe: the reporter puts from the agent's loop, the MQTT thread peeks and deletes."""

    def __init__(self, path: Path, max_bytes: int, sync: Literal["full", "normal"] = "full"):
        self.path = path
        self.max_bytes = max_bytes
        self.sync = sync
        self.dropped_telemetry = 0
        self.corrupt_files_moved = 0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = self._open()
        self._bytes = self._db.execute("SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM outbox").fetchone()[0]

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
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
            db.executescript(_SCHEMA)
            result = db.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {result}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def put(
        self, kind: Kind, topic: str, payload: bytes, qos: int, retain: bool = False, correlation: bytes | None = None
    ) -> int | None:
        """Commit one message; returns its id, or None when telemetry was refused for lack of room."""
        size = len(payload)
        with self._lock:
            if self._bytes + size > self.max_bytes and not self._make_room(kind, size):
                self.dropped_telemetry += 1
                return None
            # Telemetry may be lost to a power cut (it is sampled again in seconds); events may not.
            with self._synchronous("NORMAL" if kind == "telemetry" else self.sync.upper()):
                cursor = self._db.execute(
                    "INSERT INTO outbox (kind, topic, payload, qos, retain, correlation, created)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (kind, topic, payload, qos, int(retain), correlation, time.time()),
                )
            self._bytes += size
            return cursor.lastrowid

    @contextlib.contextmanager
    def _synchronous(self, level: str) -> Iterator[None]:
        """Commit the statements inside at this fsync level, then return to the configured one."""
        if level == self.sync.upper():
            yield
            return
        self._db.execute(f"PRAGMA synchronous={level}")
        try:
            yield
        finally:
            self._db.execute(f"PRAGMA synchronous={self.sync.upper()}")

    def _make_room(self, kind: Kind, size: int) -> bool:
        """Drop the oldest telemetry until `size` fits. Telemetry never displaces more telemetry than it adds."""
        if kind == "telemetry":
            return False
        while self._bytes + size > self.max_bytes:
            row = self._db.execute(
                "SELECT id, LENGTH(payload) FROM outbox WHERE kind = 'telemetry' ORDER BY id LIMIT 1"
            ).fetchone()
            if row is None:
                return True  # only events left: events are kept even past the budget
            self._db.execute("DELETE FROM outbox WHERE id = ?", (row[0],))
            self._bytes -= row[1]
            self.dropped_telemetry += 1
        return True

    def peek(self, after_id: int = 0, limit: int = 100) -> list[QueuedMessage]:
        """The oldest messages with id > after_id, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, topic, payload, qos, retain, correlation FROM outbox"
                " WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        return [
            QueuedMessage(r[0], r[1], r[2], bytes(r[3]), r[4], bool(r[5]), None if r[6] is None else bytes(r[6]))
            for r in rows
        ]

    def delete(self, ids: list[int]) -> None:
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        # A delete lost to a power cut only re-sends a message, which consumers drop by id: no fsync needed.
        with self._lock, self._synchronous("NORMAL"):
            self._db.execute("BEGIN")
            freed = self._db.execute(
                f"SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM outbox WHERE id IN ({marks})", ids
            ).fetchone()[0]
            self._db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", ids)
            self._db.execute("COMMIT")
            self._bytes -= freed

    def stats(self) -> OutboxStats:
        with self._lock:
            counts = dict(self._db.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind").fetchall())
            return OutboxStats(
                queued_events=counts.get("event", 0),
                queued_telemetry=counts.get("telemetry", 0),
                bytes=self._bytes,
                dropped_telemetry=self.dropped_telemetry,
                corrupt_files_moved=self.corrupt_files_moved,
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
