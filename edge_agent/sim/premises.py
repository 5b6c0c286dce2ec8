"""A seeded radio and uplink whose faults follow the configured timeline.

Physics is simple but plausible: neighbour networks keep a channel 10–20 % busy, an interferer adds its
duty cycle to the busy time and lifts the noise floor; lost probes are independent draws.
"""

from __future__ import annotations

import random
import statistics

from edge_agent.clock import Clock
from edge_agent.collectors.connectivity import ConnectivityStatus, DhcpProbe, DnsProbe, GatewayProbe, UplinkProbe
from edge_agent.collectors.wifi import RadioStatus, RadioUnavailable, StationStatus
from edge_agent.config import FaultConfig, SimulationSection
from edge_agent.sim.camera_scene import SceneState
from edge_agent.sim.link_physics import phy_rate_for_signal, retry_share_for_signal

GATEWAY_ADDRESS = "192.168.1.1"  # a label on simulated samples; no packet is sent to it
RESOLVER_ADDRESS = "192.168.1.1"
UPLINK_ENDPOINT = "broker.example.net:8883"
GATEWAY_MAC = "02:00:5e:10:00:01"
SWAPPED_GATEWAY_MAC = "02:00:5e:66:66:66"
LATENCY_FAULT_MAX_MS = 200.0
STATION_SIGNALS_DBM = (-45.0, -58.0, -66.0)
PINGS_PER_ROUND = 5
NOISE_FLOOR_DBM = -95.0


def channel_to_freq_mhz(channel: int) -> int:
    if channel == 14:
        return 2484
    if 1 <= channel <= 13:
        return 2407 + 5 * channel
    return 5000 + 5 * channel


class SimulatedPremises:
    def __init__(self, config: SimulationSection, clock: Clock):
        self.config = config
        self.clock = clock
        self.channel = config.channel
        self._start = clock.monotonic()
        self._rng = random.Random(config.seed)
        self._tx_packets = 0
        self._retries = dict.fromkeys(range(1, len(STATION_SIGNALS_DBM) + 1), 0)

    def elapsed_s(self) -> float:
        """Seconds into the scenario, wrapped at cycle_s so the timeline repeats."""
        elapsed = self.clock.monotonic() - self._start
        if self.config.cycle_s:
            elapsed %= self.config.cycle_s
        return elapsed

    def active_faults(self, kind: str) -> list[FaultConfig]:
        now = self.elapsed_s()
        return [f for f in self.config.faults if f.kind == kind and f.start_s <= now < f.end_s]

    # RadioBackend
    def radio_status(self, interface: str) -> RadioStatus:
        if self.active_faults("radio_down"):
            raise RadioUnavailable(f"STATUS: no reply from hostapd on {interface} (simulated)")
        busy = 0.15 + self._rng.gauss(0, 0.03)
        noise = NOISE_FLOOR_DBM + self._rng.gauss(0, 1.0)
        for fault in self.active_faults("interference"):
            if fault.channel in (None, self.channel):
                busy += fault.level * self._rng.uniform(0.9, 1.1)
                noise += 12 * fault.level
        return RadioStatus(
            channel=self.channel,
            freq_mhz=channel_to_freq_mhz(self.channel),
            width_mhz=20,
            noise_dbm=round(noise, 1),
            busy_ratio=round(min(max(busy, 0.0), 0.99), 3),
            tx_power_dbm=20.0,
            station_count=3,
        )

    def stations(self, interface: str) -> list[StationStatus]:
        """Three devices at different distances; `weak_station` walks the farthest one out of range, and the
        weaker its signal the more of its frames need resending."""
        self._tx_packets += 500
        result = []
        for number, base_signal in enumerate(STATION_SIGNALS_DBM, start=1):
            signal = base_signal + self._rng.gauss(0, 1.5)
            if number == len(STATION_SIGNALS_DBM) and self.active_faults("weak_station"):
                signal -= 18
            retry_share = float(retry_share_for_signal(signal))
            self._retries[number] += int(500 * retry_share)
            result.append(StationStatus(
                mac=f"02:00:5e:00:00:{number:02x}", signal_dbm=round(signal, 1),
                tx_bitrate_mbps=round(float(phy_rate_for_signal(signal)), 1), rx_bitrate_mbps=None,
                tx_packets=self._tx_packets, tx_retries=self._retries[number], tx_failed=0,
                inactive_ms=int(self._rng.uniform(0, 900)), connected_s=int(self.clock.monotonic() - self._start),
            ))
        return result

    # ConnectivityBackend
    def probe(self) -> ConnectivityStatus:
        loss_probability = 0.002 + sum(f.level for f in self.active_faults("uplink_loss"))
        if self.active_faults("gateway_down"):
            loss_probability = 1.0
        extra_ms = sum(f.level * LATENCY_FAULT_MAX_MS for f in self.active_faults("latency"))
        rtts = [
            round(self._rng.lognormvariate(0.4, 0.3) + extra_ms * self._rng.uniform(0.8, 1.2), 2)
            for _ in range(PINGS_PER_ROUND)
            if self._rng.random() >= loss_probability
        ]
        gateway = GatewayProbe(
            address=GATEWAY_ADDRESS,
            sent=PINGS_PER_ROUND,
            received=len(rtts),
            rtt_ms_median=statistics.median(rtts) if rtts else None,
            jitter_ms=round(statistics.pstdev(rtts), 2) if len(rtts) > 1 else None,
        )
        if self.active_faults("dns_down"):
            dns = DnsProbe(RESOLVER_ADDRESS, ok=False, latency_ms=None, rcode="timeout")
        else:
            dns = DnsProbe(RESOLVER_ADDRESS, ok=True, latency_ms=round(self._rng.uniform(6, 25), 1), rcode="NOERROR")
        if self.active_faults("uplink_down") or self.active_faults("gateway_down"):
            uplink = UplinkProbe(UPLINK_ENDPOINT, ok=False, connect_ms=None, error="timeout")
        else:
            uplink = UplinkProbe(UPLINK_ENDPOINT, ok=True, connect_ms=round(self._rng.uniform(15, 40), 1), error=None)
        mac = SWAPPED_GATEWAY_MAC if self.active_faults("gateway_swap") else GATEWAY_MAC
        return ConnectivityStatus(gateway=gateway, gateway_mac=mac if rtts else None, dns=(dns,), uplinks=(uplink,))

    def dhcp(self) -> DhcpProbe | None:
        if self.active_faults("gateway_down"):
            return DhcpProbe("eth0", ok=False, offer_ms=None, server=None, offered_address=None, error="no offer")
        return DhcpProbe("eth0", ok=True, offer_ms=round(self._rng.uniform(5, 30), 1), server=GATEWAY_ADDRESS,
                         offered_address="192.168.1.57", error=None)

    # SceneBackend (the simulated camera)
    def camera_scene(self) -> SceneState | None:
        """What the camera pointed at the gateway sees; None while a camera_down fault unplugs it."""
        if self.active_faults("camera_down"):
            return None
        return SceneState(
            led="off" if self.active_faults("led_off") else "red" if self.active_faults("led_red") else "green",
            cable_plugged=not self.active_faults("cable_unplugged"),
            obstructed=bool(self.active_faults("obstructed")),
        )
