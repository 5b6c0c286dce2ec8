"""Give the heap back: after start-up (config parsing, model loading) glibc keeps the freed pages; a gateway
with 512 MB should not pay for them for weeks."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc (musl, macOS): nothing to trim


def release_free_memory() -> bool:
    """malloc_trim(0): return free heap pages to the kernel. True when glibc did (or could) trim."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
