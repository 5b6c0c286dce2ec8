"""Whether the kernel believes the wall clock is synchronised (NTP), without any daemon-specific API."""

from __future__ import annotations

import ctypes
import ctypes.util

_TIME_ERROR = 5  # adjtimex(2): the clock is not synchronised
_TIMEX_SIZE = 512  # larger than struct timex on every Linux ABI; modes=0 (zeroed) only reads


def clock_synced() -> bool | None:
    """True/False from adjtimex(2); None where the call is unavailable (not Linux, no libc)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        buf = ctypes.create_string_buffer(_TIMEX_SIZE)
        state = libc.adjtimex(buf)
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != _TIME_ERROR
