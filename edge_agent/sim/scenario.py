"""A scenario: a timeline of faults on the simulated premises, the agent config it runs with, and what must (and
must not) happen. Scenarios are TOML files; the shipped ones live in edge_agent/sim/scenarios/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from edge_agent.config import ConfigError, FaultConfig, SimulatedRadio, SimulationSection, read_toml
from edge_agent.remediation.refs import parse_ref
from edge_agent.schema import Field, Record, ValidationError, field_validator, model_validator

SHIPPED_DIR = Path(__file__).with_name("scenarios")
ACTION_STEP = re.compile(r"^(?P<ref>[^=]+)=(?P<outcome>[a-z_]+)$")


class _Model(Record):
    """Frozen and refuses unknown keys (edge_agent.schema)."""


class Expectation(_Model):
    opened: list[str] = Field(default_factory=list, description="issue types that must open")
    allowed: list[str] = Field(default_factory=list, description="types that may open without being false alarms")
    detect_within_s: float = Field(60.0, gt=0, description="each `opened` type opens within this of its fault")
    actions: list[str] = Field(default_factory=list, description='"ref=outcome" steps that must occur in order')
    max_actions_run: int | None = Field(None, ge=0, description="actions actually run (attempted or completed)")
    escalated: list[str] = Field(default_factory=list, description="issue types that must be escalated")
    final_open: list[str] = Field(default_factory=list, description="issue types still open at the end")
    final_channel: int | None = None
    final_channels: dict[str, int] = Field(
        default_factory=dict, description="a multi-radio gateway: the channel each radio (by interface) ends on")

    @field_validator("actions")
    @classmethod
    def _steps(cls, steps: list[str]) -> list[str]:
        for step in steps:
            match = ACTION_STEP.match(step)
            if not match:
                raise ValueError(f"{step!r} is not ref=outcome, e.g. restart_service:dnsmasq=fixed")
            parse_ref(match["ref"])
        return steps


class Scenario(_Model):
    name: str = Field(pattern=r"^[a-z0-9-]{1,48}$")
    description: str
    duration_s: float = Field(gt=0, le=86_400)
    seed: int = 1
    channel: int = Field(6, ge=1, le=233, description="a channel number of `band`")
    band: Literal[2.4, 5, 6] | None = Field(None, description="GHz; none: the band the channel number implies")
    width_mhz: int = 20
    csa_supported: bool = True
    hostapd_emulation: bool = Field(False, description="the agent's hardware Wi-Fi stack on an emulated hostapd")
    faults: list[FaultConfig] = Field(default_factory=list)
    radios: list[SimulatedRadio] = Field(
        default_factory=list, description="a multi-radio gateway's radios (channel, band and width_mhz then unused)")
    agent: dict[str, Any] = Field(default_factory=dict, description="agent config overrides, as in the config file")
    expect: Expectation = Expectation()

    @model_validator(mode="after")
    def _channel_in_band(self) -> Scenario:
        SimulationSection(channel=self.channel, band=self.band, width_mhz=self.width_mhz, faults=[],
                          radios=self.radios)  # names a bad one
        unknown = set(self.expect.final_channels) - {radio.interface for radio in self.radios}
        if unknown:
            raise ValueError(f"expect.final_channels names {', '.join(sorted(unknown))}, which radios does not list")
        return self

    @model_validator(mode="after")
    def _faults_within_the_run(self) -> Scenario:
        for fault in self.faults:
            if fault.start_s >= self.duration_s:
                raise ValueError(f"a {fault.kind} fault starts at {fault.start_s} s, after the run ends")
        return self

    def fault_start(self, issue_type: str, kinds: dict[str, tuple[str, ...]]) -> float | None:
        """When the earliest fault that causes `issue_type` starts (None: no such fault in this scenario)."""
        starts = [f.start_s for f in self.faults if issue_type in kinds.get(f.kind, ())]
        return min(starts) if starts else None


class ScenarioError(Exception):
    pass


def load_scenario(path: Path) -> Scenario:
    try:
        raw = read_toml(path)  # bounded in size and depth, UTF-8 checked: as the agent reads its config
    except ConfigError as exc:
        raise ScenarioError(f"{path}: {'; '.join(exc.problems)}") from None
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'top level'}: {e['msg']}" for e in exc.errors())
        raise ScenarioError(f"{path}: {problems}") from None


def shipped_scenarios() -> list[Path]:
    return sorted(SHIPPED_DIR.glob("*.toml"))


def find_scenario(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        return path
    shipped = SHIPPED_DIR / f"{name_or_path}.toml"
    if shipped.exists():
        return shipped
    known = ", ".join(p.stem for p in shipped_scenarios())
    raise ScenarioError(f"no scenario {name_or_path!r}; shipped: {known}")
