"""How many cloud commands the agent takes on: token buckets per command and overall, one diagnose at a time.

A flood of commands must not starve the agent's own work: each accepted command runs on the agent's loop (a
diagnose runs every probe, DHCP included, on real hardware) and costs fsynced replies. Refused requests get a
`rejected` reply while replies themselves stay within a budget; past it they are counted, not sent, so a
flood cannot turn into a flood of disk writes either.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    per_s: float
    burst: float


# Generous for a person or a fleet tool, small against a flood. Unknown names share the default.
OVERALL = Rate(per_s=5.0, burst=20.0)
PER_COMMAND: Mapping[str, Rate] = {
    "diagnose": Rate(per_s=1 / 10, burst=2.0),
    "remediate": Rate(per_s=1 / 10, burst=3.0),
    "ping": Rate(per_s=2.0, burst=10.0),
}
DEFAULT_COMMAND = Rate(per_s=1.0, burst=5.0)
REJECTION_REPLIES = Rate(per_s=2.0, burst=20.0)
# Commands that are never queued twice: a second one while the first waits or runs is refused.
SINGLE_FLIGHT = frozenset({"diagnose"})


class TokenBucket:
    def __init__(self, rate: Rate, now: float):
        self.rate = rate
        self._tokens = rate.burst
        self._updated = now

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.rate.burst, self._tokens + elapsed * self.rate.per_s)
        self._updated = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def seconds_until_token(self) -> float:
        return max(0.0, (1.0 - self._tokens) / self.rate.per_s)


class CommandThrottle:
    """`admit` and `may_reply_rejection` run on the MQTT thread; `finished` on the agent's loop (under a lock)."""

    def __init__(self, now: float, overall: Rate = OVERALL, per_command: Mapping[str, Rate] = PER_COMMAND,
                 rejection_replies: Rate = REJECTION_REPLIES):
        self._overall = TokenBucket(overall, now)
        self._per_command_rates = dict(per_command)
        self._per_command: dict[str, TokenBucket] = {}
        self._replies = TokenBucket(rejection_replies, now)
        self._in_flight: Counter[str] = Counter()
        self._in_flight_lock = threading.Lock()
        self.throttled = 0
        self.replies_suppressed = 0

    def admit(self, command: str, now: float) -> str | None:
        """None when the command may run now; otherwise the reason it may not."""
        with self._in_flight_lock:
            busy = command in SINGLE_FLIGHT and self._in_flight[command] > 0
        if busy:
            self.throttled += 1
            return f"a {command} is already queued or running; ask again when it has answered"
        bucket = self._per_command.get(command)
        if bucket is None:
            bucket = self._per_command[command] = TokenBucket(
                self._per_command_rates.get(command, DEFAULT_COMMAND), now)
        if not bucket.take(now):
            self.throttled += 1
            return f"rate limited: at most {bucket.rate.per_s:g} {command} per second; retry in " \
                   f"{bucket.seconds_until_token():.0f} s"
        if not self._overall.take(now):
            self.throttled += 1
            return f"rate limited: at most {self._overall.rate.per_s:g} commands per second; retry in " \
                   f"{self._overall.seconds_until_token():.0f} s"
        with self._in_flight_lock:
            self._in_flight[command] += 1
        return None

    def finished(self, command: str) -> None:
        with self._in_flight_lock:
            if self._in_flight[command] > 0:
                self._in_flight[command] -= 1

    def may_reply_rejection(self, now: float) -> bool:
        """Whether a refusal may be answered; past the budget it is only counted."""
        if self._replies.take(now):
            return True
        self.replies_suppressed += 1
        return False
