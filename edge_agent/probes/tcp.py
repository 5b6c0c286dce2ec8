"""Uplink health: how long a TCP connection to each configured endpoint takes (the MQTT broker included)."""

from __future__ import annotations

import socket
import time

from edge_agent.collectors.connectivity import UplinkProbe


def tcp_connect_probe(endpoint: str, timeout_s: float) -> UplinkProbe:
    host, _, port = endpoint.rpartition(":")
    start = time.monotonic()
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            elapsed = round((time.monotonic() - start) * 1000, 2)
    except TimeoutError:
        return UplinkProbe(endpoint, ok=False, connect_ms=None, error="timeout")
    except OSError as exc:
        return UplinkProbe(endpoint, ok=False, connect_ms=None, error=exc.strerror or str(exc))
    return UplinkProbe(endpoint, ok=True, connect_ms=elapsed, error=None)
