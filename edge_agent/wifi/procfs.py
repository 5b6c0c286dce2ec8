"""Parser for /proc/net/wireless, the wireless-extensions table of link quality, levels and discard counters."""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge_agent.wifi import ParseError
from edge_agent.wifi.fields import (
    MAX_LINE_CHARS,
    checked_count,
    checked_level,
    checked_noise,
    first_number,
    readable_items,
)

# The kernel prints "%6s: %04x  %3d%c  %3d%c  %3d%c  ...": a name padded to six characters (a longer one runs
# into the margin, "wlp5s0:"), hex status, then link/level/noise each followed by '.' when the driver updated it.
# Fully anchored, one quantifier per run of characters: a row that does not match fails in one pass.
_ROW = re.compile(r"(?P<interface>[^\s:]+):\s+(?P<status>[0-9a-fA-F]{4})\s+(?P<values>[-+]?[0-9].*)")
# Only the wireless table's second header line names these columns; /proc/net/dev's starts "Inter-|" too.
_HEADER_COLUMNS = "link level noise"
_COUNTERS = ("discarded_nwid", "discarded_crypt", "discarded_frag", "discarded_retry", "discarded_misc",
             "missed_beacon")
_MAX_COLUMNS = 3 + len(_COUNTERS)  # a /proc/net/dev row, which looks alike, has 16


@dataclass(frozen=True)
class WirelessInterface:
    """One interface's row. Link quality is on the driver's own scale (often 0-70), not a percentage."""

    interface: str
    status: int
    link_quality: float | None
    signal_dbm: float | None
    noise_dbm: float | None
    discarded_nwid: int | None
    discarded_crypt: int | None
    discarded_frag: int | None
    discarded_retry: int | None
    discarded_misc: int | None
    missed_beacon: int | None


@dataclass(frozen=True)
class WirelessTable:
    """The whole file; only the two header lines when no interface has wireless statistics."""

    interfaces: tuple[WirelessInterface, ...]
    notes: tuple[str, ...] = ()
    skipped: int = 0  # rows no real table could hold; the notes say why


def parse_proc_net_wireless(text: str) -> WirelessTable:
    """Parse the contents of /proc/net/wireless."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    notes: list[str] = []
    long_lines = [line for line in lines if len(line) > MAX_LINE_CHARS]
    for line in long_lines:
        notes.append(f"a line of {len(line)} characters skipped: no real row is longer than {MAX_LINE_CHARS}")
    lines = [line for line in lines if len(line) <= MAX_LINE_CHARS]
    rows = [
        match for match in map(_ROW.fullmatch, lines)
        if match is not None and len(match["values"].split()) <= _MAX_COLUMNS
    ]
    has_header = any(_HEADER_COLUMNS in line for line in lines)
    if not rows and not has_header and not long_lines:
        reason = "empty output" if not lines else "neither the wireless header nor an interface row"
        raise ParseError("/proc/net/wireless", reason)
    interfaces = readable_items(rows, _interface, lambda row: f"row of {row['interface']}", notes)
    skipped = len(long_lines) + len(rows) - len(interfaces)
    return WirelessTable(interfaces, tuple(notes), skipped)


def _interface(row: re.Match[str], notes: list[str]) -> WirelessInterface:
    name = row["interface"]
    # "60." and "60" alike: the trailing '.' only says the value was updated since the last read.
    columns: list[str | None] = [*row["values"].split(), *[None] * _MAX_COLUMNS]
    link, level, noise = columns[:3]
    counters = {
        key: checked_count(text, f"{name} {key.replace('_', ' ')}", notes)
        for key, text in zip(_COUNTERS, columns[3:], strict=False)
    }
    return WirelessInterface(
        interface=name,
        status=int(row["status"], 16),
        link_quality=first_number(link, f"{name} link quality"),
        signal_dbm=checked_level(first_number(level, f"{name} signal level"), f"{name} signal level", notes),
        noise_dbm=checked_noise(first_number(noise, f"{name} noise level"), f"{name} noise level", notes),
        **counters,
    )
