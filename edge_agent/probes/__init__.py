"""Active network probes with real packets: raw and packet sockets for ICMP, ARP and DHCP (CAP_NET_RAW), plain
sockets for DNS and TCP; packets built and parsed by hand (wire.py, dns_wire.py).

No packet library: scapy cost ~22 MiB of RSS and ~15 ms of CPU a probe round for a handful of fixed-shape
packets (docs/BENCHMARKS.md, footprint).
"""

from edge_agent.collectors.connectivity import ProbePermissionError

__all__ = ["ProbePermissionError"]
