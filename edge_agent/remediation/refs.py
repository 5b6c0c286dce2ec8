"""The actions the agent knows, what each changes, how it is verified and undone, and how a ladder names one.

A ladder entry is `name` or `name:target` — `restart_service:dnsmasq`, `bounce_interface:eth0`,
`custom:reset_modem`. A target may be `{subject}`, replaced by the issue's subject when the action runs.
A target starts with a letter or digit: it is handed to programs as an argument and must never read as an option.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

TARGET_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
TARGET = re.compile(r"^(?:\{subject\}|[A-Za-z0-9][A-Za-z0-9_.@-]{0,63})$")


@dataclass(frozen=True)
class ActionSpec:
    name: str
    disruptive: bool  # interrupts a service customers use: spaced apart and kept out of quiet hours
    needs_target: bool
    target_kind: str | None  # which configured list its target must be on: service, interface, custom; None: none
    changes: str
    verifies: str
    undo: str | None


ACTION_SPECS: dict[str, ActionSpec] = {spec.name: spec for spec in (
    ActionSpec("restart_service", True, True, "service", "restarts the service {target}",
               "the service is active again", None),
    ActionSpec("bounce_interface", True, False, "interface", "takes interface {target} down and up again",
               "the interface is up", "brings the interface up if it stayed down"),
    ActionSpec("renew_dhcp", False, False, "interface", "asks the DHCP server for a new lease on {target}",
               "the interface holds an IPv4 address", None),
    ActionSpec("restart_radio", True, False, "interface", "disables and re-enables the access point on {target}",
               "hostapd reports the radio ENABLED", None),
    ActionSpec("switch_channel", True, False, "interface",
               "moves the access point on {target} to the best-scoring channel",
               "the radio is on the new channel and its stations came back", "switches back to the old channel"),
    ActionSpec("flush_dns", False, False, None, "empties the DNS cache", "the flush command succeeded", None),
    ActionSpec("custom", True, True, "custom", "runs the configured command {target}",
               "the configured check command exits 0 (when there is one)", "the configured undo command"),
)}


@dataclass(frozen=True)
class ActionRef:
    name: str
    target: str | None = None
    # The subject of the issue the action is for. A radio action without a target (switch_channel,
    # restart_radio) acts on the radio when the subject is one of the gateway's radios: on a multi-radio
    # gateway the 5 GHz radio's interference moves the 5 GHz radio. Never a target: the authority judges `target`.
    # Not part of what the action is (equality, str): the same action on the same target.
    subject: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.name if self.target is None else f"{self.name}:{self.target}"

    @property
    def spec(self) -> ActionSpec:
        return ACTION_SPECS[self.name]

    def for_subject(self, subject: str) -> ActionRef:
        """This ref for an issue on `subject`: `{subject}` filled in (the subject must then itself be a plain
        target), and the subject kept for an action that acts where its issue is."""
        if self.target != "{subject}":
            return replace(self, subject=subject)
        if not TARGET.match(subject) or subject == "{subject}":
            raise ValueError(f"issue subject {subject!r} cannot be an action target")
        return ActionRef(self.name, subject, subject)


def parse_ref(text: str) -> ActionRef:
    """`name[:target]` → ActionRef; ValueError names what is wrong."""
    shown = text if len(text) <= 80 else f"{text[:77]}..."  # requests are untrusted: keep messages short
    name, _, target = text.partition(":")
    if name not in ACTION_SPECS:
        raise ValueError(f"unknown action {name[:32]!r} in {shown!r}; known: {', '.join(sorted(ACTION_SPECS))}")
    spec = ACTION_SPECS[name]
    if not target:
        if spec.needs_target:
            raise ValueError(f"{name} needs a target, for example {name}:dnsmasq")
        return ActionRef(name)
    if spec.target_kind is None:
        raise ValueError(f"{name} takes no target (got {shown!r})")
    if not TARGET.match(target):
        raise ValueError(f"target in {shown!r}: use letters, digits, . _ @ - (at most 64, the first a letter or "
                         "digit) or {subject}")
    return ActionRef(name, target)
