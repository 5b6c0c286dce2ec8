"""The agent process: wiring, the scheduling loop, signals, sd_notify, the control socket, shutdown."""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from edge_agent import __version__
from edge_agent.agent.commands import AgentCommands
from edge_agent.agent.control import ControlServer, RequestRefused, own_group_name
from edge_agent.agent.control_requests import Peer
from edge_agent.agent.notify import SystemdNotifier
from edge_agent.agent.pipeline import Pipeline
from edge_agent.agent.recent_result import RecentResult
from edge_agent.agent.schedule import Schedule
from edge_agent.agent.status import health_stats, meta_card, status_report
from edge_agent.backends import premises_mode, select_backends
from edge_agent.clock import Clock, ScaledClock, SystemClock
from edge_agent.collectors import Collector
from edge_agent.collectors.agent_health import AgentHealthCollector
from edge_agent.collectors.catalog import build_collectors
from edge_agent.config import AgentConfig, ConfigError, load_config, startup_problems
from edge_agent.detectors.catalog import default_detectors
from edge_agent.detectors.ml_catalog import build_ml_components
from edge_agent.exit_codes import EX_NOPERM, EX_SOFTWARE
from edge_agent.issues import IssueTracker
from edge_agent.kpis import KpiCounter
from edge_agent.memory import release_free_memory
from edge_agent.paths import UnsafeDirectory, agent_paths, ensure_runtime_dir, ensure_state_dir
from edge_agent.remediation.authority import Requester
from edge_agent.remediation.engine import RemediationEngine, RemediationRefused
from edge_agent.reporting.envelope import EnvelopeFactory
from edge_agent.reporting.home_assistant import STATE_TOPIC, state_payload
from edge_agent.reporting.journal import EventJournal
from edge_agent.reporting.path_health import broker_path_back, ipv4_black_hole_open, uplink_reachability
from edge_agent.reporting.reporter import LogSink, Reporter
from edge_agent.reporting.telemetry_window import telemetry_windows
from edge_agent.timesync import clock_synced

log = logging.getLogger(__name__)

# Sections whose changes need a restart: they hold identities, open files and sockets.
RESTART_ONLY_SECTIONS = ("agent", "control", "reporting", "mqtt", "commands", "premises", "simulation")
DIAGNOSE_TIMEOUT_S = 30.0
# A control-socket diagnosis answers every request for this long after it ends (agent/recent_result.py): short
# enough that a technician re-running it after a fix gets a fresh one.
DIAGNOSIS_REUSE_S = 2.0
RESTART_ONLY_SECTIONS += ("models", "camera")  # models and the camera are loaded and opened once, at start


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        config_path: Path | None,
        *,
        mode: str = "hardware",  # simulation only when asked for
        clock: Clock | None = None,
        notifier: SystemdNotifier | None = None,
        env: Mapping[str, str] | None = None,
    ):
        self.config = config
        self.config_path = config_path
        self.clock = clock or SystemClock()
        self.notifier = notifier or SystemdNotifier(env)
        # Simulation never writes to the system's state or runtime directory (agent_paths gives it its own).
        self.paths = agent_paths(config, env, simulated=mode == "simulated")
        self.state_dir, self.socket_path = self.paths.state_dir, self.paths.socket_path
        ensure_runtime_dir(self.paths.runtime_dir)  # refused when someone else could plant a socket there
        ensure_state_dir(self.state_dir)
        self.backends = select_backends(config, self.clock, mode, self.paths.runtime_dir)
        self.started_mono = self.clock.monotonic()
        self.reloads = 0
        self.reload_failures = 0

        self.envelopes = EnvelopeFactory(config.agent.device_id, config.agent.site_id, clock_synced,
                                         real_wall=time.time if mode == "simulated" else None)
        self.journal = EventJournal(self.state_dir / "events.jsonl", config.reporting.journal_max_bytes)
        self.audit = EventJournal(self.state_dir / "actions.jsonl", config.remediation.audit_max_bytes,
                                  topics=frozenset({"event/action"}))
        self.kpis = KpiCounter()
        self.intake = None
        self.request_ledger = None
        self.mqtt = self._make_mqtt_sink(config)
        # The outbox is the commit point, written first; see reporting/reporter.py for why.
        self.reporter = Reporter(self.envelopes, [self.journal, self.audit, self.kpis, LogSink()], commit=self.mqtt,
                                 windows=telemetry_windows(config.reporting))
        self.tracker = IssueTracker(
            config.issues.open_after, config.issues.resolve_after, config.issues.history_size, _per_type(config),
            hold_down_s=config.issues.hold_down_s, hold_down_max_s=config.issues.hold_down_max_s,
        )
        self._wake = threading.Event()
        self.remediation = RemediationEngine(
            config.remediation, self.backends.actions, self.tracker, self.clock, wake=self._wake.set
        )
        self.ml = build_ml_components(config, self.backends.camera_scene)
        self.pipeline = Pipeline(default_detectors(config.detectors) + self.ml.detectors, self.tracker,
                                 self.remediation, self.reporter)
        self.collectors: dict[str, Collector] = {}
        self.schedule = Schedule()
        self._install_collectors(config)

        self._stop = threading.Event()
        self._work: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._reload_requested = False
        self._home_assistant_state: dict[str, Any] | None = None
        self._uplink_reachable: dict[str, bool] = {}  # the last uplink probe round, endpoint -> reachable
        self._last_watchdog_real = float("-inf")
        self.exit_code = 0
        self.loop_errors: dict[str, int] = {}
        self.commands = AgentCommands(self)
        self._recent_diagnosis = RecentResult(DIAGNOSIS_REUSE_S)
        self.control = ControlServer(
            self.socket_path,
            {"status": self._status, "issues": self._issues, "diagnose": self._diagnose_from_control,
             "actions": self._actions},
            config.control.group or own_group_name(os.geteuid(), os.getegid()),
            admin_handlers={"reload": self._reload_from_control},
            admin_group_name=config.control.admin_group,
            peer_handlers={"remediate": self._remediate_from_control},
        )

    def _make_mqtt_sink(self, config: AgentConfig):
        if not config.mqtt.enabled:
            return None
        from edge_agent.reporting.command_intake import CommandIntake, Replier
        from edge_agent.reporting.commands import CommandGate
        from edge_agent.reporting.mqtt import MqttPublisher, OutboxSink
        from edge_agent.reporting.outbox import Outbox
        from edge_agent.reporting.request_ledger import RequestLedger

        reporting = config.reporting
        outbox = Outbox(self.state_dir / "outbox.sqlite", reporting.outbox_max_bytes, reporting.outbox_sync)
        now = lambda: (self.clock.monotonic(), self.clock.wall())  # noqa: E731
        publisher = MqttPublisher(
            config.mqtt, self.envelopes, outbox, now, self.state_dir / "mqtt_session", meta=lambda: meta_card(self)
        )
        replier = Replier(outbox, self.envelopes, now, publisher.wake)
        self.request_ledger = RequestLedger(self.state_dir / "commands.sqlite")
        gate = CommandGate(publisher.base_topic, config.commands.allowed, self.request_ledger)

        def execute(decision, target, done):  # from the MQTT thread: run on the agent's loop
            def run() -> None:
                try:
                    self.commands.execute(decision, target, replier)
                finally:
                    done()

            self.run_in_loop(run)

        # Deadlines and rates come from the real world: judged by the real clock, even when the simulation runs fast.
        self.intake = CommandIntake(gate, replier, execute, time.time, time.monotonic)
        publisher.on_command = self.intake.handle
        return OutboxSink(outbox, publisher)

    def run_in_loop(self, work: Callable[[], Any]) -> Future:
        """Run `work` on the agent's loop thread (between collector runs); the Future carries its result."""
        future: Future = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(work())
            except Exception as exc:  # noqa: BLE001 — handed to whoever waits on the future
                future.set_exception(exc)

        self._work.put(run)
        self._wake.set()
        return future

    def _run_pending_work(self) -> None:
        while not self._stop.is_set():
            try:
                work = self._work.get_nowait()
            except queue.Empty:
                return
            work()  # never raises: run_in_loop hands every exception to the caller's future
            self._feed_watchdog()  # a long queue of commands must not starve systemd's watchdog

    def _install_collectors(self, config: AgentConfig) -> None:
        now = self.clock.monotonic()
        collectors = build_collectors(config, self.backends) + self.ml.collectors
        collectors.append(
            AgentHealthCollector(config.reporting.agent_health_interval_s, config.agent.device_id,
                                 lambda: health_stats(self))
        )
        self.collectors = {c.name: c for c in collectors}
        old = self.schedule.tasks
        self.schedule = Schedule()
        for name, collector in self.collectors.items():
            self.schedule.add(name, collector.interval_s, now)
            if name in old:  # keep counters across a reload; only the cadence changes
                kept = old[name]
                task = self.schedule.tasks[name]
                task.runs, task.total_failures = kept.runs, kept.total_failures
                task.next_due = min(kept.next_due, now + collector.interval_s)

    # Signals only set flags: the main loop does the work between collector runs.
    def request_stop(self, *_: Any) -> None:
        self._stop.set()
        self._wake.set()

    def request_reload(self, *_: Any) -> None:
        self._reload_requested = True
        self._wake.set()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.request_reload)
        for note in self.backends.notes + self.ml.notes:
            log.info("%s", note)
        speed = getattr(self.clock, "speed", 1.0)
        if self.backends.mode == "simulated":
            log.info("simulated premises at %gx real time: messages carry the real time as ts and the simulated "
                     "time as sim_ts", speed)
        if self.paths.run_dir is not None:
            log.info("this simulated run keeps its state in %s; ask it with `edge-agent status --socket %s`",
                     self.paths.run_dir, self.socket_path)
        self.control.start()
        if self.mqtt is not None:
            self.mqtt.publisher.start()
        log.info(
            "edge-agent %s started: device %s, %s premises, collectors %s, control socket %s",
            __version__, self.config.agent.device_id, self.backends.mode, ", ".join(self.collectors) or "none",
            self.socket_path,
        )
        self.notifier.ready(self._status_line())
        release_free_memory()  # what start-up allocated and freed (config, models) goes back to the kernel
        try:
            self._loop()
        finally:
            self._shutdown()
        return self.exit_code

    def _loop(self) -> None:
        while not self._stop.is_set():
            # Cleared before the work, not after: a wake-up that arrives during it (an action finishing on its
            # thread) must not be lost.
            self._wake.clear()
            if self._reload_requested:
                self._reload_requested = False
                self._contained("reload", self.reload)
            self._run_pending_work()
            self._contained("collectors", self.run_due_collectors)
            self._contained("remediation", self.tick_remediation)
            self._feed_watchdog()
            self._check_threads()
            self.clock.wait(self._wake, self._seconds_until_next_work())

    def _contained(self, unit: str, work: Callable[[], Any]) -> None:
        """One unit of the loop's work: an error in it is logged and counted, and the loop goes on."""
        try:
            work()
        except Exception as exc:  # noqa: BLE001 — the supervision rule: contain, log, keep running
            self.loop_errors[unit] = self.loop_errors.get(unit, 0) + 1
            count = self.loop_errors[unit]
            if count == 1 or count % 100 == 0:
                log.error("%s failed (%s: %s; %d times so far)", unit, type(exc).__name__, exc, count,
                          exc_info=count == 1)

    def _check_threads(self) -> None:
        """A critical thread that has died or stalled ends the process non-zero, so systemd starts it afresh:
        a device that runs but no longer reports or answers is worse than a restart."""
        dead = [name for name, alive in self._critical_threads() if not alive]
        if dead:
            log.critical("%s thread stopped working; exiting for a restart", ", ".join(dead))
            self.exit_code = EX_SOFTWARE
            self._stop.set()

    def _critical_threads(self) -> list[tuple[str, bool]]:
        threads = [("control", self.control.alive())]
        if self.mqtt is not None:
            threads.append(("mqtt", self.mqtt.publisher.alive()))
        return threads

    def run_due_collectors(self) -> None:
        for task in self.schedule.due(self.clock.monotonic()):
            if self._stop.is_set():
                return
            self._contained(f"collector {task.name}", lambda name=task.name: self._run_collector(name))
            self._feed_watchdog()

    def _run_collector(self, name: str) -> None:
        collector = self.collectors[name]
        mono, ts = self.clock.monotonic(), self.clock.wall()
        try:
            samples = collector.collect(mono, ts)
        except Exception as exc:  # noqa: BLE001 — a failing collector is counted and backed off, never fatal
            error = f"{type(exc).__name__}: {exc}"
            backoff = self.schedule.failed(name, mono, error)
            log.error("collector %s failed (%s); next try in %.0f s", name, error, backoff,
                      exc_info=self.schedule.tasks[name].consecutive_failures == 1)
            return
        self.schedule.succeeded(name, mono)
        if self.mqtt is not None:
            self._hint_broker_path(samples)
        # Samples carry the time they were taken; issue changes the time they were decided (after slow probes).
        if self.pipeline.process(samples, self.clock.monotonic(), self.clock.wall()):
            self.notifier.status(self._status_line())  # `systemctl status` shows the open-issue count
            if self.mqtt is not None:
                self.mqtt.publisher.let_routers_fragment(ipv4_black_hole_open(self.tracker.active()))
        if self.mqtt is not None and self.config.mqtt.home_assistant:
            self._publish_home_assistant_state()

    def _hint_broker_path(self, samples: list) -> None:
        """The uplink probe sees the broker's path back: the publisher tries now, not after its backoff."""
        reachable = uplink_reachability(samples)
        if not reachable:
            return
        broker = f"{self.config.mqtt.host}:{self.config.mqtt.port}"
        if broker_path_back(self._uplink_reachable, reachable, broker):
            self.mqtt.publisher.path_seen_up()
        self._uplink_reachable = reachable

    def _publish_home_assistant_state(self) -> None:
        """The retained state Home Assistant's entities read; sent only when it changed."""
        open_issues = [i.to_dict() for i in self.tracker.active()]
        state = state_payload(self.pipeline.latest_samples(), open_issues, self.kpis.last_action,
                              self.config.mqtt.home_assistant_client_details)
        if state == self._home_assistant_state:
            return
        self._home_assistant_state = state
        payload = json.dumps(state, separators=(",", ":")).encode()
        if self.mqtt.outbox.put("telemetry", STATE_TOPIC, payload, qos=0, retain=True) is not None:
            self.mqtt.publisher.wake()

    def tick_remediation(self) -> None:
        for event in self.remediation.tick():
            self.reporter.event(event)

    def report(self, events: list) -> None:
        for event in events:
            self.reporter.event(event)

    def _seconds_until_next_work(self) -> float:
        """In the agent clock's seconds: the next collector due, a remediation deadline, or the next watchdog
        ping (real time)."""
        waits = [60.0]
        for due in (self.schedule.next_due(), self.remediation.next_deadline()):
            if due is not None:
                waits.append(due - self.clock.monotonic())
        interval = self.notifier.watchdog_interval_s
        if interval is not None:
            real_left = self._last_watchdog_real + interval - time.monotonic()
            waits.append(real_left * getattr(self.clock, "speed", 1.0))
        return max(0.0, min(waits))

    def _feed_watchdog(self) -> None:
        # Pinged from the main loop only: a collector that hangs stops the pings and systemd restarts us.
        # systemd counts real seconds, so this uses the real clock even when the simulation runs faster.
        interval = self.notifier.watchdog_interval_s
        if interval is None:
            return
        now = time.monotonic()
        if now - self._last_watchdog_real >= interval:
            self.notifier.watchdog()
            self._last_watchdog_real = now

    def reload(self) -> bool:
        self.notifier.reloading()
        try:
            new = load_config(self.config_path)
            problems = startup_problems(new, self.config_path)
            if problems:
                raise ConfigError(str(self.config_path), problems)
        except Exception as exc:  # noqa: BLE001 — whatever the file holds, the running config stays
            self.reload_failures += 1
            reason = exc if isinstance(exc, ConfigError) else f"{type(exc).__name__}: {exc}"
            log.error("config reload failed, keeping the previous config: %s", reason)
            self.notifier.send("READY=1", f"STATUS=reload failed, previous config kept; {self._status_line()}")
            return False
        for section in RESTART_ONLY_SECTIONS:
            if getattr(new, section) != getattr(self.config, section):
                log.warning("config reload: changes to [%s] take effect after a restart", section)
        self.tracker.open_after = new.issues.open_after
        self.tracker.resolve_after = new.issues.resolve_after
        self.tracker.per_type = _per_type(new)
        self.tracker.hold_down_s, self.tracker.hold_down_max_s = new.issues.hold_down_s, new.issues.hold_down_max_s
        if new.remediation != self.config.remediation:
            self._apply_remediation_settings(new)
        if new.detectors != self.config.detectors:
            # Rebuilt detectors start learning again (baselines, the gateway's MAC): only when their config changed.
            self.pipeline.replace_detectors(default_detectors(new.detectors) + self.ml.detectors)
        self._install_collectors(new)
        self.config = new
        self.reloads += 1
        log.info("config reloaded from %s", self.config_path or "<defaults>")
        release_free_memory()
        self.notifier.send("READY=1", f"STATUS={self._status_line()}")
        return True

    def _apply_remediation_settings(self, config: AgentConfig) -> None:
        self.remediation.update_settings(config.remediation)
        if self.backends.actions is not None:
            self.backends.actions.update_settings(config.remediation)

    def _shutdown(self) -> None:
        self.notifier.stopping("shutting down")
        log.info("shutting down")
        self.control.stop()
        self.ml.close()
        for close in self.backends.closers:
            close()
        self.reporter.close()
        if self.request_ledger is not None:
            self.request_ledger.close()
        self.notifier.close()

    def _status_line(self) -> str:
        return f"{len(self.tracker.active())} open issues, {self.backends.mode} premises"

    # Control-socket handlers (run on the control thread; the read-only ones live in agent_status).
    def _status(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return status_report(self)

    def _diagnose_from_control(self, args: Mapping[str, Any]) -> dict[str, Any]:
        # Read-only: the control socket does not say whether its caller is an admin, and a diagnosis that opened
        # issues could set remediation going on a group member's say-so.
        report = self._recent_diagnosis.get(
            lambda: self.run_in_loop(lambda: self.commands.diagnose(args)).result(timeout=DIAGNOSE_TIMEOUT_S),
            wait_s=DIAGNOSE_TIMEOUT_S)
        if "age_s" in report:
            report["source"] = f"{report['source']}, shared with a request {report['age_s']:g} s ago"
        return report

    def _reload_from_control(self, args: Mapping[str, Any]) -> dict[str, Any]:
        applied = self.run_in_loop(self.reload).result(timeout=DIAGNOSE_TIMEOUT_S)
        return {"applied": applied, "config_path": str(self.config_path) if self.config_path else None}

    def _remediate_from_control(self, args: Mapping[str, Any], peer: Peer) -> dict[str, Any]:
        def remediate() -> dict[str, Any]:  # a technician's authority only for root, our user and the admin group
            return self.remediate(args.get("action"), args.get("issue_id"), bool(args.get("dry_run")), "cli",
                                  admin=peer.is_admin)

        try:
            return self.run_in_loop(remediate).result(timeout=DIAGNOSE_TIMEOUT_S)
        except RemediationRefused as exc:
            raise RequestRefused(str(exc)) from None

    def remediate(
        self, action: str | None, issue_id: str | None, dry_run: bool, origin: str, admin: bool = False
    ) -> dict[str, Any]:
        """On the loop thread: one request through the engine, with the authority of `origin` (a technician's
        only when `admin`); its audit events, a refusal's included, are reported either way."""
        requester = Requester("cli" if origin == "cli" else "cloud", admin=admin and origin == "cli")
        try:
            answer, events = self.remediation.request(action, issue_id, dry_run, requester)
        except RemediationRefused as exc:
            self.report(exc.events)
            raise
        self.report(events)
        return answer

    def _actions(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """The audit log (newest last), the cases in progress, and the KPIs."""
        entries = self.audit.read()
        if args.get("issue_id"):
            entries = [e for e in entries if e.get("issue_id") == args["issue_id"]]
        if args.get("action_id"):
            entries = [e for e in entries if e.get("action_id") == args["action_id"]]
        limit = int(args.get("limit", 50))
        return {"entries": entries[-limit:] if limit > 0 else entries, "cases": self.run_in_loop(
            self.remediation.cases).result(timeout=DIAGNOSE_TIMEOUT_S), "kpis": self.kpi_snapshot()}

    def kpi_snapshot(self) -> dict[str, Any]:
        return self.kpis.snapshot(self.tracker.counters.flaps_prevented + self.remediation.flaps_prevented)

    def _issues(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        issues = self.tracker.snapshot()
        if not args.get("all", True):
            issues = [i for i in issues if i["state"] != "resolved"]
        return issues


def _per_type(config: AgentConfig) -> dict[str, tuple[int, int]]:
    return {name: (h.open_after, h.resolve_after) for name, h in config.issues.per_type.items()}


def make_clock(config: AgentConfig, mode: str, speed: float | None) -> Clock:
    """The real clock, or a faster one when the simulated premises is asked to run at speed > 1."""
    if mode != "simulated":
        return SystemClock()
    factor = speed if speed is not None else config.simulation.speed
    return ScaledClock(factor) if factor != 1.0 else SystemClock()


def run_agent(config: AgentConfig, config_path: Path | None, force_simulated: bool, speed: float | None) -> int:
    os.umask(0o027)  # what the agent creates (SQLite's journals too) is never for every local user, as under systemd
    mode = premises_mode(config, force_simulated)
    try:
        agent = Agent(config, config_path, mode=mode, clock=make_clock(config, mode, speed))
    except UnsafeDirectory as exc:
        log.error("%s", exc)
        return EX_NOPERM
    return agent.run()
