"""The request ids this device has already handled, kept across restarts so a redelivered command never runs twice.

A broker redelivers an unacknowledged QoS 1 command after a reconnect, and a persistent session keeps commands
queued across an agent restart: an id remembered only in memory would let either run a second time. Each id is
kept until its request could no longer be delivered (its expiry, or the session's lifetime when it had none),
and never more than `max_entries` of them (the oldest go first), so the file cannot grow without bound.

The file is a small SQLite database beside the outbox. When it cannot be written (a full or read-only disk) the
ids are still remembered in memory for this run; the failure is logged once per run, never raised.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES = 4096

_SCHEMA = "CREATE TABLE IF NOT EXISTS seen (request_id TEXT PRIMARY KEY, forget_after REAL NOT NULL)"


class RequestLedger:
    """Thread-safe; `path=None` keeps ids in memory only (tests, or a state directory that cannot be opened)."""

    def __init__(self, path: Path | None, max_entries: int = DEFAULT_MAX_ENTRIES):
        self.max_entries = max_entries
        self.write_failures = 0
        self._memory: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._db = self._open(path) if path is not None else None

    def _open(self, path: Path) -> sqlite3.Connection | None:
        try:
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=1.0)
            # WAL without an fsync per command: safe when the agent is killed; a power cut may forget the last
            # few ids, which only matters if the broker then redelivers exactly those.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            rows = db.execute(
                "SELECT request_id, forget_after FROM seen ORDER BY rowid DESC LIMIT ?", (self.max_entries,)
            ).fetchall()
        except sqlite3.Error as exc:
            log.error("request ledger %s cannot be opened (%s): request ids are remembered in memory only", path, exc)
            return None
        for request_id, forget_after in reversed(rows):
            self._memory[request_id] = forget_after
        return db

    def seen(self, request_id: str, now_wall: float) -> bool:
        with self._lock:
            forget_after = self._memory.get(request_id)
            return forget_after is not None and forget_after >= now_wall

    def remember(self, request_id: str, forget_after: float, now_wall: float) -> None:
        with self._lock:
            self._memory[request_id] = forget_after
            self._memory.move_to_end(request_id)
            self._prune(now_wall)
            if self._db is not None:
                self._write(request_id, forget_after, now_wall)

    def _prune(self, now_wall: float) -> None:
        expired = [rid for rid, forget_after in self._memory.items() if forget_after < now_wall]
        for rid in expired:
            del self._memory[rid]
        while len(self._memory) > self.max_entries:
            self._memory.popitem(last=False)

    def _write(self, request_id: str, forget_after: float, now_wall: float) -> None:
        try:
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO seen VALUES (?, ?)", (request_id, forget_after))
            self._db.execute("DELETE FROM seen WHERE forget_after < ?", (now_wall,))
            self._db.execute(
                "DELETE FROM seen WHERE rowid NOT IN (SELECT rowid FROM seen ORDER BY rowid DESC LIMIT ?)",
                (self.max_entries,),
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self.write_failures += 1
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if self.write_failures == 1:
                log.error("request ledger cannot be written (%s): ids are kept in memory for this run", exc)

    def __len__(self) -> int:
        with self._lock:
            return len(self._memory)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
