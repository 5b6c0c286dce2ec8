"""A local, bounded JSON-lines journal of every event: what a technician reads when the cloud is unreachable."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


class EventJournal:
    """Appends one JSON object per line; at `max_bytes` the file rotates to `<name>.1` (one generation kept)."""

    def __init__(self, path: Path, max_bytes: int, topics: frozenset[str] | None = None):
        """`topics`: keep only these (None: every durable message)."""
        self.path = path
        self.max_bytes = max_bytes
        self.topics = topics
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def publish(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        if not durable or (self.topics is not None and topic not in self.topics):
            return
        line = json.dumps({"topic": topic, **message}, separators=(",", ":"), default=str) + "\n"
        with self._lock:
            size = self._size()
            if size and size + len(line) > self.max_bytes:
                os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line)

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def read(self) -> list[dict[str, Any]]:
        """Every entry still kept, oldest first."""
        entries = []
        for path in (self.path.with_name(self.path.name + ".1"), self.path):
            if path.exists():
                with path.open(encoding="utf-8") as f:
                    entries.extend(json.loads(line) for line in f if line.strip())
        return entries

    def close(self) -> None:
        pass
