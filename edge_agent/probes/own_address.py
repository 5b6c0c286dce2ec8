"""Whether another device uses the host's own IPv4 address: now and then, one ARP probe for it from 0.0.0.0 (as
RFC 5227's duplicate address detection does). The host itself never answers its own probe; any answer is
another device holding the address. Run beside the probe rounds, never inside one."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor

from edge_agent.collectors.connectivity import AddressProbe
from edge_agent.probes.arp import ArpResolver
from edge_agent.probes.checks import FIRST_CHECK_AFTER_S, Cadence
from edge_agent.probes.leases import interface_address

ANSWER_WAIT_S = 1.0  # a holder of the address answers within milliseconds; silence is the normal outcome


class OwnAddressCheck:
    def __init__(self, interval_s: float, pool: Executor, clock: Callable[[], float] = time.monotonic):
        self._pool = pool
        self._clock = clock
        self._arp = ArpResolver()  # its own socket: the gateway's ARP runs at the same time
        self._cadence = Cadence(interval_s, interval_s, next_due=clock() + FIRST_CHECK_AFTER_S)

    def collect(self, interface: str | None) -> AddressProbe | None:
        """The check that finished since the last call, after starting one if due."""
        now = self._clock()
        finished = self._cadence.harvest(now, failing=lambda _: False)
        if interface is not None and self._cadence.due(now):
            self._cadence.start(self._pool.submit(self.check, interface), now)
        return finished

    def check(self, interface: str) -> AddressProbe | None:
        address = interface_address(interface)
        if address is None or address == "0.0.0.0":
            return None  # no address to share
        answer = self._arp.ask(address, interface, ANSWER_WAIT_S, from_nowhere=True)
        return AddressProbe(interface, address, answer.macs)

    def close(self) -> None:
        self._arp.close()
