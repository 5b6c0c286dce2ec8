"""Reading Wi-Fi tool output: blocks under header lines, key/value fields, and which values are possible.

A check that discards a value appends a note to the parser's `notes` list saying what was dropped and why.
Every pattern here matches in time linear in its input (no two quantifiers compete for the same characters),
and lines or numbers longer than any real output holds raise ParseError instead of being read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from edge_agent.wifi import ParseError

_Item = TypeVar("_Item")
_Value = TypeVar("_Value")

# Received signal and noise in dBm: at or above 0 dBm nothing is received over the air, below -120 dBm no
# Wi-Fi radio can hear. [low, high).
LEVEL_RANGE_DBM = (-120.0, 0.0)
# A noise floor in dBm: thermal noise over 20 MHz is -101 dBm, receivers add 5-10 dB and wider channels a few
# more, and interference lifts it; above -40 dBm no frame could be received, and no driver reports that. A
# reading like -9 is a line cut short ("-92"). [low, high].
NOISE_RANGE_DBM = (-120.0, -40.0)
# Bit rates in Mbit/s: above 0, and at most 802.11be's top rate (16 streams, 320 MHz, MCS 13, 0.8 us GI).
RATE_RANGE_MBPS = (0.0, 46120.0)
# Every 2.4, 5 and 6 GHz channel centre lies inside this range.
FREQ_RANGE_MHZ = (2400, 7200)

# Values that are markers, not measurements.
_NOT_AVAILABLE_DBM = {
    # Wireless extensions print a missing level as 0 with the dBm flag, i.e. 0 - 256.
    -256.0: "the driver's 'not available' (a missing level as /proc/net/wireless prints it)",
    # wpa_supplicant's WPA_INVALID_NOISE: the driver reported no noise floor.
    9999.0: "wpa_supplicant's 'not available' (the driver reported no value)",
}

# The longest line iw, hostapd or wpa_supplicant prints is a scan's vendor element in hex, under 1 KiB; a
# longer line is corruption, and refusing it keeps every later step's work bounded.
MAX_LINE_CHARS = 4096
# A 64-bit counter has 20 digits; sign, decimals and slack bring a real number to well under this. Longer
# digit runs are no reading, and past 4300 digits int() refuses them anyway.
MAX_NUMBER_CHARS = 32

# ASCII digits only: tools print ASCII, and "\d" would also take Arabic-Indic or full-width digits.
_NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?")
_INTEGER = re.compile(r"[-+]?[0-9]+")
_MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}", re.IGNORECASE)
# "20 MHz", "20 MHz (no HT)", "80+80 MHz", "80+80 or 160 MHz", "40MHz". Each number run is tried once
# (finditer resumes after it), so a long digit run without "MHz" costs one pass, not one per digit.
_WIDTH = re.compile(r"([0-9]+)(?:\+([0-9]+))?(?:\s+or\s+[0-9]+)?\s*(MHz)?", re.IGNORECASE)


def checked_line(line: str, what: str) -> str:
    """`line` itself, or ParseError when it is longer than any line of real output."""
    if len(line) > MAX_LINE_CHARS:
        raise ParseError(what, f"a line of {len(line)} characters; no real line is longer than {MAX_LINE_CHARS}")
    return line


def number_text(token: str, what: str) -> str:
    """`token` (a run of digits a pattern found), or ParseError when no real number is that long."""
    if len(token) > MAX_NUMBER_CHARS:
        raise ParseError(what, f"a number of {len(token)} characters ({token[:12]}...); "
                               f"no reading or counter is longer than {MAX_NUMBER_CHARS}")
    return token


def first_number(text: str | None, what: str = "number") -> float | None:
    """The first decimal number in `text` ("-43 dBm" -> -43.0), or None. ParseError naming `what` if it is
    longer than any real number."""
    match = _NUMBER.search(text or "")
    return float(number_text(match.group(), what)) if match else None


def first_int(text: str | None, what: str = "number") -> int | None:
    """The first integer in `text`, exact however large (64-bit counters lose digits as floats), or None.
    ParseError naming `what` if it is longer than any real number."""
    match = _INTEGER.search(text or "")
    return int(number_text(match.group(), what)) if match else None


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


def checked_noise(value: float | None, what: str, notes: list[str]) -> float | None:
    """`value` if it is a possible noise floor (NOISE_RANGE_DBM), else None and a note."""
    value = checked_level(value, what, notes)
    if value is None:
        return None
    low, high = NOISE_RANGE_DBM
    if not low <= value <= high:
        notes.append(f"{what} {value:g} dBm is no noise floor (plausible: {low:g} to {high:g} dBm); the line may "
                     "have been cut short")
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
    value = float(number_text(match.group(), what))
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
    value = first_int(text, what)
    if value is None:
        notes.append(f"{what} {text!r} is not a number")
        return None
    if value < 0:
        notes.append(f"{what} {value} is negative, which a counter cannot be")
        return None
    return value


def checked_rate(value: float | None, what: str, notes: list[str]) -> float | None:
    """A bit rate in Mbit/s; 0 or less is the driver saying it has none, above RATE_RANGE_MBPS no Wi-Fi rate."""
    if value is None:
        return None
    if value <= 0:
        notes.append(f"{what} {value:g} Mbit/s means no rate was reported")
        return None
    if value > RATE_RANGE_MBPS[1]:
        notes.append(f"{what} {value:g} Mbit/s is above {RATE_RANGE_MBPS[1]:g} Mbit/s, the fastest Wi-Fi rate")
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


def width_mhz(text: str | None, what: str = "channel width") -> int | None:
    """The channel width in `text`; 80+80 MHz counts as the 160 MHz of spectrum it occupies."""
    for match in _WIDTH.finditer(text or ""):
        if match.group(3):
            return sum(int(number_text(part, what)) for part in match.group(1, 2) if part)
    return None


def split_field(line: str, separator: str) -> tuple[str, str] | None:
    """("key", "value") of a "key<separator>value" line, whatever whitespace surrounds them; None otherwise."""
    key, found, value = line.partition(separator)
    key = key.strip()
    if not found or not key:
        return None
    return key, value.strip()


def line_fields(lines: Iterable[str], separator: str, what: str) -> dict[str, str]:
    """The "key<separator>value" lines among `lines`; the first of a repeated key wins, other lines are skipped.

    ParseError naming `what` on a line longer than real output has.
    """
    fields: dict[str, str] = {}
    for line in lines:
        field = split_field(checked_line(line, what), separator)
        if field is not None:
            fields.setdefault(*field)
    return fields


def command_reply_fields(text: str, command: str, known_keys: frozenset[str]) -> dict[str, str]:
    """The key=value lines of `command`'s control-interface reply, which must hold one of `known_keys`.

    Lines without '=' (wpa_cli's and hostapd_cli's "Selected interface 'wlan0'" banner) are skipped.
    """
    fields = line_fields(text.splitlines(), "=", command)
    if not known_keys & fields.keys():
        reason = "empty reply" if not text.strip() else f"none of {', '.join(sorted(known_keys))} in the reply"
        raise ParseError(command, reason)
    return fields


def readable_items(
    items: Iterable[_Item],
    read: Callable[[_Item, list[str]], _Value],
    name: Callable[[_Item], str],
    notes: list[str],
) -> tuple[_Value, ...]:
    """`read(item, notes)` of every item (a station block, a survey entry, a table row) it can read.

    An item `read` refuses with ParseError is left out, with a note naming it and why, so one corrupt block
    does not cost the others; the caller counts the gap. Notes of a refused item are dropped with it.
    """
    values: list[_Value] = []
    for item in items:
        item_notes: list[str] = []
        try:
            values.append(read(item, item_notes))
        except ParseError as exc:
            notes.append(f"{name(item)[:60]} skipped: {exc}")
            continue
        notes.extend(item_notes)
    return tuple(values)


def header_blocks(
    text: str, header: re.Pattern[str], command: str, expected: str, *, empty_means_none: bool = False
) -> list[tuple[re.Match[str], list[str]]]:
    """Each line `header` matches (stripped), with the non-blank lines under it.

    Lines before the first header (banners) are dropped. Raises ParseError naming `command` when no line is a
    header, unless the output is empty and `empty_means_none` (commands that list nothing by printing nothing).
    A line longer than real output has is never a header: it stays in its block, whose parser refuses it.
    """
    blocks: list[tuple[re.Match[str], list[str]]] = []
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines:
        match = header.match(line.strip()) if len(line) <= MAX_LINE_CHARS else None
        if match is not None:
            blocks.append((match, []))
        elif blocks:
            blocks[-1][1].append(line)
    if not blocks and (lines or not empty_means_none):
        raise ParseError(command, "empty output" if not lines else f"no {expected} line in the output")
    return blocks
