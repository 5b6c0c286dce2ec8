"""The simulated gateway's own machine: CPU, memory, disks, services and interface counters.

Under simulation the system and interfaces collectors read this instead of the host the agent runs on, so a
busy laptop cannot open a `high_cpu` issue on simulated premises. A small, healthy, Raspberry Pi–class box;
its own random stream, so adding it changes nothing the premises' seeded faults draw.
"""

from __future__ import annotations

import random
from typing import Any

from edge_agent.clock import Clock
from edge_agent.collectors.interfaces import InterfaceCounters
from edge_agent.sim.premises import SERVICES

MEMORY_MB = 1024.0
DISK_MB = 14_800.0  # a 16 GB card
DISK_USED_SHARE = 0.31
BOOTED_S = 3 * 86_400.0  # up three days when the simulation starts
SERVICE_RSS_MB = {"dnsmasq": 2.1, "hostapd": 3.4, "mosquitto": 5.8, "systemd-networkd": 6.2}
# Average traffic in bits per second: the uplink carries the household, the radio the same plus local traffic.
TRAFFIC_BPS = {"eth0": (6_000_000.0, 900_000.0), "wlan0": (900_000.0, 6_400_000.0)}


class SimulatedGatewayHost:
    """A HostReader (system collector) and counter/link source (interfaces collector) for the simulated box."""

    def __init__(self, seed: int, clock: Clock, wifi_interface: str = "wlan0"):
        self.clock = clock
        self._start = clock.monotonic()
        self._rng = random.Random(f"gateway-host-{seed}")
        self._interfaces = {"lo": (0.0, 0.0), "eth0": TRAFFIC_BPS["eth0"], wifi_interface: TRAFFIC_BPS["wlan0"]}

    def _elapsed_s(self) -> float:
        return max(0.0, self.clock.monotonic() - self._start)

    def host_metrics(self) -> dict[str, Any]:
        cpu = round(self._rng.uniform(6.0, 14.0), 1)
        memory = round(self._rng.uniform(38.0, 42.0), 1)
        load = round(cpu / 100 * 4 * self._rng.uniform(0.8, 1.2), 2)  # four cores
        return {
            "cpu_percent": cpu,
            "memory_percent": memory,
            "memory_available_mb": round(MEMORY_MB * (1 - memory / 100), 1),
            "swap_percent": 0.0,
            "load1": load,
            "load5": load,
            "load15": load,
            "uptime_s": round(BOOTED_S + self._elapsed_s(), 1),
            "temperature_c": round(self._rng.uniform(48.0, 53.0), 1),
        }

    def disk_metrics(self, path: str) -> dict[str, Any]:
        return {"disk_percent": round(100 * DISK_USED_SHARE, 1), "free_mb": round(DISK_MB * (1 - DISK_USED_SHARE), 1)}

    def processes(self, names: list[str]) -> dict[str, dict[str, Any]]:
        return {name: ({"running": True, "count": 1, "rss_mb": SERVICE_RSS_MB.get(name, 4.0)}
                       if name in SERVICES else {"running": False, "count": 0, "rss_mb": 0.0})
                for name in names}

    def interface_counters(self) -> dict[str, InterfaceCounters]:
        elapsed = self._elapsed_s()
        return {nic: InterfaceCounters(rx_bytes=int(rx * elapsed / 8), tx_bytes=int(tx * elapsed / 8), errors=0,
                                       drops=0)
                for nic, (rx, tx) in self._interfaces.items()}

    def link_up(self) -> dict[str, bool]:
        return dict.fromkeys(self._interfaces, True)
