"""When each periodic task is due, on the monotonic clock, with exponential backoff after failures."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TaskState:
    name: str
    interval_s: float
    next_due: float
    runs: int = 0
    consecutive_failures: int = 0
    total_failures: int = 0
    last_error: str | None = None
    last_run_mono: float | None = None

    def to_dict(self, now: float) -> dict:
        return {
            "name": self.name,
            "interval_s": self.interval_s,
            "runs": self.runs,
            "failures": self.total_failures,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "last_run_age_s": None if self.last_run_mono is None else round(now - self.last_run_mono, 1),
            "next_in_s": round(max(0.0, self.next_due - now), 1),
        }


class Schedule:
    def __init__(self, max_backoff_s: float = 300.0):
        self.max_backoff_s = max_backoff_s
        self.tasks: dict[str, TaskState] = {}

    def add(self, name: str, interval_s: float, now: float) -> None:
        self.tasks[name] = TaskState(name=name, interval_s=interval_s, next_due=now)

    def due(self, now: float) -> list[TaskState]:
        return sorted((t for t in self.tasks.values() if t.next_due <= now), key=lambda t: t.next_due)

    def next_due(self) -> float | None:
        return min((t.next_due for t in self.tasks.values()), default=None)

    def succeeded(self, name: str, now: float) -> None:
        task = self._finish(name, now)
        task.consecutive_failures = 0
        task.last_error = None
        # Fixed rate: keep the cadence, but after an overrun skip the missed slots instead of bursting.
        task.next_due += task.interval_s
        if task.next_due <= now:
            task.next_due = now + task.interval_s

    def failed(self, name: str, now: float, error: str) -> float:
        """Record a failure; returns the backoff before the next try."""
        task = self._finish(name, now)
        task.consecutive_failures += 1
        task.total_failures += 1
        task.last_error = error
        backoff = min(task.interval_s * 2 ** (task.consecutive_failures - 1), max(self.max_backoff_s, task.interval_s))
        task.next_due = now + backoff
        return backoff

    def _finish(self, name: str, now: float) -> TaskState:
        task = self.tasks[name]
        task.runs += 1
        task.last_run_mono = now
        return task
