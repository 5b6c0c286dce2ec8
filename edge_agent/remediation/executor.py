"""What runs an action: the interface between the engine's decisions and the premises (real or simulated)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from edge_agent.bounded_run import run_bounded
from edge_agent.child_env import child_environment
from edge_agent.remediation.redaction import secret_values, short_output
from edge_agent.remediation.refs import ActionRef
from edge_agent.remediation.settings import RemediationSection


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    detail: str
    undo_state: Any = None  # what `undo` needs (the channel before a switch); None: nothing to undo
    data: Mapping[str, Any] = field(default_factory=dict)  # for the audit record: scores, command output


class ActionExecutor(Protocol):
    def update_settings(self, settings: RemediationSection) -> None:
        """A reloaded [remediation] section: policies, commands, channel limits."""
        ...

    def disruptive(self, ref: ActionRef) -> bool: ...

    def problem(self, ref: ActionRef) -> str | None:
        """Why `ref` cannot run on these premises (None: it can)."""
        ...

    def run(self, ref: ActionRef, timeout_s: float) -> ActionResult: ...

    def undo(self, ref: ActionRef, result: ActionResult, timeout_s: float) -> ActionResult: ...


# An action's output is only audited as a short tail; a script printing without end is stopped here.
ACTION_OUTPUT_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class CommandOutcome:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


# What a child needs to find programs and speak the language; nothing of the agent's own (EDGE_AGENT_* secrets,
# NOTIFY_SOCKET, which would let a child talk to systemd for the agent).
def run_argv(argv: list[str], timeout_s: float, environ: Mapping[str, str] | None = None) -> CommandOutcome:
    """Run a program (never through a shell, with a scrubbed environment); its exit code and the short, redacted
    tail of its output. `environ` is the agent's environment (default: this process's)."""
    environ = os.environ if environ is None else environ
    try:
        done = run_bounded(argv, timeout_s, ACTION_OUTPUT_MAX_BYTES, env=child_environment(environ))
    except FileNotFoundError:
        return CommandOutcome(127, f"{argv[0]}: program not found")
    except PermissionError:
        return CommandOutcome(126, f"{argv[0]}: permission denied")
    except OSError as exc:
        return CommandOutcome(126, f"{argv[0]}: cannot run ({exc.strerror or exc})")
    if done.problem is not None:  # stopped: 124 as timeout(1) says, whether for time or for output
        return CommandOutcome(124, done.problem)
    output = (done.stdout + done.stderr).decode(errors="replace")
    return CommandOutcome(done.returncode, short_output(output, secret_values(environ)))
