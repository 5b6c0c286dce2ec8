"""Choose the backends at the hardware edge: the real radio and probes, or the simulated premises."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge_agent.clock import Clock
from edge_agent.collectors.connectivity import ConnectivityBackend
from edge_agent.collectors.wifi import RadioBackend
from edge_agent.config import AgentConfig, WifiCollectorConfig
from edge_agent.paths import control_socket_path, new_simulation_dir
from edge_agent.remediation.executor import ActionExecutor
from edge_agent.wifi.discovery import Discovery, RadioSet, hostapd_configured
from edge_agent.wifi.hardware import RadioHardware

if TYPE_CHECKING:  # the simulated premises (and numpy) are loaded only when simulating
    from edge_agent.camera.synthetic import SceneBackend
    from edge_agent.sim.gateway_host import SimulatedGatewayHost
    from edge_agent.sim.premises import SimulatedPremises

SYS_CLASS_NET = Path("/sys/class/net")
MAX_HOSTAPD_CONF_BYTES = 1024 * 1024  # a real one is a few KiB; it is read whole to change one line


@dataclass
class PremisesBackends:
    mode: str  # "simulated" or "hardware"
    radio: RadioBackend | None
    connectivity: ConnectivityBackend | None
    notes: list[str] = field(default_factory=list)
    actions: ActionExecutor | None = None  # remediation on these premises
    camera_scene: SceneBackend | None = None  # the simulated premises' camera view; None on hardware
    closers: list[Callable[[], None]] = field(default_factory=list)  # what must stop with the agent
    # The simulated gateway's own machine, read by the system and interfaces collectors instead of this host.
    simulated_host: SimulatedGatewayHost | None = None
    unavailable: dict[str, str] = field(default_factory=dict)  # collector -> why it is off on these premises
    radio_hardware: RadioHardware | None = None  # what the radio can do, read at start (the meta card's radio)
    radios: Callable[[], list[str]] | None = None  # the radios the wifi collector reads (None: its interface)
    radios_hardware: Callable[[], list[RadioHardware]] = list  # every radio's, as read so far (the meta card's)


def wifi_radios(wifi: WifiCollectorConfig, discover: Callable[[], Discovery],
                on_new: Callable[[str], object] | None = None) -> RadioSet:
    """The radios to read and act on: those `[collectors.wifi] interfaces` names, every one `discover` finds
    ("auto"), or `interface` alone. `on_new(name)` once per radio (reading its hardware)."""
    if wifi.interfaces == "auto":
        return RadioSet(None, discover, on_new=on_new)
    return RadioSet(list(wifi.interfaces or [wifi.interface]), on_new=on_new)


def has_wifi_hardware(sys_class_net: Path) -> bool:
    """True when any interface is a cfg80211 radio (the kernel gives it a `wireless` or `phy80211` entry)."""
    if not sys_class_net.is_dir():
        return False
    return any((nic / "wireless").exists() or (nic / "phy80211").exists() for nic in sys_class_net.iterdir())


def premises_mode(config: AgentConfig, force_simulated: bool) -> str:
    """"simulated" only when asked (`--simulate` or `mode = "simulated"`), never because hardware is missing."""
    return "simulated" if force_simulated or config.premises.mode == "simulated" else "hardware"


def select_backends(config: AgentConfig, clock: Clock, mode: str, runtime_dir: Path | None = None,
                    sys_class_net: Path | None = None) -> PremisesBackends:
    """`runtime_dir` holds the sockets the Wi-Fi stack binds (hostapd replies there); by default the control
    socket's directory on hardware, and a fresh one of its own for an emulated access point."""
    if mode == "simulated":
        from edge_agent.sim.actions import SimulatedActions
        from edge_agent.sim.gateway_host import SimulatedGatewayHost
        from edge_agent.sim.premises import SimulatedPremises

        premises = SimulatedPremises(config.simulation, clock)
        host = SimulatedGatewayHost(config.simulation.seed, clock, config.collectors.wifi.default_interface)
        simulated_camera = config.camera.source in ("auto", "synthetic")
        notes = [f"Wi-Fi, connectivity, {'camera, ' if simulated_camera else ''}system and interfaces come from the "
                 "simulated premises, not from this machine"]
        if config.simulation.hostapd_emulation:
            backends = _emulated_hostapd(config, premises, clock, notes, runtime_dir)
        else:
            wifi = config.collectors.wifi
            radios = wifi_radios(wifi, lambda: Discovery(tuple(premises.radio_names())))
            actions = SimulatedActions(premises, config.remediation, wifi.default_interface)
            backends = PremisesBackends("simulated", premises, premises, notes, actions, camera_scene=premises,
                                        radio_hardware=premises.hardware(wifi.default_interface), radios=radios,
                                        radios_hardware=lambda: [premises.hardware(n) for n in premises.radio_names()])
        backends.simulated_host = host
        return backends
    from edge_agent.probes.network import NetworkProbes
    from edge_agent.remediation.system_actions import SystemActions
    from edge_agent.wifi.channel_action import ChannelPlanner
    from edge_agent.wifi.hostapd_ctrl import HostapdControl
    from edge_agent.wifi.radio import HostapdRadio

    broker = [f"{config.mqtt.host}:{config.mqtt.port}"] if config.mqtt.enabled else []
    wifi = config.collectors.wifi
    local_dir = runtime_dir or control_socket_path(config).parent  # hostapd can reply there
    channel = config.remediation.channel
    restart = (lambda name, ch: restart_hostapd_on_channel(actions, channel, ch, name)) \
        if channel.restart_fallback else None
    radio: HostapdRadio | None = HostapdRadio(wifi.hostapd_ctrl_dir, local_dir, scan_interval_s=wifi.scan_interval_s,
                                              restart_on_channel=restart)
    # Every radio's hardware (iw phy, whether a survey is kept) is read once, when it is first named: at the
    # start, or when discovery finds it later.
    radios = wifi_radios(wifi, radio.discover, on_new=radio.hardware)
    served = [name for name in radios() if (wifi.hostapd_ctrl_dir / name).exists()]
    hostapd_socket = wifi.hostapd_ctrl_dir / (served[0] if served else wifi.default_interface)
    from edge_agent.probes.leases import lease_holder  # hardware only

    actions = SystemActions(config.remediation, served[0] if wifi.interfaces == "auto" and served
                            else wifi.default_interface, radios=radios,
                            holds_lease=lease_holder(config.collectors.connectivity.dhcp_lease_files))
    hardware = None
    notes: list[str] = list(radios.notes)
    if served:
        notes.append(f"Wi-Fi from hostapd at {', '.join(str(wifi.hostapd_ctrl_dir / name) for name in served)}")
        hardware = radio.hardware(served[0])  # the meta card's radio: the first one served
    elif wifi.enabled and hostapd_meant_to_serve(wifi, radios(), sys_class_net or SYS_CLASS_NET):
        # A radio whose hostapd is not running (yet): read it anyway. Until its control socket appears it reads
        # unavailable, so a hostapd that failed at boot is an issue (wifi_radio_down, whose ladder restarts
        # hostapd) rather than Wi-Fi left unwatched until the agent restarts; then it is read in full.
        notes.append(f"waiting for hostapd: no control socket in {wifi.hostapd_ctrl_dir} yet; the radio reads "
                     "unavailable until hostapd serves it")
    else:
        radio = None
    if radio is not None:
        actions.channel_mover = ChannelPlanner(radio, channel, clock.monotonic)
        actions.hostapd_control = lambda name: HostapdControl(wifi.hostapd_ctrl_dir, name, local_dir=local_dir)
    unavailable: dict[str, str] = {}
    if radio is None and wifi.enabled:
        unavailable["wifi"] = wifi_off_reason(hostapd_socket, sys_class_net or SYS_CLASS_NET)
        notes = [f"the wifi collector is off: {unavailable['wifi']}"]
    return PremisesBackends(
        "hardware",
        radio=radio,
        connectivity=NetworkProbes(config.collectors.connectivity, extra_uplinks=broker),
        notes=notes,
        actions=actions,
        unavailable=unavailable,
        radio_hardware=hardware,
        radios=radios,
        radios_hardware=radio.known_hardware if radio is not None else list,
    )


def hostapd_meant_to_serve(wifi: WifiCollectorConfig, radios: list[str], sys_class_net: Path) -> bool:
    """A radio is there and hostapd is meant to serve it, though it does not now: hostapd ran this boot (its
    control directory, on /run, exists) or its configuration names one of the radios. A Wi-Fi chip used as a
    client (a hub on the home Wi-Fi, no hostapd) is neither: no issue, and hostapd is never started on it."""
    if not has_wifi_hardware(sys_class_net):
        return False
    return wifi.hostapd_ctrl_dir.is_dir() or bool(hostapd_configured(wifi.hostapd_conf_dir) & set(radios))


def wifi_off_reason(hostapd_socket: Path, sys_class_net: Path) -> str:
    """Why there is no Wi-Fi to read: no radio at all (a wired-only gateway, or a driver that did not load), or a
    radio without the hostapd control socket the collector reads."""
    if not has_wifi_hardware(sys_class_net):
        return (f"no radio: no Wi-Fi interface in {sys_class_net} (a wired-only gateway, or the Wi-Fi driver did "
                "not load); connectivity, system and camera still run")
    return f"no hostapd control socket at {hostapd_socket} (is hostapd running with ctrl_interface there?)"


def _emulated_hostapd(config: AgentConfig, premises: SimulatedPremises, clock: Clock, notes: list[str],
                      runtime_dir: Path | None) -> PremisesBackends:
    """The simulated access point behind a hostapd control socket and iw output: the hardware radio code runs."""
    from edge_agent.sim.actions import SimulatedActions
    from edge_agent.sim.hostapd_emulator import HostapdEmulator, SimulatedIw
    from edge_agent.wifi.channel_action import ChannelPlanner
    from edge_agent.wifi.radio import HostapdRadio

    wifi = config.collectors.wifi
    interface = wifi.default_interface
    closers: list[Callable[[], None]] = []
    if runtime_dir is None:  # never the system's runtime directory: a simulation is no service
        runtime_dir = new_simulation_dir()
        closers.append(lambda: shutil.rmtree(runtime_dir, ignore_errors=True))
    # One control socket per radio, as hostapd serving several interfaces has (a single radio: the configured
    # interface's name, whatever the simulation calls it).
    names = premises.radio_names() if config.simulation.radios else [interface]
    emulators = [HostapdEmulator(premises, runtime_dir / "hostapd-sim", name) for name in names]
    radio = HostapdRadio(runtime_dir / "hostapd-sim", runtime_dir, scan_interval_s=wifi.scan_interval_s,
                         run=SimulatedIw(premises))
    radios = wifi_radios(wifi, radio.discover, on_new=radio.hardware)
    radios()  # every radio's hardware read at the start, as on real hardware
    actions = SimulatedActions(premises, config.remediation, interface)
    actions.channel_mover = ChannelPlanner(radio, config.remediation.channel, clock.monotonic)
    notes = [*notes, "the simulated access point answers as hostapd at "
             f"{', '.join(str(emulator.path) for emulator in emulators)}"]
    return PremisesBackends("simulated", radio, premises, notes, actions, camera_scene=premises,
                            closers=[radio.close, *(e.close for e in emulators), *closers],
                            radio_hardware=radio.hardware(names[0]), radios=radios,
                            radios_hardware=radio.known_hardware)


def restart_hostapd_on_channel(actions, policy, channel: int, interface: str | None = None) -> None:
    """The CSA fallback: write the new channel into hostapd.conf and restart hostapd (raises OSError). The
    configured hostapd.conf is one radio's: it is never rewritten for another radio (its `interface=` line)."""
    from edge_agent.atomic_file import replace_contents
    from edge_agent.remediation.refs import ActionRef
    from edge_agent.untrusted_files import read_bounded
    from edge_agent.wifi.channel_action import rewrite_hostapd_channel
    from edge_agent.wifi.hostapd_conf import conf_interface

    conf = policy.hostapd_conf
    text = read_bounded(conf, MAX_HOSTAPD_CONF_BYTES).decode("utf-8", "surrogateescape")
    configured = conf_interface(text)
    if interface is not None and configured is not None and configured != interface:
        raise OSError(f"{conf} configures {configured}, not {interface}: the restart fallback would move the "
                      "wrong radio")
    replace_contents(conf, rewrite_hostapd_channel(text, channel).encode("utf-8", "surrogateescape"))
    result = actions.run(ActionRef("restart_service", policy.hostapd_service), timeout_s=30.0)
    if not result.ok:
        raise OSError(result.detail)
