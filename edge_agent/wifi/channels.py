"""Channel numbering of the 2.4, 5 and 6 GHz bands: which channel is centred on a frequency."""

from __future__ import annotations

import enum


class Band(str, enum.Enum):
    GHZ_2_4 = "2.4GHz"
    GHZ_5 = "5GHz"
    GHZ_6 = "6GHz"


def channel_for_freq(freq_mhz: int | None) -> int | None:
    """The channel centred on `freq_mhz`, or None when it is unknown or no 2.4/5/6 GHz channel is centred there."""
    if freq_mhz is None:
        return None
    if freq_mhz == 2484:
        return 14  # Japan's channel 14 is off the 5 MHz grid
    if freq_mhz == 5935:
        return 2  # 6 GHz channel 2 lies below the band's 5950 MHz starting frequency
    for low, high, start in _GRIDS:
        if low <= freq_mhz <= high:
            offset = freq_mhz - start
            return offset // 5 if offset % 5 == 0 else None
    return None


def freq_for_channel(channel: int) -> int:
    """The centre frequency of a 2.4 GHz (1-14) or 5 GHz (32-177) channel, in MHz."""
    if channel == 14:
        return 2484
    return 2407 + 5 * channel if channel <= 13 else 5000 + 5 * channel


def band_for_freq(freq_mhz: int) -> Band | None:
    """The band holding `freq_mhz`, or None outside the 2.4, 5 and 6 GHz channel ranges."""
    for low, high, band in _BANDS:
        if low <= freq_mhz <= high:
            return band
    return None


# (lowest, highest centre frequency, starting frequency): channel n is centred on start + 5 * n MHz (IEEE 802.11).
_GRIDS = (
    (2412, 2472, 2407),
    (4910, 4980, 4000),  # Japan's 4.9 GHz channels 182-196 count from 4 GHz
    (5005, 5895, 5000),
    (5955, 7115, 5950),
)
_BANDS = (
    (2412, 2484, Band.GHZ_2_4),
    (4910, 5895, Band.GHZ_5),
    (5935, 7115, Band.GHZ_6),
)
