"""Wi-Fi tool output as values: pure parsers for iw, /proc/net/wireless, hostapd and wpa_supplicant replies.

Every parser takes the text a command printed and returns a frozen dataclass. Readings a driver could not have
measured (a positive dBm, noise -256 or 9999) become None, and the result's `notes` say what was dropped and why,
so the collector can report driver quirks instead of losing them silently.
"""

from __future__ import annotations


class ParseError(ValueError):
    """The text is not the named command's output at all: empty, an error message, or another command's reply;
    or it holds what no real output could (a line of megabytes, a number of thousands of digits), and
    `command` names the field where that was found.

    Odd but recognisable output never raises; it parses with None fields and notes. Parsers of several blocks
    (stations, survey entries, BSSs, table rows) skip a block that raises, note it and count it in `skipped`.
    """

    def __init__(self, command: str, reason: str):
        super().__init__(f"{command}: {reason}")
        self.command = command
        self.reason = reason
