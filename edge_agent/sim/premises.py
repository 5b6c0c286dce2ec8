"""A seeded radio and uplink whose faults follow the configured timeline.

Physics is simple but plausible: neighbour networks keep a channel 10–20 % busy (more where they overlap),
an interferer adds its duty cycle to the busy time and lifts the noise floor; lost probes are independent
draws. Services can be restarted and the access point moved: an action that fixes a fault ends it for the
rest of its window (it comes back at the next cycle, like a real recurring fault).
"""

from __future__ import annotations

import random
import statistics

from edge_agent.clock import Clock
from edge_agent.collectors.connectivity import ConnectivityStatus, DhcpProbe, DnsProbe, GatewayProbe, UplinkProbe
from edge_agent.collectors.wifi import RadioStatus, RadioUnavailable, StationStatus
from edge_agent.config import FaultConfig, SimulationSection
from edge_agent.wifi.channel_scoring import ChannelSurvey, Neighbour, overlap
from edge_agent.wifi.channel_switch import SwitchResult

GATEWAY_ADDRESS = "192.168.1.1"  # a label on simulated samples; no packet is sent to it
RESOLVER_ADDRESS = "192.168.1.1"
UPLINK_ENDPOINT = "broker.example.net:8883"
GATEWAY_MAC = "02:00:5e:10:00:01"
SWAPPED_GATEWAY_MAC = "02:00:5e:66:66:66"
LATENCY_FAULT_MAX_MS = 200.0
DNS_SLOW_MAX_MS = 2000.0
UPLINK_SLOW_MAX_MS = 3000.0
STATION_SIGNALS_DBM = (-45.0, -58.0, -66.0)
PINGS_PER_ROUND = 5
NOISE_FLOOR_DBM = -95.0
SIM_CHANNELS = tuple(range(1, 12))
# Other networks in the building: (channel, signal). Channel 1 is crowded, 11 nearly free.
NEIGHBOURS = (Neighbour(1, -62.0), Neighbour(1, -70.0), Neighbour(3, -78.0), Neighbour(6, -74.0),
              Neighbour(11, -85.0))
NEIGHBOUR_BUSY = 0.12  # airtime one loud overlapping neighbour takes
# What ends each fault kind when a fault names no `fixed_by` (a hung resolver needs a restart, not a flush).
DEFAULT_FIXED_BY = {
    "dns_down": ("restart_service:dnsmasq",),
    "radio_down": ("restart_radio", "restart_service:hostapd"),
}
SERVICES = ("dnsmasq", "hostapd", "mosquitto", "systemd-networkd")


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
        self._ended: dict[int, int] = {}  # fault index -> the cycle in which an action ended it
        self.actions_done: list[str] = []
        self.restart_fallback = False  # may a channel switch restart the access point when CSA fails (policy)

    def _cycle(self) -> int:
        elapsed = self.clock.monotonic() - self._start
        return int(elapsed // self.config.cycle_s) if self.config.cycle_s else 0

    def elapsed_s(self) -> float:
        """Seconds into the scenario, wrapped at cycle_s so the timeline repeats."""
        elapsed = self.clock.monotonic() - self._start
        if self.config.cycle_s:
            elapsed %= self.config.cycle_s
        return elapsed

    def active_faults(self, kind: str) -> list[FaultConfig]:
        now, cycle = self.elapsed_s(), self._cycle()
        return [f for i, f in enumerate(self.config.faults)
                if f.kind == kind and f.start_s <= now < f.end_s and self._ended.get(i) != cycle]

    def apply_action(self, ref: str) -> list[str]:
        """Record an action on the premises; end the active faults it fixes. Returns their kinds."""
        self.actions_done.append(ref)
        now, cycle, ended = self.elapsed_s(), self._cycle(), []
        for i, fault in enumerate(self.config.faults):
            fixed_by = fault.fixed_by if fault.fixed_by is not None else DEFAULT_FIXED_BY.get(fault.kind, ())
            if ref in fixed_by and fault.start_s <= now < fault.end_s and self._ended.get(i) != cycle:
                self._ended[i] = cycle
                ended.append(fault.kind)
        return ended

    def channel_busy(self, channel: int) -> tuple[float, float]:
        """(busy ratio, noise dBm) of a channel now: neighbours that overlap it, plus interferers on it."""
        busy = 0.05 + sum(NEIGHBOUR_BUSY * overlap(channel, n.channel) * min(1.0, (n.signal_dbm + 95) / 50)
                          for n in NEIGHBOURS)
        noise = NOISE_FLOOR_DBM
        for fault in self.active_faults("interference"):
            if fault.channel is None or overlap(channel, fault.channel) > 0:
                share = 1.0 if fault.channel is None else overlap(channel, fault.channel)
                busy += fault.level * share
                noise += 12 * fault.level * share
        return busy, noise

    # RadioBackend
    def radio_status(self, interface: str) -> RadioStatus:
        if self.active_faults("radio_down"):
            raise RadioUnavailable(f"STATUS: no reply from hostapd on {interface} (simulated)")
        busy, noise = self.channel_busy(self.channel)
        busy *= self._rng.uniform(0.9, 1.1)
        noise += self._rng.gauss(0, 1.0)
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
            retry_share = min(0.9, max(0.02, (-signal - 55) / 50))
            self._retries[number] += int(500 * retry_share)
            result.append(StationStatus(
                mac=f"02:00:5e:00:00:{number:02x}", signal_dbm=round(signal, 1),
                tx_bitrate_mbps=round(max(6.5, 300 + 6 * (signal + 50)), 1), rx_bitrate_mbps=None,
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
            slow_ms = sum(f.level * DNS_SLOW_MAX_MS for f in self.active_faults("dns_slow"))
            latency = self._rng.uniform(6, 25) + slow_ms * self._rng.uniform(0.9, 1.1)
            dns = DnsProbe(RESOLVER_ADDRESS, ok=True, latency_ms=round(latency, 1), rcode="NOERROR")
        if self.active_faults("uplink_down") or self.active_faults("gateway_down"):
            uplink = UplinkProbe(UPLINK_ENDPOINT, ok=False, connect_ms=None, error="timeout")
        else:
            slow_ms = sum(f.level * UPLINK_SLOW_MAX_MS for f in self.active_faults("uplink_slow"))
            connect = self._rng.uniform(15, 40) + slow_ms * self._rng.uniform(0.9, 1.1)
            uplink = UplinkProbe(UPLINK_ENDPOINT, ok=True, connect_ms=round(connect, 1), error=None)
        mac = SWAPPED_GATEWAY_MAC if self.active_faults("gateway_swap") else GATEWAY_MAC
        return ConnectivityStatus(gateway=gateway, gateway_mac=mac if rtts else None, dns=(dns,), uplinks=(uplink,))

    def dhcp(self) -> DhcpProbe | None:
        if self.active_faults("gateway_down"):
            return DhcpProbe("eth0", ok=False, offer_ms=None, server=None, offered_address=None, error="no offer")
        return DhcpProbe("eth0", ok=True, offer_ms=round(self._rng.uniform(5, 30), 1), server=GATEWAY_ADDRESS,
                         offered_address="192.168.1.57", error=None)

    # ChannelRadio (the switch_channel action)
    def current_channel(self, interface: str) -> int | None:
        return None if self.active_faults("radio_down") else self.channel

    def channel_surveys(self, interface: str) -> list[ChannelSurvey]:
        """One second of survey counters per channel (the simulated driver surveys them all)."""
        surveys = []
        for channel in SIM_CHANNELS:
            busy, noise = self.channel_busy(channel)
            busy_ms = int(1000 * min(0.99, max(0.0, busy * self._rng.uniform(0.95, 1.05))))
            surveys.append(ChannelSurvey(channel, 1000, busy_ms, None, round(noise, 1)))
        return surveys

    def known_neighbours(self, interface: str) -> list[Neighbour]:
        return list(NEIGHBOURS)

    def switch_channel(self, interface: str, channel: int) -> SwitchResult:
        before, stations = self.channel, len(STATION_SIGNALS_DBM)
        if not self.config.csa_supported and not self.restart_fallback:
            return SwitchResult("failed", before, channel, "CHAN_SWITCH answered 'FAIL' and a restart is not "
                                "allowed by policy", stations, None)
        self.channel = channel
        self.apply_action(f"switch_channel:{channel}")
        if not self.config.csa_supported:
            return SwitchResult("restarted", before, channel, "CHAN_SWITCH answered 'FAIL': restarted hostapd on "
                                f"the new channel; {stations} of {stations} stations back", stations, stations)
        return SwitchResult("switched", before, channel, f"announced and finished; {stations} of {stations} "
                            "stations back", stations, stations)
