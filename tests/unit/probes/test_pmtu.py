"""The IPv4 path-MTU check on real sockets: every size answered over loopback, and the reference echo's round
trip measured (the detector judges a black hole only on an unloaded path)."""

from __future__ import annotations

import os

import pytest

from edge_agent.probes.pmtu import pmtu_probe


@pytest.mark.skipif(os.geteuid() != 0, reason="raw ICMP sockets need root (CAP_NET_RAW)")
def test_real_echoes_of_every_size_come_back_over_loopback_with_the_reference_round_trip():
    probe = pmtu_probe("127.0.0.1", 1500, timeout_s=2.0)
    assert probe.results == {size: "ok" for size in (96, 576, 1280, 1400, 1492, 1500)}
    assert probe.verdict == "ok" and probe.largest_ok == 1500
    assert probe.reference_rtt_ms is not None and 0.0 <= probe.reference_rtt_ms < 1000.0
