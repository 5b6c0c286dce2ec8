"""Remediation: the hook that sees every issue change and may act on it (policy engine comes later)."""

from __future__ import annotations

from typing import Protocol

from edge_agent.model import Event


class RemediationHook(Protocol):
    def on_issue_event(self, event: Event) -> list[Event]:
        """Decide on an issue change; return the action events it produced (possibly none)."""
        ...


class NoRemediation:
    """Policy `off` for every issue type: issues are reported, nothing on the premises is changed."""

    def on_issue_event(self, event: Event) -> list[Event]:
        return []
