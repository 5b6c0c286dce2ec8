"""Small statistics for detectors: loss rates with a confidence bound, and a robust baseline of healthy rounds.

Pure code (no I/O, no clock): the detectors feed them one probe round at a time.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass


def z_for(confidence: float) -> float:
    """The one-sided normal quantile for `confidence` (0.95 -> 1.645)."""
    if not 0.5 < confidence < 1:
        raise ValueError(f"confidence must be between 0.5 and 1, not {confidence}")
    return statistics.NormalDist().inv_cdf(confidence)


def corrected_z(z: float, tests: int) -> float:
    """The one-sided quantile that keeps the error rate of `tests` tests together at what `z` gives one."""
    if tests <= 1:
        return z
    normal = statistics.NormalDist()
    return normal.inv_cdf(1 - (1 - normal.cdf(z)) / tests)


def wilson_interval(failures: int, trials: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of a failure rate: sound at small counts and at 0 or all failures,
    where the normal approximation claims certainty it does not have."""
    if trials <= 0:
        return 0.0, 1.0
    p = failures / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    denominator = 1 + z2 / trials
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


@dataclass(frozen=True)
class LossVerdict:
    """Whether the loss rate is above `limit`: True, False, or None (not enough evidence either way)."""

    above: bool | None
    lost: int
    sent: int
    low: float  # the confidence interval of the rate, 0..1
    high: float

    @property
    def rate_pct(self) -> float:
        return round(100.0 * self.lost / self.sent, 1) if self.sent else 0.0


class LossWindow:
    """The last `size` probes (whole rounds), and the last `recent` of them for a quick all-clear.

    A verdict needs `min_probes`: with 5 pings a round, one unlucky round is a coin toss, not a measurement.
    Losses come in bursts, not one probe at a time, so the probes of one round are not independent trials:
    "above" also needs losses in at least `min_lossy_rounds` different rounds (one 4-second burst is not a
    lossy line). It is tested over the newest 2x, 4x, ... `min_probes` probes as well as the whole window, so
    a fault's onset shows before the clean rounds before it have left the window.
    """

    def __init__(self, size: int, recent: int, min_probes: int, min_lossy_rounds: int = 3):
        self.size, self.recent, self.min_probes = size, recent, min_probes
        self.min_lossy_rounds = min_lossy_rounds
        self._rounds: deque[tuple[int, int]] = deque()  # (sent, lost), newest last

    def add(self, sent: int, lost: int) -> None:
        self._rounds.append((sent, lost))
        while sum(s for s, _ in self._rounds) - self._rounds[0][0] >= self.size:
            self._rounds.popleft()

    def clear(self) -> None:
        self._rounds.clear()

    def answered_late(self, replies: int) -> None:
        """`replies` to the newest round's probes came after its timeout: they were slow, not lost."""
        if self._rounds and replies > 0:
            sent, lost = self._rounds[-1]
            self._rounds[-1] = (sent, max(0, lost - replies))

    def counts(self, probes: int | None = None) -> tuple[int, int]:
        """(lost, sent) over the newest rounds holding at least `probes` probes (all of them by default)."""
        lost = sent = 0
        for round_sent, round_lost in reversed(self._rounds):
            if probes is not None and sent >= probes:
                break
            sent += round_sent
            lost += round_lost
        return lost, sent

    def verdict(self, limit: float, z: float, clear_below: float | None = None) -> LossVerdict:
        """Above `limit` (a rate, 0..1) when the whole window's lower bound is; below when its upper bound is
        under `clear_below` (default: the limit), or when the recent probes alone are clearly under it (a repair
        shows at once, without waiting for the lossy rounds to leave the window). A lower all-clear than the
        limit, once an issue is open, is a hysteresis band: loss hovering at the limit holds its one issue."""
        lost, sent = self.counts()
        low, high = wilson_interval(lost, sent, z)
        if sent < self.min_probes:
            return LossVerdict(None, lost, sent, low, high)
        clear = limit if clear_below is None else min(limit, clear_below)
        recent_lost, recent_sent = self.counts(self.recent)
        recent_clear = recent_sent >= self.recent and wilson_interval(recent_lost, recent_sent, z)[1] <= clear
        if recent_clear or high <= clear:
            return LossVerdict(False, lost, sent, low, high)
        if sum(1 for _, round_lost in self._rounds if round_lost) < self.min_lossy_rounds:
            return LossVerdict(None, lost, sent, low, high)
        scales = self._scales()
        # The newest probes, tested beside the whole window for a quick onset, each get a share of the error
        # rate (Bonferroni): tested alone at 95 %, they read 5 % loss as over a 10 % limit in one 150 s episode
        # of seven. The whole window keeps the confidence asked for.
        short_z = corrected_z(z, len(scales))
        for n, (scale_lost, scale_sent) in enumerate(scales):
            scale_low, scale_high = wilson_interval(scale_lost, scale_sent, z if n == len(scales) - 1 else short_z)
            if scale_low > limit:
                return LossVerdict(True, scale_lost, scale_sent, scale_low, scale_high)
        return LossVerdict(None, lost, sent, low, high)

    def _scales(self) -> list[tuple[int, int]]:
        """(lost, sent) over the newest 2x, 4x, ... min_probes probes, then the whole window."""
        scales, probes = [], 2 * self.min_probes
        while probes < self.size:
            scales.append(self.counts(probes))
            probes *= 2
        return [*scales, self.counts()]


class RobustBaseline:
    """A device's normal value: the median of healthy rounds, with the median absolute deviation as spread.

    Rounds wait in quarantine for `delay` rounds before they are learned, and the quarantine is thrown away
    when the caller says the present is suspicious: the rounds just before a fault is noticed are already
    part of it, and must not teach the baseline that the fault is normal.
    """

    def __init__(self, keep: int, delay: int, warmup: int, floor: float):
        self.keep, self.delay, self.warmup, self.floor = keep, delay, warmup, floor
        self._values: deque[float] = deque(maxlen=keep)
        self._pending: deque[float] = deque()

    def offer(self, value: float, suspicious: bool) -> None:
        if suspicious:
            self._pending.clear()
            return
        self._pending.append(value)
        while len(self._pending) > self.delay:
            self._values.append(self._pending.popleft())

    @property
    def ready(self) -> bool:
        return len(self._values) >= self.warmup

    @property
    def rounds(self) -> int:
        return len(self._values)

    def median(self) -> float:
        """The learned median (not floored: what was measured)."""
        return statistics.median(self._values) if self._values else 0.0

    def level(self) -> float:
        """The median, never below the floor: a sub-millisecond normal makes any ratio meaningless."""
        return max(self.floor, self.median())

    def mad(self) -> float:
        """Median absolute deviation, scaled to estimate a standard deviation (x 1.4826)."""
        if not self._values:
            return 0.0
        centre = self.median()
        return 1.4826 * statistics.median(abs(v - centre) for v in self._values)

    def mean(self) -> float:
        return statistics.fmean(self._values) if self._values else 0.0


@dataclass(frozen=True)
class ReachVerdict:
    """One connection attempt judged with those before it: `down` (every attempt fails since a clean spell),
    and whether attempts fail too often for the line to be called healthy (`unreliable`: True, False, or None
    when the window cannot tell yet)."""

    down: bool
    unreliable: bool | None
    failed: int
    attempts: int
    run: int  # failed attempts in a row, ending now


class ReachRecord:
    """An endpoint's recent connection attempts, to tell an outage from a line that fails on and off.

    An outage is a run of failures that begins after a clean spell (fewer than `scattered` failures in the
    window before it, an earlier outage counting as one) or lasts `long_run` attempts. A run that begins while
    failures are scattered through the window is more of the same unreliability, however long it happens to be
    by chance: it counts towards the failure rate, judged with its confidence bound, and is not an outage. The
    failures of an outage that lasted `outage_rounds` are left out of the rate: the outage is its own issue, and
    must not leave an unreliable line behind once it is over; a shorter run was a blip, and counts.

    Once the line is called unreliable, its all-clear is a run of clean attempts too long to be luck at the
    failure rate the episode has shown (`repair_evidence`): a line failing 40 % of the time shows a repair in a
    dozen attempts, one failing 15 % needs over forty, since twenty clean in a row come by chance every few
    minutes there and would end the issue mid-fault, only for it to open again."""

    def __init__(self, size: int, recent: int, min_attempts: int, scattered: int = 2, long_run: int = 10,
                 min_failed: int = 3, outage_rounds: int = 3, repair_evidence: float = 0.001):
        self.recent, self.min_attempts, self.scattered = recent, min_attempts, scattered
        self.long_run, self.min_failed, self.outage_rounds = long_run, min_failed, outage_rounds
        self.repair_evidence = repair_evidence
        self._outcomes: deque[bool] = deque(maxlen=size)  # True: connected; outages left out
        self._episode: list[int] | None = None  # [failed, attempts] since the line was called unreliable
        self._clean = 0  # connected attempts in a row, ending now
        self._after_repair = False  # no attempt has failed since an episode's all-clear
        # Every attempt, as the failures it counts for: 1 a failure (the first of an outage too), 0 otherwise.
        self._failures: deque[int] = deque(maxlen=size)
        self._run = 0
        self._outage = False

    def add(self, ok: bool, limit: float, z: float, resent: bool = False) -> ReachVerdict:
        """One attempt. `resent`: it connected, but only on a resent SYN (the first was lost): a failure for the
        rate of a lossy line, never part of an outage."""
        if resent:
            self.add(False, limit, z)
            self.answered_late(failed_all_the_same=True)
            return self._verdict(True, limit, z)
        if ok:
            if not (self._outage and self._run >= self.outage_rounds):
                self._record([False] * self._run)
            else:
                for back in range(1, min(self._run, len(self._failures))):
                    self._failures[-back] = 0  # the outage was one event
            self._failures.append(0)
            self._record([True])
            self._run, self._outage = 0, False
        else:
            self._clean, self._after_repair = 0, False
            if self._run == 0:
                # decided as the run begins; on a line known to fail on and off, only a long run is an outage
                self._outage = self._episode is None and sum(self._failures) < self.scattered
            self._failures.append(1)
            self._run += 1
            self._outage = self._outage or self._run >= self.long_run
        return self._verdict(ok, limit, z)

    def answered_late(self, failed_all_the_same: bool) -> None:
        """The last failed attempt connected after all, after its round had given up on it: the endpoint
        answers, so the run of failures ending there was no outage. A path slower than the timeout made it a
        success; a lost SYN answered on its resend (`failed_all_the_same`) leaves it a failure of a lossy line."""
        if self._run == 0:
            return
        if not failed_all_the_same:
            self._failures[-1] = 0
            self._run -= 1
        self._record([False] * self._run + ([] if failed_all_the_same else [True]))
        self._run, self._outage = 0, False

    def _record(self, outcomes: list[bool]) -> None:
        for ok in outcomes:
            self._outcomes.append(ok)
            self._clean = self._clean + 1 if ok else 0
            if self._episode is not None:
                self._episode[0] += not ok
                self._episode[1] += 1

    def _forget_before_repair(self) -> None:
        """After a repair the failures before it no longer count for the rate: the window keeps only the clean run
        since. (The outage test still sees them: a run soon after is more likely the fault back than an outage.)"""
        kept = min(self._clean, len(self._outcomes))
        self._outcomes = deque([True] * kept, maxlen=self._outcomes.maxlen)

    def _repaired(self) -> bool:
        """Whether the clean run ending now is too long to be luck at the episode's failure rate before it."""
        if self._run or self._episode is None:
            return False
        failed, attempts = self._episode[0], self._episode[1] - self._clean
        rate = failed / attempts if attempts else 1.0
        needed = self.recent if rate <= 0 else math.ceil(math.log(self.repair_evidence) / math.log1p(-min(rate, 0.99)))
        # at most three quick all-clears' worth: a line that has since become almost clean is not held open
        return self._clean >= min(max(self.min_attempts, needed), 3 * self.recent)

    def _verdict(self, ok: bool, limit: float, z: float) -> ReachVerdict:
        pending = 0 if self._outage else self._run
        failed = self._outcomes.count(False) + pending
        attempts = len(self._outcomes) + pending
        recent = list(self._outcomes)[-self.recent:]
        low, high = wilson_interval(failed, attempts, z)
        if self._episode is not None:
            # a repair shows without waiting for the window to turn over, and only a repair ends the episode
            unreliable: bool | None = False if self._repaired() else (True if low > limit else None)
        elif self._run == 0 and (self._after_repair or len(recent) >= self.recent and all(recent)):
            unreliable = False
        elif attempts < self.min_attempts:
            unreliable = None
        elif low > limit and failed >= self.min_failed:
            unreliable = True
        else:
            unreliable = False if high <= limit else None
        if unreliable and self._episode is None:
            # the run still failing counts when it ends
            self._episode = [self._outcomes.count(False), len(self._outcomes)]
        elif unreliable is False and self._episode is not None:
            self._episode, self._after_repair = None, True
            self._forget_before_repair()
        return ReachVerdict(not ok and self._outage, unreliable, failed, attempts, self._run)
