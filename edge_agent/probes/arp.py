"""ARP resolution of the gateway: its MAC, so that a swapped or spoofed router shows up as a change."""

from __future__ import annotations

from typing import Any

from edge_agent.probes import ProbePermissionError


class ArpResolver:
    def __init__(self) -> None:
        self._sockets: dict[str, Any] = {}

    def resolve(self, address: str, interface: str, timeout_s: float) -> str | None:
        """The MAC that answers for `address` on `interface`, or None when nobody answered."""
        from scapy.layers.l2 import ARP, Ether

        sock = self._socket(interface)
        try:
            answer = sock.sr1(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=address), timeout=timeout_s, verbose=0)
        except (OSError, ValueError):
            self.close()  # the interface went away or down: a fresh socket next time
            return None
        return None if answer is None else str(answer[ARP].hwsrc).lower()

    def _socket(self, interface: str) -> Any:
        if interface not in self._sockets:
            from scapy.config import conf

            try:
                self._sockets[interface] = conf.L2socket(iface=interface)
            except PermissionError as exc:
                raise ProbePermissionError(f"ARP probe needs CAP_NET_RAW: {exc}") from None
        return self._sockets[interface]

    def close(self) -> None:
        for sock in self._sockets.values():
            try:
                sock.close()
            except OSError:
                pass
        self._sockets.clear()
