"""hostapd.conf moved to another channel of its band, for the restart fallback where CSA is not supported.

Changing only `channel=` is enough at 20 MHz. Wider channels also name their block: the centre index of each
generation's operating width (`vht_`/`he_`/`eht_oper_centr_freq_seg0_idx`) and, for 40 MHz on 2.4/5 GHz, the
secondary channel's side in ht_capab (`[HT40+]`/`[HT40-]`). Left as they were, hostapd refuses to start.
"""

from __future__ import annotations

import re

from edge_agent.wifi.channels import Band, Channel, blocks

# hostapd's oper_chwidth values this rewrite understands (the rest keep their lines as they are).
_CHWIDTH_MHZ = {1: 80, 2: 160, 9: 320}
_GENERATIONS = ("vht", "he", "eht")
_6GHZ_40MHZ_OP_CLASS = 132


def conf_band(conf_text: str) -> Band | None:
    """The band a hostapd.conf configures: 6 GHz by its operating class (131-137), else by hw_mode."""
    op_class = _int_value(conf_text, "op_class")
    if op_class is not None and 131 <= op_class <= 137:
        return Band.GHZ_6
    hw_mode = _value(conf_text, "hw_mode")
    return {"a": Band.GHZ_5, "g": Band.GHZ_2_4, "b": Band.GHZ_2_4}.get(hw_mode or "")


def conf_interface(conf_text: str) -> str | None:
    """The interface a hostapd.conf serves (its first `interface=` line), or None when it names none."""
    return _value(conf_text, "interface")


def move_conf_to_channel(conf_text: str, channel: int) -> str:
    """`conf_text` with `channel=` set to `channel` (added when missing) and, where the band is known, every
    centre index and the HT40 side set for the same width on the new channel. ValueError when the new channel
    cannot hold a width the file configures."""
    text = _set(conf_text, "channel", str(channel))
    band = conf_band(conf_text)
    if band is None:
        return text
    primary = Channel(band, channel)
    for generation in _GENERATIONS:
        seg0_key = f"{generation}_oper_centr_freq_seg0_idx"
        old_centre = _int_value(text, seg0_key)
        width = _width(text, generation, band)
        if old_centre is None or width is None:
            continue
        found = blocks(primary, width)
        if not found:
            raise ValueError(f"channel {primary} cannot hold the {width} MHz that {generation}_oper_chwidth sets")
        # keep a 320 MHz channel in the same of its two channel sets (centres 31 or 63 modulo 64)
        chosen = next((b for b in found if b.centre_number % 64 == old_centre % 64), found[0])
        text = _set(text, seg0_key, str(chosen.centre_number))
    return _set_ht40_side(text, primary)


def _width(text: str, generation: str, band: Band) -> int | None:
    code = _int_value(text, f"{generation}_oper_chwidth")
    if code in _CHWIDTH_MHZ:
        return _CHWIDTH_MHZ[code]
    if code == 0 and band is Band.GHZ_6 and _int_value(text, "op_class") == _6GHZ_40MHZ_OP_CLASS:
        return 40
    return None


def _set_ht40_side(text: str, primary: Channel) -> str:
    ht_capab = _value(text, "ht_capab")
    if ht_capab is None or primary.band is Band.GHZ_6 or not re.search(r"\[HT40[+-]\]", ht_capab):
        return text
    found = blocks(primary, 40)
    if not found:
        raise ValueError(f"channel {primary} cannot hold the 40 MHz that ht_capab sets")
    side = "[HT40+]" if found[0].secondary_offset == 1 else "[HT40-]"
    return _set(text, "ht_capab", re.sub(r"\[HT40[+-]\]", side, ht_capab, count=1))


def _value(text: str, key: str) -> str | None:
    match = re.search(rf"(?m)^{re.escape(key)}=(.*)$", text)
    return None if match is None else match.group(1).strip()


def _int_value(text: str, key: str) -> int | None:
    value = _value(text, key)
    return int(value) if value is not None and value.isdigit() else None


def _set(text: str, key: str, value: str) -> str:
    line = f"{key}={value}"
    pattern = rf"(?m)^{re.escape(key)}=.*$"
    if re.search(pattern, text):
        return re.sub(pattern, lambda _: line, text)
    return text.rstrip("\n") + f"\n{line}\n"
