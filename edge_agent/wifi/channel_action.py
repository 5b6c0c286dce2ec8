"""The switch_channel action: score the candidates from the radio's survey and scan, decide with hysteresis and a
minimum dwell, switch, and remember when — the same code over real hostapd and the simulated radio. Channels the
radio's `iw phy` lists as disabled or no-IR (or radar ones without allow_dfs) are never candidates or targets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from edge_agent.remediation.executor import ActionResult
from edge_agent.remediation.settings import ChannelPolicy
from edge_agent.wifi.channel_scoring import ChannelSurvey, Neighbour, candidates, decide, score_channels
from edge_agent.wifi.channel_switch import SwitchResult
from edge_agent.wifi.channels import Band, Channel, as_channel
from edge_agent.wifi.hardware import block_refusal
from edge_agent.wifi.hostapd_conf import move_conf_to_channel

CHANNELS_24GHZ = tuple(range(1, 14))
CHANNELS_5GHZ = (36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 144,
                 149, 153, 157, 161, 165)
CHANNELS_6GHZ = tuple(range(1, 234, 4))
DEFAULT_CHANNELS = {Band.GHZ_2_4: CHANNELS_24GHZ, Band.GHZ_5: CHANNELS_5GHZ, Band.GHZ_6: CHANNELS_6GHZ}


def allowed_channels(policy: ChannelPolicy, band: Band) -> list[int]:
    """The channel numbers a radio of `band` may move to: its band's own list, else those of `allowed_channels`
    that are channels of its band, else all of them (a list written for 2.4 GHz must not freeze the 5 GHz radio)."""
    if band.value in policy.allowed_by_band:
        return list(policy.allowed_by_band[band.value])
    mine = [n for n in policy.allowed_channels if n in DEFAULT_CHANNELS[band]]
    return mine or list(DEFAULT_CHANNELS[band])


class ChannelRadio(Protocol):
    def current_channel(self, interface: str) -> Channel | int | None:
        """The operating channel; a bare number (radios from before bands) is read as
        `channels.legacy_channel` does. An optional `current_width(interface) -> int | None` gives the width."""
        ...

    def channel_surveys(self, interface: str) -> list[ChannelSurvey]:
        """Per channel, the survey counters' change over the last interval."""
        ...

    def known_neighbours(self, interface: str) -> list[Neighbour]:
        """Other networks from the latest scan (scans are rate-limited elsewhere)."""
        ...

    def switch_channel(self, interface: str, channel: int) -> SwitchResult:
        """Move to `channel` of the radio's own band (a Channel where current_channel gave one)."""
        ...

    # Optional: `phy_capabilities(interface) -> PhyCapabilities | None`, the radio's `iw phy` reading.


def rewrite_hostapd_channel(conf_text: str, channel: int) -> str:
    """hostapd.conf with its `channel=` line set to `channel` (added when missing), and with the centre
    indexes and HT40 side of a wider channel moved along (hostapd_conf.move_conf_to_channel)."""
    return move_conf_to_channel(conf_text, channel)


class ChannelPlanner:
    """Implements ChannelMover for the remediation engine. Each radio of a multi-radio gateway is planned on its
    own: its band, its width, its surveys and neighbours, and its own dwell since its own last switch."""

    def __init__(self, radio: ChannelRadio, policy: ChannelPolicy, monotonic: Callable[[], float]):
        self.radio = radio
        self.policy = policy
        self.monotonic = monotonic
        self.last_switch_mono: dict[str, float] = {}  # per radio interface
        self.switches = 0
        self._takes_channels = False  # whether the radio speaks Channels (else bare numbers)

    def plan(self, interface: str):
        """The current channel and the decision for `interface` now, without switching: candidates of the
        radio's own band at its width only (a channel switch never changes band)."""
        reported = self.radio.current_channel(interface)
        if reported is None:
            return None, None
        self._takes_channels = isinstance(reported, Channel)
        current = as_channel(reported)
        width = self._width(interface)
        band = current.band
        allowed = allowed_channels(self.policy, band)
        phy = self._phy(interface)
        usable = [c for c in candidates(allowed, band, self.policy.allow_dfs, width)
                  if block_refusal(phy, c, width, self.policy.allow_dfs) is None]
        channels = sorted(set(usable) | {current})
        surveys = [s for s in self.radio.channel_surveys(interface) if s.band is band]
        neighbours = [n for n in self.radio.known_neighbours(interface) if n.band is band]
        scores = score_channels(surveys, neighbours, channels, width)
        if current.number not in allowed:  # only there because we are: let decide() move away from it
            scores = [s for s in scores if s.key != current]
        last = self.last_switch_mono.get(interface)
        since = None if last is None else self.monotonic() - last
        return current, decide(scores, current, since, self.policy.min_dwell_s, self.policy.margin)

    def _phy(self, interface: str):
        read = getattr(self.radio, "phy_capabilities", None)
        return read(interface) if read is not None else None

    def _width(self, interface: str) -> int:
        read = getattr(self.radio, "current_width", None)
        width = read(interface) if read is not None else None
        return width or 20

    def move(self, interface: str) -> ActionResult:
        current, decision = self.plan(interface)
        if decision is None:
            return ActionResult(False, f"the channel of {interface} is unknown")
        data = {"scores": [s.to_dict() for s in decision.scores], "decision": decision.reason,
                "from_channel": current.number, "band": current.band.value}
        if decision.target is None:
            return ActionResult(False, decision.reason, data=data)
        return self._switch(interface, Channel(current.band, decision.target), data, current.number)

    def move_back(self, interface: str, channel: int) -> ActionResult:
        """Back to channel number `channel` of the radio's current band (undo state is the number)."""
        reported = self.radio.current_channel(interface)
        self._takes_channels = isinstance(reported, Channel)
        target: int | Channel = channel
        if isinstance(reported, Channel):
            target = Channel(reported.band, channel)
        # Back where the operator had it: a radar channel is fine there whatever allow_dfs says.
        return self._switch(interface, target, {"rollback_to": channel}, None, allow_dfs=True)

    def _switch(self, interface: str, channel: int | Channel, data: dict, undo_channel: int | None,
                allow_dfs: bool | None = None) -> ActionResult:
        if isinstance(channel, Channel):
            dfs = self.policy.allow_dfs if allow_dfs is None else allow_dfs
            refusal = block_refusal(self._phy(interface), channel, self._width(interface), dfs)
            if refusal is not None:
                return ActionResult(False, refusal, data=data)
            if not self._takes_channels:
                channel = channel.number  # a radio from before bands takes numbers
        result = self.radio.switch_channel(interface, channel)  # type: ignore[arg-type]
        data = {**data, "switch": result.to_dict()}
        if result.outcome == "failed":
            return ActionResult(False, result.reason, data=data)
        self.last_switch_mono[interface] = self.monotonic()
        self.switches += 1
        return ActionResult(True, f"channel {result.from_channel} → {result.to_channel}: {result.reason}",
                            undo_state=undo_channel, data=data)
