"""What the running agent says about itself: the technician's status, the cloud's device card, and the
numbers of its own health telemetry. Read-only views of an Agent; they run on the control or MQTT thread."""

from __future__ import annotations

import platform
import time
from typing import TYPE_CHECKING, Any

from edge_agent import __version__
from edge_agent.kpis import flat_kpis

if TYPE_CHECKING:
    from edge_agent.agent.parts import RunningAgent
    from edge_agent.reporting.path_health import PathVerdict


def status_report(agent: RunningAgent) -> dict[str, Any]:
    now = agent.clock.monotonic()
    return {
        "agent_version": __version__,
        "device_id": agent.config.agent.device_id,
        "site_id": agent.config.agent.site_id,
        "boot_id": agent.envelopes.boot_id,
        "premises": agent.backends.mode,
        "unavailable": dict(agent.backends.unavailable),  # collectors these premises cannot run, and why
        "config_path": str(agent.config_path) if agent.config_path else None,
        "uptime_s": round(now - agent.started_mono, 1),
        "wall_time": time.time(),
        "reloads": agent.reloads,
        "reload_failures": agent.reload_failures,
        "open_issues": len(agent.tracker.active()),
        "issue_counters": agent.tracker.counters.to_dict(),
        "remediation": {"kpis": agent.kpi_snapshot(), "default_mode": agent.config.remediation.default_mode},
        "collectors": [task.to_dict(now) for task in list(agent.schedule.tasks.values())],
        "detectors": [
            {"name": name, "runs": h.runs, "failures": h.failures, "last_error": h.last_error,
             **({"held_back": h.held_back} if h.held_back else {})}
            for name, h in list(agent.pipeline.detector_health.items())
        ],
        "reporting": {
            "events": agent.reporter.published_events,
            "samples": agent.reporter.published_samples,
            "journal": str(agent.journal.path),
            "mqtt": mqtt_status(agent),
        },
        "latest": agent.pipeline.latest_samples(),
        "models": [model.to_dict() for model in agent.ml.models],
    }


def mqtt_status(agent: RunningAgent) -> dict[str, Any] | None:
    if agent.mqtt is None:
        return None
    publisher = agent.mqtt.publisher
    report = {
        "broker": f"{agent.config.mqtt.host}:{agent.config.mqtt.port}",
        # Connected means the broker answered within the keepalive and the thread that would notice is running.
        "connected": publisher.link_up(),
        "loop_alive": publisher.alive(),
        "loop_errors": publisher.loop_errors,
        "connects": publisher.connects,
        "published": publisher.published,
        "written": publisher.written,
        "path": path_report(publisher.path_verdict()),
        "outbox": agent.mqtt.outbox.stats().to_dict(),
    }
    intake = agent.intake
    if intake is not None:
        report["commands"] = {
            "accepted": intake.accepted,
            "rejected": intake.rejected,
            "throttled": intake.throttle.throttled,
            "replies_suppressed": intake.throttle.replies_suppressed,
            "retained_ignored": intake.ignored_retained,
            "failures": intake.failures,
        }
    return report


def health_stats(agent: RunningAgent) -> dict[str, Any]:
    """The agent's own health as metrics (telemetry/agent): how the cloud learns of dropped telemetry."""
    tasks = list(agent.schedule.tasks.values())
    stats: dict[str, Any] = {
        "open_issues": len(agent.tracker.active()),
        "collector_failures": sum(t.total_failures for t in tasks),
        "detector_failures": sum(h.failures for h in agent.pipeline.detector_health.values()),
        "events_reported": agent.reporter.published_events,
        **flat_kpis(agent.kpi_snapshot()),
        **agent.reporter.storage_health(),  # storage_failing opens an issue (detectors/storage.py)
    }
    if agent.mqtt is not None:
        box = agent.mqtt.outbox.stats()
        stats.update(
            outbox_events=box.queued_events,
            outbox_telemetry=box.queued_telemetry,
            outbox_bytes=box.bytes,
            dropped_telemetry=box.dropped_telemetry,
            mqtt_published=agent.mqtt.publisher.published,
            mqtt_connects=agent.mqtt.publisher.connects,
            **reporting_path_metrics(agent),  # reporting_degraded opens an issue (detectors/reporting_path.py)
        )
    return stats


def path_report(verdict: PathVerdict) -> dict[str, Any]:
    return {"degraded": verdict.degraded, "reasons": list(verdict.reasons), **verdict.metrics}


def reporting_path_metrics(agent: RunningAgent) -> dict[str, Any]:
    verdict = agent.mqtt.publisher.path_verdict()
    return {
        "reporting_degraded": int(verdict.degraded),
        "reporting_reasons": "; ".join(verdict.reasons),
        "reporting_broker": f"{agent.config.mqtt.host}:{agent.config.mqtt.port}",
        **{f"reporting_{name}": value for name, value in verdict.metrics.items()},
    }


def meta_card(agent: RunningAgent) -> dict[str, Any]:
    """The body of the retained `meta` message."""
    return {
        "premises": agent.backends.mode,
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "python": platform.python_version(),
        },
        "collectors": sorted(agent.collectors),
        "detectors": [d.name for d in agent.pipeline.detectors],
        "commands": sorted(agent.config.commands.allowed),
        "models": [{"name": m.name, "version": m.version, "loaded": m.loaded, "runtime": m.runtime}
                   for m in agent.ml.models],
        "kpis": agent.kpi_snapshot(),
        "radio": radio_card(agent),
        "radios": radio_cards(agent),
    }


def radio_cards(agent: RunningAgent) -> list[dict[str, Any]]:
    """Every radio's capabilities, as read so far (a radio discovered later joins at the next connect)."""
    restart = agent.config.remediation.channel.restart_fallback
    return [hardware.card(restart) for hardware in agent.backends.radios_hardware()]


def radio_card(agent: RunningAgent) -> dict[str, Any] | None:
    """What the radio can do, as read at start (backends); None on premises without a radio."""
    hardware = agent.backends.radio_hardware
    return None if hardware is None else hardware.card(agent.config.remediation.channel.restart_fallback)
