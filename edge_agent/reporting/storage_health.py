"""Whether the agent's own files can be written: the metrics of telemetry/agent that open `storage_failing`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from edge_agent.model import MetricValue


class Store(Protocol):
    """A file the agent writes (the outbox, a journal)."""

    path: Path

    @property
    def failing(self) -> str | None:
        """The last write error while writes fail; None when healthy."""
        ...

    def storage_counters(self) -> Mapping[str, int]: ...


def storage_metrics(stores: Sequence[Store]) -> dict[str, MetricValue]:
    """`storage_failing` is 1 while any store refuses writes; `storage_error` says which and why."""
    errors = [f"{store.path.name}: {store.failing}" for store in stores if store.failing is not None]
    metrics: dict[str, MetricValue] = {
        "storage_dir": str(stores[0].path.parent) if stores else "",
        "storage_failing": int(bool(errors)),
        "storage_error": "; ".join(errors),
    }
    for store in stores:
        for name, value in store.storage_counters().items():
            metrics[name] = int(metrics.get(name) or 0) + value
    return metrics
