"""Client of hostapd's control interface: an AF_UNIX datagram socket at <ctrl_interface>/<ifname>.

The client binds a path of its own (hostapd answers to it), sends one command per datagram and reads one
reply. After ATTACH, hostapd also sends unsolicited events ("<3>AP-STA-CONNECTED …") on the same socket:
replies are told apart from events by that "<level>" prefix, and events are queued for `events()`.
"""

from __future__ import annotations

import itertools
import os
import socket
import tempfile
import time
from collections import deque
from pathlib import Path

from edge_agent.wifi.hostapd_replies import HostapdStations, HostapdStatus, parse_sta_replies, parse_status

MAX_REPLY_BYTES = 16 * 1024  # hostapd's own buffer is 4 KiB per reply; STA dumps stay well inside this
_counter = itertools.count()


class HostapdError(Exception):
    """hostapd did not answer, answered FAIL, or the socket cannot be used."""


class HostapdControl:
    def __init__(self, ctrl_dir: Path, interface: str, timeout_s: float = 2.0, local_dir: Path | None = None):
        self.path = Path(ctrl_dir) / interface
        self.timeout_s = timeout_s
        local_dir = Path(local_dir or tempfile.gettempdir())
        # AF_UNIX paths are limited to 108 bytes: keep ours short and unique per process and client.
        self.local_path = local_dir / f"ea-hapd-{os.getpid()}-{next(_counter)}"
        if len(str(self.local_path).encode()) > 107:
            raise HostapdError(f"client socket path {self.local_path} is longer than AF_UNIX allows")
        self._events: deque[str] = deque(maxlen=1000)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._sock.bind(str(self.local_path))
            self._sock.connect(str(self.path))
        except OSError as exc:
            self.close()
            raise HostapdError(f"cannot reach hostapd at {self.path}: {exc.strerror or exc}") from None

    def request(self, command: str, deadline: float | None = None) -> str:
        """Send one command and return hostapd's reply text (events that arrive meanwhile are queued).

        Sending and waiting together take at most `timeout_s`, or until `deadline` (monotonic) if that is sooner.
        """
        deadline = min(time.monotonic() + self.timeout_s, float("inf") if deadline is None else deadline)
        # A hostapd that stopped reading leaves its queue full, and a send into it would block for ever.
        self._sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            self._sock.send(command.encode())
        except TimeoutError:
            raise HostapdError(f"{command}: hostapd took no command within {self.timeout_s:g} s") from None
        except OSError as exc:
            raise HostapdError(f"{command}: cannot send to {self.path}: {exc.strerror or exc}") from None
        while True:
            message = self._receive(deadline, command)
            if message.startswith("<") and ">" in message[:4]:
                self._events.append(message)
                continue
            return message

    def _receive(self, deadline: float, command: str) -> str:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HostapdError(f"{command}: no reply from hostapd within {self.timeout_s:g} s")
        self._sock.settimeout(remaining)
        try:
            return self._sock.recv(MAX_REPLY_BYTES).decode(errors="replace")
        except TimeoutError:
            raise HostapdError(f"{command}: no reply from hostapd within {self.timeout_s:g} s") from None
        except OSError as exc:
            raise HostapdError(f"{command}: {exc.strerror or exc}") from None

    def _expect_ok(self, command: str) -> None:
        reply = self.request(command).strip()
        if reply != "OK":
            raise HostapdError(f"{command}: hostapd answered {reply!r}")

    def ping(self) -> bool:
        try:
            return self.request("PING").strip() == "PONG"
        except HostapdError:
            return False

    def status(self) -> HostapdStatus:
        """The radio's STATUS. An empty reply is hostapd not answering (HostapdError); a reply that is no
        STATUS reply is ParseError."""
        reply = self.request("STATUS")
        if not reply.strip():
            raise HostapdError("STATUS: empty reply, hostapd is not answering")
        return parse_status(reply)

    def stations(self, limit: int = 512) -> HostapdStations:
        """Every associated station, walking STA-FIRST / STA-NEXT (the daemon has no ALL_STA).

        The whole walk takes at most `timeout_s`: a hostapd answering each step slowly cannot stretch it.
        """
        deadline = time.monotonic() + self.timeout_s
        replies = []
        reply = self.request("STA-FIRST", deadline)
        while reply.strip() and not reply.startswith(("FAIL", "UNKNOWN")) and len(replies) < limit:
            replies.append(reply)
            mac = reply.splitlines()[0].strip()
            reply = self.request(f"STA-NEXT {mac}", deadline)
        return parse_sta_replies("".join(r if r.endswith("\n") else r + "\n" for r in replies))

    def attach(self) -> None:
        self._expect_ok("ATTACH")

    def detach(self) -> None:
        self._expect_ok("DETACH")

    def events(self, wait_s: float = 0.0) -> list[str]:
        """Queued events, plus those arriving within `wait_s`; each without its "<level>" prefix."""
        deadline = time.monotonic() + wait_s
        while True:
            # A timeout of 0 makes the socket non-blocking: take what is already there, then stop.
            self._sock.settimeout(max(0.0, deadline - time.monotonic()))
            try:
                self._events.append(self._sock.recv(MAX_REPLY_BYTES).decode(errors="replace"))
            except (TimeoutError, BlockingIOError):
                break
        drained = [event.split(">", 1)[1] if event.startswith("<") else event for event in self._events]
        self._events.clear()
        return drained

    def close(self) -> None:
        self._sock.close()
        self.local_path.unlink(missing_ok=True)

    def __enter__(self) -> HostapdControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
