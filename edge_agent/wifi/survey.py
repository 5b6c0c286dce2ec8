"""How busy a channel was between two survey readings, from the deltas of its cumulative air-time counters."""

from __future__ import annotations

from dataclasses import dataclass

from edge_agent.wifi.iw import SurveyEntry


@dataclass(frozen=True)
class ChannelLoad:
    """Fractions (0-1) of the time the radio watched the channel (`active_ms`) that it was busy, receiving,
    transmitting. Receive and transmit are None where the driver does not count them (p54 has no receive time).
    """

    freq_mhz: int
    active_ms: int
    busy_ratio: float
    receive_ratio: float | None
    transmit_ratio: float | None


def channel_load(before: SurveyEntry, after: SurveyEntry) -> ChannelLoad | None:
    """The channel's load between two readings of the same channel, or None when no honest ratio exists.

    None when the readings are of different channels, a counter is missing, active time did not advance,
    a counter went backwards (the driver reset its counters: after a channel switch, a firmware restart), or
    more busy time than active time passed. Never a ratio below 0 or above 1.
    """
    if before.freq_mhz is None or before.freq_mhz != after.freq_mhz:
        return None
    active = _delta(before.active_ms, after.active_ms)
    busy = _delta(before.busy_ms, after.busy_ms)
    if active is None or busy is None or active == 0 or busy > active:
        return None
    return ChannelLoad(
        freq_mhz=before.freq_mhz,
        active_ms=active,
        busy_ratio=busy / active,
        receive_ratio=_ratio(_delta(before.receive_ms, after.receive_ms), active),
        transmit_ratio=_ratio(_delta(before.transmit_ms, after.transmit_ms), active),
    )


def _delta(before: int | None, after: int | None) -> int | None:
    if before is None or after is None or after < before:
        return None
    return after - before


def _ratio(part: int | None, active: int) -> float | None:
    if part is None or part > active:
        return None
    return part / active
