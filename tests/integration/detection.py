"""How soon the agent found a fault, read from its own record rather than by polling it.

Polling the agent's round counter through the CLI adds the poller's delays to the count: under load (load
average 8-14) each CLI call takes seconds, and the count grew by rounds the agent ran after it had already opened
the issue. Here the fault's time is the test's clock once the fault is in place (the same host clock as the
agent's), and the rest comes from the issue the agent recorded: when its run of bad samples began and ended in
the opening (`first_bad_ts`, `opened_ts`, both stamped when the round was judged) and how many bad samples in a
row opened it (its first transition).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

_BAD_RUN = re.compile(r"^(\d+) bad samples? in a row$")


def applied(change: Callable[[], object]) -> float:
    """Make the change (a fault or its repair) and return the time it is in place: when the call returns.

    A fault that takes the test a while to set up (restarting dnsmasq under load) is not the agent's delay."""
    change()
    return time.time()


@dataclass(frozen=True)
class Detection:
    """One issue's opening against the time its fault was in place."""

    bad_rounds: int  # the bad samples in a row that opened it, as the agent counted them
    good_rounds: int  # probe intervals between the fault and the first of those bad samples
    seconds: float  # from the fault to the opening

    @property
    def rounds(self) -> int:
        """Probe rounds from the fault to the opening: the rounds that still looked good, then the bad run.

        The good rounds are the whole probe intervals from the fault to the end of the first bad round: never
        fewer than the rounds that really ran, one more when the bad round's own wait crossed an interval."""
        return self.good_rounds + self.bad_rounds

    def __str__(self) -> str:
        return (f"{self.rounds} probe rounds ({self.good_rounds} good after the fault, then {self.bad_rounds} bad "
                f"in a row), {self.seconds:.1f} s from the fault to the opening")


def detection(issue: dict, fault_ts: float, interval_s: float) -> Detection:
    """How `issue` (as `issues` lists it) was found after a fault in place at `fault_ts`, with probe rounds every
    `interval_s`. Only a fresh opening counts: an intermittent issue that came back has no run of its own."""
    opening = issue["transitions"][0]
    found = _BAD_RUN.match(opening["reason"])
    assert opening["state"] == "open" and found, f"not a fresh opening: {opening}"
    first_bad = issue["first_bad_ts"]
    return Detection(bad_rounds=int(found.group(1)),
                     good_rounds=max(0, math.floor((first_bad - fault_ts) / interval_s)),
                     seconds=issue["opened_ts"] - fault_ts)


def resolution_s(issue: dict, repaired_ts: float) -> float:
    """Seconds from the repair being in place to the resolution the agent recorded (negative: it resolved while
    the repair was still being made)."""
    assert issue["state"] == "resolved", issue["state"]
    return issue["resolved_ts"] - repaired_ts
