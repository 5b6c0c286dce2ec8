"""A local, bounded JSON-lines journal of every event: what a technician reads when the cloud is unreachable.

A disk that refuses a line (full, read-only, failing) costs that line, counted and logged once per outage,
never the caller: the outbox, not the journal, is where an event must survive (see reporter.py).
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import logging
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

from edge_agent.untrusted_files import UnsafeFileError, open_regular

log = logging.getLogger(__name__)

RECOVERY_PROBE_S = 5.0  # while writes fail, how often to try whether space came back


class EventJournal:
    """Appends one JSON object per line; at `max_bytes` the file rotates to `<name>.1` (one generation kept)."""

    keeps_on_disk = True  # the reporter writes it only once an event is safe in the outbox

    def __init__(self, path: Path, max_bytes: int, topics: frozenset[str] | None = None):
        """`topics`: keep only these (None: every durable message)."""
        self.path = path
        self.max_bytes = max_bytes
        self.topics = topics
        self.lost_lines = 0
        self._failing: str | None = None  # the last write error, while writes fail
        self._last_probe = float("-inf")
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._failed(exc)

    def publish(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        if not durable or (self.topics is not None and topic not in self.topics):
            return
        line = json.dumps({"topic": topic, **message}, separators=(",", ":"), default=str) + "\n"
        with self._lock:
            try:
                self._append(line)
            except OSError as exc:
                self._failed(exc)
                return
            if self._failing is not None:
                log.warning("journal %s is writable again (%d lines were lost)", self.path, self.lost_lines)
                self._failing = None

    @property
    def failing(self) -> str | None:
        """The last write error while writes fail, else None. While failing, whether space has come back is
        tried every RECOVERY_PROBE_S (a scratch file, not a journal line): without events to write, a journal
        would otherwise say "failing" for ever, and keep the storage issue open."""
        with self._lock:
            now = time.monotonic()
            if self._failing is not None and now - self._last_probe >= RECOVERY_PROBE_S:
                self._last_probe = now
                if _writable(self.path.with_name(self.path.name + ".probe")):
                    log.warning("journal %s is writable again (%d lines were lost)", self.path, self.lost_lines)
                    self._failing = None
            return self._failing

    def _append(self, line: str) -> None:
        size = self._size()
        if size and size + len(line) > self.max_bytes:
            os.replace(self.path, self.path.with_name(self.path.name + ".1"))
        data = line.encode()
        # One write(2) of the whole line with O_APPEND: a full disk or a kill leaves at most a torn last line.
        # O_NONBLOCK: a FIFO in the journal's place fails at once (ENXIO) instead of stalling the agent's loop.
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                raise UnsafeFileError("not a regular file (a FIFO)") from None
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):  # a FIFO with a reader, a device: not a journal anyone can read
                raise UnsafeFileError("not a regular file")
            before = info.st_size
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes appended")
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, before)  # no torn line for the next one to be glued to
                raise
        finally:
            os.close(fd)

    def _failed(self, exc: OSError) -> None:
        self.lost_lines += 1
        if self._failing is None:
            log.error("journal %s cannot be written (%s): its lines are lost until it can", self.path, exc)
        self._failing = str(exc)
        self._last_probe = time.monotonic()

    def storage_counters(self) -> dict[str, int]:
        return {"journal_lost_lines": self.lost_lines}

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def read(self) -> list[dict[str, Any]]:
        """Every entry still kept, oldest first; a torn line (a write cut short by a kill or a full disk) is
        skipped."""
        entries = []
        for path in (self.path.with_name(self.path.name + ".1"), self.path):
            if path.exists():
                try:
                    raw = open_regular(path)
                except UnsafeFileError as exc:
                    raise UnsafeFileError(f"journal {path}: {exc}") from None
                with io.TextIOWrapper(raw, encoding="utf-8", errors="replace") as f:
                    for line in f:
                        try:
                            entries.append(json.loads(line))
                        except ValueError:
                            continue
        return entries

    def close(self) -> None:
        pass


def _writable(scratch: Path, size: int = 4096) -> bool:
    """Whether `size` bytes can be written beside the journal now (the scratch file is removed either way)."""
    try:
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            return os.write(fd, b"\0" * size) == size
        finally:
            os.close(fd)
            os.unlink(scratch)
    except OSError:
        return False
