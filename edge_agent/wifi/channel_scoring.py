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

from edge_agent.wifi import channels as plane
from edge_agent.wifi.channels import Band, Block, Channel, as_channel, block, blocks, channel_at
from edge_agent.wifi.iw import SurveyEntry

NON_OVERLAPPING_24GHZ = (1, 6, 11)
NEIGHBOUR_WEIGHT = 0.1  # one strong overlapping neighbour weighs like 10 % of airtime taken
DFS_CHANNELS = plane.DFS_5GHZ


def _with_band(item: object) -> None:
    """Fill in a missing band the way pre-6 GHz callers meant the number, and refuse numbers the band lacks."""
    band = item.band
    channel = Channel(band, item.channel) if band is not None else as_channel(item.channel)
    object.__setattr__(item, "band", channel.band)


@dataclass(frozen=True)
class ChannelSurvey:
    """What a survey says about one channel, over one interval (deltas of the driver's counters)."""

    channel: int
    active_ms: int
    busy_ms: int
    transmit_ms: int | None = None
    noise_dbm: float | None = None
    band: Band | None = None  # None: read from the number as callers before 6 GHz meant it (1-14: 2.4 GHz)

    def __post_init__(self) -> None:
        _with_band(self)

    @property
    def key(self) -> Channel:
        return Channel(self.band, self.channel)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Neighbour:
    """Another network heard in a scan: its primary channel, band, width and loudness."""

    channel: int
    signal_dbm: float
    band: Band | None = None  # None: read from the number as callers before 6 GHz meant it (1-14: 2.4 GHz)
    width_mhz: int | None = 20

    def __post_init__(self) -> None:
        _with_band(self)

    @property
    def spectrum(self) -> Block:
        """The spectrum it occupies: its bonded block, or its 20 MHz channel where the width is unknown or no
        block of that width holds it."""
        primary = Channel(self.band, self.channel)  # type: ignore[arg-type]
        found = blocks(primary, self.width_mhz or 20)
        return found[0] if found else block(primary, 20)


@dataclass(frozen=True)
class ChannelScore:
    channel: int
    score: float  # lower is better
    interference: float | None
    neighbour_load: float
    band: Band | None = None

    @property
    def key(self) -> Channel:
        return as_channel(self.channel, self.band)

    def to_dict(self) -> dict:
        return {"channel": self.channel, "band": None if self.band is None else Band(self.band).value,
                "score": round(self.score, 4),
                "interference": None if self.interference is None else round(self.interference, 4),
                "neighbour_load": round(self.neighbour_load, 4)}


@dataclass(frozen=True)
class ChannelDecision:
    target: int | None  # None: stay; else a channel number in `band`, the radio's own
    reason: str
    scores: tuple[ChannelScore, ...]
    band: Band | None = None


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


def overlap(a: int | Channel | Block, b: int | Channel | Block) -> float:
    """How much of the narrower of two transmissions' spectrum the other one shares (1: all of it); 0 across
    bands. Channels stand for their 20 MHz; a bare number is read as `channels.legacy_channel` does."""
    return plane.overlap(_spectrum(a), _spectrum(b))


def neighbour_load(channel: int | Channel | Block, neighbours: Iterable[Neighbour]) -> float:
    """Overlapping neighbours, each weighted by how loud it is (-95 dBm: nothing, -45 dBm or louder: 1).
    Neighbours in other bands share no spectrum with `channel` and add nothing."""
    ours = _spectrum(channel)
    return sum(plane.overlap(ours, n.spectrum) * min(1.0, max(0.0, (n.signal_dbm + 95) / 50)) for n in neighbours)


def candidates(allowed: Sequence[int | Channel], band: Band, allow_dfs: bool, width_mhz: int = 20) -> list[Channel]:
    """The channels of `band` among `allowed` (numbers are `band`'s) worth moving to at `width_mhz`: on 2.4 GHz
    the non-overlapping 1, 6 and 11; on 5 GHz DFS channels only with `allow_dfs`; on 6 GHz the preferred
    scanning channels, where clients look first. A channel that cannot hold the width is no candidate."""
    channels = []
    for item in allowed:
        if isinstance(item, Channel):
            if item.band is not band:
                continue
            channel = item
        elif item in plane.CHANNELS[band]:
            channel = Channel(band, item)
        else:
            continue
        if band is Band.GHZ_2_4 and channel.number not in NON_OVERLAPPING_24GHZ:
            continue
        if channel.is_dfs and not allow_dfs or not channel.is_preferred or not blocks(channel, width_mhz):
            continue
        channels.append(channel)
    return sorted(set(channels))


def score_channels(
    surveys: Iterable[ChannelSurvey], neighbours: Sequence[Neighbour], channels: Sequence[int | Channel],
    width_mhz: int = 20,
) -> list[ChannelScore]:
    """A score for each candidate channel at `width_mhz`, best first (ties keep the lower channel first).

    A wide channel is as busy as its busiest surveyed 20 MHz member; noise is compared within the band only.
    """
    keys = [as_channel(c) for c in channels]
    bands = {key.band for key in keys}
    by_channel = {s.key: s for s in surveys if s.band in bands}
    quietest = {band: min((s.noise_dbm for s in by_channel.values() if s.band is band and s.noise_dbm is not None),
                          default=None) for band in bands}
    scores = []
    for key in keys:
        found = blocks(key, width_mhz)
        spectrum = found[0] if found else block(key, 20)
        measured = [interference(by_channel[m], quietest[key.band]) for m in spectrum.members if m in by_channel]
        known = [m for m in measured if m is not None]
        taken = max(known) if known and key in by_channel else None
        scores.append(ChannelScore(key.number, 0.0, taken, neighbour_load(spectrum, neighbours), key.band))
    # A channel the survey could not measure is scored on its neighbours alone, but never preferred to a
    # measured one on that basis: it pays the worst measured interference.
    unknown_cost = max((s.interference for s in scores if s.interference is not None), default=0.0)
    scored = [
        ChannelScore(s.channel, (s.interference if s.interference is not None else unknown_cost)
                     + NEIGHBOUR_WEIGHT * s.neighbour_load, s.interference, s.neighbour_load, s.band)
        for s in scores
    ]
    return sorted(scored, key=lambda s: (s.score, s.key))


def _spectrum(channel: int | Channel | Block) -> Block:
    if isinstance(channel, Block):
        return channel
    return block(as_channel(channel), 20)


def decide(
    scores: Sequence[ChannelScore],
    current: int | Channel,
    seconds_since_last_switch: float | None,
    min_dwell_s: float,
    margin: float = 0.25,
    min_gain: float = 0.1,
) -> ChannelDecision:
    """Move only to a clearly better channel (by `margin` relatively and `min_gain` absolutely), and never
    sooner than `min_dwell_s` after the last move: interference that wanders must not make the AP chase it.
    The scores are of one band, the radio's; a bare `current` number is a channel of that band."""
    scores = tuple(scores)
    if not scores:
        return ChannelDecision(None, "no candidate channel", scores)
    best = scores[0]
    band = best.band
    here_key = current if isinstance(current, Channel) else as_channel(current, band)
    here = next((s for s in scores if s.key == here_key), None)
    where = f" ({Band(band).value})" if band is not None else ""
    if here is None:
        return ChannelDecision(best.channel, f"channel {here_key.number} is not allowed; moving to "
                                             f"{best.channel}{where}", scores, band)
    if best is here:
        return ChannelDecision(None, f"channel {here.channel} is already the best{where}", scores, band)
    gain = here.score - best.score
    if gain < min_gain or best.score > here.score * (1 - margin):
        return ChannelDecision(None, f"channel {best.channel} is not clearly better than {here.channel} "
                                     f"({best.score:.2f} vs {here.score:.2f}){where}", scores, band)
    if seconds_since_last_switch is not None and seconds_since_last_switch < min_dwell_s:
        return ChannelDecision(None, f"last switch {seconds_since_last_switch:.0f} s ago; minimum dwell is "
                                     f"{min_dwell_s:.0f} s", scores, band)
    return ChannelDecision(best.channel, f"channel {best.channel} scores {best.score:.2f} against "
                                         f"{here.score:.2f} on {here.channel}{where}", scores, band)


def surveys_from_deltas(pairs: Iterable[tuple[SurveyEntry, SurveyEntry]]) -> list[ChannelSurvey]:
    """A ChannelSurvey per channel (with its band) from (before, after) survey entries of one interval; entries
    of no channel, of two different channels, or without usable counters (missing, or gone backwards after a
    driver reset) are left out."""
    result = []
    for before, after in pairs:
        channel = channel_at(after.freq_mhz)
        if before.freq_mhz != after.freq_mhz:
            continue
        counters = (before.active_ms, before.busy_ms, after.active_ms, after.busy_ms)
        if channel is None or any(c is None for c in counters):
            continue
        active, busy = after.active_ms - before.active_ms, after.busy_ms - before.busy_ms
        if active <= 0 or busy < 0 or busy > active:
            continue
        transmit = None
        if before.transmit_ms is not None and after.transmit_ms is not None:
            transmit = after.transmit_ms - before.transmit_ms
        result.append(ChannelSurvey(channel.number, active, busy,
                                    transmit if transmit and transmit >= 0 else None, after.noise_dbm, channel.band))
    return result
