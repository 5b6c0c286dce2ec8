"""Whether the kernel believes the wall clock is synchronised (NTP), without any daemon-specific API."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

_TIME_ERROR = 5  # adjtimex(2): the clock is not synchronised
_TIMEX_SIZE = 512  # larger than struct timex on every Linux ABI; modes=0 (zeroed) only reads


@functools.cache
def _adjtimex():
    """libc's adjtimex, looked up once: find_library runs `ldconfig -p`, far too slow for every message."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).adjtimex
    except (OSError, AttributeError):
        return None


def clock_synced() -> bool | None:
    """True/False from adjtimex(2); None where the call is unavailable (not Linux, no libc)."""
    adjtimex = _adjtimex()
    if adjtimex is None:
        return None
    state = adjtimex(ctypes.create_string_buffer(_TIMEX_SIZE))
    if state < 0:
        return None
    return state != _TIME_ERROR
