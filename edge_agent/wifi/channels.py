"""The channel plane of the 2.4, 5 and 6 GHz bands (IEEE 802.11 Annex E operating classes): which channels
exist in each band, their centre frequencies, the bonded 40/80/160/320 MHz blocks a primary channel belongs to,
and which spectrum two transmissions share.

A channel number means nothing without its band (6 GHz channel 1 is 5955 MHz, 2.4 GHz channel 1 is 2412 MHz),
so the agent carries a `Channel` (band, number) or a frequency, never a bare number.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Band(str, enum.Enum):
    GHZ_2_4 = "2.4GHz"
    GHZ_5 = "5GHz"
    GHZ_6 = "6GHz"


# Channel n of a band is centred on start + 5 * n MHz; 2.4 GHz channel 14 (Japan) is off that grid.
_START_MHZ = {Band.GHZ_2_4: 2407, Band.GHZ_5: 5000, Band.GHZ_6: 5950}
_CHANNEL_14_MHZ = 2484
# 6 GHz channel 2 (operating class 136) sits below the band's 5950 MHz start, on its own grid.
_CHANNEL_2_6GHZ_MHZ = 5935
# Japan's 4.9 GHz channels are numbered from 4000 MHz (5 GHz band, operating classes 34 and 56).
_JAPAN_4_9GHZ = (184, 188, 192, 196)

# 5 GHz 20 MHz channels in their contiguous runs (U-NII-1/2A, U-NII-2C/3 up to 144, U-NII-3/4): a bonded block
# never spans the gaps between runs (5330-5490 and 5730-5735 MHz hold no channel).
_RUNS_5GHZ = (tuple(range(36, 65, 4)), tuple(range(100, 145, 4)), tuple(range(149, 178, 4)))
_CHANNELS_6GHZ = tuple(range(1, 234, 4))
CHANNELS = {
    Band.GHZ_2_4: tuple(range(1, 15)),
    Band.GHZ_5: tuple(c for run in _RUNS_5GHZ for c in run) + _JAPAN_4_9GHZ,
    Band.GHZ_6: (2, *_CHANNELS_6GHZ),
}
DFS_5GHZ = frozenset(range(52, 145, 4))  # U-NII-2A and U-NII-2C: radar detection before transmitting
# 6 GHz preferred scanning channels (802.11ax-2021, 26.17.2.3.3): every fourth 20 MHz channel from 5, where
# clients look for access points first; an AP that wants to be found sits on one.
PREFERRED_6GHZ = tuple(range(5, 234, 16))
WIDTHS_MHZ = {Band.GHZ_2_4: (20, 40), Band.GHZ_5: (20, 40, 80, 160), Band.GHZ_6: (20, 40, 80, 160, 320)}
# How far a 2.4 GHz transmission spills past its nominal width: its spectral mask reaches ±12.5 MHz, so
# channels five apart (25 MHz) are the first that do not overlap (1, 6, 11).
_SKIRT_24GHZ_MHZ = 5


@dataclass(frozen=True, order=True)
class Channel:
    """A 20 MHz channel: a number valid in its band. Raises ValueError for a number the band has no channel at."""

    band: Band
    number: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "band", Band(self.band))
        if self.number not in CHANNELS[self.band]:
            raise ValueError(f"{self.band.value} has no channel {self.number}")

    @property
    def freq_mhz(self) -> int:
        return centre_freq(self.band, self.number)

    @property
    def is_dfs(self) -> bool:
        return self.band is Band.GHZ_5 and self.number in DFS_5GHZ

    @property
    def is_preferred(self) -> bool:
        """A 6 GHz preferred scanning channel (always True on 2.4 and 5 GHz, where every channel is scanned)."""
        return self.band is not Band.GHZ_6 or self.number in PREFERRED_6GHZ

    def __str__(self) -> str:
        return f"{self.number} ({self.band.value})"


@dataclass(frozen=True)
class Block:
    """The spectrum a primary channel uses at a width: its bonded 20 MHz channels and their centre."""

    primary: Channel
    width_mhz: int
    centre_number: int
    centre_mhz: int
    members: tuple[Channel, ...]

    @property
    def low_mhz(self) -> int:
        return self.centre_mhz - self.width_mhz // 2

    @property
    def high_mhz(self) -> int:
        return self.centre_mhz + self.width_mhz // 2

    @property
    def secondary_offset(self) -> int:
        """+1 when the secondary 20 MHz channel is above the primary, -1 below, 0 at 20 MHz (hostapd's rule:
        the primary's place in its 40 MHz pair)."""
        if self.width_mhz == 20:
            return 0
        pair = block(self.primary, 40)
        return 1 if self.primary.freq_mhz < pair.centre_mhz else -1


def centre_freq(band: Band, number: int) -> int:
    """The centre frequency of channel (or bonded-block centre) `number` of `band`, in MHz."""
    if band is Band.GHZ_2_4 and number == 14:
        return _CHANNEL_14_MHZ
    if band is Band.GHZ_6 and number == 2:
        return _CHANNEL_2_6GHZ_MHZ
    if band is Band.GHZ_5 and number in _JAPAN_4_9GHZ:
        return 4000 + 5 * number
    return _START_MHZ[Band(band)] + 5 * number


def channel_at(freq_mhz: int | None) -> Channel | None:
    """The 20 MHz channel centred on `freq_mhz`; None when unknown or no channel is centred there."""
    if freq_mhz is None:
        return None
    for band, numbers in CHANNELS.items():
        for number in _numbers_near(band, freq_mhz):
            if number in numbers and centre_freq(band, number) == freq_mhz:
                return Channel(band, number)
    return None


def channel_for_freq(freq_mhz: int | None) -> int | None:
    """The number of the channel or bonded-block centre at `freq_mhz` (5210 -> 42, an 80 MHz centre), or None
    when it is unknown or nothing of the 2.4/5/6 GHz plans is centred there. The band is `band_for_freq`'s."""
    if freq_mhz is None:
        return None
    band = band_for_freq(freq_mhz)
    if band is None:
        return None
    return next((n for n in _numbers_near(band, freq_mhz) if n in _CENTRES[band] and
                 centre_freq(band, n) == freq_mhz), None)


def band_for_freq(freq_mhz: int | None) -> Band | None:
    """The band holding `freq_mhz`, or None outside the 2.4, 5 and 6 GHz channel ranges."""
    if freq_mhz is None:
        return None
    for low, high, band in _BANDS:
        if low <= freq_mhz <= high:
            return band
    return None


def freq_for_channel(channel: int | Channel, band: Band | None = None) -> int:
    """The centre frequency of a channel, in MHz; ValueError when the band has no such channel.

    Give a Channel or the band. A bare number is read as callers from before 6 GHz meant it: 1-14 on
    2.4 GHz, 5 GHz numbers on 5 GHz, and numbers only 6 GHz has (181-233) on 6 GHz.
    """
    if isinstance(channel, Channel):
        return channel.freq_mhz
    return (Channel(band, channel) if band is not None else legacy_channel(channel)).freq_mhz


def legacy_channel(number: int) -> Channel:
    """The channel a bare number meant before the agent knew bands (see `freq_for_channel`)."""
    for band in (Band.GHZ_2_4, Band.GHZ_5, Band.GHZ_6):
        if number in CHANNELS[band] and (band is not Band.GHZ_6 or number > 177):
            return Channel(band, number)
    raise ValueError(f"channel {number} needs its band: it is no 2.4/5 GHz channel and not only a 6 GHz one")


def as_channel(channel: int | Channel, band: Band | None = None) -> Channel:
    """`channel` as a Channel: itself, (band, number), or a bare number read as `legacy_channel` does."""
    if isinstance(channel, Channel):
        return channel
    return Channel(band, channel) if band is not None else legacy_channel(channel)


def blocks(primary: Channel, width_mhz: int) -> tuple[Block, ...]:
    """Every bonded block of `width_mhz` that `primary` can be the primary channel of (operating classes
    81-84, 115-130, 131-137): one, except at 320 MHz on 6 GHz, where the two overlapping 320 MHz channel sets
    (centres 31, 95, 159 and 63, 127, 191) can both hold a primary; none when the width is impossible there."""
    if width_mhz not in WIDTHS_MHZ[primary.band]:
        return ()
    if width_mhz == 20:
        return (Block(primary, 20, primary.number, primary.freq_mhz, (primary,)),)
    if primary.band is Band.GHZ_2_4:
        return _blocks_24ghz(primary)
    if primary.number in _JAPAN_4_9GHZ or primary.number == 2 and primary.band is Band.GHZ_6:
        return ()
    runs = _RUNS_5GHZ if primary.band is Band.GHZ_5 else (_CHANNELS_6GHZ,)
    run = next(r for r in runs if primary.number in r)
    size = width_mhz // 20
    slot = run.index(primary.number)
    starts = [slot - slot % size]
    if width_mhz == 320:  # the second set starts half a block later
        starts.append(slot - (slot - size // 2) % size if slot >= size // 2 else -1)
    found = []
    for start in starts:
        if start < 0 or start + size > len(run):
            continue
        members = tuple(Channel(primary.band, n) for n in run[start:start + size])
        centre = (members[0].number + members[-1].number) // 2
        found.append(Block(primary, width_mhz, centre, centre_freq(primary.band, centre), members))
    return tuple(found)


def block(primary: Channel, width_mhz: int, centre_number: int | None = None) -> Block:
    """The bonded block of `primary` at `width_mhz` (the one centred on `centre_number` when it is given and
    possible); ValueError when `primary` cannot be used at that width."""
    found = blocks(primary, width_mhz)
    if not found:
        raise ValueError(f"channel {primary} cannot be the primary of a {width_mhz} MHz channel")
    return next((b for b in found if b.centre_number == centre_number), found[0])


def overlap(a: Block, b: Block) -> float:
    """The share of the narrower transmission's spectrum that the other one also occupies (0-1); 0 across bands.

    On 2.4 GHz transmissions spill past their nominal width, so neighbouring channel numbers share some air.
    """
    if a.primary.band is not b.primary.band:
        return 0.0
    skirt = _SKIRT_24GHZ_MHZ if a.primary.band is Band.GHZ_2_4 else 0
    a_low, a_high = a.low_mhz - skirt / 2, a.high_mhz + skirt / 2
    b_low, b_high = b.low_mhz - skirt / 2, b.high_mhz + skirt / 2
    shared = min(a_high, b_high) - max(a_low, b_low)
    narrower = min(a_high - a_low, b_high - b_low)
    return max(0.0, min(1.0, shared / narrower))


def _blocks_24ghz(primary: Channel) -> tuple[Block, ...]:
    # HT40: the secondary sits 4 channels above (operating class 83, primaries 1-9) or below (84, 5-13).
    # Above is preferred for 1-7 and below for 8-13, which keeps the pair inside 1-13 and matches common APs.
    offset = 4 if primary.number <= 7 else -4
    if primary.number == 14 or not 1 <= primary.number + offset <= 13:
        return ()
    secondary = Channel(Band.GHZ_2_4, primary.number + offset)
    low, high = sorted((primary, secondary))
    centre = (low.number + high.number) // 2
    return (Block(primary, 40, centre, centre_freq(Band.GHZ_2_4, centre), (low, high)),)


def _numbers_near(band: Band, freq_mhz: int) -> tuple[int, ...]:
    """The numbers that could be centred on `freq_mhz` in `band` (its grid, and the off-grid channels)."""
    numbers = []
    for start in (_START_MHZ[band], 4000) if band is Band.GHZ_5 else (_START_MHZ[band],):
        offset = freq_mhz - start
        if offset % 5 == 0:
            numbers.append(offset // 5)
    if band is Band.GHZ_2_4 and freq_mhz == _CHANNEL_14_MHZ:
        numbers.append(14)
    if band is Band.GHZ_6 and freq_mhz == _CHANNEL_2_6GHZ_MHZ:
        numbers.append(2)
    return tuple(numbers)


def _all_centres(band: Band) -> frozenset[int]:
    centres = set(CHANNELS[band])
    for number in CHANNELS[band]:
        for width in WIDTHS_MHZ[band]:
            centres.update(b.centre_number for b in blocks(Channel(band, number), width))
    return frozenset(centres)


_CENTRES = {band: _all_centres(band) for band in Band}
_BANDS = (
    (2412, 2484, Band.GHZ_2_4),
    (4910, 5895, Band.GHZ_5),
    (5935, 7115, Band.GHZ_6),
)
