"""Control-socket requests: parse one untrusted line, route it to its handler, turn every failure into a reply.

No sockets here: the server hands in the bytes and the peer, and gets back the one JSON reply line to send.
Whatever the bytes and whatever a handler raises, the answer is `{"ok": false, "error": ...}` naming the problem,
and at most one log line, throttled so a client looping on bad requests cannot flood the journal.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from edge_agent.untrusted_json import UntrustedJsonError, loads_untrusted

log = logging.getLogger("edge_agent.agent.control")

MAX_REQUEST_BYTES = 64 * 1024
MAX_REQUEST_DEPTH = 16  # {"request": ..., "args": {...}}: real requests nest two levels
Handler = Callable[[Mapping[str, Any]], Any]
# A handler that decides by who asks (the engine audits a non-admin's refused remediation, for one).
PeerHandler = Callable[[Mapping[str, Any], "Peer"], Any]


class RequestRefused(Exception):
    """A handler's "no", with the reason for the person who asked (not a fault of the agent)."""


@dataclass(frozen=True)
class Peer:
    """Who is asking, from the kernel (SO_PEERCRED), and whether they may use the admin requests."""

    pid: int
    uid: int
    gid: int
    is_admin: bool


class ThrottledLog:
    """At most `burst` lines per `window_s`; the rest are counted, and the count rides on the next line logged."""

    def __init__(self, burst: int = 10, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.burst = burst
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = float("-inf")
        self._lines = 0
        self._suppressed = 0

    def __call__(self, level: int, message: str, *args: Any) -> None:
        with self._lock:
            now = self._clock()
            if now - self._window_start >= self.window_s:
                self._window_start, self._lines = now, 0
            if self._lines >= self.burst:
                self._suppressed += 1
                return
            self._lines += 1
            suppressed, self._suppressed = self._suppressed, 0
        if suppressed:
            message, args = message + " (%d more control-socket problems not logged)", (*args, suppressed)
        log.log(level, message, *args)


class PeerRates:
    """A token bucket per user id for the users who may only read (not root, the agent's user or the admin
    group): a client asking `status` in a loop took 86 % of the agent's CPU (the unit allows 25 %), time
    the agent's own probing needs. A request past the rate is told "busy", which the CLI retries."""

    def __init__(self, per_s: float = 10.0, burst: float = 30.0, max_users: int = 256,
                 clock: Callable[[], float] = time.monotonic):
        self.per_s = per_s
        self.burst = burst
        self.max_users = max_users
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[int, tuple[float, float]] = {}  # uid -> (tokens, when counted)

    def admit(self, uid: int) -> bool:
        with self._lock:
            now = self._clock()
            tokens, counted = self._buckets.get(uid, (self.burst, now))
            tokens = min(self.burst, tokens + (now - counted) * self.per_s)
            if len(self._buckets) >= self.max_users and uid not in self._buckets:
                self._forget_idle(now)
            admitted = tokens >= 1.0
            self._buckets[uid] = (tokens - 1.0 if admitted else tokens, now)
            return admitted

    def _forget_idle(self, now: float) -> None:
        """Users whose bucket has refilled are no different from new ones: their entries can go."""
        refill_s = self.burst / self.per_s
        self._buckets = {uid: entry for uid, entry in self._buckets.items() if now - entry[1] < refill_s}


def error_reply(error: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": error, **extra}


def reply_line(response: Mapping[str, Any]) -> bytes:
    """The reply as one JSON line; a result that cannot be encoded becomes an error reply, never an exception."""
    try:
        return json.dumps(response, default=str).encode() + b"\n"
    except (ValueError, TypeError, RecursionError) as exc:
        log.error("control socket: reply could not be encoded: %s", exc)
        return json.dumps(error_reply(f"the agent could not encode its answer: {exc}")).encode() + b"\n"


class RequestRouter:
    """Parses a request line and answers it with the handler it names, as the peer is allowed to."""

    def __init__(self, handlers: Mapping[str, Handler], admin_handlers: Mapping[str, Handler],
                 throttled_log: ThrottledLog | None = None, peer_handlers: Mapping[str, PeerHandler] | None = None):
        self.handlers = handlers
        self.admin_handlers = admin_handlers
        self.peer_handlers = dict(peer_handlers or {})
        self.note = throttled_log or ThrottledLog()

    def answer(self, line: bytes, peer: Peer) -> dict[str, Any]:
        try:
            request = loads_untrusted(line, MAX_REQUEST_BYTES, MAX_REQUEST_DEPTH)
        except UntrustedJsonError as exc:
            return self._bad_request(f"bad request: {exc}", peer)
        if not isinstance(request, dict) or not isinstance(request.get("request"), str):
            return self._bad_request('request must be an object with a "request" name', peer)
        name = request["request"]
        args = request.get("args")
        if args is None:
            args = {}
        if not isinstance(args, dict):
            return self._bad_request(f'"args" must be an object, got {_json_type(args)}', peer)
        handler = self._handler(name, peer)
        if isinstance(handler, dict):
            return handler
        return self._call(name, handler, args, peer)

    def _handler(self, name: str, peer: Peer) -> Handler | dict[str, Any]:
        """The handler for `name`, or the error reply saying why there is none for this peer."""
        if name in self.handlers:
            return self.handlers[name]
        if name in self.peer_handlers:
            peer_handler = self.peer_handlers[name]
            return lambda args: peer_handler(args, peer)
        if name in self.admin_handlers:
            if peer.is_admin:
                return self.admin_handlers[name]
            self.note(logging.WARNING, "control socket: %s refused to pid %d uid %d (not an admin)",
                      name[:40], peer.pid, peer.uid)
            return error_reply(f"permission denied: {name} is for root or the admin group", denied=True)
        known = sorted([*self.handlers, *self.admin_handlers, *self.peer_handlers])
        return self._bad_request(f"unknown request {name[:40]!r}; known: {known}", peer)

    def _call(self, name: str, handler: Handler, args: dict[str, Any], peer: Peer) -> dict[str, Any]:
        try:
            return {"ok": True, "result": handler(args)}
        except RequestRefused as exc:
            return error_reply(str(exc), refused=True)
        except (ValueError, KeyError, TypeError) as exc:
            # A handler reading arguments of the wrong type or range: int("x"), int([1]), a missing key.
            return self._bad_request(f"bad arguments: {_describe(exc)}", peer)
        except TimeoutError:
            self.note(logging.WARNING, "control socket: %s did not finish in time", name)
            return error_reply(f"the agent did not finish {name} in time")
        except Exception as exc:  # noqa: BLE001 — one request's failure must never take the server down
            self.note(logging.ERROR, "control socket: %s failed for pid %d uid %d: %s",
                      name, peer.pid, peer.uid, _describe(exc))
            return error_reply(f"{name} failed inside the agent: {_describe(exc)}")

    def _bad_request(self, error: str, peer: Peer) -> dict[str, Any]:
        self.note(logging.WARNING, "control socket: pid %d uid %d: %s", peer.pid, peer.uid, error)
        return error_reply(error)


def _describe(exc: BaseException) -> str:
    """The exception's message, bounded; with its type where the message alone says little (KeyError: 'x')."""
    text = str(exc)[:300]
    if isinstance(exc, (ValueError, TypeError)) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)
