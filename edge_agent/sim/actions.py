"""Remediation actions on the simulated premises: they change the simulation the way the real ones change a
gateway (a restarted resolver answers again, a moved access point leaves the interferer behind)."""

from __future__ import annotations

from edge_agent.remediation.executor import ActionResult
from edge_agent.remediation.refs import ActionRef
from edge_agent.remediation.settings import RemediationSection
from edge_agent.sim.premises import SERVICES, SimulatedPremises
from edge_agent.wifi.channel_action import ChannelPlanner


class SimulatedActions:
    def __init__(self, premises: SimulatedPremises, settings: RemediationSection, wifi_interface: str):
        self.premises = premises
        self.settings = settings
        self.wifi_interface = wifi_interface
        self.channel_mover = ChannelPlanner(premises, settings.channel, premises.clock.monotonic)
        premises.restart_fallback = settings.channel.restart_fallback

    def update_settings(self, settings: RemediationSection) -> None:
        self.settings = settings
        self.channel_mover.policy = settings.channel
        self.premises.restart_fallback = settings.channel.restart_fallback

    def disruptive(self, ref: ActionRef) -> bool:
        return self.settings.disruptive(ref)

    def problem(self, ref: ActionRef) -> str | None:
        if self.settings.undefined_custom(ref):
            return self.settings.undefined_custom(ref)
        if ref.name == "restart_service" and ref.target not in (*SERVICES, *self.settings.services):
            return f"no service {ref.target} on these premises (simulated: {', '.join(SERVICES)})"
        return None

    def radio(self, ref: ActionRef) -> str:
        """As on a real gateway (SystemActions.radio): the target, else the issue's radio, else the default."""
        if ref.target:
            return ref.target
        if ref.subject is not None and ref.subject in self.premises.radio_names():
            return ref.subject
        return self.wifi_interface

    def run(self, ref: ActionRef, timeout_s: float) -> ActionResult:
        if ref.name == "switch_channel":
            return self.channel_mover.move(self.radio(ref))
        if ref.name == "renew_dhcp" and self.premises.active_faults("gateway_down"):
            return ActionResult(False, "no DHCPOFFER: the gateway does not answer (simulated)")
        ended = self.premises.apply_action(str(ref))
        detail = f"{ref} done (simulated)" + (f"; it ended {', '.join(ended)}" if ended else "")
        return ActionResult(True, detail)

    def undo(self, ref: ActionRef, result: ActionResult, timeout_s: float) -> ActionResult:
        if ref.name == "switch_channel":
            return self.channel_mover.move_back(self.radio(ref), int(result.undo_state))
        return ActionResult(False, f"{ref} cannot be undone")
