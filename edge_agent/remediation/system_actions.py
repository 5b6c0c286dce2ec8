"""Actions on a real gateway: systemd (or configured) service restarts, `ip link`, the DHCP client, the DNS cache,
hostapd's control socket, and the operator's own commands. Every program runs from an argv list, never a shell,
and a target is placed where it cannot be read as an option (after `--`, or after ip's `dev` keyword).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from edge_agent.probes.links import has_neighbours
from edge_agent.probes.routes import parse_default_route
from edge_agent.remediation.authority import SAFE_TARGET
from edge_agent.remediation.executor import ActionResult, CommandOutcome, run_argv
from edge_agent.remediation.redaction import redact_argv, short_output
from edge_agent.remediation.refs import ActionRef
from edge_agent.remediation.settings import ChannelPolicy, RemediationSection
from edge_agent.wifi.hostapd_ctrl import HostapdControl, HostapdError

Runner = Callable[[list[str], float], CommandOutcome]


class ChannelMover(Protocol):
    """Moves an access point to its best channel and back (wifi/channel_action)."""

    policy: ChannelPolicy

    def move(self, interface: str) -> ActionResult: ...

    def move_back(self, interface: str, channel: int) -> ActionResult: ...


def default_route_interface(proc_net_route: Path = Path("/proc/net/route")) -> str | None:
    try:
        route = parse_default_route(proc_net_route.read_text())
    except OSError:
        return None
    return route.interface if route else None


class SystemActions:
    def __init__(
        self,
        settings: RemediationSection,
        wifi_interface: str,
        hostapd_control: Callable[[str], HostapdControl] | None = None,
        channel_mover: ChannelMover | None = None,
        runner: Runner = run_argv,
        sys_class_net: Path = Path("/sys/class/net"),
        radios: Callable[[], list[str]] | None = None,
        holds_lease: Callable[[str], bool] | None = None,
    ):
        """`holds_lease(interface)`: whether a DHCP client holds a lease there (renew_dhcp is refused where none
        does); None: not checked."""
        self.settings = settings
        self.wifi_interface = wifi_interface
        # The gateway's radios (several on a dual- or tri-band gateway); the default radio alone without.
        self.radios = radios or (lambda: [wifi_interface])
        self.hostapd_control = hostapd_control
        self.channel_mover = channel_mover
        self.runner = runner
        self.sys_class_net = sys_class_net
        self.holds_lease = holds_lease

    def update_settings(self, settings: RemediationSection) -> None:
        self.settings = settings
        if self.channel_mover is not None:
            self.channel_mover.policy = settings.channel

    def disruptive(self, ref: ActionRef) -> bool:
        return self.settings.disruptive(ref)

    def problem(self, ref: ActionRef) -> str | None:
        if self.settings.undefined_custom(ref):
            return self.settings.undefined_custom(ref)
        if ref.target is not None and not SAFE_TARGET.match(ref.target):
            return f"target {ref.target[:64]!r} is not a plain name: refused"  # the authority says so first
        if ref.name in ("restart_radio",) and self.hostapd_control is None:
            return "no hostapd control socket: the radio cannot be restarted from here"
        if ref.name == "switch_channel" and self.channel_mover is None:
            return "no hostapd control socket: the channel cannot be switched from here"
        if ref.name in ("bounce_interface", "renew_dhcp"):
            name = self.interface(ref)
            if name is None:
                return "no interface named and no default route to take one from"
            if not SAFE_TARGET.match(name):
                return f"interface {name[:64]!r} is not a plain name: refused"
            if ref.name == "renew_dhcp" and not has_neighbours(name, self.sys_class_net):
                return f"{name} is a point-to-point link (PPPoE, a tunnel): it gets no address by DHCP"
            if ref.name == "renew_dhcp" and self.holds_lease is not None and not self.holds_lease(name):
                # Asked to renew an interface it does not serve, a DHCP client may start there and replace a
                # static address: do no harm.
                return (f"{name} holds no DHCP lease (a static address, or lease files outside "
                        "[collectors.connectivity] dhcp_lease_files): not renewed")
        return None

    def radio(self, ref: ActionRef) -> str:
        """The radio a radio action (switch_channel, restart_radio) acts on: its target; else the radio its
        issue is on, when the issue's subject is one of the gateway's radios; else the default radio."""
        if ref.target:
            return ref.target
        if ref.subject is not None and ref.subject in self.radios():
            return ref.subject
        return self.wifi_interface

    def interface(self, ref: ActionRef) -> str | None:
        if ref.target:
            return ref.target
        configured = self.settings.commands.interface
        return default_route_interface() if configured == "auto" else configured

    def run(self, ref: ActionRef, timeout_s: float) -> ActionResult:
        problem = self.problem(ref)
        if problem:
            return ActionResult(False, problem)
        handler = {
            "restart_service": self._restart_service,
            "bounce_interface": self._bounce_interface,
            "renew_dhcp": self._renew_dhcp,
            "restart_radio": self._restart_radio,
            "switch_channel": self._switch_channel,
            "flush_dns": self._flush_dns,
            "custom": self._custom,
        }[ref.name]
        return handler(ref, timeout_s)

    def undo(self, ref: ActionRef, result: ActionResult, timeout_s: float) -> ActionResult:
        if ref.name == "switch_channel" and self.channel_mover is not None:
            return self.channel_mover.move_back(self.radio(ref), int(result.undo_state))
        if ref.name == "bounce_interface":
            return self._command(["ip", "link", "set", "dev", str(result.undo_state), "up"], timeout_s, "link up")
        if ref.name == "custom":
            undo = self.settings.custom[ref.target or ""].undo
            if undo:
                return self._command(undo, timeout_s, "undo")
        return ActionResult(False, f"{ref} cannot be undone")

    def _command(self, argv: list[str], timeout_s: float, what: str) -> ActionResult:
        outcome = self.runner(argv, timeout_s)
        # Both go into event/action: whatever runner ran the command, they leave short and redacted.
        command, output = redact_argv(argv), short_output(outcome.output)
        if outcome.ok:
            return ActionResult(True, f"{what}: {command} succeeded", data={"output": output})
        return ActionResult(False, f"{what}: {command} exited {outcome.returncode}: {output}")

    def _restart_service(self, ref: ActionRef, timeout_s: float) -> ActionResult:
        unit = ref.target or ""
        configured = self.settings.services.get(unit)
        systemctl = self.settings.commands.systemctl
        restart = configured.restart if configured else [*systemctl, "restart", "--", unit]
        result = self._command(restart, timeout_s, "restart")
        if not result.ok:
            return result
        check = configured.is_active if configured else [*systemctl, "is-active", "--quiet", "--", unit]
        if check is None:
            return result
        active = self._command(check, timeout_s, "is-active")
        return ActionResult(active.ok, f"{result.detail}; {unit} {'is' if active.ok else 'is not'} active",
                            data=result.data)

    def _bounce_interface(self, ref: ActionRef, timeout_s: float) -> ActionResult:
        name = self.interface(ref) or ""
        down = self._command(["ip", "link", "set", "dev", name, "down"], timeout_s, "link down")
        if not down.ok:
            return down
        time.sleep(1.0)  # let the peer see the carrier drop, so both ends renegotiate
        up = self._command(["ip", "link", "set", "dev", name, "up"], timeout_s, "link up")
        if not up.ok:
            return ActionResult(False, up.detail, undo_state=name)
        if self.link_is_up(name):
            return ActionResult(True, f"{name} went down and came back up")
        return ActionResult(False, f"{name} went down and did not come back up", undo_state=name)

    def link_is_up(self, name: str) -> bool:
        try:
            flags = int((self.sys_class_net / name / "flags").read_text(), 16)
        except (OSError, ValueError):
            return False
        return bool(flags & 0x1)  # IFF_UP: administratively up (carrier may still be negotiating)

    def _renew_dhcp(self, ref: ActionRef, timeout_s: float) -> ActionResult:
        name = self.interface(ref) or ""
        argv = [name if arg == "{interface}" else arg for arg in self.settings.commands.renew_dhcp]
        result = self._command(argv, timeout_s, "renew")
        if not result.ok:
            return result
        address = self.runner(["ip", "-o", "-4", "addr", "show", "dev", name], timeout_s)
        has_address = address.ok and " inet " in f" {address.output}"
        return ActionResult(has_address, f"{result.detail}; {name} {'holds' if has_address else 'has no'} "
                            "IPv4 address")

    def _flush_dns(self, ref: ActionRef, timeout_s: float) -> ActionResult:
        return self._command(list(self.settings.commands.flush_dns), timeout_s, "flush")

    def _restart_radio(self, ref: ActionRef, timeout_s: float) -> ActionResult:
        interface = self.radio(ref)
        assert self.hostapd_control is not None  # problem() said so
        try:
            with self.hostapd_control(interface) as control:
                for command in ("DISABLE", "ENABLE"):
                    reply = control.request(command).strip()
                    if reply != "OK":
                        return ActionResult(False, f"hostapd answered {reply!r} to {command}")
                state = control.status().state
        except HostapdError as exc:
            return ActionResult(False, f"hostapd on {interface}: {exc}")
        return ActionResult(state == "ENABLED", f"radio {interface} disabled and enabled; state {state}")

    def _switch_channel(self, ref: ActionRef, timeout_s: float) -> ActionResult:
        assert self.channel_mover is not None
        return self.channel_mover.move(self.radio(ref))

    def _custom(self, ref: ActionRef, timeout_s: float) -> ActionResult:
        custom = self.settings.custom[ref.target or ""]
        result = self._command(custom.argv, timeout_s, ref.target or "custom")
        if not result.ok or custom.check is None:
            return ActionResult(result.ok, result.detail, undo_state=True if custom.undo else None, data=result.data)
        check = self._command(custom.check, timeout_s, "check")
        return ActionResult(check.ok, f"{result.detail}; {check.detail}",
                            undo_state=True if custom.undo else None, data=result.data)
