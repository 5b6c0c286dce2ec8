"""A stand-in for hostapd's control socket (a radio is what this machine lacks): it answers each command
datagram with the messages `answer(command)` returns, events ("<3>…") included."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path


class FakeHostapd:
    def __init__(self, ctrl_dir: Path, answer: Callable[[str], list[str]], interface: str = "wlan0"):
        self.answer = answer
        self.commands: list[str] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(ctrl_dir / interface))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                data, client = self.sock.recvfrom(4096)
            except OSError:
                return  # closed
            command = data.decode()
            self.commands.append(command)
            try:
                for message in self.answer(command):
                    self.sock.sendto(message.encode(), client)
            except OSError:
                return  # closed while answering, or the client is gone

    def close(self) -> None:
        self.sock.close()
