"""Which radios a gateway has: the hostapd control sockets in its ctrl_interface directory (one per interface
it serves: wlan0, wlan1, wlan2 on a tri-band gateway), or the AP interfaces `iw dev` lists.

The directory is read as untrusted: only sockets whose names are interface names count, at most MAX_RADIOS of
them, and at most MAX_DIR_ENTRIES entries are looked at, so a directory of junk or of thousands of entries
costs a bounded, small amount of time. What is left out is said in the notes.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edge_agent.untrusted_files import open_regular

# Linux interface names: at most 15 bytes, no '/', ':' or whitespace; the agent keeps to the portable subset.
INTERFACE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
MAX_RADIOS = 16  # tri-band gateways have three radios; a few more for guest BSSs and mesh backhaul
MAX_DIR_ENTRIES = 1024
# Sockets in hostapd's directory that are no interface's: OpenWrt runs `hostapd -g /var/run/hostapd/global`.
NOT_RADIOS = frozenset({"global"})


@dataclass(frozen=True)
class Discovery:
    interfaces: tuple[str, ...]  # sorted by name
    notes: tuple[str, ...] = ()


def is_interface_name(name: str) -> bool:
    """A name the agent may pass to iw: an interface name that cannot read as an option ("-h") or a path."""
    return bool(INTERFACE_NAME.match(name)) and name not in (".", "..") and not name.startswith("-")


def ctrl_sockets(ctrl_dir: Path, max_radios: int = MAX_RADIOS, max_entries: int = MAX_DIR_ENTRIES) -> Discovery:
    """The interfaces with a hostapd control socket in `ctrl_dir`: sockets (not files, directories or links)
    named like an interface. A missing or unreadable directory has none, with a note saying why."""
    names: list[str] = []
    notes: list[str] = []
    skipped = 0
    try:
        with os.scandir(ctrl_dir) as entries:
            for seen, entry in enumerate(entries):
                if seen >= max_entries:
                    notes.append(f"{ctrl_dir} holds more than {max_entries} entries: only the first "
                                 f"{max_entries} were looked at")
                    break
                if not _is_radio_socket(entry):
                    skipped += 1
                    continue
                names.append(entry.name)
    except FileNotFoundError:
        return Discovery((), (f"no hostapd control directory {ctrl_dir}",))
    except OSError as exc:
        return Discovery((), (f"cannot read {ctrl_dir}: {exc.strerror or exc}",))
    if skipped:
        notes.append(f"{skipped} entries of {ctrl_dir} are no interface's control socket (other files, links, "
                     "hostapd's global socket or names no interface can have): ignored")
    return _capped(sorted(names), max_radios, notes)


def ap_interfaces(interfaces: list[tuple[str, str | None]], max_radios: int = MAX_RADIOS) -> Discovery:
    """The access-point interfaces among `iw dev`'s (name, type) pairs (iw.parse_dev)."""
    notes: list[str] = []
    names = sorted({name for name, mode in interfaces if mode == "AP" and is_interface_name(name)})
    return _capped(names, max_radios, notes)


def _is_radio_socket(entry: os.DirEntry[str]) -> bool:
    if not is_interface_name(entry.name) or entry.name in NOT_RADIOS:
        return False
    try:
        return stat.S_ISSOCK(entry.stat(follow_symlinks=False).st_mode)  # a link could point anywhere
    except OSError:
        return False  # gone meanwhile


def _capped(names: list[str], max_radios: int, notes: list[str]) -> Discovery:
    if len(names) > max_radios:
        notes.append(f"{len(names)} radios found, only the first {max_radios} by name are read: "
                     f"{', '.join(names[max_radios:max_radios + 5])}{'...' if len(names) > max_radios + 5 else ''} "
                     "left out")
        names = names[:max_radios]
    return Discovery(tuple(names), tuple(notes))


class RadioSet:
    """The radios the agent reads and acts on: those the config names, or those discovered (`discover`, called
    again on every use so a radio whose hostapd starts later is found), kept once seen: a radio whose socket
    went away is a radio down, and must stay read to be reported so. `on_new(name)` runs once per radio, when
    it is first named (reading what its hardware can do)."""

    def __init__(self, named: list[str] | None = None, discover: Callable[[], Discovery] | None = None,
                 max_radios: int = MAX_RADIOS, on_new: Callable[[str], object] | None = None):
        self._radios: list[str] = []
        self._discover = discover
        self.max_radios = max_radios
        self.on_new = on_new
        self.notes: tuple[str, ...] = ()
        self._pending = list(named or [])

    def __call__(self) -> list[str]:
        names, self._pending = self._pending, []
        if self._discover is not None:
            found = self._discover()
            self.notes = found.notes
            names += found.interfaces
        for name in names:
            if name not in self._radios and len(self._radios) < self.max_radios:
                self._radios.append(name)
                if self.on_new is not None:
                    self.on_new(name)
        return list(self._radios)


# hostapd serving a Wi-Fi 7 MLD access point (mld_ap=1) names each link's control socket <iface>_link<N>: one
# socket per link, each link on its own radio, all links on the one MLD interface <iface>.
_MLD_LINK_SOCKET = re.compile(r"^(?P<netdev>[A-Za-z0-9_.-]+)_link(?P<link_id>[0-9]{1,2})$")


def mld_link(name: str) -> tuple[str, int | None]:
    """(the interface iw knows, the MLD link ID) of a control socket name: ("wlan0", 1) for "wlan0_link1",
    (name, None) for any other."""
    match = _MLD_LINK_SOCKET.match(name)
    if match is None or int(match["link_id"]) > 14:
        return name, None
    return match["netdev"], int(match["link_id"])


MAX_CONF_FILES = 32
MAX_CONF_BYTES = 64 * 1024


def interfaces_in_hostapd_conf(text: str) -> set[str]:
    """The interfaces a hostapd configuration serves: its `interface=` and `bss=` lines."""
    names = set()
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key in ("interface", "bss") and is_interface_name(value.strip()):
            names.add(value.strip())
    return names


def hostapd_configured(conf_dir: Path) -> set[str]:
    """The interfaces the `*.conf` files in `conf_dir` have hostapd serve (a bounded read: at most MAX_CONF_FILES
    files, MAX_CONF_BYTES of each); none when the directory is missing or unreadable."""
    names: set[str] = set()
    try:
        files = sorted(conf_dir.glob("*.conf"))[:MAX_CONF_FILES]
    except OSError:
        return names
    for path in files:
        try:
            with open_regular(path) as f:  # a FIFO named *.conf must not stall the start
                names |= interfaces_in_hostapd_conf(f.read(MAX_CONF_BYTES).decode("utf-8", "replace"))
        except OSError:
            continue
    return names
