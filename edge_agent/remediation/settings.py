"""The `[remediation]` config: policy per issue type, ladders of actions, safety limits, who may ask for what
(the authority of the technician and the cloud), the targets actions may name, and how actions run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from edge_agent.remediation.refs import ACTION_SPECS, TARGET_NAME, ActionRef, parse_ref
from edge_agent.schema import AfterValidator, Field, Record, field_validator, model_validator

Mode = Literal["off", "dry-run", "auto", "approval"]
RequestMode = Literal["off", "dry-run", "auto"]
TargetName = Annotated[str, Field(pattern=TARGET_NAME)]
QUIET_HOURS = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d))?$")


class _Section(Record):
    """Frozen and refuses unknown keys (edge_agent.schema)."""


def _argv(value: list[str]) -> list[str]:
    if not value or not value[0]:
        raise ValueError("must be a non-empty list: the program, then its arguments (never a shell string)")
    return value


Argv = Annotated[list[str], AfterValidator(_argv)]


class IssuePolicy(_Section):
    """What to do about one issue type. `mode` None: the section's default_mode."""

    mode: Mode | None = None
    ladder: list[str] = Field(default_factory=list, description="action refs, tried in order")
    verify_window_s: float | None = Field(None, gt=0, le=3600)

    @field_validator("ladder")
    @classmethod
    def _refs(cls, ladder: list[str]) -> list[str]:
        for ref in ladder:
            parse_ref(ref)  # ValueError names the bad ref
        if len(set(ladder)) != len(ladder):
            raise ValueError("a ladder names each action once: an action never repeats blindly")
        return ladder

    def refs(self) -> list[ActionRef]:
        return [parse_ref(ref) for ref in self.ladder]


def _default_policies() -> dict[str, IssuePolicy]:
    return {
        "dns_failure": IssuePolicy(ladder=["flush_dns", "restart_service:dnsmasq"]),
        # An upstream that fails, a missing name or a lying upstream are not fixed by restarting the local
        # resolver: flushing its cache (a stale or poisoned answer) is all that may help; then escalate.
        "dns_upstream_failing": IssuePolicy(ladder=["flush_dns"]),
        "dns_name_missing": IssuePolicy(ladder=["flush_dns"]),
        "dns_resolver_lies": IssuePolicy(ladder=["flush_dns"]),
        # A stuck client renews again; a server that is down is the router's to fix (escalated).
        "dhcp_failure": IssuePolicy(ladder=["renew_dhcp"]),
        "wifi_radio_down": IssuePolicy(ladder=["restart_radio", "restart_service:hostapd"]),
        "wifi_interference": IssuePolicy(ladder=["switch_channel"]),
        "gateway_unreachable": IssuePolicy(ladder=["renew_dhcp", "bounce_interface"]),
    }


class ActionLimits(_Section):
    max_per_hour: int = Field(3, ge=0, le=60, description="0 forbids the action")
    timeout_s: float = Field(60.0, gt=0, le=900)


class ServiceCommands(_Section):
    """How to restart a service that systemd does not manage (OpenWrt init scripts, a test controller)."""

    restart: Argv
    is_active: Argv | None = None


class CustomAction(_Section):
    argv: Argv
    disruptive: bool = True
    check: Argv | None = Field(None, description="exits 0 when the action took effect")
    undo: Argv | None = None
    description: str = ""


class SystemCommands(_Section):
    """Programs behind the built-in actions; `{interface}` is replaced by the action's interface."""

    flush_dns: Argv = Field(default_factory=lambda: ["resolvectl", "flush-caches"])
    # "--" ends dhcpcd's options: whatever the interface is called, it cannot be read as one.
    renew_dhcp: Argv = Field(default_factory=lambda: ["dhcpcd", "--rebind", "--", "{interface}"])
    systemctl: Argv = Field(default_factory=lambda: ["systemctl"])
    interface: str = Field("auto", pattern=r"^(?:auto|[A-Za-z0-9][A-Za-z0-9_.@-]{0,63})$",
                           description="the interface bounced or renewed; auto: the default route's")


class TargetLists(_Section):
    """The only targets an action may name, whoever asks: a technician, the cloud, an issue's subject, a ladder.
    Services with their own restart commands ([remediation.services]) and custom actions count as listed."""

    services: list[TargetName] = Field(default_factory=lambda: ["dnsmasq", "hostapd"],
                                       description="units restart_service may restart")
    interfaces: list[TargetName] = Field(
        default_factory=list, description="interfaces bounce_interface, renew_dhcp, restart_radio and "
        "switch_channel may name; without a target they act on the configured (or default-route, Wi-Fi) interface")


def _known_action_names(names: list[str]) -> list[str]:
    unknown = sorted(set(names) - set(ACTION_SPECS))
    if unknown:
        raise ValueError(f"unknown action {unknown[0]!r}; known: {', '.join(sorted(ACTION_SPECS))}")
    return names


ActionNames = Annotated[list[str], AfterValidator(_known_action_names)]


class OriginAuthority(_Section):
    """What one origin may ask for: which actions, and the mode of its requests that name no issue (a request
    for an issue follows that issue's policy, never more than this origin's mode allows)."""

    actions: ActionNames
    mode: RequestMode


class Authority(_Section):
    """Technicians at the CLI (root, the agent's user, the admin group) and the cloud (cmd/remediate). The agent's
    own ladders are its authority; everyone's targets come from [remediation.targets]."""

    cli: OriginAuthority = OriginAuthority(actions=list(ACTION_SPECS), mode="dry-run")
    cloud: OriginAuthority = Field(
        default_factory=lambda: OriginAuthority(actions=[], mode="auto"),
        description="off until actions are named here, e.g. actions = [\"flush_dns\", \"restart_service\"]")


class ChannelPolicy(_Section):
    allowed_channels: list[int] = Field(
        default_factory=list, max_length=256,
        description="empty: every channel of the band; on a multi-radio gateway a radio uses the numbers that are "
        "channels of its band, and every channel of its band when none is")
    allowed_by_band: dict[Literal["2.4GHz", "5GHz", "6GHz"], list[int]] = Field(
        default_factory=dict, description='per band, e.g. "5GHz" = [36, 40, 44, 48]; over allowed_channels')

    @field_validator("allowed_by_band")
    @classmethod
    def _channels_of_their_band(cls, value: dict[str, list[int]]) -> dict[str, list[int]]:
        from edge_agent.wifi.channels import CHANNELS, Band

        for band, numbers in value.items():
            wrong = [n for n in numbers if n not in CHANNELS[Band(band)]]
            if wrong:
                raise ValueError(f"{band}: {wrong} {'is' if len(wrong) == 1 else 'are'} no channel of that band")
            if len(numbers) > 256:
                raise ValueError(f"{band}: at most 256 channels")
        return value
    allow_dfs: bool = False
    margin: float = Field(0.15, ge=0, le=1, description="a candidate must beat the current channel's score by this")
    min_dwell_s: float = Field(3600.0, ge=0, description="at least this long on a channel before moving again")
    restart_fallback: bool = Field(False, description="when CSA fails: rewrite hostapd's channel and restart it")
    hostapd_conf: Path = Path("/etc/hostapd/hostapd.conf")
    hostapd_service: str = Field("hostapd", pattern=r"^[A-Za-z0-9_.@-]{1,64}$")


class RemediationSection(_Section):
    default_mode: Mode = Field("dry-run", description="for issue types whose policy names no mode")
    verify_window_s: float = Field(60.0, gt=0, le=3600)
    max_actions_per_hour: int = Field(6, ge=0, le=120, description="all actions together")
    min_disruptive_gap_s: float = Field(600.0, ge=0)
    quiet_hours: str = Field("", description="HH:MM-HH:MM local time: disruptive actions wait; empty: none")
    max_defer_s: float = Field(900.0, ge=0, description="a blocked action waits at most this long, else escalates")
    backoff_base_s: float = Field(300.0, ge=0)
    recurrence_window_s: float = Field(3600.0, ge=0)
    audit_max_bytes: int = Field(1_000_000, ge=10_000)
    policy: dict[str, IssuePolicy] = Field(default_factory=_default_policies)
    actions: dict[str, ActionLimits] = Field(default_factory=dict)
    services: dict[str, ServiceCommands] = Field(default_factory=dict)
    custom: dict[str, CustomAction] = Field(default_factory=dict)
    commands: SystemCommands = SystemCommands()
    channel: ChannelPolicy = ChannelPolicy()
    targets: TargetLists = TargetLists()
    authority: Authority = Authority()

    @model_validator(mode="before")
    @classmethod
    def _manual_mode_is_the_technicians_mode(cls, data: Any) -> Any:
        """`manual_mode` (older configs) is the technician's mode, now [remediation.authority.cli] mode."""
        if not isinstance(data, dict) or "manual_mode" not in data:
            return data
        data = dict(data)
        manual_mode = data.pop("manual_mode")
        authority = data.get("authority") or {}
        cli = (authority.get("cli") or {}) if isinstance(authority, dict) else None
        if not isinstance(cli, dict):
            raise ValueError("manual_mode moves into authority.cli, so authority and authority.cli must be tables")
        authority, cli = dict(authority), dict(cli)
        if "mode" in cli:
            raise ValueError("manual_mode and authority.cli.mode both set: keep authority.cli.mode only")
        cli["mode"] = manual_mode
        cli.setdefault("actions", list(ACTION_SPECS))
        authority["cli"] = cli
        data["authority"] = authority
        return data

    @field_validator("services", "custom")
    @classmethod
    def _names_are_targets(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.match(TARGET_NAME, name):
                raise ValueError(f"{name!r}: a name is letters, digits, . _ @ - (at most 64, the first a letter "
                                 "or digit), since actions name it as their target")
        return value

    @field_validator("policy")
    @classmethod
    def _keep_default_policies(cls, value: dict[str, IssuePolicy]) -> dict[str, IssuePolicy]:
        return {**_default_policies(), **value}  # naming one type must not drop the shipped ladders

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if not QUIET_HOURS.match(value):
            raise ValueError("expected HH:MM-HH:MM (for example 23:00-07:00) or empty")
        return value

    @field_validator("actions")
    @classmethod
    def _known_actions(cls, value: dict[str, ActionLimits]) -> dict[str, ActionLimits]:
        unknown = set(value) - set(ACTION_SPECS)
        if unknown:
            raise ValueError(f"unknown action {sorted(unknown)[0]!r}; known: {', '.join(sorted(ACTION_SPECS))}")
        return value

    @model_validator(mode="after")
    def _ladder_targets_listed(self) -> RemediationSection:
        for issue_type, policy in self.policy.items():
            for ref in policy.refs():
                if ref.name == "custom" and ref.target not in self.custom:
                    raise ValueError(f"policy.{issue_type}.ladder names custom:{ref.target}, which "
                                     f"[remediation.custom] does not define")
                if ref.target not in (None, "{subject}") and ref.target not in self.allowed_targets(ref):
                    raise ValueError(f"policy.{issue_type}.ladder names {ref}: add {ref.target} to "
                                     f"[remediation.targets] {ref.spec.target_kind}s, or change that ladder")
        return self

    def allowed_targets(self, ref: ActionRef) -> frozenset[str]:
        """The targets `ref`'s action may name here (empty for an action that takes none)."""
        kind = ref.spec.target_kind
        if kind == "service":
            return frozenset([*self.targets.services, *self.services])
        if kind == "interface":
            configured = [] if self.commands.interface == "auto" else [self.commands.interface]
            return frozenset([*self.targets.interfaces, *configured])
        if kind == "custom":
            return frozenset(self.custom)
        return frozenset()

    def origin_authority(self, origin: str) -> OriginAuthority | None:
        """What a technician ("cli") or the cloud may ask for; None for the agent itself (its ladders decide)."""
        return {"cli": self.authority.cli, "cloud": self.authority.cloud}.get(origin)

    def disruptive(self, ref: ActionRef) -> bool:
        if ref.name == "custom":
            custom = self.custom.get(ref.target or "")
            return custom.disruptive if custom else True
        return ref.spec.disruptive

    def undefined_custom(self, ref: ActionRef) -> str | None:
        if ref.name == "custom" and ref.target not in self.custom:
            return f"custom:{ref.target} is not defined in [remediation.custom]"
        return None

    def limits(self, action: str) -> ActionLimits:
        return self.actions.get(action, ActionLimits())

    def policy_for(self, issue_type: str) -> tuple[Mode, list[ActionRef]]:
        policy = self.policy.get(issue_type)
        if policy is None or not policy.ladder:
            return "off", []
        return policy.mode or self.default_mode, policy.refs()

    def verify_window_for(self, issue_type: str) -> float:
        policy = self.policy.get(issue_type)
        return policy.verify_window_s if policy and policy.verify_window_s else self.verify_window_s
