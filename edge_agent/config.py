"""One validated configuration model, loaded from a TOML file plus secrets from the environment."""

from __future__ import annotations

import ipaddress
import os
import socket
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from edge_agent.remediation.refs import parse_ref
from edge_agent.remediation.settings import RemediationSection

EX_CONFIG = 78  # sysexits.h: configuration error

# The config file format. A change that renames or reshapes keys bumps it and adds a step to MIGRATIONS,
# so files written for an older agent keep working after an upgrade.
CONFIG_VERSION = 1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}  # version N -> N + 1

DEFAULT_CONFIG_PATH = Path("/etc/edge-agent/edge-agent.toml")

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


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentSection(_Section):
    device_id: str = Field(default_factory=socket.gethostname, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    site_id: str = Field("unassigned", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    state_dir: Path | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "text", "journal", "json"] = "auto"
    log_file: Path | None = None
    log_file_max_bytes: int = Field(1_000_000, ge=10_000)
    log_file_backups: int = Field(3, ge=0, le=20)


class PremisesSection(_Section):
    mode: Literal["auto", "simulated", "hardware"] = "auto"


class ControlSection(_Section):
    socket_path: Path | None = None
    group: str | None = None
    admin_group: str | None = None


class Hysteresis(_Section):
    open_after: int = Field(3, ge=1, le=100)
    resolve_after: int = Field(3, ge=1, le=100)


def _default_per_type() -> dict[str, Hysteresis]:
    return {
        # A gateway answering from a new MAC may be a spoofer: say so at once.
        "gateway_mac_changed": Hysteresis(open_after=1, resolve_after=1),
        # The probe already confirms an unreachable gateway with a second burst within the round.
        "gateway_unreachable": Hysteresis(open_after=1, resolve_after=3),
    }


class IssuesSection(_Section):
    open_after: int = Field(3, ge=1, le=100)
    resolve_after: int = Field(3, ge=1, le=100)
    history_size: int = Field(200, ge=1, le=10_000)
    per_type: dict[str, Hysteresis] = Field(default_factory=_default_per_type)

    @field_validator("per_type")
    @classmethod
    def _keep_defaults(cls, value: dict[str, Hysteresis]) -> dict[str, Hysteresis]:
        return {**_default_per_type(), **value}  # naming one type must not drop the shipped defaults


class _CollectorSection(_Section):
    enabled: bool = True
    interval_s: float = Field(10.0, gt=0, le=86_400)


class SystemCollectorConfig(_CollectorSection):
    watched_processes: list[str] = Field(default_factory=list)
    disk_paths: list[str] = Field(default_factory=lambda: ["/"])


class InterfacesCollectorConfig(_CollectorSection):
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=lambda: ["lo"])


class WifiCollectorConfig(_CollectorSection):
    interval_s: float = Field(5.0, gt=0, le=86_400)
    interface: str = Field("wlan0", pattern=r"^[A-Za-z0-9_.-]{1,15}$")
    hostapd_ctrl_dir: Path = Path("/run/hostapd")
    scan_interval_s: float = Field(900.0, ge=60, le=86_400)


class ConnectivityCollectorConfig(_CollectorSection):
    interval_s: float = Field(5.0, gt=0, le=86_400)
    gateway: str = Field("auto", description="the gateway's address, or auto (the default route's)")
    interface: str = Field("auto", description="the interface towards the gateway, or auto")
    resolvers: list[str] = Field(default_factory=list, description="empty: the nameservers of /etc/resolv.conf")
    dns_query: str = Field("example.com", min_length=1, max_length=253)
    uplink_endpoints: list[str] = Field(default_factory=list)
    pings_per_round: int = Field(5, ge=1, le=50)
    timeout_s: float = Field(1.0, gt=0, le=10)

    @field_validator("gateway", "interface")
    @classmethod
    def _auto_or_value(cls, value: str) -> str:
        return value.strip() or "auto"

    @field_validator("resolvers", "gateway")
    @classmethod
    def _addresses(cls, value):
        for address in [value] if isinstance(value, str) else value:
            if address != "auto":
                ipaddress.ip_address(address)  # ValueError names the bad address
        return value

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
    uplink_connect_ms_max: float = Field(1000.0, gt=0)
    # Trend: the last `trend_window` rounds against the device's own baseline, learned over `trend_warmup` rounds.
    trend_window: int = Field(5, ge=2, le=100)
    trend_warmup: int = Field(10, ge=2, le=10_000)
    trend_rtt_ratio: float = Field(3.0, gt=1)
    trend_rtt_min_delta_ms: float = Field(15.0, ge=0)
    trend_loss_delta_pct: float = Field(5.0, gt=0, le=100)
    # A new gateway MAC is accepted as the real one after this many rounds (a legitimately replaced router).
    gateway_mac_adopt_after: int = Field(60, ge=1)


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
    channel: int | None = Field(None, ge=1, le=196)
    level: float = Field(
        0.5, ge=0, le=1,
        description="interference: busy ratio added; uplink_loss: fraction of probes lost; latency: x 200 ms added; "
        "dns_slow: x 2000 ms per lookup; uplink_slow: x 3000 ms per connection",
    )
    fixed_by: list[str] | None = Field(
        None, description="actions that end the fault for this cycle (None: the simulator's defaults for the kind)")

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


def _demo_faults() -> list[FaultConfig]:
    return [
        FaultConfig(kind="interference", channel=6, start_s=20, end_s=60, level=0.55),
        FaultConfig(kind="dns_down", start_s=80, end_s=150),
        FaultConfig(kind="weak_station", start_s=155, end_s=178),
        FaultConfig(kind="cable_unplugged", start_s=70, end_s=95),
    ]


class SimulationSection(_Section):
    seed: int = 1
    speed: float = Field(1.0, gt=0, le=1000)
    channel: int = Field(6, ge=1, le=196)
    csa_supported: bool = Field(True, description="false: the access point answers CHAN_SWITCH with FAIL")
    hostapd_emulation: bool = Field(
        False, description="serve the simulated access point on a hostapd control socket and as iw output, so the "
        "hardware Wi-Fi stack (HostapdRadio, ChannelSwitcher) runs on the simulation")
    cycle_s: float | None = Field(180.0, gt=0)
    faults: list[FaultConfig] = Field(default_factory=_demo_faults)

    @model_validator(mode="after")
    def _faults_inside_cycle(self) -> SimulationSection:
        for fault in self.faults:
            if self.cycle_s is not None and fault.end_s > self.cycle_s:
                raise ValueError(f"a {fault.kind} fault ends at {fault.end_s} s, after cycle_s ({self.cycle_s} s)")
        return self


class ReportingSection(_Section):
    journal_max_bytes: int = Field(5_000_000, ge=10_000)
    agent_health_interval_s: float = Field(60.0, gt=0, le=86_400)
    outbox_max_bytes: int = Field(20_000_000, ge=100_000)
    outbox_sync: Literal["full", "normal"] = "full"


class MqttSection(_Section):
    enabled: bool = False
    host: str = "localhost"
    port: int = Field(8883, ge=1, le=65_535)
    username: str | None = None
    password: SecretStr | None = None
    topic_prefix: str = Field("edge/v1", pattern=r"^[^#+]+$")
    keepalive_s: int = Field(60, ge=5, le=3600)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    home_assistant: bool = Field(False, description="announce health sensors by Home Assistant MQTT discovery")
    home_assistant_prefix: str = Field("homeassistant", pattern=r"^[A-Za-z0-9_/-]{1,64}$")


CommandName = Literal["ping", "diagnose", "get_issues", "set_log_level", "remediate"]


class CommandsSection(_Section):
    allowed: list[CommandName] = Field(
        default_factory=lambda: ["ping", "diagnose", "get_issues", "set_log_level", "remediate"])


class ShippedModelConfig(_Section):
    enabled: bool = True
    file: str = Field(min_length=1, description="a file name in [models] directory, or an absolute path")
    min_score: float = Field(0.6, gt=0, le=1, description="below this score a verdict is treated as unknown")


class WindowModelConfig(ShippedModelConfig):
    file: str = "connectivity_window.tflite"
    every_n_rounds: int = Field(3, ge=1, le=1000, description="classify the latest window every N probe rounds")


class VisionModelConfig(ShippedModelConfig):
    file: str = "gateway_vision.tflite"


class CustomModelConfig(_Section):
    """An operator's own TFLite model run on camera frames: a classifier, or an SSD-style object detector."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    path: Path
    kind: Literal["classifier", "object_detection"]
    labels: list[str] = Field(min_length=1)
    alert_labels: list[str] = Field(default_factory=list, description="labels that raise a camera_alert issue")
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
    directory: Path | None = None
    window: WindowModelConfig = WindowModelConfig()
    vision: VisionModelConfig = VisionModelConfig()
    custom: list[CustomModelConfig] = Field(default_factory=list)

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
    device: str = Field("0", description="v4l2: a device index or path such as /dev/video0")
    path: Path | None = Field(None, description="replay: a directory of images, a .npy stack, a .y4m or video file")
    loop: bool = True
    fps: float = Field(0.5, gt=0, le=30)
    width: int = Field(640, ge=16, le=4096)
    height: int = Field(480, ge=16, le=4096)
    detection_width: int = Field(192, ge=16, le=1920)
    detection_height: int = Field(144, ge=16, le=1080)
    upload_snapshots: bool = False
    snapshot_width: int = Field(160, ge=16, le=640)
    snapshot_interval_s: float = Field(600.0, ge=10, le=86_400)

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
    try:
        return AgentConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(err) for err in exc.errors()]) from None


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
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except PermissionError:
        raise ConfigError(str(path), ["permission denied"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None


def _apply_env_overrides(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for var, (section, key) in ENV_OVERRIDES.items():
        if var in env:
            section_table = raw.setdefault(section, {})
            if isinstance(section_table, dict):
                section_table[key] = env[var]


def _describe(err: Mapping[str, Any]) -> str:
    """Turn one pydantic error into 'key = value: what was expected'."""
    loc = [str(part) for part in err["loc"]]
    key = ".".join(loc) if loc else "<top level>"
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(err["loc"][:-1])
        hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return f"{key}: unknown key{hint}"
    message = err["msg"]
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    if "input" in err and not isinstance(err["input"], dict):
        shown = "***" if loc and loc[-1] == "password" else repr(err["input"])
        return f"{key} = {shown}: {message}"
    return f"{key}: {message}"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = AgentConfig
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


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class in an annotation such as `Section` or `list[Section]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
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
    if config_path is not None and password_in_file and config_path.stat().st_mode & 0o004:
        problems.append(f"mqtt.password: {config_path} holds it and every user can read that file; chmod 640 it "
                        "or pass the password in EDGE_AGENT_MQTT_PASSWORD")
    return problems
