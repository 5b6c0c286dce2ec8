"""What the agent does for a command, whether it came from the cloud (cmd/{name}) or the technician's CLI.

Runs on the agent's loop thread, between collector runs, so commands see and change state safely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from edge_agent.agent.diagnosis import run_diagnosis
from edge_agent.detectors.catalog import default_detectors
from edge_agent.model import Finding, Sample
from edge_agent.remediation.engine import RemediationRefused
from edge_agent.reporting.command_intake import Replier, ReplyTarget
from edge_agent.reporting.commands import CommandDecision

if TYPE_CHECKING:
    from edge_agent.agent.parts import RunningAgent

log = logging.getLogger(__name__)


class AgentCommands:
    def __init__(self, agent: RunningAgent):
        self.agent = agent
        self.handlers: dict[str, Callable[[Mapping[str, Any]], Any]] = {
            "ping": self.ping,
            "diagnose": self.diagnose,
            "get_issues": self.get_issues,
            "set_log_level": self.set_log_level,
            "remediate": self.remediate,
        }

    def execute(self, decision: CommandDecision, target: ReplyTarget, replier: Replier) -> None:
        replier.reply(target, "in_progress", "running")
        try:
            result = self.handlers[decision.command](decision.args)
        except RemediationRefused as exc:
            log.warning("command %s (request %s) refused: %s", decision.command, decision.request_id, exc)
            replier.reply(target, "failed", f"refused: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 — a failing command is reported to its sender, never fatal
            log.error("command %s (request %s) failed: %s", decision.command, decision.request_id, exc, exc_info=True)
            replier.reply(target, "failed", f"{type(exc).__name__}: {exc}")
            return
        replier.reply(target, "succeeded", "done", result)

    def ping(self, args: Mapping[str, Any]) -> dict[str, Any]:
        agent = self.agent
        return {
            "pong": True,
            "device_id": agent.config.agent.device_id,
            "boot_id": agent.envelopes.boot_id,
            "uptime_s": round(agent.clock.monotonic() - agent.started_mono, 1),
        }

    def diagnose(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Every collector now, judged by fresh rule detectors and the camera models; answers with the samples and
        what is wrong. Read-only: nothing reaches the issue tracker, so asking can neither open nor resolve an
        issue, nor set remediation going; the running detectors' state (baselines, windows) is left alone too."""
        agent = self.agent
        mono, ts = agent.clock.monotonic(), agent.clock.wall()
        # The window classifier keeps the last rounds: an extra round would shift its window. The camera
        # detectors judge each sample alone.
        one_sample = [d for d in agent.ml.detectors if not getattr(d, "keeps_rounds", False)]
        detectors = default_detectors(agent.config.detectors) + one_sample

        def evaluate(samples: list[Sample]) -> list[Finding]:
            return [f for sample in samples for d in detectors for f in d.evaluate(sample) if f.present]

        report = run_diagnosis(agent.collectors, evaluate, mono, ts)
        report["open_issues"] = [i for i in agent.tracker.snapshot() if i["state"] != "resolved"]
        report["source"] = "agent, read-only"
        report["unavailable"] = dict(agent.backends.unavailable)
        return report

    def get_issues(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        issues = self.agent.tracker.snapshot()
        if args.get("state") == "open":
            issues = [i for i in issues if i["state"] != "resolved"]
        return issues

    def remediate(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """With the cloud's authority ([remediation.authority.cloud]), then the same engine, policy and limits as
        the agent's own decisions; a refusal fails the command and is audited."""
        return self.agent.remediate(args.get("action"), args.get("issue_id"), bool(args.get("dry_run")), "cloud")

    def set_log_level(self, args: Mapping[str, Any]) -> dict[str, str]:
        level = str(args["level"]).upper()
        logging.getLogger().setLevel(level)
        log.warning("log level set to %s by command", level)
        return {"level": level.lower()}
