"""The collectors a config asks for, built on the premises' backends (hardware or simulated)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_agent.collectors import Collector
from edge_agent.collectors.connectivity import ConnectivityCollector
from edge_agent.collectors.interfaces import InterfacesCollector
from edge_agent.collectors.system import SystemCollector
from edge_agent.collectors.wifi import WifiCollector
from edge_agent.config import AgentConfig

if TYPE_CHECKING:
    from edge_agent.backends import PremisesBackends


def build_collectors(config: AgentConfig, backends: PremisesBackends) -> list[Collector]:
    c = config.collectors
    collectors: list[Collector] = []
    host = backends.simulated_host  # under simulation: the simulated gateway, never the machine we run on
    if c.system.enabled:
        collectors.append(SystemCollector(c.system.interval_s, c.system.watched_processes, c.system.disk_paths,
                                          host=host))
    if c.interfaces.enabled:
        sources = {} if host is None else {"read_counters": host.interface_counters, "read_link_up": host.link_up}
        collectors.append(InterfacesCollector(c.interfaces.interval_s, c.interfaces.include, c.interfaces.exclude,
                                              **sources))
    if c.wifi.enabled and backends.radio is not None:
        collectors.append(WifiCollector(c.wifi.interval_s, backends.radios or c.wifi.interface, backends.radio))
    if c.connectivity.enabled and backends.connectivity is not None:
        collectors.append(ConnectivityCollector(c.connectivity.interval_s, backends.connectivity))
    return collectors
