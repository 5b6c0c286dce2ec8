"""One validated configuration model, loaded from a TOML file plus secrets from the environment."""

from __future__ import annotations

import codecs
import ipaddress
import json
import math
import os
import re
import socket
import stat
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal

from edge_agent.remediation.refs import parse_ref
from edge_agent.remediation.settings import RemediationSection
from edge_agent.schema import (
    BeforeValidator,
    Field,
    Record,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from edge_agent.wifi.channels import Band, Channel, blocks, legacy_channel

# The config file format. A change that renames or reshapes keys bumps it and adds a step to MIGRATIONS,
# so files written for an older agent keep working after an upgrade.
CONFIG_VERSION = 1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}  # version N -> N + 1

DEFAULT_CONFIG_PATH = Path("/etc/edge-agent/edge-agent.toml")

# Bounds on the file itself, checked before and right after parsing, so that no content can make loading raise
# anything but ConfigError (a SIGHUP reload keeps the old config instead of dying). The deepest key the model
# has is four levels down (remediation.policy.TYPE.ladder); tomllib recurses once per level and would raise
# RecursionError near a thousand.
MAX_CONFIG_BYTES = 1 << 20
MAX_NESTING = 16
MAX_PROBLEM_CHARS = 300

# Floors that keep a typo such as 1e-9 from turning a loop into a busy loop.
MIN_COLLECTOR_INTERVAL_S = 0.5
MIN_PROBE_TIMEOUT_S = 0.05
MIN_HEALTH_INTERVAL_S = 1.0
MIN_SIMULATION_CYCLE_S = 1.0

# Secrets stay out of the file when the operator prefers: these variables override the named keys.
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "EDGE_AGENT_MQTT_USERNAME": ("mqtt", "username"),
    "EDGE_AGENT_MQTT_PASSWORD": ("mqtt", "password"),
    "EDGE_AGENT_MQTT_CA_FILE": ("mqtt", "ca_file"),
    "EDGE_AGENT_MQTT_CERT_FILE": ("mqtt", "cert_file"),
    "EDGE_AGENT_MQTT_KEY_FILE": ("mqtt", "key_file"),
}


class ConfigError(Exception):
    """The configuration cannot be used; `problems` are one line each, naming the key."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class _Section(Record):
    """Frozen, refuses unknown keys and numbers that are not finite (edge_agent.schema)."""


def _path_text(value: Any) -> Any:
    """A path as text; anything else is left for the type check's own error."""
    return str(value) if isinstance(value, PurePath) else value


def _non_empty_path(value: Any) -> Any:
    text = _path_text(value)
    if isinstance(text, str):
        if not text.strip():
            raise ValueError("must not be empty (leave the key out for the default)")
        if "\x00" in text:
            raise ValueError("must not contain a NUL character")
        if len(text) > 4096:
            raise ValueError("longer than 4096 characters, the longest path Linux accepts")
    return value


def _absolute_path(value: Any) -> Any:
    text = _path_text(_non_empty_path(value))
    if isinstance(text, str) and not text.startswith("/"):
        raise ValueError("must be an absolute path (starting with /): the agent's working directory is not yours")
    return value


# An empty string would otherwise become Path("."), and a relative path depends on where the agent started.
AbsolutePath = Annotated[Path, BeforeValidator(_absolute_path)]
NonEmptyPath = Annotated[Path, BeforeValidator(_non_empty_path)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]

DEVICE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Host names that images and distributions ship with: a fleet of gateways would all share them.
GENERIC_HOSTNAMES = frozenset({"", "localhost", "raspberrypi", "raspberry", "debian", "ubuntu", "dietpi", "pi",
                               "openwrt", "armbian", "orangepi", "rockpi", "gateway", "(none)"})


def derive_device_id(hostname: str, machine_id: str | None) -> str:
    """The host name when it is a valid id of its own, else `gw-` and the start of /etc/machine-id."""
    short = hostname.split(".")[0]
    if DEVICE_ID.match(short) and short.lower() not in GENERIC_HOSTNAMES:
        return short
    machine = re.sub(r"[^0-9a-f]", "", (machine_id or "").lower())
    if machine:
        return f"gw-{machine[:12]}"
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", short).strip("-.")[:64]
    return cleaned or "gw-unnamed"


def _machine_device_id() -> str:
    try:
        machine_id = Path("/etc/machine-id").read_text(errors="replace")[:64]
    except OSError:
        machine_id = None
    return derive_device_id(socket.gethostname(), machine_id)


class AgentSection(_Section):
    device_id: str = Field(default_factory=_machine_device_id, pattern=DEVICE_ID.pattern)
    site_id: str = Field("unassigned", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    state_dir: AbsolutePath | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "text", "journal", "json"] = "auto"
    log_file: AbsolutePath | None = None
    log_file_max_bytes: int = Field(1_000_000, ge=10_000, le=1 << 30)
    log_file_backups: int = Field(3, ge=0, le=20)


class PremisesSection(_Section):
    mode: Literal["hardware", "simulated"] = Field(
        "hardware", description="hardware: the real radio and probes (a box without a radio runs wired-only); "
        "simulated: only when asked, never as a fallback")

    @field_validator("mode", mode="before")
    @classmethod
    def _auto_is_hardware(cls, value: Any) -> Any:
        # "auto" once simulated wherever no radio was found, and a wired-only gateway reported fiction. Older files
        # keep loading, with the only safe meaning.
        return "hardware" if value == "auto" else value


GROUP_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$"


UNIX_SOCKET_PATH_MAX = 107  # bytes in sockaddr_un.sun_path, less its terminating NUL (Linux)


class ControlSection(_Section):
    socket_path: AbsolutePath | None = None
    group: str | None = Field(None, pattern=GROUP_NAME)
    admin_group: str | None = Field(None, pattern=GROUP_NAME)

    @field_validator("socket_path")
    @classmethod
    def _fits_a_socket_address(cls, value: Path | None) -> Path | None:
        # Longer passes every path check and fails only at bind(), with "AF_UNIX path too long" naming no key.
        size = len(str(value).encode("utf-8", "surrogateescape")) if value is not None else 0
        if size > UNIX_SOCKET_PATH_MAX:
            raise ValueError(f"is {size} bytes long; a Unix socket's path holds at most {UNIX_SOCKET_PATH_MAX}")
        return value


class Hysteresis(_Section):
    open_after: int = Field(3, ge=1, le=100)
    resolve_after: int = Field(3, ge=1, le=100)


def _default_per_type() -> dict[str, Hysteresis]:
    return {
        # A gateway answering from a new MAC may be a spoofer: say so at once.
        "gateway_mac_changed": Hysteresis(open_after=1, resolve_after=1),
        # The probe already confirms an unreachable gateway with a second burst within the round.
        "gateway_unreachable": Hysteresis(open_after=1, resolve_after=3),
        # Two MACs answering for the gateway in one round is already the proof.
        "ip_conflict": Hysteresis(open_after=1, resolve_after=3),
        # One sample per DHCP or path-MTU check (tens of seconds apart): two in a row to open, and one good
        # answer is proof enough that the server or the path is back.
        "dhcp_failure": Hysteresis(open_after=2, resolve_after=1),
        "pmtu_blackhole": Hysteresis(open_after=2, resolve_after=1),
        # Two servers answering one DISCOVER is the proof. Two checks without the rogue resolve it: at the pace
        # of checks after a sighting (about 10 s apart, probes/checks.py) that is within hold_down_s of its last
        # OFFER, so a rogue answering only now and then is reopened as intermittent, not a new issue (with three,
        # every return after the resolution came too late for that and opened another one).
        "dhcp_rogue_server": Hysteresis(open_after=1, resolve_after=2),
        # Another device answering for the host's own address is the proof; one sample per check (30 s apart).
        "address_conflict": Hysteresis(open_after=1, resolve_after=2),
        # Judged over the last minutes by the publisher already (reporting/path_health.py).
        "reporting_degraded": Hysteresis(open_after=1, resolve_after=2),
    }


class IssuesSection(_Section):
    open_after: int = Field(3, ge=1, le=100)
    resolve_after: int = Field(3, ge=1, le=100)
    history_size: int = Field(200, ge=1, le=10_000)
    per_type: dict[str, Hysteresis] = Field(default_factory=_default_per_type, max_length=256)
    hold_down_s: float = Field(
        30.0, ge=0, le=86_400,
        description="a fault back within this long of its last bad sample is the same issue, marked intermittent "
        "and held open until it stays away for twice its longest gap between drops (at least this); 0: no damping")
    hold_down_max_s: float = Field(600.0, ge=0, le=86_400, description="the longest an intermittent issue is held")

    @model_validator(mode="after")
    def _hold_down_order(self) -> IssuesSection:
        if self.hold_down_max_s < self.hold_down_s:
            raise ValueError(f"hold_down_max_s ({self.hold_down_max_s}) must be at least hold_down_s "
                             f"({self.hold_down_s})")
        return self

    @field_validator("per_type")
    @classmethod
    def _keep_defaults(cls, value: dict[str, Hysteresis]) -> dict[str, Hysteresis]:
        return {**_default_per_type(), **value}  # naming one type must not drop the shipped defaults


class _CollectorSection(_Section):
    enabled: bool = True
    interval_s: float = Field(10.0, ge=MIN_COLLECTOR_INTERVAL_S, le=86_400)


class SystemCollectorConfig(_CollectorSection):
    watched_processes: list[Name] = Field(default_factory=list, max_length=64)
    disk_paths: list[Annotated[str, BeforeValidator(_absolute_path)]] = Field(
        default_factory=lambda: ["/"], max_length=32)


class InterfacesCollectorConfig(_CollectorSection):
    include: list[Name] = Field(default_factory=list, max_length=64)
    exclude: list[Name] = Field(default_factory=lambda: ["lo"], max_length=64)


WifiInterface = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,15}$")]


class WifiCollectorConfig(_CollectorSection):
    interval_s: float = Field(5.0, ge=MIN_COLLECTOR_INTERVAL_S, le=86_400)
    interface: str = Field("wlan0", pattern=r"^[A-Za-z0-9_.-]{1,15}$",
                           description="the radio read when `interfaces` is not set; with it, the default radio "
                           "of actions that name none")
    interfaces: list[WifiInterface] | Literal["auto"] | None = Field(
        None, max_length=16, description='every radio to read, each on its own (e.g. ["wlan0", "wlan1", '
        '"wlan2"]); "auto": every hostapd control socket in hostapd_ctrl_dir (at most 16), else every AP '
        "interface `iw dev` lists; not set: `interface` alone")
    hostapd_ctrl_dir: AbsolutePath = Path("/run/hostapd")
    hostapd_conf_dir: AbsolutePath = Field(
        Path("/etc/hostapd"), description="where hostapd's configuration lives: a radio an `interface=` line there "
        "names is meant to be served, so it is watched (and hostapd restarted) even when hostapd is not running")
    scan_interval_s: float = Field(900.0, ge=60, le=86_400)

    @field_validator("interfaces")
    @classmethod
    def _distinct_radios(cls, value: list[str] | str | None) -> list[str] | str | None:
        if isinstance(value, list):
            if not value:
                raise ValueError('name at least one radio, or "auto"')
            if any(name in (".", "..") for name in value) or len(set(value)) != len(value):
                raise ValueError("each radio once, by its interface name")
        return value

    @property
    def default_interface(self) -> str:
        """The radio an action without a target acts on: `interface` if set, else the first listed radio."""
        if isinstance(self.interfaces, list) and "interface" not in self.model_fields_set:
            return self.interfaces[0]
        return self.interface


# A DNS name: labels of 1-63 letters, digits, '-' or '_', dot-separated, 253 characters at most.
DnsName = Annotated[str, StringConstraints(
    max_length=253, pattern=r"^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}"
    r"[A-Za-z0-9_])?\.?$")]


class ConnectivityCollectorConfig(_CollectorSection):
    interval_s: float = Field(5.0, ge=MIN_COLLECTOR_INTERVAL_S, le=86_400)
    gateway: str = Field("auto", max_length=64, description="the gateway's address, or auto (the default route's)")
    interface: str = Field("auto", max_length=15, description="the interface towards the gateway, or auto")
    resolvers: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=list, max_length=8, description="empty: the nameservers of /etc/resolv.conf")
    dns_query: str = Field("example.com", min_length=1, max_length=253)
    uplink_endpoints: list[Annotated[str, StringConstraints(max_length=260)]] = Field(
        default_factory=list, max_length=16)
    pings_per_round: int = Field(5, ge=1, le=50)
    timeout_s: float = Field(1.0, ge=MIN_PROBE_TIMEOUT_S, le=10)
    dhcp_check_interval_s: float = Field(
        30.0, ge=0, le=86_400, description="a DHCP DISCOVER (never a REQUEST: no lease is taken) this often, and "
        "the host's lease files read; every dhcp_retry_s while it fails; 0: only on diagnose")
    dhcp_retry_s: float = Field(5.0, ge=1, le=3600)
    dhcp_timeout_s: float = Field(4.0, ge=0.5, le=30, description="how long to wait for an OFFER (a server that "
                                  "pings an address before offering it takes ~3 s)")
    dhcp_lease_files: list[Annotated[str, StringConstraints(max_length=256)]] | None = Field(
        None, max_length=16, description="globs of the DHCP client's lease files; unset: the usual places of "
        "dhclient, dhcpcd, systemd-networkd and NetworkManager")
    dhcp_known_servers: list[Annotated[str, StringConstraints(max_length=17)]] = Field(
        default_factory=list, max_length=8, description="DHCP servers that may answer beside the network's own "
        "(a failover pair), by server address or MAC address; any other second server is dhcp_rogue_server")
    pmtu_check_interval_s: float = Field(
        30.0, ge=0, le=86_400, description="echoes with Don't Fragment of several sizes to the gateway, the "
        "uplink hosts and pmtu_targets this often (a few packets), every dhcp_retry_s while suspect; 0: never")
    pmtu_targets: list[Annotated[str, StringConstraints(max_length=64)]] = Field(default_factory=list, max_length=8)
    address_check_interval_s: float = Field(
        30.0, ge=0, le=86_400, description="asks who else holds this host's own IPv4 address this often (one ARP "
        "probe from 0.0.0.0, as RFC 5227 does): an answer is another device using it, address_conflict; 0: never")
    dns_reference_resolvers: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=list, max_length=4, description="resolvers the host does not use, asked the consistency "
        "names beside the host's own to compare their answers (e.g. the provider's, or a public one); never judged")
    dns_consistency_names: list[DnsName] | None = Field(
        None, max_length=4, description="public names asked of every resolver to compare their answers; unset: "
        "dns_query when it is a public name; []: no comparison")
    dns_consistency_interval_s: float = Field(
        60.0, ge=0, le=86_400, description="the resolvers are compared this often, where there are at least two "
        "(the host's and dns_reference_resolvers); 0: never")
    dns_certificate_check: bool = Field(
        True, description="where a host resolver's answer for a consistency name shares no address with the other "
        "resolvers', one TLS handshake to port 443 of each (the name as SNI, the host's trusted CAs) tells which "
        "holds the name's certificate, so a resolver lying from its first answer is caught; remembered an hour; "
        "false: never")

    @field_validator("gateway", "interface")
    @classmethod
    def _auto_or_value(cls, value: str) -> str:
        return value.strip() or "auto"

    @field_validator("resolvers", "gateway", "pmtu_targets", "dns_reference_resolvers")
    @classmethod
    def _addresses(cls, value):
        for address in [value] if isinstance(value, str) else value:
            if address != "auto":
                ipaddress.ip_address(address)  # ValueError names the bad address
        return value

    @field_validator("dhcp_known_servers")
    @classmethod
    def _server_or_mac(cls, servers: list[str]) -> list[str]:
        known = []
        for server in servers:
            if re.fullmatch(r"([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}", server):
                known.append(server.lower())
                continue
            try:
                known.append(str(ipaddress.IPv4Address(server)))
            except ValueError:
                raise ValueError(f"{server!r} is neither an IPv4 address nor a MAC address (aa:bb:cc:dd:ee:ff)"
                                 ) from None
        return known

    @field_validator("uplink_endpoints")
    @classmethod
    def _host_port(cls, endpoints: list[str]) -> list[str]:
        for endpoint in endpoints:
            host, _, port = endpoint.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65_536:
                raise ValueError(f"{endpoint!r} is not host:port")
        return endpoints


class CollectorsSection(_Section):
    system: SystemCollectorConfig = SystemCollectorConfig()
    interfaces: InterfacesCollectorConfig = InterfacesCollectorConfig()
    wifi: WifiCollectorConfig = WifiCollectorConfig()
    connectivity: ConnectivityCollectorConfig = ConnectivityCollectorConfig()


class SystemThresholds(_Section):
    cpu_percent_max: float = Field(90.0, gt=0, le=100)
    memory_percent_max: float = Field(90.0, gt=0, le=100)
    disk_percent_max: float = Field(90.0, gt=0, le=100)
    temperature_c_max: float = Field(80.0, gt=0, le=150)


class InterfaceThresholds(_Section):
    errors_per_s_max: float = Field(1.0, ge=0)
    drops_per_s_max: float = Field(5.0, ge=0)


class WifiThresholds(_Section):
    channel_busy_ratio_max: float = Field(0.6, gt=0, le=1)
    noise_dbm_max: float = Field(-80.0, ge=-120, le=0)
    station_signal_dbm_min: float = Field(-75.0, ge=-120, le=0)
    station_retry_ratio_max: float = Field(0.3, gt=0, le=10)


class ConnectivityThresholds(_Section):
    gateway_loss_pct_max: float = Field(10.0, ge=0, le=100)
    gateway_rtt_ms_max: float = Field(100.0, gt=0)
    gateway_jitter_ms_max: float = Field(30.0, gt=0)
    dns_latency_ms_max: float = Field(500.0, gt=0)
    # The addresses or networks the probe name must resolve into; any other answer is a lying resolver. Empty:
    # any answer but a sinkhole (0.0.0.0/8, ::, loopback) or, for a public name, a private address.
    dns_expected_answers: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=list, max_length=32)
    dns_private_answers_ok: bool = Field(False, description="a split-horizon resolver: private answers for "
                                         "public names are expected")
    dns_disagree_checks: int = Field(
        3, ge=1, le=100, description="resolver comparisons in a row in which a resolver answers nothing (not even in "
        "the same /24 or /48) of what the others agree on before it is called a liar")
    dns_varying_names: list[DnsName] = Field(
        default_factory=list, max_length=32, description="names (and their subdomains) whose answers legitimately "
        "differ between resolvers, such as a CDN's that answers by the resolver's location: never compared")
    uplink_connect_ms_max: float = Field(1000.0, gt=0)
    # An uplink whose connections fail on and off more often than this (with the loss confidence) is unreliable.
    uplink_failure_pct_max: float = Field(10.0, gt=0, le=100)
    # Trend: the last `trend_window` rounds against the device's own baseline, learned over `trend_warmup` rounds.
    trend_window: int = Field(5, ge=2, le=100)
    trend_warmup: int = Field(10, ge=2, le=10_000)
    trend_rtt_ratio: float = Field(3.0, gt=1)
    trend_rtt_min_delta_ms: float = Field(15.0, ge=0)
    trend_loss_delta_pct: float = Field(5.0, gt=0, le=100)
    # A baseline below this is compared as this much: sub-millisecond LANs make ratios meaningless.
    trend_rtt_floor_ms: float = Field(1.0, ge=0, le=1000)
    # The trend limit is also at least this many (scaled) median absolute deviations above the baseline.
    trend_rtt_mad_k: float = Field(4.0, ge=0, le=100)
    # Loss is judged over the last loss_window_probes probes, needs loss_min_probes to say anything, and is
    # called above or below a limit only when the confidence bound (one-sided) says so; the last
    # loss_recent_probes alone can give the all-clear after a repair.
    loss_window_probes: int = Field(100, ge=5, le=10_000)
    loss_recent_probes: int = Field(60, ge=5, le=10_000)
    loss_min_probes: int = Field(10, ge=1, le=10_000)
    loss_confidence: float = Field(0.95, gt=0.5, lt=1)
    # Symptoms of one cause (high/rising latency and jitter; high/rising loss) stay one issue until the group
    # has been clear this many rounds.
    symptom_quiet_rounds: int = Field(10, ge=1, le=1000)
    # A new gateway MAC is accepted as the real one after this many rounds (a legitimately replaced router).
    gateway_mac_adopt_after: int = Field(60, ge=1)

    @field_validator("dns_expected_answers")
    @classmethod
    def _networks(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return entries


class DetectorsSection(_Section):
    system: SystemThresholds = SystemThresholds()
    interfaces: InterfaceThresholds = InterfaceThresholds()
    wifi: WifiThresholds = WifiThresholds()
    connectivity: ConnectivityThresholds = ConnectivityThresholds()


class FaultConfig(_Section):
    """One scripted fault on the simulated premises, active from start_s to end_s of each cycle."""

    kind: Literal["interference", "uplink_loss", "dns_down", "gateway_down", "uplink_down", "latency", "gateway_swap",
                  "weak_station", "station_roams", "radio_down", "dns_slow", "uplink_slow",
                  "led_red", "led_off", "cable_unplugged", "obstructed", "camera_down"]
    start_s: float = Field(ge=0)
    end_s: float = Field(gt=0)
    channel: int | None = Field(None, ge=1, le=233, description="interference: a channel number of the radio's band")
    band: Literal[2.4, 5, 6] | None = Field(
        None, description="interference: the band in GHz it is on (a gateway with several radios: only the radio of "
        "that band hears it); none: every radio's own band")
    level: float = Field(
        0.5, ge=0, le=1,
        description="interference: busy ratio added; uplink_loss: fraction of probes lost; latency: x 200 ms added; "
        "dns_slow: x 2000 ms per lookup; uplink_slow: x 3000 ms per connection",
    )
    fixed_by: list[str] | None = Field(
        None, max_length=16,
        description="actions that end the fault for this cycle (None: the simulator's defaults for the kind)")

    @field_validator("fixed_by")
    @classmethod
    def _action_refs(cls, refs: list[str] | None) -> list[str] | None:
        for ref in refs or []:
            parse_ref(ref)  # ValueError names the bad ref
        return refs

    @model_validator(mode="after")
    def _end_after_start(self) -> FaultConfig:
        if self.end_s <= self.start_s:
            raise ValueError(f"end_s ({self.end_s}) must be after start_s ({self.start_s})")
        return self

    @model_validator(mode="after")
    def _channel_in_band(self) -> FaultConfig:
        if self.band is not None and self.channel is not None:
            Channel(_SIM_BANDS[self.band], self.channel)  # ValueError names a number the band has no channel at
        return self


def _demo_faults() -> list[FaultConfig]:
    return [
        FaultConfig(kind="interference", channel=6, start_s=20, end_s=60, level=0.55),
        FaultConfig(kind="dns_down", start_s=80, end_s=150),
        FaultConfig(kind="weak_station", start_s=155, end_s=178),
        FaultConfig(kind="cable_unplugged", start_s=70, end_s=95),
    ]


_SIM_BANDS = {2.4: Band.GHZ_2_4, 5: Band.GHZ_5, 6: Band.GHZ_6}


def _holding(primary: Channel, width_mhz: int, who: str = "") -> None:
    """ValueError unless `primary` can be the primary channel of a `width_mhz` channel."""
    if not blocks(primary, width_mhz):
        raise ValueError(f"{who}channel {primary} cannot hold a {width_mhz} MHz channel")


class SimulatedRadio(_Section):
    """[[simulation.radios]]: one radio of a multi-radio simulated gateway."""

    interface: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,15}$")
    band: Literal[2.4, 5, 6]
    channel: int = Field(ge=1, le=233, description="a channel number of `band`")
    width_mhz: int = 20

    @model_validator(mode="after")
    def _channel_in_band(self) -> SimulatedRadio:
        _holding(self.primary, self.width_mhz, f"{self.interface}: ")  # self.primary names a number not in band
        return self

    @property
    def primary(self) -> Channel:
        return Channel(_SIM_BANDS[self.band], self.channel)


class SimulationSection(_Section):
    seed: int = Field(1, ge=0, le=2**32 - 1)  # numpy's generators take seeds in this range
    speed: float = Field(1.0, gt=0, le=1000)
    channel: int = Field(6, ge=1, le=233)
    band: Literal[2.4, 5, 6] | None = Field(
        None, description="the access point's band in GHz; none: the band the channel number meant before 6 GHz "
        "(1-14: 2.4 GHz, 5 GHz numbers: 5 GHz). 6: a 6 GHz radio (set channel to one of its channels, e.g. 37)")
    width_mhz: int = Field(20, description="the access point's channel width; the channel must hold it")
    csa_supported: bool = Field(True, description="false: the driver lists no channel_switch (iw phy) and the "
                                "access point answers CHAN_SWITCH with FAIL")
    hostapd_emulation: bool = Field(
        False, description="serve the simulated access point on a hostapd control socket and as iw output, so the "
        "hardware Wi-Fi stack (HostapdRadio, ChannelSwitcher) runs on the simulation")
    cycle_s: float | None = Field(180.0, ge=MIN_SIMULATION_CYCLE_S)
    faults: list[FaultConfig] = Field(default_factory=_demo_faults, max_length=256)
    radios: list[SimulatedRadio] = Field(
        default_factory=list, max_length=8, description="a multi-radio gateway's radios, each with its own band, "
        "channel and width (channel, band and width_mhz above then go unused); empty: one radio")

    @field_validator("radios")
    @classmethod
    def _distinct_radios(cls, radios: list[SimulatedRadio]) -> list[SimulatedRadio]:
        if len({radio.interface for radio in radios}) != len(radios):
            raise ValueError("each simulated radio needs an interface name of its own")
        return radios

    @model_validator(mode="after")
    def _channel_in_band(self) -> SimulationSection:
        _holding(self.primary, self.width_mhz)  # self.primary names a number the band has no channel at
        return self

    @property
    def primary(self) -> Channel:
        """The access point's channel with its band."""
        bands = {2.4: Band.GHZ_2_4, 5: Band.GHZ_5, 6: Band.GHZ_6}
        return legacy_channel(self.channel) if self.band is None else Channel(bands[self.band], self.channel)

    @model_validator(mode="after")
    def _faults_inside_cycle(self) -> SimulationSection:
        for fault in self.faults:
            if self.cycle_s is not None and fault.end_s > self.cycle_s:
                raise ValueError(f"a {fault.kind} fault ends at {fault.end_s} s, after cycle_s ({self.cycle_s} s)")
        return self


class ReportingStream(_Section):
    """[reporting.streams.<family>]: a stream family's own report window and heartbeat (default: [reporting]'s)."""

    report_interval_s: float | None = Field(None, ge=1, le=86_400)
    heartbeat_s: float | None = Field(None, ge=1, le=7 * 86_400)


StreamFamily = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
DeadbandKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,64}(\.[A-Za-z0-9_]{1,64}){0,3}$")]


class ReportingSection(_Section):
    journal_max_bytes: int = Field(5_000_000, ge=10_000, le=1 << 30)
    agent_health_interval_s: float = Field(60.0, ge=MIN_HEALTH_INTERVAL_S, le=86_400)
    outbox_max_bytes: int = Field(20_000_000, ge=100_000, le=1 << 34)
    outbox_sync: Literal["full", "normal"] = "full"
    # Telemetry contract v2 (reporting/telemetry_window.py): sample fast, report slow. v1: one message per sample.
    contract: Literal["v1", "v2"] = "v2"
    report_interval_s: float = Field(120.0, ge=1, le=86_400)
    heartbeat_s: float = Field(900.0, ge=1, le=7 * 86_400)
    streams: dict[StreamFamily, ReportingStream] = Field(default_factory=dict, max_length=64)
    deadbands: dict[DeadbandKey, Annotated[float, Field(ge=0)]] = Field(default_factory=dict, max_length=256)
    histogram_fields: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,64}$")]] = Field(
        default_factory=lambda: ["rtt_ms", "latency_ms", "connect_ms"], max_length=64)


LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})


def is_loopback_host(host: str) -> bool:
    """True for names and addresses that never leave this machine (RFC 6761 reserves localhost)."""
    name = host.lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


class MqttSection(_Section):
    enabled: bool = False
    host: str = Field("localhost", pattern=r"^[A-Za-z0-9_.:%\[\]-]{1,253}$")
    port: int = Field(8883, ge=1, le=65_535)
    username: str | None = Field(None, min_length=1, max_length=256)
    password: SecretStr | None = Field(None, max_length=1024)
    topic_prefix: str = Field("edge/v1", max_length=128, pattern=r"^[^#+]+$")
    keepalive_s: int = Field(60, ge=5, le=3600)
    tls: bool | Literal["auto"] = Field(
        "auto", description="auto: TLS to every broker that is not on this machine, or when a TLS file is named")
    allow_insecure: bool = Field(
        False, description="let a password travel without TLS to a broker on another machine (a lab, never a site)")
    ca_file: AbsolutePath | None = Field(None, description="none: the system's CA store")
    cert_file: AbsolutePath | None = None
    key_file: AbsolutePath | None = None
    home_assistant: bool = Field(False, description="announce health sensors by Home Assistant MQTT discovery")
    home_assistant_prefix: str = Field("homeassistant", pattern=r"^[A-Za-z0-9_/-]{1,64}$")
    home_assistant_client_details: bool = Field(
        False, description="put Wi-Fi client MAC addresses in ha/state (every subscriber sees them); off: counts")

    @property
    def uses_tls(self) -> bool:
        if self.tls == "auto":
            return not is_loopback_host(self.host) or self.ca_file is not None or self.cert_file is not None
        return self.tls

    @model_validator(mode="after")
    def _secure_transport(self) -> MqttSection:
        if not self.uses_tls and (self.ca_file or self.cert_file):
            raise ValueError("tls = false, yet ca_file or cert_file is set: remove them, or let tls be true or auto")
        insecure_ok = self.allow_insecure or is_loopback_host(self.host)
        if self.password is not None and not self.uses_tls and not insecure_ok:
            raise ValueError(f"tls = false would send the password to {self.host} in clear text: let tls be true "
                             "or auto, or set allow_insecure = true on a network you trust")
        return self


CommandName = Literal["ping", "diagnose", "get_issues", "set_log_level", "remediate"]


class CommandsSection(_Section):
    # remediate is not allowed unless named: what the cloud may then have done is [remediation.authority.cloud].
    allowed: list[CommandName] = Field(
        default_factory=lambda: ["ping", "diagnose", "get_issues", "set_log_level"],
        description="cloud commands this agent answers; add remediate to let the cloud ask for actions")


class ShippedModelConfig(_Section):
    enabled: bool = True
    file: str = Field(min_length=1, max_length=4096, pattern=r"^[^\x00]+$",
                      description="a file name in [models] directory, or an absolute path")
    min_score: float = Field(0.6, gt=0, le=1, description="below this score a verdict is treated as unknown")


class WindowModelConfig(ShippedModelConfig):
    # Off until it passes its independent test (models/README.md: 0.94 accuracy, 4 % confident errors against a
    # bar of 0.95 and 2 %): its issues are advisory, and leaving it off keeps numpy and the interpreter (~30 MiB)
    # off a gateway without a camera. Turned on, its issues are informational.
    enabled: bool = False
    file: str = "connectivity_window.tflite"
    every_n_rounds: int = Field(3, ge=1, le=1000, description="classify the latest window every N probe rounds")


class VisionModelConfig(ShippedModelConfig):
    # Off until it passes an independent test: frames from another renderer put it at 0.238 accuracy
    # (models/README.md). Where it is turned on its issues are informational.
    enabled: bool = False
    file: str = "gateway_vision.tflite"


class CustomModelConfig(_Section):
    """An operator's own TFLite model run on camera frames: a classifier, or an SSD-style object detector."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    path: NonEmptyPath = Field(description="absolute, or relative to the models directory")
    kind: Literal["classifier", "object_detection"]
    labels: list[Name] = Field(min_length=1, max_length=10_000, description="ImageNet classifiers have 1001")
    alert_labels: list[Name] = Field(default_factory=list, max_length=1000,
                                     description="labels that raise a camera_alert issue")
    min_score: float = Field(0.5, gt=0, le=1)
    input_mean: float = Field(127.5, description="float-input models only: (pixel - mean) / std")
    input_std: float = Field(127.5, gt=0)

    @model_validator(mode="after")
    def _alerts_are_labels(self) -> CustomModelConfig:
        unknown = sorted(set(self.alert_labels) - set(self.labels))
        if unknown:
            raise ValueError(f"alert_labels {unknown} are not in labels")
        return self


class ModelsSection(_Section):
    runtime: Literal["auto", "tflite-runtime", "litert"] = "auto"
    num_threads: int = Field(1, ge=1, le=8)
    directory: AbsolutePath | None = None
    window: WindowModelConfig = WindowModelConfig()
    vision: VisionModelConfig = VisionModelConfig()
    custom: list[CustomModelConfig] = Field(default_factory=list, max_length=16)

    @field_validator("custom")
    @classmethod
    def _unique_names(cls, custom: list[CustomModelConfig]) -> list[CustomModelConfig]:
        names = [model.name for model in custom]
        if len(set(names)) != len(names):
            raise ValueError(f"custom model names must be unique, got {names}")
        return custom


class CameraSection(_Section):
    enabled: bool = True
    source: Literal["auto", "picamera2", "v4l2", "replay", "synthetic"] = "auto"
    device: str = Field("0", min_length=1, max_length=4096, pattern=r"^[^\x00]+$",
                        description="v4l2: a device index or path such as /dev/video0")
    path: AbsolutePath | None = Field(
        None, description="replay: a directory of images, a .npy stack, a .y4m or video file")
    loop: bool = True
    fps: float = Field(0.5, ge=0.001, le=30)
    width: int = Field(640, ge=16, le=4096)
    height: int = Field(480, ge=16, le=4096)
    detection_width: int = Field(192, ge=16, le=1920)
    detection_height: int = Field(144, ge=16, le=1080)
    health: bool = Field(True, description="model-free checks: covered, focus, exposure, frozen, moved, colour cast")
    health_interval_s: float = Field(10.0, ge=0, le=3600, description="judge camera health on at most one frame "
                                     "this often (0: every frame); each judgement costs ~10-15 ms of CPU")
    upload_snapshots: bool = False
    snapshot_width: int = Field(160, ge=16, le=640)
    snapshot_interval_s: float = Field(600.0, ge=10, le=86_400)
    led_profile: AbsolutePath | None = Field(
        None, description="the watched device's LED profile (edge-agent camera calibrate): read its LEDs each frame")
    led_burst: int = Field(6, ge=1, le=60, description="frames whose LED readings tell steady from blinking")
    led_occlusion_s: float = Field(120.0, ge=0, le=86_400,
                                   description="the watched device hidden this long becomes an issue")

    @model_validator(mode="after")
    def _replay_needs_a_path(self) -> CameraSection:
        if self.source == "replay" and self.path is None:
            raise ValueError("source = 'replay' needs path (a directory of images, or a .y4m/.npy/video file)")
        return self


class AgentConfig(_Section):
    """The whole file. Sections of components live with them (remediation.settings)."""

    version: int = Field(CONFIG_VERSION, ge=1, le=CONFIG_VERSION)
    agent: AgentSection = Field(default_factory=AgentSection)
    premises: PremisesSection = PremisesSection()
    control: ControlSection = ControlSection()
    issues: IssuesSection = IssuesSection()
    collectors: CollectorsSection = CollectorsSection()
    detectors: DetectorsSection = DetectorsSection()
    simulation: SimulationSection = Field(default_factory=SimulationSection)
    reporting: ReportingSection = ReportingSection()
    mqtt: MqttSection = MqttSection()
    commands: CommandsSection = Field(default_factory=CommandsSection)
    remediation: RemediationSection = Field(default_factory=RemediationSection)
    models: ModelsSection = Field(default_factory=ModelsSection)
    camera: CameraSection = CameraSection()

    def masked_dict(self) -> dict[str, Any]:
        """The effective config as plain data, secrets masked (SecretStr dumps as stars in JSON mode)."""
        return self.model_dump(mode="json")


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> AgentConfig:
    """Read and validate `path` (None: built-in defaults), applying environment overrides.

    Raises ConfigError with one line per problem.
    """
    env = os.environ if env is None else env
    source = str(path) if path else "<defaults>"
    raw: dict[str, Any] = {}
    if path is not None:
        raw = migrate(read_toml(path), source)
    _apply_env_overrides(raw, env)
    return validate_config(raw, source)


def validate_config(raw: dict[str, Any], source: str) -> AgentConfig:
    """The model for parsed TOML (no deeper than MAX_NESTING); ConfigError with one line per problem otherwise."""
    # Sections of other modules may not refuse nan and inf themselves: every number in the file is checked here.
    non_finite = {key: value for key, value in _non_finite_numbers(raw)}
    problems = [f"{key} = {value}: expected a finite number" for key, value in non_finite.items()]
    try:
        config = AgentConfig.model_validate(raw)
    except ValidationError as exc:
        problems += [_describe(err) for err in exc.errors() if _key_text(err["loc"]) not in non_finite]
    except (TypeError, AttributeError, LookupError, RecursionError) as exc:
        # A validator that met a shape it did not foresee: still one line and exit 78, never a traceback.
        problems.append(_one_line(f"the file could not be checked ({type(exc).__name__}: {exc}); "
                                  "compare its tables with config/edge-agent.toml"))
    if problems:
        raise ConfigError(source, problems)
    return config


def migrate(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Bring a config written for an older agent up to CONFIG_VERSION; refuse one for a newer agent."""
    version = raw.get("version", 1)  # files from before the field existed are version 1
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ConfigError(source, [f"version = {version!r}: expected a whole number from 1"])
    if version > CONFIG_VERSION:
        raise ConfigError(source, [f"version = {version}: written for a newer edge-agent; this one reads "
                                   f"versions up to {CONFIG_VERSION} (upgrade the agent, or restore the old file)"])
    while version < CONFIG_VERSION:
        raw = MIGRATIONS[version](raw)
        version += 1
    return {**raw, "version": CONFIG_VERSION}


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed file; ConfigError naming the problem for a file that is missing, not a file, or not our TOML."""
    return parse_toml(_read_config_bytes(path), str(path))


def _read_config_bytes(path: Path) -> bytes:
    source = str(path)
    try:
        # Non-blocking, so that a FIFO named as the config cannot hang a reload: it is refused below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError(source, ["file not found"]) from None
    except PermissionError:
        raise ConfigError(source, ["permission denied"]) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(source, [f"cannot be opened: {getattr(exc, 'strerror', None) or exc}"]) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ConfigError(source, ["not a regular file"])
    with os.fdopen(fd, "rb") as f:
        try:
            return f.read(MAX_CONFIG_BYTES + 1)
        except OSError as exc:
            raise ConfigError(source, [f"cannot be read: {exc.strerror or exc}"]) from None


def parse_toml(data: bytes, source: str) -> dict[str, Any]:
    """TOML from bytes, within the size and nesting bounds; ConfigError with one line otherwise."""
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(source, [f"larger than {MAX_CONFIG_BYTES} bytes, far more than any config needs"])
    text = _utf8_text(data, source)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ConfigError(source, [f"nested more than {MAX_NESTING} levels deep"]) from None
    except ValueError:  # tomllib lets int() refuse a digit run longer than Python's int-string limit
        raise ConfigError(source, ["not valid TOML: a number with thousands of digits"]) from None
    if _nesting_depth(raw) > MAX_NESTING:
        raise ConfigError(source, [f"nested more than {MAX_NESTING} levels deep"])
    return raw


def _utf8_text(data: bytes, source: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise ConfigError(source, ["saved as UTF-16 or UTF-32: save it as UTF-8"])
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]  # what some Windows editors put first; harmless
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(source, [f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
                                   "save it as UTF-8"]) from None


def _nesting_depth(value: Any) -> int:
    """How many tables and arrays deep `value` goes, counted without recursion (stops past MAX_NESTING)."""
    deepest = 0
    pending = [(value, 0)]
    while pending and deepest <= MAX_NESTING:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        pending.extend((child, depth + 1) for child in children)
    return deepest


def _non_finite_numbers(raw: Any) -> list[tuple[str, float]]:
    found = []
    pending: list[tuple[tuple[Any, ...], Any]] = [((), raw)]
    while pending:
        loc, item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            found.append((_key_text(loc), item))
        elif isinstance(item, dict):
            pending.extend(((*loc, key), child) for key, child in item.items())
        elif isinstance(item, list):
            pending.extend(((*loc, index), child) for index, child in enumerate(item))
    return sorted(found)


def _apply_env_overrides(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for var, (section, key) in ENV_OVERRIDES.items():
        if var in env:
            section_table = raw.setdefault(section, {})
            if isinstance(section_table, dict):
                section_table[key] = env[var]


PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key_text(loc: tuple[Any, ...] | list[Any]) -> str:
    """`a.b.0.c`, quoting the parts a reader could not tell apart otherwise (dots, spaces, control characters)."""
    parts = [str(part) if isinstance(part, int) or PLAIN_KEY.match(part) else json.dumps(part) for part in loc]
    return ".".join(parts) if parts else "<top level>"


def _one_line(text: str, limit: int = MAX_PROBLEM_CHARS) -> str:
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _describe(err: Mapping[str, Any]) -> str:
    """Turn one validation error into 'key = value: what was expected', on one line of bounded length."""
    key = _key_text(err["loc"])
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(err["loc"][:-1])
        hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return _one_line(f"{key}: unknown key{hint}", limit=2 * MAX_PROBLEM_CHARS)
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    if "input" in err and not isinstance(err["input"], dict):
        secret = err["loc"] and err["loc"][-1] == "password"
        shown = "***" if secret else _one_line(repr(err["input"]), limit=60)
        return _one_line(f"{key} = {shown}: {message}")
    return _one_line(f"{key}: {message}")


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: type[Record] = AgentConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        inner = _model_in(annotation)
        if inner is None:
            return []
        model = inner
    return sorted(model.model_fields)


def _model_in(annotation: Any) -> type[Record] | None:
    """The Record class in an annotation such as `Section` or `list[Section]`."""
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def secret_file_problems(
    config: AgentConfig, config_path: Path | None, env: Mapping[str, str] | None = None
) -> list[str]:
    """Secrets other users could read: the agent refuses to start on any of these (one line each)."""
    env = os.environ if env is None else env
    problems = []
    key = config.mqtt.key_file
    if key is not None:
        try:
            mode = key.stat().st_mode
        except FileNotFoundError:
            problems.append(f"mqtt.key_file = '{key}': file not found")
        except PermissionError:
            problems.append(f"mqtt.key_file = '{key}': this user may not read it")
        else:
            if mode & 0o004:
                problems.append(f"mqtt.key_file = '{key}': readable by every user (mode {mode & 0o777:o}); "
                                "chmod 600 it, or 640 with group edge-agent")
    password_in_file = config.mqtt.password is not None and "EDGE_AGENT_MQTT_PASSWORD" not in env
    if config_path is not None and password_in_file and _mode(config_path) & 0o004:
        problems.append(f"mqtt.password: {config_path} holds it and every user can read that file; chmod 640 it "
                        "or pass the password in EDGE_AGENT_MQTT_PASSWORD")
    return problems


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode
    except OSError:  # replaced or removed since it was read: nothing to say about its mode
        return 0


def startup_problems(
    config: AgentConfig, config_path: Path | None, env: Mapping[str, str] | None = None
) -> list[str]:
    """Everything beyond the schema the agent refuses to start or reload with, one line each: secrets other users
    could read, and (with MQTT on) TLS files it could not use."""
    from edge_agent.tls import tls_file_problems  # it builds on MqttSection, defined here

    problems = secret_file_problems(config, config_path, env) + _missing_group_problems(config.control)
    if config.mqtt.enabled:
        problems += tls_file_problems(config.mqtt)
    return list(dict.fromkeys(problems))  # a missing key file is named by both checks


def _missing_group_problems(control: ControlSection) -> list[str]:
    """A socket group this machine does not have: the control socket could not be opened to it."""
    import grp

    problems = []
    for key, name in (("group", control.group), ("admin_group", control.admin_group)):
        try:
            if name:
                grp.getgrnam(name)
        except KeyError:
            problems.append(f"control.{key} = {name!r}: no such group on this machine "
                            f"(create it with `groupadd --system {name}`, or remove the key)")
    return problems
