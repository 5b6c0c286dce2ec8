"""Memory and task limits like the systemd unit's (MemoryMax, TasksMax) for a test's process, with cgroup v1.

`Limits.prefix()` wraps a command so it enters the cgroups before it starts (nothing escapes the limit by
allocating early); `close()` removes the cgroups once their processes have ended.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_v1_available(controller: str) -> bool:
    return os.geteuid() == 0 and (CGROUP_ROOT / controller / "cgroup.procs").exists()


class Limits:
    def __init__(self, memory_bytes: int | None = None, max_tasks: int | None = None):
        name = f"edge-agent-test-{uuid.uuid4().hex[:8]}"
        self.groups: list[Path] = []
        if memory_bytes is not None:
            self.memory = self._make("memory", name)
            (self.memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        if max_tasks is not None:
            self.pids = self._make("pids", name)
            (self.pids / "pids.max").write_text(str(max_tasks))

    def _make(self, controller: str, name: str) -> Path:
        group = CGROUP_ROOT / controller / name
        group.mkdir()
        self.groups.append(group)
        return group

    def prefix(self) -> tuple[str, ...]:
        joins = "; ".join(f"echo $$ > {group}/cgroup.procs" for group in self.groups)
        return ("sh", "-c", f'{joins}; exec "$@"', "in-cgroup")

    def peak_memory_bytes(self) -> int:
        return int((self.memory / "memory.max_usage_in_bytes").read_text())

    def close(self) -> None:
        for group in self.groups:
            try:
                group.rmdir()
            except OSError:
                pass  # a process is still inside; the caller stops it first
