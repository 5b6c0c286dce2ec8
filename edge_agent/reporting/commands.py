"""Cloud commands: the checks every request passes before it may act (pure), and the argument schemas.

Order of checks: size, topic (our device, a command name), JSON object (bounded in depth, finite numbers),
request id, allowlist, duplicate (ids persist across restarts in the RequestLedger), expiry, arguments. Each
failure names what is wrong, so the sender gets a `rejected` reply, never silence. `check` never raises.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from edge_agent.reporting.request_ledger import RequestLedger
from edge_agent.schema import Field, Record, ValidationError, model_validator
from edge_agent.untrusted_json import UntrustedJsonError, loads_untrusted

log = logging.getLogger(__name__)

MAX_COMMAND_BYTES = 64 * 1024
MAX_COMMAND_DEPTH = 8  # the deepest real request is three levels; room for growth, none for a stack attack
REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# A request without an expiry can be redelivered for as long as the broker keeps the session (mqtt.py's
# SESSION_EXPIRY_S): its id is remembered that long. One with an expiry is remembered until then, within a week.
REMEMBER_WITHOUT_EXPIRY_S = 24 * 3600
REMEMBER_AT_MOST_S = 7 * 24 * 3600


class _Args(Record):
    """Refuses unknown arguments (edge_agent.schema)."""


class PingArgs(_Args):
    """Answer with the agent's identity and uptime."""


class DiagnoseArgs(_Args):
    """Run every collector and detector now; answer with the samples and what is wrong."""


class GetIssuesArgs(_Args):
    """Answer with the agent's issues."""

    state: Literal["open", "all"] = "all"


class SetLogLevelArgs(_Args):
    """Change the agent's log level until the next restart or reload."""

    level: Literal["debug", "info", "warning", "error"]


class RemediateArgs(_Args):
    """Run one remediation action, or approve the action an issue waits for. Off unless the agent allows the
    command ([commands] allowed) and the action ([remediation.authority.cloud] actions); targets only from its
    [remediation.targets]. Then its policy and safety limits apply as to its own decisions. A refused request
    fails with the reason and is audited (event/action)."""

    # Only the shape is checked here; which targets are allowed (never one that reads as an option) is the
    # agent's authority policy's decision, so that the refusal is audited with the reason.
    action: str | None = Field(None, pattern=r"^[a-z_]{1,32}(:[A-Za-z0-9_.@{}-]{1,64})?$",
                               description="name[:target], e.g. restart_service:dnsmasq; omit to approve")
    issue_id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$", description="the issue this is for")
    dry_run: bool = Field(False, description="say what would happen, change nothing")

    @model_validator(mode="after")
    def _action_or_issue(self) -> RemediateArgs:
        if self.action is None and self.issue_id is None:
            raise ValueError("name an action, or an issue_id whose pending action to approve")
        return self


COMMAND_ARGS: dict[str, type[_Args]] = {
    "ping": PingArgs,
    "diagnose": DiagnoseArgs,
    "get_issues": GetIssuesArgs,
    "set_log_level": SetLogLevelArgs,
    "remediate": RemediateArgs,
}


@dataclass(frozen=True)
class CommandDecision:
    accepted: bool
    command: str
    request_id: str
    reason: str
    args: dict[str, Any] = field(default_factory=dict)


class CommandGate:
    """Decides whether a command message may run. Remembers handled request ids to refuse repeats."""

    def __init__(self, device_topic: str, allowed: list[str], ledger: RequestLedger | None = None):
        self.device_topic = device_topic  # "<prefix>/<device_id>"
        self.allowed = set(allowed)
        self.ledger = ledger if ledger is not None else RequestLedger(None)

    def check(self, topic: str, payload: bytes, now_wall: float) -> CommandDecision:
        try:
            return self._check(topic, payload, now_wall)
        except Exception as exc:  # noqa: BLE001 — a gate that raises would kill the MQTT thread: refuse instead
            log.error("command gate failed on %r: %s", topic[:200], exc, exc_info=True)
            return _reject("?", "", f"the agent could not check this request ({type(exc).__name__})")

    def _check(self, topic: str, payload: bytes, now_wall: float) -> CommandDecision:
        command = self.command_name(topic)
        if len(payload) > MAX_COMMAND_BYTES:
            return _reject(command or "?", "", f"payload of {len(payload)} bytes exceeds {MAX_COMMAND_BYTES}")
        if command is None:
            return _reject("?", "", f"topic {topic[:200]!r} is not {self.device_topic}/cmd/<name>")
        try:
            request = loads_untrusted(payload, MAX_COMMAND_BYTES, MAX_COMMAND_DEPTH)
        except UntrustedJsonError as exc:
            return _reject(command, "", f"payload is not acceptable JSON: {exc}")
        if not isinstance(request, dict):
            return _reject(command, "", f"payload must be a JSON object, got {type(request).__name__}")
        request_id = request.get("request_id")
        if not isinstance(request_id, str) or not REQUEST_ID.match(request_id):
            return _reject(command, "", "request_id must be 1-64 characters of A-Z a-z 0-9 _ . : -")
        return self._check_request(command, request_id, request, now_wall)

    def _check_request(
        self, command: str, request_id: str, request: dict[str, Any], now_wall: float
    ) -> CommandDecision:
        if command not in COMMAND_ARGS:
            return _reject(command, request_id, f"unknown command; known: {', '.join(sorted(COMMAND_ARGS))}")
        if command not in self.allowed:
            return _reject(command, request_id, "command not allowed by this agent's configuration")
        if self.ledger.seen(request_id, now_wall):
            return _reject(command, request_id, "duplicate request_id: already handled")
        expires = request.get("expires_ts")
        self.ledger.remember(request_id, _forget_after(expires, now_wall), now_wall)
        unknown = set(request) - {"request_id", "args", "expires_ts"}
        if unknown:
            return _reject(command, request_id, f"unknown fields: {', '.join(sorted(unknown))}")
        if expires is not None:
            if not isinstance(expires, (int, float)) or isinstance(expires, bool) or not math.isfinite(expires):
                return _reject(command, request_id, "expires_ts must be a finite number (seconds since the epoch)")
            # A gateway without an RTC boots with its clock behind, which can only make a request look younger:
            # the check stays safe even before NTP has synchronised the clock.
            if expires < now_wall:
                return _reject(command, request_id, f"expired {now_wall - expires:.0f} s ago")
        args = request.get("args", {})
        if not isinstance(args, dict):
            return _reject(command, request_id, "args must be a JSON object")
        try:
            parsed = COMMAND_ARGS[command].model_validate(args)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'args'}: {e['msg']}" for e in exc.errors())
            return _reject(command, request_id, f"invalid args: {problems[:500]}")
        return CommandDecision(True, command, request_id, "accepted", parsed.model_dump())

    def command_name(self, topic: str) -> str | None:
        """The command a topic names, or None when it is not one of our command topics."""
        prefix = f"{self.device_topic}/cmd/"
        if not topic.startswith(prefix):
            return None
        name = topic[len(prefix):]
        return name if re.fullmatch(r"[a-z_]{1,32}", name) else None


def _forget_after(expires: Any, now_wall: float) -> float:
    """Until when a request id must be remembered: as long as the request could still be delivered."""
    if isinstance(expires, (int, float)) and not isinstance(expires, bool) and math.isfinite(expires):
        return min(max(float(expires), now_wall), now_wall + REMEMBER_AT_MOST_S)
    return now_wall + REMEMBER_WITHOUT_EXPIRY_S


def _reject(command: str, request_id: str, reason: str) -> CommandDecision:
    return CommandDecision(False, command, request_id, reason)
