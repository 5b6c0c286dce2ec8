"""Reading Wi-Fi tool output: blocks under header lines, key/value fields, and which values are possible.

A check that discards a value appends a note to the parser's `notes` list saying what was dropped and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from edge_agent.wifi import ParseError

# Received signal and noise in dBm: at or above 0 dBm nothing is received over the air, below -120 dBm no
# Wi-Fi radio can hear. [low, high).
LEVEL_RANGE_DBM = (-120.0, 0.0)
# Every 2.4, 5 and 6 GHz channel centre lies inside this range.
FREQ_RANGE_MHZ = (2400, 7200)

# Values that are markers, not measurements.
_NOT_AVAILABLE_DBM = {
    # Wireless extensions print a missing level as 0 with the dBm flag, i.e. 0 - 256.
    -256.0: "the driver's 'not available' (a missing level as /proc/net/wireless prints it)",
    # wpa_supplicant's WPA_INVALID_NOISE: the driver reported no noise floor.
    9999.0: "wpa_supplicant's 'not available' (the driver reported no value)",
}

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_INTEGER = re.compile(r"[-+]?\d+")
_MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}", re.IGNORECASE)
# "20 MHz", "20 MHz (no HT)", "80+80 MHz", "80+80 or 160 MHz", "40MHz"
_WIDTH = re.compile(r"(\d+)(?:\+(\d+))?(?:\s+or\s+\d+)?\s*MHz", re.IGNORECASE)


def first_number(text: str | None) -> float | None:
    """The first decimal number in `text` ("-43 dBm" -> -43.0), or None."""
    match = _NUMBER.search(text or "")
    return float(match.group()) if match else None


def first_int(text: str | None) -> int | None:
    """The first integer in `text`, exact however large (64-bit counters lose digits as floats), or None."""
    match = _INTEGER.search(text or "")
    return int(match.group()) if match else None


def checked_level(value: float | None, what: str, notes: list[str]) -> float | None:
    """`value` if it is a possible received signal or noise level in dBm, else None and a note."""
    if value is None:
        return None
    marker = _NOT_AVAILABLE_DBM.get(value)
    if marker is not None:
        notes.append(f"{what} {value:g} dBm is {marker}")
        return None
    low, high = LEVEL_RANGE_DBM
    if value == 0:
        notes.append(f"{what} 0 dBm is not a reading: drivers report 0 when they measured nothing")
        return None
    if value > high:
        notes.append(f"{what} {value:g} dBm is impossible: a level received over the air is below 0 dBm")
        return None
    if value < low:
        notes.append(f"{what} {value:g} dBm is below {low:g} dBm, where no Wi-Fi radio can hear")
        return None
    return value


def checked_freq(text: str | None, what: str, notes: list[str]) -> int | None:
    """The frequency in MHz written in `text` ("2437", "2437.0", "5180 MHz [in use]"), or None and a note.

    Newer iw prints the kHz offset after a dot ("2437.0"); a non-zero offset is no 2.4/5/6 GHz channel centre.
    """
    if text is None:
        return None
    match = _NUMBER.search(text)
    if match is None:
        notes.append(f"{what} {text!r} is not a frequency")
        return None
    value = float(match.group())
    if not value.is_integer():
        notes.append(f"{what} {match.group()} MHz is not a whole MHz: no 2.4/5/6 GHz channel is centred there")
        return None
    low, high = FREQ_RANGE_MHZ
    if not low <= value <= high:
        notes.append(f"{what} {value:g} MHz is outside {low}-{high} MHz, the 2.4/5/6 GHz Wi-Fi bands")
        return None
    return int(value)


def checked_count(text: str | None, what: str, notes: list[str]) -> int | None:
    """A counter or duration ("1060 ms", "20448") that cannot be negative, or None and a note."""
    if text is None:
        return None
    value = first_int(text)
    if value is None:
        notes.append(f"{what} {text!r} is not a number")
        return None
    if value < 0:
        notes.append(f"{what} {value} is negative, which a counter cannot be")
        return None
    return value


def checked_rate(value: float | None, what: str, notes: list[str]) -> float | None:
    """A bit rate in Mbit/s; 0 or less is the driver saying it has none."""
    if value is None:
        return None
    if value <= 0:
        notes.append(f"{what} {value:g} Mbit/s means no rate was reported")
        return None
    return value


def checked_mac(text: str | None, what: str, notes: list[str]) -> str | None:
    """A MAC address in lower case, or None and a note (fixtures and logs often redact them: 'xx:xx:...')."""
    if text is None:
        return None
    if _MAC.fullmatch(text) is None:
        notes.append(f"{what} {text!r} is not a MAC address")
        return None
    return text.lower()


def width_mhz(text: str | None) -> int | None:
    """The channel width in `text`; 80+80 MHz counts as the 160 MHz of spectrum it occupies."""
    match = _WIDTH.search(text or "")
    if match is None:
        return None
    return int(match.group(1)) + int(match.group(2) or 0)


def split_field(line: str, separator: str) -> tuple[str, str] | None:
    """("key", "value") of a "key<separator>value" line, whatever whitespace surrounds them; None otherwise."""
    key, found, value = line.partition(separator)
    key = key.strip()
    if not found or not key:
        return None
    return key, value.strip()


def line_fields(lines: Iterable[str], separator: str) -> dict[str, str]:
    """The "key<separator>value" lines among `lines`; the first of a repeated key wins, other lines are skipped."""
    fields: dict[str, str] = {}
    for line in lines:
        field = split_field(line, separator)
        if field is not None:
            fields.setdefault(*field)
    return fields


def reply_fields(text: str) -> dict[str, str]:
    """The key=value lines of a control-interface reply.

    Lines without '=' (wpa_cli's and hostapd_cli's "Selected interface 'wlan0'" banner) are skipped.
    """
    return line_fields(text.splitlines(), "=")


def command_reply_fields(text: str, command: str, known_keys: frozenset[str]) -> dict[str, str]:
    """`reply_fields` of a reply that must hold at least one of `known_keys` to be `command`'s reply at all."""
    fields = reply_fields(text)
    if not known_keys & fields.keys():
        reason = "empty reply" if not text.strip() else f"none of {', '.join(sorted(known_keys))} in the reply"
        raise ParseError(command, reason)
    return fields


def header_blocks(
    text: str, header: re.Pattern[str], command: str, expected: str, *, empty_means_none: bool = False
) -> list[tuple[re.Match[str], list[str]]]:
    """Each line `header` matches (stripped), with the non-blank lines under it.

    Lines before the first header (banners) are dropped. Raises ParseError naming `command` when no line is a
    header, unless the output is empty and `empty_means_none` (commands that list nothing by printing nothing).
    """
    blocks: list[tuple[re.Match[str], list[str]]] = []
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines:
        match = header.match(line.strip())
        if match is not None:
            blocks.append((match, []))
        elif blocks:
            blocks[-1][1].append(line)
    if not blocks and (lines or not empty_means_none):
        raise ParseError(command, "empty output" if not lines else f"no {expected} line in the output")
    return blocks
