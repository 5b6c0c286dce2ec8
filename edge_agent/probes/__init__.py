"""Active network probes with real packets (scapy for ICMP, ARP and DHCP; plain sockets for DNS and TCP).

Heavy scapy layers are imported inside the functions that send packets, so an agent on simulated premises
never pays for them.
"""

from edge_agent.collectors.connectivity import ProbePermissionError

__all__ = ["ProbePermissionError"]
