"""The switch_channel action: score the candidates from the radio's survey and scan, decide with hysteresis and a
minimum dwell, switch, and remember when — the same code over real hostapd and the simulated radio."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from edge_agent.remediation.executor import ActionResult
from edge_agent.remediation.settings import ChannelPolicy
from edge_agent.wifi.channel_scoring import ChannelSurvey, Neighbour, candidates, decide, score_channels
from edge_agent.wifi.channel_switch import SwitchResult

CHANNELS_24GHZ = tuple(range(1, 14))
CHANNELS_5GHZ = (36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 144,
                 149, 153, 157, 161, 165)


class ChannelRadio(Protocol):
    def current_channel(self, interface: str) -> int | None: ...

    def channel_surveys(self, interface: str) -> list[ChannelSurvey]:
        """Per channel, the survey counters' change over the last interval."""
        ...

    def known_neighbours(self, interface: str) -> list[Neighbour]:
        """Other networks from the latest scan (scans are rate-limited elsewhere)."""
        ...

    def switch_channel(self, interface: str, channel: int) -> SwitchResult: ...


def rewrite_hostapd_channel(conf_text: str, channel: int) -> str:
    """hostapd.conf with its `channel=` line set to `channel` (added when missing)."""
    line = f"channel={channel}"
    if re.search(r"(?m)^channel=", conf_text):
        return re.sub(r"(?m)^channel=.*$", line, conf_text)
    return conf_text.rstrip("\n") + f"\n{line}\n"


class ChannelPlanner:
    """Implements ChannelMover for the remediation engine."""

    def __init__(self, radio: ChannelRadio, policy: ChannelPolicy, monotonic: Callable[[], float]):
        self.radio = radio
        self.policy = policy
        self.monotonic = monotonic
        self.last_switch_mono: float | None = None
        self.switches = 0

    def plan(self, interface: str):
        """The scores and the decision for `interface` now, without switching."""
        current = self.radio.current_channel(interface)
        if current is None:
            return None, None
        band_24 = current <= 14
        allowed = list(self.policy.allowed_channels) or list(CHANNELS_24GHZ if band_24 else CHANNELS_5GHZ)
        channels = sorted(set(candidates(allowed, band_24, self.policy.allow_dfs)) | {current})
        scores = score_channels(self.radio.channel_surveys(interface), self.radio.known_neighbours(interface),
                                channels)
        if current not in allowed:  # only there because we are: let decide() move away from it
            scores = [s for s in scores if s.channel != current]
        since = None if self.last_switch_mono is None else self.monotonic() - self.last_switch_mono
        return current, decide(scores, current, since, self.policy.min_dwell_s, self.policy.margin)

    def move(self, interface: str) -> ActionResult:
        current, decision = self.plan(interface)
        if decision is None:
            return ActionResult(False, f"the channel of {interface} is unknown")
        data = {"scores": [s.to_dict() for s in decision.scores], "decision": decision.reason,
                "from_channel": current}
        if decision.target is None:
            return ActionResult(False, decision.reason, data=data)
        return self._switch(interface, decision.target, data, current)

    def move_back(self, interface: str, channel: int) -> ActionResult:
        return self._switch(interface, channel, {"rollback_to": channel}, None)

    def _switch(self, interface: str, channel: int, data: dict, undo_channel: int | None) -> ActionResult:
        result = self.radio.switch_channel(interface, channel)
        data = {**data, "switch": result.to_dict()}
        if result.outcome == "failed":
            return ActionResult(False, result.reason, data=data)
        self.last_switch_mono = self.monotonic()
        self.switches += 1
        return ActionResult(True, f"channel {result.from_channel} → {result.to_channel}: {result.reason}",
                            undo_state=undo_channel, data=data)
