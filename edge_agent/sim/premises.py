"""A seeded radio and uplink whose faults follow the configured timeline.

Physics is simple but plausible: neighbour networks keep a channel 10–20 % busy (more where they overlap),
an interferer adds its duty cycle to the busy time and lifts the noise floor; lost probes are independent
draws. Services can be restarted and the access point moved: an action that fixes a fault ends it for the
rest of its window (it comes back at the next cycle, like a real recurring fault).

The access point's radio is on 2.4 GHz unless `[simulation] band` says otherwise (5 or 6 GHz, each with its own
neighbours and surveyed channels); its `iw phy` listing (phy_info_text) follows a European regulatory domain.
`[[simulation.radios]]` makes it a multi-radio gateway (a tri-band one: 2.4, 5 and 6 GHz): each radio has its own
channel, surveys and switches, and hears only the interference of its own band. The devices are on the first
radio; the others serve none.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass, field

from edge_agent.clock import Clock
from edge_agent.collectors.connectivity import ConnectivityStatus, DhcpProbe, DnsProbe, GatewayProbe, UplinkProbe
from edge_agent.collectors.wifi import RadioStatus, RadioUnavailable, StationStatus
from edge_agent.config import FaultConfig, SimulatedRadio, SimulationSection
from edge_agent.sim.camera_scene import SceneState
from edge_agent.sim.link_physics import phy_rate_for_signal, retry_share_for_signal
from edge_agent.wifi.channel_scoring import ChannelSurvey, Neighbour, overlap, surveys_from_deltas
from edge_agent.wifi.channel_switch import SwitchResult
from edge_agent.wifi.channels import CHANNELS, DFS_5GHZ, Band, Channel
from edge_agent.wifi.hardware import RadioHardware
from edge_agent.wifi.iw import SurveyEntry
from edge_agent.wifi.phy import PhyCapabilities, parse_phy

GATEWAY_ADDRESS = "192.168.1.1"  # a label on simulated samples; no packet is sent to it
RESOLVER_ADDRESS = "192.168.1.1"
UPLINK_ENDPOINT = "broker.example.net:8883"
GATEWAY_MAC = "02:00:5e:10:00:01"
SWAPPED_GATEWAY_MAC = "02:00:5e:66:66:66"
LATENCY_FAULT_MAX_MS = 200.0
DNS_SLOW_MAX_MS = 2000.0
UPLINK_SLOW_MAX_MS = 3000.0
# Devices by distance (m) and walls between them and the access point; signal follows a log-distance path loss.
STATIONS = ((5.0, 0), (8.0, 1), (12.0, 1))
AP_TX_POWER_DBM = 20.0
PATH_LOSS_1M_DB = 40.0  # 2.4 GHz free space at one metre
PATH_LOSS_EXPONENT = 3.5  # indoors, furniture and people
WALL_LOSS_DB = 6.0
WALK_AWAY = (25.0, 3)  # where `weak_station` takes the farthest device: the far bedroom
WALK_S = 20.0  # how long the walk takes
ROAMING_STATION = 2  # `station_roams`: this device moves to another access point (a mesh satellite) and back
SURVEY_RESET_EVERY = 97  # on average, one channel's survey counters reset once in this many readings (a driver quirk)
PINGS_PER_ROUND = 5
NOISE_FLOOR_DBM = -95.0
SIM_CHANNELS = tuple(range(1, 12))
# Other networks in the building: (channel, signal). Channel 1 is crowded, 11 nearly free.
NEIGHBOURS = (Neighbour(1, -62.0), Neighbour(1, -70.0), Neighbour(3, -78.0), Neighbour(6, -74.0),
              Neighbour(11, -85.0))
# The other bands: channels the driver surveys, and the neighbours heard there (5 and 6 GHz reach less far).
SIM_CHANNELS_BY_BAND = {
    Band.GHZ_2_4: SIM_CHANNELS,
    Band.GHZ_5: (36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140,
                 149, 153, 157, 161, 165),
    Band.GHZ_6: tuple(range(1, 234, 4)),
}
NEIGHBOURS_BY_BAND = {
    Band.GHZ_2_4: NEIGHBOURS,
    Band.GHZ_5: (Neighbour(36, -66.0, Band.GHZ_5, 80), Neighbour(149, -78.0, Band.GHZ_5, 80)),
    # A neighbour's 160 MHz 6 GHz network over channels 1-29, and a weak one on 69.
    Band.GHZ_6: (Neighbour(5, -64.0, Band.GHZ_6, 160), Neighbour(69, -82.0, Band.GHZ_6, 20)),
}
# European rules (EN 301 893, ETSI 6 GHz LPI): 2.4 GHz 1-13; 5 GHz 36-48 free, 52-140 after radar detection,
# 144-165 not allowed; 6 GHz only 5945-6425 MHz (channels 1-93), the rest disabled.
_EU_DISABLED = {Band.GHZ_2_4: range(14, 15), Band.GHZ_5: range(144, 178), Band.GHZ_6: range(97, 234)}
NEIGHBOUR_BUSY = 0.12  # airtime one loud overlapping neighbour takes
# What ends each fault kind when a fault names no `fixed_by` (a hung resolver needs a restart, not a flush).
DEFAULT_FIXED_BY = {
    "dns_down": ("restart_service:dnsmasq",),
    "radio_down": ("restart_radio", "restart_service:hostapd"),
}
SERVICES = ("dnsmasq", "hostapd", "mosquitto", "systemd-networkd")


def received_signal_dbm(distance_m: float, walls: int) -> float:
    """Log-distance path loss: what a device `distance_m` away behind `walls` walls hears of the AP."""
    path_loss = PATH_LOSS_1M_DB + 10 * PATH_LOSS_EXPONENT * math.log10(max(distance_m, 1.0))
    return AP_TX_POWER_DBM - path_loss - WALL_LOSS_DB * walls


@dataclass
class Radio:
    """One radio of the simulated gateway: where it is now, and its last two survey readings."""

    interface: str
    band: Band
    channel: int  # a number in `band`
    width_mhz: int
    index: int = 0  # its wiphy number (phy#N)
    surveys: tuple[dict[int, SurveyEntry], dict[int, SurveyEntry]] = field(default_factory=lambda: ({}, {}))

    @property
    def neighbours(self) -> tuple[Neighbour, ...]:
        return NEIGHBOURS_BY_BAND[self.band]


def configured_radios(config: SimulationSection) -> list[Radio]:
    """The radios `[simulation]` describes: its `radios`, or the one radio of channel, band and width_mhz."""
    listed: list[SimulatedRadio] = config.radios
    if not listed:
        return [Radio("wlan0", config.primary.band, config.channel, config.width_mhz)]
    return [Radio(r.interface, r.primary.band, r.channel, r.width_mhz, index)
            for index, r in enumerate(listed)]


class SimulatedPremises:
    def __init__(self, config: SimulationSection, clock: Clock):
        self.config = config
        self.clock = clock
        self.radios = configured_radios(config)
        self._start = clock.monotonic()
        self._rng = random.Random(config.seed)
        self._tx_packets = 0
        self._retries = dict.fromkeys(range(1, len(STATIONS) + 1), 0)
        self._ended: dict[int, int] = {}  # fault index -> the cycle in which an action ended it
        self.actions_done: list[str] = []
        self.restart_fallback = False  # may a channel switch restart the access point when CSA fails (policy)

    # The first radio's band, channel and width: a single-radio gateway's.
    @property
    def band(self) -> Band:
        return self.radios[0].band

    @property
    def channel(self) -> int:
        return self.radios[0].channel

    @channel.setter
    def channel(self, number: int) -> None:
        self.radios[0].channel = number

    @property
    def width_mhz(self) -> int:
        return self.radios[0].width_mhz

    def radio_names(self) -> list[str]:
        return [radio.interface for radio in self.radios]

    def radio(self, interface: str) -> Radio | None:
        """The radio behind `interface`; a single-radio gateway's one radio answers to any name (as before
        radios had names), a multi-radio one's only to its own."""
        if len(self.radios) == 1:
            return self.radios[0]
        return next((radio for radio in self.radios if radio.interface == interface), None)

    def _known_radio(self, interface: str) -> Radio:
        radio = self.radio(interface)
        if radio is None:
            raise RadioUnavailable(f"no radio {interface} on this gateway (simulated: "
                                   f"{', '.join(self.radio_names())})")
        return radio

    def channels(self) -> dict[str, int]:
        """Each radio's channel number now, by interface."""
        return {radio.interface: radio.channel for radio in self.radios}

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

    @property
    def band_neighbours(self) -> tuple[Neighbour, ...]:
        return self.radios[0].neighbours

    def channel_busy(self, channel: int, interface: str | None = None) -> tuple[float, float]:
        """(busy ratio, noise dBm) of a channel of a radio's band now (the first radio's without `interface`):
        neighbours that overlap it, plus interferers on it. An interferer is heard by the radio of its band only
        (a fault without a band: by every radio, its channel a number of that radio's band)."""
        radio = self.radios[0] if interface is None else self._known_radio(interface)
        here = Channel(radio.band, channel)
        busy = 0.05 + sum(NEIGHBOUR_BUSY * overlap(here, n.spectrum) * min(1.0, (n.signal_dbm + 95) / 50)
                          for n in radio.neighbours)
        noise = NOISE_FLOOR_DBM
        for fault in self.active_faults("interference"):
            if not _heard_on(fault, radio.band):
                continue
            there = None if fault.channel is None else Channel(radio.band, fault.channel)
            if there is None or overlap(here, there) > 0:
                share = 1.0 if there is None else overlap(here, there)
                busy += fault.level * share
                noise += 12 * fault.level * share
        return busy, noise

    # RadioBackend
    def radio_status(self, interface: str) -> RadioStatus:
        radio = self._known_radio(interface)
        if self.active_faults("radio_down"):
            raise RadioUnavailable(f"STATUS: no reply from hostapd on {interface} (simulated)")
        self.next_survey(interface)  # the driver surveys every channel meanwhile
        busy, noise = self.channel_busy(radio.channel, interface)
        busy *= self._rng.uniform(0.9, 1.1)
        noise += self._rng.gauss(0, 1.0)
        return RadioStatus(
            channel=radio.channel,
            freq_mhz=Channel(radio.band, radio.channel).freq_mhz,
            width_mhz=radio.width_mhz,
            noise_dbm=round(noise, 1),
            busy_ratio=round(min(max(busy, 0.0), 0.99), 3),
            tx_power_dbm=20.0,
            station_count=len(STATIONS) if radio is self.radios[0] else 0,
            band=radio.band.value,
        )

    def station_place(self, number: int) -> tuple[float, int]:
        """(distance m, walls) of station `number` now; `weak_station` walks the farthest one away over WALK_S."""
        distance, walls = STATIONS[number - 1]
        walking = self.active_faults("weak_station") if number == len(STATIONS) else []
        if walking:
            progress = min(1.0, (self.elapsed_s() - walking[0].start_s) / WALK_S)
            distance += (WALK_AWAY[0] - distance) * progress
            walls = walls + round((WALK_AWAY[1] - walls) * progress)
        return distance, walls

    def stations(self, interface: str) -> list[StationStatus]:
        """Three devices at different distances: signal from path loss and walls, shadowing noise on top; the
        weaker the signal the more of a device's frames need resending. They are the first radio's."""
        if self.radio(interface) is not self.radios[0]:
            return []
        self._tx_packets += 500
        result = []
        roamed = ROAMING_STATION if self.active_faults("station_roams") else None
        for number in range(1, len(STATIONS) + 1):
            if number == roamed:
                continue  # associated with the mesh satellite upstairs meanwhile: not ours to report
            distance, walls = self.station_place(number)
            signal = received_signal_dbm(distance, walls) + self._rng.gauss(0, 1.5)
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
        rtts = self._ping_burst(loss_probability, extra_ms)
        sent = PINGS_PER_ROUND
        if not rtts:  # like the real probe: a second burst before calling the gateway unreachable
            rtts = self._ping_burst(loss_probability, extra_ms)
            sent += PINGS_PER_ROUND if not rtts else 0
        gateway = GatewayProbe(
            address=GATEWAY_ADDRESS,
            sent=sent,
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

    def _ping_burst(self, loss_probability: float, extra_ms: float) -> list[float]:
        return [
            round(self._rng.lognormvariate(0.4, 0.3) + extra_ms * self._rng.uniform(0.8, 1.2), 2)
            for _ in range(PINGS_PER_ROUND)
            if self._rng.random() >= loss_probability
        ]

    def dhcp(self) -> DhcpProbe | None:
        if self.active_faults("gateway_down"):
            return DhcpProbe("eth0", ok=False, offer_ms=None, server=None, offered_address=None, error="no offer")
        return DhcpProbe("eth0", ok=True, offer_ms=round(self._rng.uniform(5, 30), 1), server=GATEWAY_ADDRESS,
                         offered_address="192.168.1.57", error=None)

    # ChannelRadio (the switch_channel action)
    def current_channel(self, interface: str) -> int | Channel | None:
        """The number on 2.4 GHz (as before bands), the Channel on 5 and 6 GHz, None while the radio is down
        (or for a radio the gateway does not have)."""
        radio = self.radio(interface)
        if radio is None or self.active_faults("radio_down"):
            return None
        return radio.channel if radio.band is Band.GHZ_2_4 else Channel(radio.band, radio.channel)

    def current_width(self, interface: str) -> int | None:
        radio = self.radio(interface)
        return None if radio is None else radio.width_mhz

    def phy_capabilities(self, interface: str) -> PhyCapabilities | None:
        radio = self.radio(interface)
        return None if radio is None else parse_phy(phy_info_text(radio.band, self.config.csa_supported))

    def hardware(self, interface: str) -> RadioHardware:
        return RadioHardware(interface, self.phy_capabilities(interface), survey=True)

    def channel_surveys(self, interface: str) -> list[ChannelSurvey]:
        """Per channel, the change of cumulative survey counters since the last reading, through the same
        delta code as real `iw survey dump` output — including a driver that now and then resets a channel's
        counters (that channel then has no reading this time, never a negative one)."""
        radio = self.radio(interface)
        if radio is None:
            return []
        previous, latest = radio.surveys
        return surveys_from_deltas((previous[c], latest[c]) for c in SIM_CHANNELS_BY_BAND[radio.band]
                                   if c in previous and c in latest)

    def next_survey(self, interface: str | None = None) -> dict[int, SurveyEntry]:
        """Read a radio's counters once more (what `iw survey dump` does), keeping the last two readings."""
        radio = self.radios[0] if interface is None else self._known_radio(interface)
        radio.surveys = (radio.surveys[1], self.survey_dump(radio))
        return radio.surveys[1]

    def survey_dump(self, radio: Radio | None = None) -> dict[int, SurveyEntry]:
        """Cumulative counters per channel of a radio (the first without `radio`), as a driver keeps them: one
        more second of air time each reading (the scores compare channels with each other, so the real interval
        does not matter)."""
        radio = radio or self.radios[0]
        dump = {}
        for channel in SIM_CHANNELS_BY_BAND[radio.band]:
            busy, noise = self.channel_busy(channel, radio.interface)
            before = radio.surveys[1].get(channel)
            active, busy_total = (before.active_ms, before.busy_ms) if before else (0, 0)
            if before is not None and self._rng.randrange(SURVEY_RESET_EVERY) == 0:
                active, busy_total = 0, 0  # the driver reset this channel's counters
            busy_ms = int(1000 * min(0.99, max(0.0, busy * self._rng.uniform(0.95, 1.05))))
            dump[channel] = SurveyEntry(Channel(radio.band, channel).freq_mhz, channel, channel == radio.channel,
                                        round(noise, 1), active + 1000, busy_total + busy_ms, None, None)
        return dump

    def known_neighbours(self, interface: str) -> list[Neighbour]:
        radio = self.radio(interface)
        return [] if radio is None else list(radio.neighbours)

    def switch_channel(self, interface: str, channel: int | Channel) -> SwitchResult:
        """Move `interface`'s radio, and only it, to a channel of its band."""
        radio = self.radio(interface)
        number = channel.number if isinstance(channel, Channel) else channel
        if radio is None:
            return SwitchResult("failed", None, number, f"no radio {interface} on this gateway", 0, None)
        before, stations = radio.channel, len(STATIONS) if radio is self.radios[0] else 0
        if isinstance(channel, Channel):
            if channel.band is not radio.band:
                return SwitchResult("failed", before, channel.number, f"channel {channel} is not in the radio's "
                                    f"band ({radio.band.value})", stations, None, radio.band)
            channel = channel.number
        if not self.config.csa_supported and not self.restart_fallback:
            return SwitchResult("failed", before, channel, "CHAN_SWITCH answered 'FAIL' and a restart is not "
                                "allowed by policy", stations, None)
        radio.channel = channel
        self.apply_action(f"switch_channel:{channel}")
        if not self.config.csa_supported:
            return SwitchResult("restarted", before, channel, "CHAN_SWITCH answered 'FAIL': restarted hostapd on "
                                f"the new channel; {stations} of {stations} stations back", stations, stations)
        return SwitchResult("switched", before, channel, f"announced and finished; {stations} of {stations} "
                            "stations back", stations, stations)

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


_FAULT_BANDS = {2.4: Band.GHZ_2_4, 5: Band.GHZ_5, 6: Band.GHZ_6}


def _heard_on(fault: FaultConfig, band: Band) -> bool:
    """Whether an interference fault reaches a radio of `band`: one of its band, or one without a band whose
    channel (if any) exists in `band`."""
    if fault.band is not None:
        return band is _FAULT_BANDS[fault.band]
    return fault.channel is None or fault.channel in CHANNELS[band]


def phy_info_text(band: Band, csa_supported: bool) -> str:
    """`iw phy phy0 info` of the simulated radio, in iw's format: one band's channels with European regulatory
    flags, and a command list that holds channel_switch only where the driver can announce a switch."""
    number = {Band.GHZ_2_4: 1, Band.GHZ_5: 2, Band.GHZ_6: 4}[band]
    lines = ["Wiphy phy0", f"\tBand {number}:", "\t\tFrequencies:"]
    for channel in sorted(set(SIM_CHANNELS_BY_BAND[band]) | set(_EU_DISABLED[band]) & set(CHANNELS[band])):
        item = Channel(band, channel)
        if channel in _EU_DISABLED[band]:
            flags = "(disabled)"
        elif band is Band.GHZ_5 and channel in DFS_5GHZ:
            flags = "(20.0 dBm) (no IR, radar detection)"
        else:
            flags = "(20.0 dBm)"
        lines.append(f"\t\t\t* {item.freq_mhz}.0 MHz [{channel}] {flags}")
    commands = ["new_interface", "set_interface", "new_key", "start_ap", "new_station", "set_bss", "set_channel",
                "frame", "set_wiphy_netns"]
    if csa_supported:
        commands.append("channel_switch")
    lines += ["\tSupported commands:", *(f"\t\t * {c}" for c in commands)]
    return "\n".join(lines) + "\n"
