"""Command messages from the broker: gate them, reply accepted/rejected at once, hand accepted ones to the agent.

Replies go through the outbox like events, so a reply is not lost when the connection drops after the request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge_agent.reporting.commands import CommandDecision, CommandGate
from edge_agent.reporting.envelope import SCHEMA_RESPONSE, EnvelopeFactory
from edge_agent.reporting.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplyTarget:
    topic: str  # relative to the device's subtree
    correlation: bytes | None
    request_id: str
    command: str


class Replier:
    def __init__(
        self,
        outbox: Outbox,
        envelopes: EnvelopeFactory,
        now: Callable[[], tuple[float, float]],
        wake: Callable[[], None],
    ):
        self.outbox = outbox
        self.envelopes = envelopes
        self._now = now
        self._wake = wake

    def reply(self, target: ReplyTarget, state: str, reason: str, result: Any = None) -> None:
        mono, wall = self._now()
        body = {
            "request_id": target.request_id,
            "command": target.command,
            "state": state,
            "reason": reason,
            "result": result,
        }
        message = self.envelopes.wrap(SCHEMA_RESPONSE, body, wall, mono)
        payload = json.dumps(message, separators=(",", ":"), default=str).encode()
        self.outbox.put("event", target.topic, payload, qos=1, correlation=target.correlation)
        self._wake()


class CommandIntake:
    def __init__(
        self,
        gate: CommandGate,
        replier: Replier,
        execute: Callable[[CommandDecision, ReplyTarget], None],
        now_wall: Callable[[], float],
    ):
        self.gate = gate
        self.replier = replier
        self.execute = execute
        self._now_wall = now_wall
        self.accepted = 0
        self.rejected = 0

    def handle(self, topic: str, payload: bytes, response_topic: str | None, correlation: bytes | None) -> None:
        decision = self.gate.check(topic, payload, self._now_wall())
        target = ReplyTarget(
            self._reply_topic(decision, response_topic), correlation, decision.request_id, decision.command
        )
        if not decision.accepted:
            self.rejected += 1
            log.warning("command %s (request %r) rejected: %s", decision.command, decision.request_id, decision.reason)
            self.replier.reply(target, "rejected", decision.reason)
            return
        self.accepted += 1
        self.replier.reply(target, "accepted", "checks passed")
        self.execute(decision, target)

    def _reply_topic(self, decision: CommandDecision, response_topic: str | None) -> str:
        """The v5 Response Topic when it lies in our own subtree (the only place the ACL lets us publish)."""
        own = self.gate.device_topic + "/"
        if not response_topic or not response_topic.startswith(own):
            return f"res/{decision.request_id or 'invalid'}"
        if "#" in response_topic or "+" in response_topic:
            return f"res/{decision.request_id or 'invalid'}"
        return response_topic[len(own):]
