"""Which channel the access point should use: a score per candidate from survey and scan data, and a
decision that keeps the current channel unless another is clearly better. Pure functions.

The interference part follows the idea of hostapd's ACS interference factor: the share of the channel's time
taken by others (busy minus our own transmissions, over active minus our own transmissions), weighted up by
a noise floor above the quietest channel's. Neighbour networks seen in scans add load for every channel they
overlap: on 2.4 GHz a 20 MHz signal spreads over ±4 channels, so only 1, 6 and 11 do not overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from edge_agent.wifi.channels import channel_for_freq
from edge_agent.wifi.iw import SurveyEntry

NON_OVERLAPPING_24GHZ = (1, 6, 11)
NEIGHBOUR_WEIGHT = 0.1  # one strong overlapping neighbour weighs like 10 % of airtime taken
DFS_CHANNELS = frozenset(range(52, 145, 4))


@dataclass(frozen=True)
class ChannelSurvey:
    """What a survey says about one channel, over one interval (deltas of the driver's counters)."""

    channel: int
    active_ms: int
    busy_ms: int
    transmit_ms: int | None = None
    noise_dbm: float | None = None


@dataclass(frozen=True)
class Neighbour:
    channel: int
    signal_dbm: float


@dataclass(frozen=True)
class ChannelScore:
    channel: int
    score: float  # lower is better
    interference: float | None
    neighbour_load: float

    def to_dict(self) -> dict:
        return {"channel": self.channel, "score": round(self.score, 4),
                "interference": None if self.interference is None else round(self.interference, 4),
                "neighbour_load": round(self.neighbour_load, 4)}


@dataclass(frozen=True)
class ChannelDecision:
    target: int | None  # None: stay
    reason: str
    scores: tuple[ChannelScore, ...]


def interference(survey: ChannelSurvey, quietest_noise_dbm: float | None) -> float | None:
    """Others' share of the channel's time, x2 per 3 dB of noise above the quietest channel. None when the
    counters cannot say (no active time, busy beyond active)."""
    own = survey.transmit_ms or 0
    active = survey.active_ms - own
    others = survey.busy_ms - own
    if active <= 0 or others < 0 or survey.busy_ms > survey.active_ms:
        return None
    factor = others / active
    if survey.noise_dbm is not None and quietest_noise_dbm is not None:
        factor *= 2 ** (max(0.0, survey.noise_dbm - quietest_noise_dbm) / 3)
    return factor


def overlap(a: int, b: int) -> float:
    """How much a 20 MHz signal on channel b spills into channel a (1 on the same channel)."""
    if a <= 14 and b <= 14:  # 2.4 GHz: channels are 5 MHz apart, a signal is 20 MHz wide
        return max(0.0, 1 - abs(a - b) / 5)
    return 1.0 if a == b else 0.0


def neighbour_load(channel: int, neighbours: Iterable[Neighbour]) -> float:
    """Overlapping neighbours, each weighted by how loud it is (-95 dBm: nothing, -45 dBm or louder: 1)."""
    return sum(overlap(channel, n.channel) * min(1.0, max(0.0, (n.signal_dbm + 95) / 50)) for n in neighbours)


def candidates(allowed: Sequence[int], band_24ghz: bool, allow_dfs: bool) -> list[int]:
    channels = [c for c in allowed if (c <= 14) == band_24ghz]
    if band_24ghz:
        channels = [c for c in channels if c in NON_OVERLAPPING_24GHZ]
    if not allow_dfs:
        channels = [c for c in channels if c not in DFS_CHANNELS]
    return channels


def score_channels(
    surveys: Iterable[ChannelSurvey], neighbours: Sequence[Neighbour], channels: Sequence[int]
) -> list[ChannelScore]:
    """A score for each candidate channel, best first (ties keep the lower channel first)."""
    by_channel = {s.channel: s for s in surveys}
    noises = [s.noise_dbm for s in by_channel.values() if s.noise_dbm is not None]
    quietest = min(noises) if noises else None
    scores = []
    for channel in channels:
        survey = by_channel.get(channel)
        taken = interference(survey, quietest) if survey else None
        load = neighbour_load(channel, neighbours)
        # A channel the survey could not measure is scored on its neighbours alone, but never preferred to a
        # measured one on that basis: it pays the worst measured interference.
        scores.append(ChannelScore(channel, 0.0, taken, load))
    measured = [s.interference for s in scores if s.interference is not None]
    unknown_cost = max(measured, default=0.0)
    scored = [
        ChannelScore(s.channel, (s.interference if s.interference is not None else unknown_cost)
                     + NEIGHBOUR_WEIGHT * s.neighbour_load, s.interference, s.neighbour_load)
        for s in scores
    ]
    return sorted(scored, key=lambda s: (s.score, s.channel))


def decide(
    scores: Sequence[ChannelScore],
    current: int,
    seconds_since_last_switch: float | None,
    min_dwell_s: float,
    margin: float = 0.25,
    min_gain: float = 0.1,
) -> ChannelDecision:
    """Move only to a clearly better channel (by `margin` relatively and `min_gain` absolutely), and never
    sooner than `min_dwell_s` after the last move: interference that wanders must not make the AP chase it."""
    scores = tuple(scores)
    if not scores:
        return ChannelDecision(None, "no candidate channel", scores)
    best = scores[0]
    here = next((s for s in scores if s.channel == current), None)
    if here is None:
        return ChannelDecision(best.channel, f"channel {current} is not allowed; moving to {best.channel}", scores)
    if best.channel == current:
        return ChannelDecision(None, f"channel {current} is already the best", scores)
    gain = here.score - best.score
    if gain < min_gain or best.score > here.score * (1 - margin):
        return ChannelDecision(None, f"channel {best.channel} is not clearly better than {current} "
                                     f"({best.score:.2f} vs {here.score:.2f})", scores)
    if seconds_since_last_switch is not None and seconds_since_last_switch < min_dwell_s:
        return ChannelDecision(None, f"last switch {seconds_since_last_switch:.0f} s ago; minimum dwell is "
                                     f"{min_dwell_s:.0f} s", scores)
    return ChannelDecision(best.channel, f"channel {best.channel} scores {best.score:.2f} against "
                                         f"{here.score:.2f} on {current}", scores)


def surveys_from_deltas(pairs: Iterable[tuple[SurveyEntry, SurveyEntry]]) -> list[ChannelSurvey]:
    """A ChannelSurvey per channel from (before, after) survey entries of one interval; entries without usable
    counters (missing, or gone backwards after a driver reset) are left out."""
    result = []
    for before, after in pairs:
        channel = channel_for_freq(after.freq_mhz) if after.freq_mhz else None
        counters = (before.active_ms, before.busy_ms, after.active_ms, after.busy_ms)
        if channel is None or any(c is None for c in counters):
            continue
        active, busy = after.active_ms - before.active_ms, after.busy_ms - before.busy_ms
        if active <= 0 or busy < 0 or busy > active:
            continue
        transmit = None
        if before.transmit_ms is not None and after.transmit_ms is not None:
            transmit = after.transmit_ms - before.transmit_ms
        result.append(ChannelSurvey(channel, active, busy, transmit if transmit and transmit >= 0 else None,
                                    after.noise_dbm))
    return result
