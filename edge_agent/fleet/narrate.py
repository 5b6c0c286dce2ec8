"""What the demo's fleet view says about each message it receives: one readable line per step of the loop
(sampled → detected → remediated → verified → reported), and a summary at the end. Pure: events in, text out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge_agent.fleet.report import plural

FIRST_SAMPLES = {"wifi.radio", "connectivity.gateway", "connectivity.dns"}  # the streams worth one line each


@dataclass
class Narrator:
    start_ts: float | None = None
    sampled: set[str] = field(default_factory=set)
    messages: int = 0
    detected: int = 0
    fixed: int = 0
    escalated: int = 0
    fix_times_s: list[float] = field(default_factory=list)
    open_issues: dict[str, str] = field(default_factory=dict)  # issue id -> type

    def line(self, event: dict[str, Any]) -> str | None:
        """The narration of one fleet event (from FleetState.ingest), or None for the routine ones."""
        self.messages += 1
        message = event["message"]
        # A simulated agent's story is told in its own time (sim_ts); ts is the real clock, faster or slower.
        ts = message.get("sim_ts", message["ts"])
        if self.start_ts is None:
            self.start_ts = ts
        text = self._describe(event["topic"], message)
        if text is None:
            return None
        return f"  {ts - self.start_ts:6.1f} s  {text}"

    def _describe(self, topic: str, m: dict[str, Any]) -> str | None:
        if topic == "status":
            return f"reported   {m['device_id']} is {m['state']} ({m['reason']}, session {m['session']})"
        if topic == "meta":
            return (f"reported   device card: {m['premises']} premises, {len(m['collectors'])} collectors, "
                    f"{len(m['detectors'])} detectors, commands {', '.join(m['commands'])}")
        if topic.startswith("telemetry/"):
            return self._sample(m)
        if topic == "event/issue":
            return self._issue(m)
        if topic == "event/action":
            return self._action(m)
        return None

    def _sample(self, m: dict[str, Any]) -> str | None:
        if "series" in m:  # contract v2: a report window; each series' numbers as their last value
            samples = [(s["stream"], s["subject"], {**s.get("values", {}),
                                                    **{k: v[3] for k, v in s.get("stats", {}).items()}})
                       for s in m["series"]]
        else:
            samples = [(m["stream"], m["subject"], m["metrics"])]
        lines = []
        for stream, subject, metrics in samples:
            if stream not in FIRST_SAMPLES or stream in self.sampled:
                continue
            self.sampled.add(stream)
            shown = ", ".join(f"{k} {v}" for k, v in list(metrics.items())[:5] if v is not None)
            lines.append(f"sampled    {stream} {subject}: {shown}")
        return f"\n{'':12}".join(lines) or None  # a window's later series under the first, not at the margin

    def _issue(self, m: dict[str, Any]) -> str | None:
        change = m["change"]
        if change == "opened":
            self.detected += 1
            self.open_issues[m["issue_id"]] = m["type"]
            advice = m["guidance"].split(". ")[0].rstrip(".")
            return (f"detected   {m['type']} on {m['subject']} ({m['severity']}): {m['summary']}\n"
                    f"{'':19}a person would be told: {advice}.")
        if change == "escalated":
            self.escalated += 1
            return f"escalated  {m['type']}: {m['transitions'][-1]['reason']}. Guidance: {m['guidance']}"
        if change == "resolved":
            self.open_issues.pop(m["issue_id"], None)
            return f"resolved   {m['type']} on {m['subject']}"
        return None  # remediating / verifying: the action lines say it better

    def _action(self, m: dict[str, Any]) -> str | None:
        ref = m["name"] + (f":{m['target']}" if m.get("target") else "")
        outcome = m["outcome"]
        if outcome == "attempted":
            switch = m["details"].get("switch")
            how = f"channel {switch['from_channel']} → {switch['to_channel']}" if switch else m["reason"]
            return f"remediated {ref} for {m['issue_type']}: {how}"
        if outcome == "fixed":
            self.fixed += 1
            took = m["details"].get("time_to_fix_s")
            if took is not None:
                self.fix_times_s.append(took)
            return f"verified   {ref} fixed {m['issue_type']}" + (f" in {took:g} s" if took is not None else "")
        return f"action     {ref} {outcome}: {m['reason']}"

    def summary(self, invalid: int, duplicates: int) -> str:
        fix = f", mean time to fix {sum(self.fix_times_s) / len(self.fix_times_s):.0f} s" if self.fix_times_s else ""
        left = f"; still open: {', '.join(sorted(self.open_issues.values()))}" if self.open_issues else ""
        return (f"summary: {plural(self.detected, 'issue')} detected, {self.fixed} fixed by the agent{fix}, "
                f"{self.escalated} escalated to a person{left}. The fleet view received "
                f"{plural(self.messages, 'message')} ({invalid} invalid, {plural(duplicates, 'duplicate')}).")
