"""The actions the agent knows, what each changes, how it is verified and undone, and how a ladder names one.

A ladder entry is `name` or `name:target` — `restart_service:dnsmasq`, `bounce_interface:eth0`,
`custom:reset_modem`. A target may be `{subject}`, replaced by the issue's subject when the action runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TARGET = re.compile(r"^(?:\{subject\}|[A-Za-z0-9_.@-]{1,64})$")


@dataclass(frozen=True)
class ActionSpec:
    name: str
    disruptive: bool  # interrupts a service customers use: spaced apart and kept out of quiet hours
    needs_target: bool
    changes: str
    verifies: str
    undo: str | None


ACTION_SPECS: dict[str, ActionSpec] = {spec.name: spec for spec in (
    ActionSpec("restart_service", True, True, "restarts the service {target}",
               "the service is active again", None),
    ActionSpec("bounce_interface", True, False, "takes interface {target} down and up again",
               "the interface is up", "brings the interface up if it stayed down"),
    ActionSpec("renew_dhcp", False, False, "asks the DHCP server for a new lease on {target}",
               "the interface holds an IPv4 address", None),
    ActionSpec("restart_radio", True, False, "disables and re-enables the access point on {target}",
               "hostapd reports the radio ENABLED", None),
    ActionSpec("switch_channel", True, False, "moves the access point on {target} to the best-scoring channel",
               "the radio is on the new channel and its stations came back", "switches back to the old channel"),
    ActionSpec("flush_dns", False, False, "empties the DNS cache", "the flush command succeeded", None),
    ActionSpec("custom", True, True, "runs the configured command {target}",
               "the configured check command exits 0 (when there is one)", "the configured undo command"),
)}


@dataclass(frozen=True)
class ActionRef:
    name: str
    target: str | None = None

    def __str__(self) -> str:
        return self.name if self.target is None else f"{self.name}:{self.target}"

    @property
    def spec(self) -> ActionSpec:
        return ACTION_SPECS[self.name]

    def for_subject(self, subject: str) -> ActionRef:
        """This ref with `{subject}` filled in; the subject must itself be a plain target."""
        if self.target != "{subject}":
            return self
        if not TARGET.match(subject) or subject == "{subject}":
            raise ValueError(f"issue subject {subject!r} cannot be an action target")
        return ActionRef(self.name, subject)


def parse_ref(text: str) -> ActionRef:
    """`name[:target]` → ActionRef; ValueError names what is wrong."""
    name, _, target = text.partition(":")
    if name not in ACTION_SPECS:
        raise ValueError(f"unknown action {name!r} in {text!r}; known: {', '.join(sorted(ACTION_SPECS))}")
    if not target:
        if ACTION_SPECS[name].needs_target:
            raise ValueError(f"{name} needs a target, for example {name}:dnsmasq")
        return ActionRef(name)
    if not TARGET.match(target):
        raise ValueError(f"target {target!r} in {text!r}: use letters, digits, . _ @ - (at most 64) or {{subject}}")
    return ActionRef(name, target)
