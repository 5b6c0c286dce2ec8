"""Choose the backends at the hardware edge: the real radio and probes, or the simulated premises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edge_agent.camera.synthetic import SceneBackend
from edge_agent.clock import Clock
from edge_agent.collectors.connectivity import ConnectivityBackend
from edge_agent.collectors.wifi import RadioBackend
from edge_agent.config import AgentConfig
from edge_agent.paths import control_socket_path
from edge_agent.remediation.executor import ActionExecutor
from edge_agent.sim.actions import SimulatedActions
from edge_agent.sim.premises import SimulatedPremises


@dataclass
class PremisesBackends:
    mode: str  # "simulated" or "hardware"
    radio: RadioBackend | None
    connectivity: ConnectivityBackend | None
    notes: list[str] = field(default_factory=list)
    actions: ActionExecutor | None = None  # remediation on these premises
    camera_scene: SceneBackend | None = None  # the simulated premises' camera view; None on hardware
    closers: list[Callable[[], None]] = field(default_factory=list)  # what must stop with the agent


def has_wifi_hardware(sys_class_net: Path = Path("/sys/class/net")) -> bool:
    """True when any interface is a cfg80211 radio (the kernel gives it a `wireless` or `phy80211` entry)."""
    if not sys_class_net.is_dir():
        return False
    return any((nic / "wireless").exists() or (nic / "phy80211").exists() for nic in sys_class_net.iterdir())


def premises_mode(config: AgentConfig, force_simulated: bool, wifi_hardware: bool | None = None) -> str:
    """"simulated" or "hardware": `auto` simulates only where the machine has no Wi-Fi radio at all."""
    if force_simulated:
        return "simulated"
    if config.premises.mode != "auto":
        return config.premises.mode
    present = has_wifi_hardware() if wifi_hardware is None else wifi_hardware
    return "hardware" if present else "simulated"


def select_backends(config: AgentConfig, clock: Clock, mode: str) -> PremisesBackends:
    if mode == "simulated":
        premises = SimulatedPremises(config.simulation, clock)
        notes = ["Wi-Fi and connectivity come from simulated premises"]
        if config.simulation.hostapd_emulation:
            return _emulated_hostapd(config, premises, clock, notes)
        actions = SimulatedActions(premises, config.remediation, config.collectors.wifi.interface)
        return PremisesBackends("simulated", premises, premises, notes, actions, camera_scene=premises)
    from edge_agent.probes.network import NetworkProbes
    from edge_agent.remediation.system_actions import SystemActions
    from edge_agent.wifi.channel_action import ChannelPlanner
    from edge_agent.wifi.hostapd_ctrl import HostapdControl
    from edge_agent.wifi.radio import HostapdRadio

    broker = [f"{config.mqtt.host}:{config.mqtt.port}"] if config.mqtt.enabled else []
    wifi = config.collectors.wifi
    hostapd_socket = wifi.hostapd_ctrl_dir / wifi.interface
    local_dir = control_socket_path(config).parent  # the runtime directory: hostapd can reply there
    actions = SystemActions(config.remediation, wifi.interface)
    radio = None
    if hostapd_socket.exists():
        channel = config.remediation.channel
        restart = (lambda ch: restart_hostapd_on_channel(actions, channel, ch)) if channel.restart_fallback else None
        radio = HostapdRadio(wifi.hostapd_ctrl_dir, local_dir, scan_interval_s=wifi.scan_interval_s,
                             restart_on_channel=restart)
        notes = [f"Wi-Fi from hostapd at {hostapd_socket}"]
        actions.channel_mover = ChannelPlanner(radio, channel, clock.monotonic)
        actions.hostapd_control = lambda name: HostapdControl(wifi.hostapd_ctrl_dir, name, local_dir=local_dir)
    else:
        notes = [f"no hostapd control socket at {hostapd_socket}: the wifi collector is off"]
    return PremisesBackends(
        "hardware",
        radio=radio,
        connectivity=NetworkProbes(config.collectors.connectivity, extra_uplinks=broker),
        notes=notes,
        actions=actions,
    )


def _emulated_hostapd(config: AgentConfig, premises: SimulatedPremises, clock: Clock,
                      notes: list[str]) -> PremisesBackends:
    """The simulated access point behind a hostapd control socket and iw output: the hardware radio code runs."""
    from edge_agent.sim.hostapd_emulator import HostapdEmulator, SimulatedIw
    from edge_agent.wifi.channel_action import ChannelPlanner
    from edge_agent.wifi.radio import HostapdRadio

    interface = config.collectors.wifi.interface
    runtime_dir = control_socket_path(config).parent
    emulator = HostapdEmulator(premises, runtime_dir / "hostapd-sim", interface)
    radio = HostapdRadio(emulator.path.parent, runtime_dir, scan_interval_s=config.collectors.wifi.scan_interval_s,
                         run=SimulatedIw(premises))
    actions = SimulatedActions(premises, config.remediation, interface)
    actions.channel_mover = ChannelPlanner(radio, config.remediation.channel, clock.monotonic)
    notes = [*notes, f"the simulated access point answers as hostapd at {emulator.path}"]
    return PremisesBackends("simulated", radio, premises, notes, actions, camera_scene=premises,
                            closers=[radio.close, emulator.close])


def restart_hostapd_on_channel(actions, policy, channel: int) -> None:
    """The CSA fallback: write the new channel into hostapd.conf and restart hostapd (raises OSError)."""
    from edge_agent.remediation.refs import ActionRef
    from edge_agent.wifi.channel_action import rewrite_hostapd_channel

    conf = policy.hostapd_conf
    conf.write_text(rewrite_hostapd_channel(conf.read_text(), channel))
    result = actions.run(ActionRef("restart_service", policy.hostapd_service), timeout_s=30.0)
    if not result.ok:
        raise OSError(result.detail)
