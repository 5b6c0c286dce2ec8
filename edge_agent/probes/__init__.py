"""Active network probes with real packets (scapy for ICMP, ARP and DHCP; plain sockets for DNS and TCP).

Heavy scapy layers are imported inside the functions that send packets, so an agent on simulated premises
never pays for them.
"""


class ProbePermissionError(PermissionError):
    """A raw-socket probe without CAP_NET_RAW: the agent must be granted it (systemd AmbientCapabilities=)."""
