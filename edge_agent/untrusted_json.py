"""JSON from senders we do not trust (MQTT commands, the control socket): bounded in size, depth and numbers.

`json.loads` alone is not safe here: nesting a few thousand levels deep raises RecursionError (not ValueError),
`NaN`, `Infinity` and `1e400` become floats no deadline or limit can compare sensibly, and a digit run longer
than Python's int-string limit raises a ValueError from deep inside the parser, and a key given twice silently
takes its last value (`{"request": "status", "request": "reload"}` reads as a status request to a person or a log
but runs a reload). Every one of those is turned into `UntrustedJsonError` with a message that names the problem,
and the depth is checked before parsing, in linear time.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

DEFAULT_MAX_DEPTH = 32
# What the fleet side accepts from a device's message or a recorded line: generous, but bounded.
FLEET_MESSAGE_BYTES = 1024 * 1024
FLEET_MESSAGE_DEPTH = 64

# A bracket, or a JSON string literal (escapes included) that is also taken when its closing quote never comes:
# required, that quote made every later quote of an unterminated string (`"\"\"\"…`) restart a scan to the end,
# quadratic: a 64 KiB request held the GIL for 31 s, past the watchdog. Optional, each byte is read once.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


class UntrustedJsonError(ValueError):
    """The bytes are not JSON this agent accepts; the message says why, for the sender."""


def loads_untrusted(payload: bytes, max_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse `payload`, or raise UntrustedJsonError naming the limit or the syntax problem."""
    if len(payload) > max_bytes:
        raise UntrustedJsonError(f"{len(payload)} bytes exceeds the limit of {max_bytes}")
    depth = nesting_depth(payload)
    if depth > max_depth:
        raise UntrustedJsonError(f"nested {depth} levels deep; at most {max_depth} allowed")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UntrustedJsonError(f"not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                          object_pairs_hook=_unique_keys)
    except UntrustedJsonError:
        raise
    except (ValueError, RecursionError) as exc:  # RecursionError cannot happen after the depth check; belt and braces
        raise UntrustedJsonError(f"not JSON: {exc}") from None


def nesting_depth(payload: bytes) -> int:
    """The deepest bracket nesting outside string literals (an estimate for malformed input, never an error)."""
    depth = deepest = 0
    for token in _TOKEN.findall(payload):
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth = max(0, depth - 1)
    return deepest


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise UntrustedJsonError(f"key {twice[:40]!r} appears more than once in an object")
    return obj


def _refuse_constant(name: str) -> Any:
    raise UntrustedJsonError(f"{name} is not a number this agent accepts")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UntrustedJsonError(f"number {text[:20]}{'…' if len(text) > 20 else ''} is out of range")
    return value
