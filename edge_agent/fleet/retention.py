"""How long the fleet store keeps what: `edge-agent fleet prune` deletes what has aged out, in small batches.

A million gateways write ~700 telemetry windows a day each; without retention the store only grows. Each kind of
row ages by the clock that matters for it:
- telemetry windows by their window's end (trends are read over weeks, not years);
- the message-id ledger by when the store took the message: it exists so a redelivered message changes nothing,
  and a broker redelivers only within a watcher's session expiry, so a week is ample. (By the store's clock, not
  the message's: a gateway offline for a month still delivers its outbox, and every event in it is new.)
- issues once resolved, by their resolution, with the actions taken on them. Open issues and device presence are
  never pruned, however old.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_S = 86400.0
MIN_LEDGER_DAYS = 1.0  # shorter than a watcher's session could let a redelivery be stored twice
BATCH_ROWS = 5000  # rows per delete transaction: short transactions keep watchers writing beside the prune


class RetentionError(ValueError):
    """A retention setting that would lose data or cannot be meant; the message names it."""


@dataclass(frozen=True)
class RetentionPolicy:
    telemetry_days: float = 30.0
    ledger_days: float = 7.0
    issues_days: float = 400.0  # resolved issues and their actions: a year of outcomes for the KPIs, and a margin

    def __post_init__(self) -> None:
        for name in ("telemetry_days", "ledger_days", "issues_days"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value != value or value <= 0:
                raise RetentionError(f"{name} must be a positive number of days, not {value!r}")
        if self.ledger_days < MIN_LEDGER_DAYS:
            raise RetentionError(f"ledger_days must be at least {MIN_LEDGER_DAYS:g}: the message-id ledger is what "
                                 "keeps a redelivered message from being stored twice")

    def cutoffs(self, now: float) -> Cutoffs:
        return Cutoffs(telemetry_before=now - self.telemetry_days * DAY_S,
                       ledger_before=now - self.ledger_days * DAY_S,
                       issues_before=now - self.issues_days * DAY_S)


@dataclass(frozen=True)
class Cutoffs:
    """Epoch seconds: rows whose clock is before these are deleted."""

    telemetry_before: float
    ledger_before: float
    issues_before: float


@dataclass
class PruneResult:
    telemetry: int = 0
    messages: int = 0
    issues: int = 0
    actions: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"telemetry": self.telemetry, "messages": self.messages, "issues": self.issues,
                "actions": self.actions}
