"""Command messages from the broker: gate them, reply accepted/rejected at once, hand accepted ones to the agent.

Replies go through the outbox like events, so a reply is not lost when the connection drops after the request.
Runs on the MQTT thread: `handle` never raises (an exception there would stop the device listening), retained
messages are never executed (a command left retained on the broker would run again at every connection), and a
flood is throttled (command_throttle) so it cannot starve the agent's own work.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge_agent.reporting.command_throttle import CommandThrottle
from edge_agent.reporting.commands import CommandDecision, CommandGate
from edge_agent.reporting.envelope import SCHEMA_RESPONSE, EnvelopeFactory
from edge_agent.reporting.outbox import Outbox

log = logging.getLogger(__name__)

MAX_RESPONSE_TOPIC_CHARS = 256
_REQUEST_ID_FIELD = re.compile(rb'"request_id"\s{0,8}:\s{0,8}"([A-Za-z0-9_.:-]{1,64})"')


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
        execute: Callable[[CommandDecision, ReplyTarget, Callable[[], None]], None],
        now_wall: Callable[[], float],
        now_mono: Callable[[], float],
        throttle: CommandThrottle | None = None,
    ):
        """`execute(decision, target, done)` queues an accepted command; it calls `done()` when it has answered."""
        self.gate = gate
        self.replier = replier
        self.execute = execute
        self._now_wall = now_wall
        self._now_mono = now_mono
        self.throttle = throttle or CommandThrottle(now_mono())
        self.accepted = 0
        self.rejected = 0
        self.ignored_retained = 0
        self.failures = 0

    def handle(
        self, topic: str, payload: bytes, response_topic: str | None, correlation: bytes | None, retained: bool = False
    ) -> None:
        try:
            self._handle(topic, payload, response_topic, correlation, retained)
        except Exception as exc:  # noqa: BLE001 — contained: the MQTT thread must live on
            self.failures += 1
            log.error("command on %r could not be handled: %s", topic[:200], exc, exc_info=self.failures == 1)

    def _handle(
        self, topic: str, payload: bytes, response_topic: str | None, correlation: bytes | None, retained: bool
    ) -> None:
        if retained:
            # Subscriptions ask the broker not to send retained commands; one that arrives anyway is old news.
            self.ignored_retained += 1
            if self.ignored_retained == 1 or self.ignored_retained % 100 == 0:
                log.warning("ignored a retained command on %r (%d so far): commands must not be retained",
                            topic[:200], self.ignored_retained)
            return
        # Rates first, on the name in the topic alone: a flood is turned away before it costs a parse or a write
        # to the request ledger, and a request refused for its rate may be sent again later with the same id.
        command = self.gate.command_name(topic) or "?"
        refusal = self.throttle.admit(command, self._now_mono())
        if refusal is not None:
            self._refuse(ReplyTarget(f"res/{_request_id_hint(payload)}", _bounded(correlation),
                                     _request_id_hint(payload), command), refusal)
            return
        try:
            decision = self.gate.check(topic, payload, self._now_wall())
            target = ReplyTarget(
                self._reply_topic(decision, response_topic), _bounded(correlation), decision.request_id,
                decision.command,
            )
            if not decision.accepted:
                self.throttle.finished(command)
                self._refuse(target, decision.reason)
                return
            self.accepted += 1
            self.replier.reply(target, "accepted", "checks passed")
            self.execute(decision, target, lambda: self.throttle.finished(command))
        except Exception:
            self.throttle.finished(command)
            raise

    def _refuse(self, target: ReplyTarget, reason: str) -> None:
        self.rejected += 1
        if not self.throttle.may_reply_rejection(self._now_mono()):
            return  # a flood: counted in throttle.replies_suppressed, not answered one by one
        log.warning("command %s (request %r) rejected: %s", target.command, target.request_id, reason)
        self.replier.reply(target, "rejected", reason)

    def _reply_topic(self, decision: CommandDecision, response_topic: str | None) -> str:
        """The v5 Response Topic when it names a reply topic under our own `res/`; otherwise res/<request_id>.

        Anything else under our subtree is refused: a requester must not make us publish on `status`,
        `event/issue` or any other topic whose readers trust what arrives there.
        """
        default = f"res/{decision.request_id or 'invalid'}"
        replies = self.gate.device_topic + "/res/"
        if not isinstance(response_topic, str) or len(response_topic) > MAX_RESPONSE_TOPIC_CHARS:
            return default
        if not response_topic.startswith(replies) or len(response_topic) == len(replies):
            return default
        if any(c in response_topic for c in "#+\0") or "//" in response_topic:
            return default
        return response_topic[len(self.gate.device_topic) + 1:]


def _request_id_hint(payload: bytes) -> str:
    """The request id of a request refused before parsing, when it is plainly there (for the reply topic)."""
    match = _REQUEST_ID_FIELD.search(payload[:4096])
    return match.group(1).decode() if match else "invalid"


def _bounded(correlation: bytes | None, limit: int = 256) -> bytes | None:
    """Correlation data is echoed verbatim: a sender may not make every reply carry kilobytes of its own bytes."""
    if correlation is None:
        return None
    return bytes(correlation[:limit])
