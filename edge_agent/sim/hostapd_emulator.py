"""The simulated access point as the hardware path sees it: a hostapd control socket (PING, STATUS, STA-FIRST,
STA-NEXT, ATTACH, DETACH, CHAN_SWITCH with its CSA events or FAIL, DISABLE, ENABLE) and `iw dev X survey dump`,
`station dump`, `scan` and `info`, and `iw phy phy#0 info` output, all in the formats of the recorded samples —
so `[simulation] hostapd_emulation = true` runs the agent's real Wi-Fi stack (HostapdRadio, ChannelSwitcher) on
the simulation. A multi-radio gateway gets one control socket per radio in the same directory, as hostapd
serving several interfaces does, and each radio its own wiphy (phy#0, phy#1, ...).
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

from edge_agent.sim.premises import Radio, SimulatedPremises, phy_info_text
from edge_agent.wifi.channels import Band, Channel, band_for_freq, block, channel_at

log = logging.getLogger(__name__)

SSID = "home-network"
BSSID = "02:00:5e:aa:00:01"


# hostapd's oper_chwidth enum (CONF_OPER_CHWIDTH_*): 20 and 40 MHz are 0, with the 40 MHz side in
# secondary_channel.
_OPER_CHWIDTH = {20: 0, 40: 0, 80: 1, 160: 2, 320: 9}


def _radio(premises: SimulatedPremises, interface: str) -> Radio:
    radio = premises.radio(interface)
    if radio is None:
        raise OSError(f"no radio {interface} on the simulated gateway")
    return radio


def status_text(premises: SimulatedPremises, interface: str) -> str:
    stations = premises.stations(interface)
    radio = _radio(premises, interface)
    primary = Channel(radio.band, radio.channel)
    spectrum = block(primary, radio.width_mhz)
    lines = ["state=ENABLED", f"phy={interface}", f"freq={primary.freq_mhz}", f"channel={primary.number}",
             f"secondary_channel={spectrum.secondary_offset}"]
    if radio.band is Band.GHZ_2_4:
        lines += ["ieee80211n=1", "ieee80211ac=0", "ieee80211ax=0"]
    else:  # a 5 or 6 GHz radio is an 802.11ax one here; 320 MHz is 802.11be
        eht = radio.width_mhz == 320
        lines += [f"ieee80211n={int(radio.band is Band.GHZ_5)}", "ieee80211ac=0", "ieee80211ax=1",
                  f"he_oper_chwidth={_OPER_CHWIDTH[min(radio.width_mhz, 160)]}",
                  f"he_oper_centr_freq_seg0_idx={spectrum.centre_number if radio.width_mhz >= 80 else 0}"]
        if eht:
            lines += ["ieee80211be=1", f"eht_oper_chwidth={_OPER_CHWIDTH[320]}",
                      f"eht_oper_centr_freq_seg0_idx={spectrum.centre_number}"]
    lines += ["beacon_int=100", "max_txpower=20", f"bss[0]={interface}", f"bssid[0]={bssid(radio)}", f"ssid[0]={SSID}",
              f"num_sta[0]={len(stations)}"]
    return "\n".join(lines) + "\n"


def station_reply(premises: SimulatedPremises, interface: str, index: int) -> str:
    stations = premises.stations(interface)
    if index >= len(stations):
        return ""
    s = stations[index]
    return (f"{s.mac}\nflags=[AUTH][ASSOC][AUTHORIZED][WMM][HT]\naid={index + 1}\nrx_packets={s.tx_packets}\n"
            f"tx_packets={s.tx_packets}\ninactive_msec={s.inactive_ms}\nsignal={round(s.signal_dbm)}\n"
            f"connected_time={s.connected_s}\n")


def bssid(radio: Radio) -> str:
    return f"{BSSID[:-2]}{radio.index + 1:02x}"


def survey_dump_text(premises: SimulatedPremises, interface: str) -> str:
    blocks = []
    for _, entry in sorted(premises.next_survey(interface).items()):
        in_use = " [in use]" if entry.in_use else ""
        blocks.append(f"Survey data from {interface}\n\tfrequency:\t\t\t{entry.freq_mhz} MHz{in_use}\n"
                      f"\tnoise:\t\t\t\t{round(entry.noise_dbm)} dBm\n"
                      f"\tchannel active time:\t\t{entry.active_ms} ms\n"
                      f"\tchannel busy time:\t\t{entry.busy_ms} ms\n")
    return "".join(blocks)


def station_dump_text(premises: SimulatedPremises, interface: str) -> str:
    blocks = []
    for s in premises.stations(interface):
        blocks.append(f"Station {s.mac} (on {interface})\n\tinactive time:\t{s.inactive_ms} ms\n"
                      f"\ttx packets:\t{s.tx_packets}\n\ttx retries:\t{s.tx_retries}\n\ttx failed:\t{s.tx_failed}\n"
                      f"\tsignal:  \t{round(s.signal_dbm)} dBm\n\ttx bitrate:\t{s.tx_bitrate_mbps:.1f} MBit/s\n"
                      f"\tconnected time:\t{s.connected_s} seconds\n")
    return "".join(blocks)


def scan_text(interface: str, premises: SimulatedPremises) -> str:
    """The neighbours of the premises' band; on 6 GHz with the width of their HE operation element."""
    blocks = []
    for number, n in enumerate(_radio(premises, interface).neighbours, start=1):
        channel = Channel(n.band, n.channel)
        text = (f"BSS 02:00:5e:bb:00:{number:02x}(on {interface})\n\tfreq: {channel.freq_mhz}\n"
                f"\tsignal: {n.signal_dbm:.2f} dBm\n\tSSID: neighbour-{number}\n")
        if n.band is Band.GHZ_6:
            text += (f"\tHE Operation:\n\t\t6 GHz Operation Information:\n\t\t\tPrimary Channel: {n.channel}\n"
                     f"\t\t\tChannel Width: {n.width_mhz} MHz\n")
        else:
            text += f"\tDS Parameter set: channel {n.channel}\n"
        blocks.append(text)
    return "".join(blocks)


def info_text(premises: SimulatedPremises, interface: str) -> str:
    """`iw dev X info` of the access point: its wiphy (the radio's index) and operating channel."""
    radio = _radio(premises, interface)
    primary = Channel(radio.band, radio.channel)
    spectrum = block(primary, radio.width_mhz)
    width = f"{radio.width_mhz} MHz" if radio.width_mhz > 20 or radio.band is Band.GHZ_6 else "20 MHz"
    return (f"Interface {interface}\n\tifindex {3 + radio.index}\n\twdev 0x{radio.index + 1:x}\n"
            f"\taddr {bssid(radio)}\n\tssid {SSID}\n\ttype AP\n"
            f"\twiphy {radio.index}\n\tchannel {primary.number} ({primary.freq_mhz} MHz), width: {width}, "
            f"center1: {spectrum.centre_mhz} MHz\n\ttxpower 20.00 dBm\n")


class SimulatedIw:
    """`run` for HostapdRadio: answers the iw commands it issues from the simulation."""

    def __init__(self, premises: SimulatedPremises):
        self.premises = premises

    def __call__(self, argv: list[str]) -> str:
        phys = {f"phy#{radio.index}": radio for radio in self.premises.radios}
        if argv[:2] == ["iw", "phy"] and argv[3:] == ["info"] and argv[2] in phys:
            return phy_info_text(phys[argv[2]].band, self.premises.config.csa_supported)
        if argv == ["iw", "dev"]:
            return "".join(f"phy#{radio.index}\n" + "".join(f"\t{line}\n" for line in info_text(
                self.premises, radio.interface).splitlines()) for radio in self.premises.radios)
        if argv[:2] != ["iw", "dev"] or len(argv) < 4:
            raise OSError(f"{' '.join(argv)}: not an iw command the simulation knows")
        interface, what = argv[2], " ".join(argv[3:])
        if what == "info":
            return info_text(self.premises, interface)
        if what == "survey dump":
            return survey_dump_text(self.premises, interface)
        if what == "station dump":
            return station_dump_text(self.premises, interface)
        if what == "scan":
            return scan_text(interface, self.premises)
        raise OSError(f"{' '.join(argv)}: not an iw command the simulation knows")


class HostapdEmulator:
    """A hostapd control interface for `interface` at `ctrl_dir/interface`, answering from the premises."""

    def __init__(self, premises: SimulatedPremises, ctrl_dir: Path, interface: str):
        self.premises = premises
        self.interface = interface
        self.path = ctrl_dir / interface
        ctrl_dir.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))
        self._sock.settimeout(0.2)  # here, not in the thread: a close() right after start must not race it
        self._attached: set[str] = set()
        self._events: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="hostapd-emulator", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not sender:
                continue  # an unbound client cannot be answered
            for text, address in self.handle(data.decode(errors="replace").strip(), sender):
                try:
                    self._sock.sendto(text.encode(), address)
                except OSError as exc:
                    log.debug("hostapd emulator: cannot send to %s: %s", address, exc)

    def handle(self, command: str, sender: str) -> list[tuple[str, str]]:
        """(text, address) to send: the reply to `command`, then any events for the attached clients."""
        return [(reply, sender) for reply in self._reply(command, sender)] + self._pending_events()

    def _pending_events(self) -> list[tuple[str, str]]:
        events, self._events = self._events, []
        return [(event, client) for event in events for client in sorted(self._attached)]

    def _reply(self, command: str, sender: str) -> list[str]:
        verb, _, rest = command.partition(" ")
        if self.premises.active_faults("radio_down") and verb not in ("PING",):
            return []  # a hung hostapd answers nothing: the client times out, as with the real one
        if verb == "PING":
            return ["PONG\n"]
        if verb == "STATUS":
            return [status_text(self.premises, self.interface)]
        if verb == "STA-FIRST":
            return [station_reply(self.premises, self.interface, 0)]
        if verb == "STA-NEXT":
            macs = [s.mac for s in self.premises.stations(self.interface)]
            index = macs.index(rest.strip()) + 1 if rest.strip() in macs else len(macs)
            return [station_reply(self.premises, self.interface, index)]
        if verb == "ATTACH":
            self._attached.add(sender)
            return ["OK\n"]
        if verb == "DETACH":
            self._attached.discard(sender)
            return ["OK\n"]
        if verb in ("DISABLE", "ENABLE"):
            if verb == "ENABLE":
                self.premises.apply_action("restart_radio")
            return ["OK\n"]
        if verb == "CHAN_SWITCH":
            return self._chan_switch(rest)
        return ["UNKNOWN COMMAND\n"]

    def _chan_switch(self, arguments: str) -> list[str]:
        parts = arguments.split()
        if len(parts) < 2 or not parts[1].isdigit():
            return ["FAIL\n"]
        freq = int(parts[1])
        channel = channel_at(freq)
        radio = _radio(self.premises, self.interface)
        if channel is None or band_for_freq(freq) is not radio.band or not self.premises.config.csa_supported:
            return ["FAIL\n"]  # like the many drivers without channel switch announcements
        radio.channel = channel.number
        self.premises.apply_action(f"switch_channel:{channel.number}")
        self._events += [f"<3>CTRL-EVENT-STARTED-CHANNEL-SWITCH freq={freq} ht_enabled=1 ch_offset=0 ch_width=20 MHz",
                         f"<3>AP-CSA-FINISHED freq={freq} dfs=0"]
        return ["OK\n"]

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=2)
        self.path.unlink(missing_ok=True)

