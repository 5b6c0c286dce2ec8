"""Who may ask for which action, on which target, in which mode: one policy for every origin (pure).

Origins: the agent itself ("auto", its ladders), a technician at the CLI ("cli"; only root, the agent's user and
the admin group may change anything) and the cloud ("cloud", cmd/remediate). Targets come only from the lists in
[remediation.targets] (and the configured services and custom actions), whoever asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from edge_agent.remediation.refs import TARGET_NAME, ActionRef

if TYPE_CHECKING:
    from edge_agent.remediation.settings import RemediationSection, RequestMode

Origin = Literal["auto", "cli", "cloud"]
SAFE_TARGET = re.compile(TARGET_NAME)
MODE_ORDER = ("off", "dry-run", "auto")  # from the most to the least careful
WHO = {"auto": "the agent", "cli": "a technician", "cloud": "the cloud"}


@dataclass(frozen=True)
class Requester:
    origin: Origin
    admin: bool = False  # cli only: root, the agent's user or the admin group

    def describe(self) -> str:
        if self.origin == "cli" and not self.admin:
            return "a technician outside the admin group"
        return WHO[self.origin]


AGENT = Requester("auto")
CLOUD = Requester("cloud")
TECHNICIAN = Requester("cli", admin=True)


def target_problem(settings: RemediationSection, ref: ActionRef) -> str | None:
    """Why `ref`'s target may not be acted on (None: it may). No target means the configured default one."""
    target = ref.target
    if target is None:
        return None
    if target == "{subject}":
        return f"{ref.name}: the issue's subject cannot be an action target"
    if not SAFE_TARGET.match(target):
        return f"{ref.name}: target {target[:64]!r} is not a plain name (letters, digits, . _ @ -, first a letter " \
               "or digit)"
    if target not in settings.allowed_targets(ref):
        kind = ref.spec.target_kind
        if kind is None:
            return f"{ref.name} takes no target"
        return f"{ref.name}: {target} is not in [remediation.targets] {kind}s"
    return None


def origin_problem(settings: RemediationSection, requester: Requester, ref: ActionRef) -> str | None:
    """Why this requester may not ask for `ref`'s action at all (None: it may)."""
    if requester.origin == "auto":
        return None
    if requester.origin == "cli" and not requester.admin:
        return "remediation from the CLI is for root, the agent's user or the admin group"
    authority = settings.origin_authority(requester.origin)
    if authority is None or authority.mode == "off":
        return f"remediation requests from {requester.describe()} are off ([remediation.authority.{requester.origin}]" \
               " mode)"
    if ref.name not in authority.actions:
        allowed = ", ".join(authority.actions) or "none"
        return f"{requester.describe()} may not ask for {ref.name} ([remediation.authority.{requester.origin}] " \
               f"actions: {allowed})"
    return None


def refusal(settings: RemediationSection, requester: Requester, ref: ActionRef) -> str | None:
    """The one check every action passes before anything else: may this requester have it done to this target?"""
    return origin_problem(settings, requester, ref) or target_problem(settings, ref)


def request_mode(settings: RemediationSection, requester: Requester, issue_mode: str | None) -> RequestMode:
    """The mode a request runs in: the origin's own for a request that names no issue; for one that names an
    issue, that issue's policy (approval counts as given by the request), never beyond the origin's mode."""
    authority = settings.origin_authority(requester.origin)
    own = authority.mode if authority is not None else "auto"
    if issue_mode is None:
        return own
    policy = "auto" if issue_mode == "approval" else issue_mode
    return MODE_ORDER[min(MODE_ORDER.index(own), MODE_ORDER.index(policy))]  # type: ignore[return-value]
