"""SSIDs as the networks named them: iw's and hostapd's escaping undone, text where the bytes are UTF-8.

An SSID is up to 32 arbitrary bytes. iw prints bytes it cannot show as `\\xNN` (also a backslash, and a space at
either end, which is why its SSIDs may be stripped safely); hostapd and wpa_supplicant (printf_encode) print
`\\"`, `\\\\`, `\\e`, `\\n`, `\\r`, `\\t` and `\\xNN`, but spaces as they are.
"""

from __future__ import annotations

Ssid = str | bytes

MAX_SSID_BYTES = 32  # IEEE 802.11 SSID element
_IW_ESCAPES: dict[str, int] = {}
_HOSTAPD_ESCAPES = {'"': 0x22, "\\": 0x5C, "e": 0x1B, "n": 0x0A, "r": 0x0D, "t": 0x09}
_HEX = frozenset("0123456789abcdefABCDEF")


def decode_iw_ssid(text: str | None, what: str, notes: list[str]) -> Ssid | None:
    """The SSID iw printed (`SSID: ...`, `ssid ...`); None when none was printed or it cannot be one."""
    return _decode(text, _IW_ESCAPES, what, notes)


def decode_hostapd_ssid(text: str | None, what: str, notes: list[str]) -> Ssid | None:
    """The SSID hostapd or wpa_supplicant printed (`ssid[0]=...`, `ssid=...`), spaces included."""
    return _decode(text, _HOSTAPD_ESCAPES, what, notes)


def raw_reply_values(text: str) -> dict[str, str]:
    """Each `key=value` line of a control-interface reply with its value exactly as printed (the first of a
    repeated key wins): hostapd and wpa_supplicant do not escape spaces, so the stripping every other field
    gets would change an SSID."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        name, found, value = line.partition("=")
        if found:
            values.setdefault(name.strip(), value.rstrip("\r"))
    return values


def _decode(text: str | None, escapes: dict[str, int], what: str, notes: list[str]) -> Ssid | None:
    if text is None:
        return None
    raw = _unescape(text, escapes, what, notes)
    if len(raw) > MAX_SSID_BYTES:
        notes.append(f"{what} of {len(raw)} bytes is no SSID: an SSID has at most {MAX_SSID_BYTES}")
        return None
    if not raw.strip(b"\x00"):
        return ""  # a hidden network: an empty SSID, or its length in zero bytes
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _unescape(text: str, escapes: dict[str, int], what: str, notes: list[str]) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out += char.encode("utf-8", errors="surrogatepass")
            i += 1
            continue
        following = text[i + 1:i + 2]
        if following == "x" and len(text) >= i + 4 and set(text[i + 2:i + 4]) <= _HEX:
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        elif following in escapes and following:
            out.append(escapes[following])
            i += 2
        else:
            notes.append(f"{what}: a backslash at {i} starts no escape the tool writes; kept as it is")
            out.append(0x5C)
            i += 1
    return bytes(out)
