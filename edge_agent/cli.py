"""The `edge-agent` command: run the daemon, and the technician's view of a running one.

Kept thin and cheap to import: heavy modules load inside the subcommand that needs them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from edge_agent import __version__
from edge_agent.exit_codes import (
    EX_CANNOT_CHECK,
    EX_CANTCREAT,
    EX_CONFIG,
    EX_DATAERR,
    EX_FOUND,
    EX_INTERRUPTED,
    EX_IOERR,
    EX_NOINPUT,
    EX_NOPERM,
    EX_OK,
    EX_SOFTWARE,
    EX_UNAVAILABLE,
    EX_USAGE,
    exit_code_table,
)

EX_ISSUES_FOUND = EX_FOUND
EX_DIAGNOSE_FAILED = EX_CANNOT_CHECK


class _Exit(Exception):
    """Ends a subcommand with an exit code after its message was printed."""

    def __init__(self, code: int):
        self.code = code


def main(argv: list[str] | None = None) -> int:
    """The exit status of one command. Every expected failure ends as one line on stderr and a code from
    edge_agent.exit_codes, never a traceback."""
    try:
        code = _run_command(argv)
        sys.stdout.flush()  # here, not at interpreter exit, so a closed pipe is caught below
        return code
    except _Exit as stop:
        return stop.code
    except KeyboardInterrupt:
        _say("interrupted")
        return EX_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        _say("the output was closed before it was all written")
        return EX_IOERR
    except PermissionError as exc:
        _say(f"permission denied: {_os_error(exc)}")
        return EX_NOPERM
    except OSError as exc:
        _say(_os_error(exc))
        return EX_IOERR
    except Exception as exc:  # noqa: BLE001 — a bug: one line for the technician, the traceback on request
        if os.environ.get("EDGE_AGENT_DEBUG"):
            raise
        _say(f"internal error: {type(exc).__name__}: {exc} (EDGE_AGENT_DEBUG=1 shows the traceback)")
        return EX_SOFTWARE


def _run_command(argv: list[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help and --version
        return stop.code if isinstance(stop.code, int) else EX_OK
    return args.handler(args)


def _say(message: str) -> None:
    """One line on stderr, even when stderr itself is gone."""
    try:
        print(f"edge-agent: {message}", file=sys.stderr, flush=True)
    except OSError:
        pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered for the closed pipe must not fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout replaced by something without a descriptor (tests)
        pass


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line and EX_USAGE (argparse prints the usage too and exits 2, which `diagnose` and
    `camera check` use for "could not check"); every command group needs a command."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("edge-agent").strip()
        _say(f"{command + ': ' if command else ''}{message} (see `{self.prog} --help`)")
        raise _Exit(EX_USAGE)

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("required", True)
        return super().add_subparsers(**kwargs)

    def print_help(self, file: Any = None) -> None:
        # argparse ignores write errors here; a closed pipe must end --help like any other output.
        (file or sys.stdout).write(self.format_help())


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="edge-agent",
        description="Preemptive-care agent for customer-premises gateways.",
        epilog=f"exit codes:\n{exit_code_table()}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"edge-agent {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = sub.add_parser("run", help="run the agent in the foreground (as systemd does)")
    _add_config_option(run)
    run.add_argument("--simulate", action="store_true", help="use the simulated premises even if hardware exists")
    run.add_argument("--speed", type=_positive_float, help="simulated time runs this many times faster")
    run.set_defaults(handler=_cmd_run)

    status = sub.add_parser("status", help="health of the running agent")
    _add_client_options(status)
    status.set_defaults(handler=_cmd_status)

    issues = sub.add_parser("issues", help="open and recently resolved issues, with guidance")
    _add_client_options(issues)
    issues.add_argument("--open", action="store_true", help="only issues that are not resolved")
    issues.set_defaults(handler=_cmd_issues)

    diagnose = sub.add_parser(
        "diagnose",
        help="run every probe and detector now and say what is wrong (exit 0 healthy, 1 issues found, "
        "2 could not run)",
    )
    _add_client_options(diagnose)
    diagnose.add_argument("--standalone", action="store_true",
                          help="do not ask the running agent; probe directly (the default when none runs)")
    diagnose.add_argument("--simulate", action="store_true", help="standalone on the simulated premises")
    diagnose.set_defaults(handler=_cmd_diagnose)

    reload = sub.add_parser("reload", help="make the running agent re-read its config (root or the admin group)")
    _add_client_options(reload)
    reload.set_defaults(handler=_cmd_reload)

    remediate = sub.add_parser(
        "remediate",
        help="run one remediation action now, or approve the one an issue waits for (root or the admin group); "
        "the agent's policy and safety limits apply",
    )
    _add_client_options(remediate)
    remediate.add_argument("action", nargs="?", help="name[:target], e.g. restart_service:dnsmasq, flush_dns, "
                           "bounce_interface:eth0, switch_channel, custom:NAME")
    remediate.add_argument("--issue", metavar="ISSUE_ID", help="the issue this is for (its evidence verifies it)")
    remediate.add_argument("--approve", metavar="ISSUE_ID", help="approve the action this issue waits for")
    remediate.add_argument("--dry-run", action="store_true", help="say what would happen, change nothing")
    remediate.add_argument("--wait", type=_non_negative_float, default=120.0, metavar="SECONDS",
                           help="follow the action until its outcome, at most this long (0: do not wait)")
    remediate.set_defaults(handler=_cmd_remediate)

    actions = sub.add_parser("actions", help="the remediation audit log: every decision, action and outcome")
    _add_client_options(actions)
    actions.add_argument("--issue", metavar="ISSUE_ID", help="only this issue's")
    actions.add_argument("--limit", type=int, default=30, help="the newest N entries (0: all kept)")
    actions.set_defaults(handler=_cmd_actions)

    demo = sub.add_parser("demo", help="the whole loop in under a minute: a local broker, the agent on a scripted "
                          "scenario, and a fleet view narrating what it receives")
    demo.add_argument("--scenario", default="demo", help="a shipped scenario name or a .toml file (default demo)")
    demo.add_argument("--speed", type=_positive_float, default=10.0, help="simulated time x real time (default 10)")
    demo.add_argument("--no-broker", action="store_true", help="do not start mosquitto: show the outbox keeping "
                      "everything")
    demo.set_defaults(handler=_cmd_demo)

    sim = sub.add_parser("sim", help="scenarios on the simulated premises: run the whole agent and check the outcome")
    sim_sub = sim.add_subparsers(title="sim commands", metavar="COMMAND")
    sim_list = sim_sub.add_parser("list", help="the shipped scenarios")
    sim_list.set_defaults(handler=_cmd_sim_list)
    sim_run = sim_sub.add_parser("run", help="run scenarios and check their expectations (exit 1 if any fails)")
    sim_run.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="a shipped name or a .toml file")
    sim_run.add_argument("--all", action="store_true", help="every shipped scenario")
    sim_run.add_argument("--speed", type=_positive_float,
                         help="pace simulated time at N x real time (default: as fast as possible)")
    sim_run.add_argument("--json", action="store_true", help="the reports as JSON")
    sim_run.add_argument("--timeline", action="store_true", help="also print each scenario's issues and actions")
    sim_run.set_defaults(handler=_cmd_sim_run)

    fleet = sub.add_parser("fleet", help="fleet-side tools, run against the broker")
    fleet_sub = fleet.add_subparsers(title="fleet commands", metavar="COMMAND")
    fleet_watch = fleet_sub.add_parser("watch", help="watch the fleet's presence, issues and actions")
    _add_broker_options(fleet_watch)
    fleet_watch.add_argument("--share", metavar="GROUP", help="an MQTT v5 shared subscription: watchers split the load")
    fleet_watch.add_argument("--json", action="store_true", help="stream normalised events as JSON lines")
    fleet_watch.add_argument("--duration", type=_positive_float, help="stop after this many seconds")
    fleet_watch.add_argument("--store", metavar="URL", help="also keep presence, issues, actions and telemetry in a "
                             "database: sqlite:///PATH or postgresql://USER@HOST:PORT/DB (watchers may share one)")
    fleet_watch.add_argument("--session", metavar="CLIENT_ID", help="a persistent MQTT session under this client id "
                             "(one per watcher): what it missed while stopped or killed is delivered when it returns")
    fleet_watch.add_argument("--session-expiry", type=_positive_float, default=3600.0, metavar="SECONDS",
                             help="how long the broker keeps the --session while the watcher is away (default 3600)")
    fleet_watch.set_defaults(handler=_cmd_fleet_watch)
    fleet_cmd = fleet_sub.add_parser("cmd", help="send one command to one gateway and follow its replies")
    fleet_cmd.add_argument("device")
    fleet_cmd.add_argument("command", help="ping, diagnose, get_issues, set_log_level, remediate")
    fleet_cmd.add_argument("args", nargs="*", metavar="KEY=VALUE", help="the command's arguments")
    _add_broker_options(fleet_cmd)
    fleet_cmd.add_argument("--timeout", type=_positive_float, default=30.0, metavar="SECONDS",
                           help="how long to wait for the final reply (default 30)")
    fleet_cmd.add_argument("--json", action="store_true", help="each reply as one JSON line")
    fleet_cmd.set_defaults(handler=_cmd_fleet_cmd)

    fleet_report = fleet_sub.add_parser(
        "report", help="KPIs over a time window from a fleet store or recorded `fleet watch --json` streams")
    fleet_report.add_argument("files", nargs="*", metavar="EVENTS.jsonl",
                              help="recordings of fleet watch --json ('-' for standard input); several watchers' "
                              "recordings (--share) are merged, each message once")
    fleet_report.add_argument("--since", type=_time_arg, help="issues opened from (epoch seconds or ISO 8601)")
    fleet_report.add_argument("--until", type=_time_arg, help="issues opened before")
    fleet_report.add_argument("--json", action="store_true", help="the KPIs as JSON")
    fleet_report.add_argument("--chart", metavar="FILE.png|FILE.svg", help="also draw issues per type (matplotlib)")
    fleet_report.add_argument("--store", metavar="URL", help="read the fleet store fleet watch --store wrote, "
                              "instead of recordings")
    fleet_report.add_argument("--html", metavar="FILE.html", help="also write the report as one self-contained page")
    fleet_report.set_defaults(handler=_cmd_fleet_report)

    fleet_prune = fleet_sub.add_parser(
        "prune", help="delete what aged out of a fleet store (run daily, e.g. from a timer, beside the watchers)")
    fleet_prune.add_argument("--store", metavar="URL", required=True, help="the fleet store fleet watch --store writes")
    fleet_prune.add_argument("--telemetry-days", type=_positive_float, default=30.0,
                             help="keep telemetry windows this long (default 30)")
    fleet_prune.add_argument("--ledger-days", type=_positive_float, default=7.0,
                             help="keep message ids for duplicate detection this long; at least 1 (default 7)")
    fleet_prune.add_argument("--issues-days", type=_positive_float, default=400.0,
                             help="keep resolved issues and their actions this long (default 400); open issues "
                             "are always kept")
    fleet_prune.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    fleet_prune.add_argument("--json", action="store_true", help="the counts as JSON")
    fleet_prune.set_defaults(handler=_cmd_fleet_prune)

    camera = sub.add_parser("camera", help="camera tools for the technician")
    camera_sub = camera.add_subparsers(title="camera commands", metavar="COMMAND")
    camera_check = camera_sub.add_parser(
        "check", help="grab a frame, run the vision models and say what they see (exit 0 fine, 1 set-up problems "
        "seen, 2 no camera or no model)")
    _add_config_option(camera_check)
    camera_check.add_argument("--source", help="synthetic[:LABEL] | picamera2 | v4l2[:DEVICE] | replay:PATH | a file "
                              "or directory (default: the config's [camera])")
    camera_check.add_argument("--save", type=Path, metavar="FILE.ppm", help="keep the frame here (it stays local)")
    camera_check.add_argument("--json", action="store_true", help="machine-readable output")
    camera_check.add_argument("--profile", type=Path, metavar="PROFILE.json",
                              help="read the watched device's LEDs against this profile (camera calibrate) over a "
                              "burst of frames: each LED's state and the issues its rules imply")
    camera_check.add_argument("--frames", type=int, default=16, help="frames in the burst (with --profile; a video "
                              "or live camera is sampled every 0.15 s, a directory's images are taken in order)")
    camera_check.set_defaults(handler=_cmd_camera_check)
    camera_calibrate = camera_sub.add_parser(
        "calibrate", help="learn the watched device's LED profile from a known-good view: where its LEDs are, "
        "their colours and names (exit 0 written, 2 nothing to calibrate on)")
    _add_config_option(camera_calibrate)
    camera_calibrate.add_argument("--source", help="as for camera check (default: the config's [camera])")
    camera_calibrate.add_argument("--out", type=Path, default=Path("led-profile.json"), metavar="PROFILE.json")
    camera_calibrate.add_argument("--led", action="append", default=[], metavar="x,y,w,h[:NAME[:on|off]]",
                                  help="an LED's box in the frame's pixels (repeat per LED; default: found as lit "
                                  "spots); say on/off for a white LED")
    camera_calibrate.add_argument("--rules", type=Path, metavar="RULES.json",
                                  help="rules that map LED states to issues (e.g. config/led-rules/ont.json)")
    camera_calibrate.add_argument("--frames", type=int, default=1,
                                  help="frames to calibrate on (a blinking LED gets both states)")
    camera_calibrate.add_argument("--json", action="store_true", help="machine-readable output")
    camera_calibrate.set_defaults(handler=_cmd_camera_calibrate)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(title="config commands", metavar="COMMAND")
    check = config_sub.add_parser("check", help="validate a config file and print the effective config")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_cmd_config_check)
    return parser


def _time_arg(text: str) -> float:
    from datetime import datetime

    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(seconds):
            return seconds
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither epoch seconds nor ISO 8601") from None


def _positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = _finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", "-c", type=Path,
        help="config file (default: $EDGE_AGENT_CONFIG, else /etc/edge-agent/edge-agent.toml if present, "
        "else built-in defaults)",
    )


def _add_client_options(parser: argparse.ArgumentParser) -> None:
    _add_config_option(parser)
    parser.add_argument("--socket", type=Path, help="control socket of the running agent (default: from config)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _config_path(args: argparse.Namespace) -> Path | None:
    from edge_agent.config import DEFAULT_CONFIG_PATH

    if args.config is not None:
        return args.config
    if os.environ.get("EDGE_AGENT_CONFIG"):
        return Path(os.environ["EDGE_AGENT_CONFIG"])
    try:
        return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None
    except PermissionError:  # /etc/edge-agent is the agent's group's: the technician is not (yet) in it
        _say(f"permission denied on {DEFAULT_CONFIG_PATH}: run as root or as a member of the agent's group"
             f"{_join_group_hint(DEFAULT_CONFIG_PATH)}")
        raise _Exit(EX_NOPERM) from None


def _load(path: Path | None, check_secrets: bool = False):
    """The validated config, or None after printing one line per problem to stderr.

    With `check_secrets`, also refuse key files and passwords other users could read, and TLS files the MQTT
    connection could not use (what `run` starts with).
    """
    from edge_agent.config import ConfigError, load_config, startup_problems

    try:
        config = load_config(path)
    except ConfigError as exc:
        _print_problems(exc.source, exc.problems)
        return None
    problems = startup_problems(config, path) if check_secrets else []
    if problems:
        _print_problems(str(path) if path else "<defaults>", problems)
        return None
    return config


def _print_problems(source: str, problems: list[str]) -> None:
    for problem in problems:
        print(f"edge-agent: config error in {source}: {problem}", file=sys.stderr)


def _cmd_run(args: argparse.Namespace) -> int:
    path = _config_path(args)
    config = _load(path, check_secrets=True)
    if config is None:
        return EX_CONFIG
    from edge_agent.logs import configure_logging

    unsafe, in_use = _control_socket_problems(config, args.simulate)
    if unsafe:  # before anything connects there: a socket someone else planted must not even be asked
        print(f"edge-agent: {unsafe}", file=sys.stderr)
        return EX_NOPERM
    if in_use:
        print(f"edge-agent: {in_use}", file=sys.stderr)
        return EX_CANTCREAT
    agent = config.agent
    configure_logging(agent.log_level, agent.log_format, agent.log_file, agent.log_file_max_bytes,
                      agent.log_file_backups)
    from edge_agent.agent.control import ControlError
    from edge_agent.agent.daemon import run_agent

    try:
        return run_agent(config, path, force_simulated=args.simulate, speed=args.speed)
    except ControlError as exc:  # a second agent that started between the check above and its own socket
        print(f"edge-agent: {exc}", file=sys.stderr)
        return EX_CANTCREAT
    except OSError:
        raise  # a state directory or file the agent cannot use: main() says so in one line
    except Exception:  # a bug in the agent: its traceback belongs in the agent's log, not only one line
        import logging

        logging.getLogger("edge_agent").critical("the agent stopped on an unexpected error", exc_info=True)
        return EX_SOFTWARE


def _control_socket_problems(config, force_simulated: bool) -> tuple[str | None, str | None]:
    """Why this agent could not have its control socket, found before anything starts: (the directory is not
    safe, another agent listens there). A simulated run without a configured socket gets a fresh directory of
    its own: nothing to check."""
    from edge_agent.agent.control import socket_in_use
    from edge_agent.backends import premises_mode
    from edge_agent.paths import control_socket_path, directory_problem

    if config.control.socket_path is None and premises_mode(config, force_simulated) == "simulated":
        return None, None
    path = control_socket_path(config)
    unsafe = directory_problem(path.parent)
    if unsafe:
        return unsafe, None
    return None, socket_in_use(path)


def _cmd_config_check(args: argparse.Namespace) -> int:
    """The schema, then every file the config names; demo values in a production config are only warned about."""
    from edge_agent.config import read_toml
    from edge_agent.config_check import demo_value_warnings, named_file_problems

    config = _load(args.file, check_secrets=True)
    if config is None:
        return EX_CONFIG
    problems = list(dict.fromkeys(named_file_problems(config)))  # the key file's absence is said once
    if problems:
        _print_problems(str(args.file), problems)
        return EX_CONFIG
    for warning in demo_value_warnings(config, read_toml(args.file)):
        print(f"edge-agent: warning: {args.file}: {warning}", file=sys.stderr)
    print(json.dumps(config.masked_dict(), indent=2))
    print(f"edge-agent: {args.file} is valid", file=sys.stderr)
    return EX_OK


def _ask(
    args: argparse.Namespace,
    name: str,
    request_args: dict[str, Any] | None = None,
    timeout_s: float = 5.0,
    quiet_if_not_running: bool = False,
    reraise: tuple[type[Exception], ...] = (),
) -> Any:
    """The running agent's answer; None (when asked to be quiet) if no agent runs."""
    from edge_agent.agent.control import AgentNotRunning, ControlError, NotPermitted, request
    from edge_agent.paths import directory_problem

    socket_path = args.socket or _socket_from_config(_config_path(args))
    problem = directory_problem(socket_path.parent)  # before a word goes to whoever listens there
    if problem:
        print(f"edge-agent: {problem}", file=sys.stderr)
        raise _Exit(EX_NOPERM)
    try:
        return request(socket_path, name, request_args, timeout_s=timeout_s)
    except AgentNotRunning as exc:
        if quiet_if_not_running:
            return None
        print(f"edge-agent: {exc}: {_START_HINT}", file=sys.stderr)
        raise _Exit(EX_UNAVAILABLE) from None
    except ControlError as exc:
        if isinstance(exc, reraise):
            raise
        if isinstance(exc, NotPermitted):
            print(f"edge-agent: {exc}{_join_group_hint(socket_path)}", file=sys.stderr)
            raise _Exit(EX_NOPERM) from None
        print(f"edge-agent: {exc}", file=sys.stderr)
        raise _Exit(EX_UNAVAILABLE) from None


# What a technician does next when no agent answers: the installed unit, or the socket a hand-started run logged.
_START_HINT = ("start it with `sudo systemctl start edge-agent` (why it stopped: `journalctl -u edge-agent`), "
               "or give --socket the path an agent started by hand logged")


def _join_group_hint(socket_path: Path) -> str:
    """The group that may use the socket (or its directory, when even that is closed to us) and how to join it;
    nothing when the socket is open to us and the agent itself said no (reload and remediate are for admins)."""
    import grp

    if os.access(socket_path, os.R_OK | os.W_OK):
        return ""
    for path in (socket_path, socket_path.parent):
        try:
            gid = path.stat().st_gid
            group = grp.getgrgid(gid).gr_name
        except (OSError, KeyError):
            continue
        if gid != 0:
            return f" (group {group}: `sudo usermod -aG {group} $USER`, then log in again)"
    return ""


def _socket_from_config(path: Path | None) -> Path:
    """The control socket named by the config; a broken config must not lock the technician out."""
    from edge_agent.config import AgentConfig, ConfigError, ControlSection, load_config, read_toml
    from edge_agent.paths import control_socket_path

    try:
        return control_socket_path(load_config(path))
    except ConfigError as exc:
        more = f" and {len(exc.problems) - 1} more" if len(exc.problems) > 1 else ""
        print(f"edge-agent: warning: {exc.source}: {exc.problems[0] if exc.problems else 'invalid'}{more} "
              f"(`edge-agent config check {exc.source}` lists them); the socket comes from its [control] section "
              "if readable, else the default", file=sys.stderr)
    try:
        control = ControlSection.model_validate((read_toml(path) if path else {}).get("control", {}))
    except (ConfigError, ValueError):
        control = ControlSection()
    return control_socket_path(AgentConfig(control=control))


def _show(args: argparse.Namespace, answer: Any, view: str) -> int:
    """The agent's answer as JSON (--json) or through the named view of edge_agent.views."""
    if args.json:
        print(json.dumps(answer, indent=2))
        return EX_OK
    from edge_agent import views
    from edge_agent.output import terminal_safe

    print(terminal_safe(getattr(views, view)(answer)))
    return EX_OK


def _cmd_status(args: argparse.Namespace) -> int:
    return _show(args, _ask(args, "status"), "render_status")


def _cmd_diagnose(args: argparse.Namespace) -> int:
    report = None
    if not (args.standalone or args.simulate):
        report = _ask(args, "diagnose", timeout_s=35.0, quiet_if_not_running=True)
    if report is None:
        config = _load(_config_path(args))
        if config is None:
            return EX_CONFIG
        from edge_agent.agent.diagnosis import diagnose_without_agent

        report = diagnose_without_agent(config, force_simulated=args.simulate)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        from edge_agent.output import terminal_safe
        from edge_agent.views import render_diagnosis

        print(terminal_safe(render_diagnosis(report)))
    if not report["samples"]:
        return EX_DIAGNOSE_FAILED
    return EX_ISSUES_FOUND if report["findings"] else EX_OK


def _cmd_reload(args: argparse.Namespace) -> int:
    result = _ask(args, "reload", timeout_s=35.0)
    if args.json:
        print(json.dumps(result, indent=2))
    elif result["applied"]:
        print(f"reloaded {result['config_path'] or 'built-in defaults'}")
    else:
        print("the new config was refused and the old one kept: see the agent's log", file=sys.stderr)
    return EX_OK if result["applied"] else EX_CONFIG


FINAL_OUTCOMES = {"fixed", "completed", "failed", "escalated", "cancelled", "skipped"}


def _cmd_remediate(args: argparse.Namespace) -> int:
    from edge_agent.agent.control import RefusedByAgent

    if (args.action is None) == (args.approve is None):
        print("edge-agent: name an ACTION, or --approve ISSUE_ID", file=sys.stderr)
        return EX_USAGE
    request = {"action": args.action, "issue_id": args.approve or args.issue, "dry_run": args.dry_run}
    try:
        answer = _ask(args, "remediate", request, timeout_s=35.0, reraise=(RefusedByAgent,))
    except RefusedByAgent as exc:
        print(f"edge-agent: refused: {exc}", file=sys.stderr)
        return 1
    if answer.get("dry_run"):
        print(json.dumps(answer) if args.json else answer["would"])
        return EX_OK
    action_id = answer.get("action_id")
    if not args.json:
        print(f"{answer.get('action')}: {answer['state']}")
    entries = _follow_action(args, action_id, args.wait) if action_id and args.wait > 0 else []
    if args.json:
        print(json.dumps({"answer": answer, "entries": entries}, indent=2))
    else:
        for entry in entries:
            print(f"{entry['outcome']}: {entry['reason']}")
    final = entries[-1]["outcome"] if entries else None
    return 1 if final in ("failed", "escalated", "skipped") else EX_OK


def _follow_action(args: argparse.Namespace, action_id: str, wait_s: float) -> list[dict[str, Any]]:
    """The audit entries of one action, polled until it reaches an outcome or `wait_s` passes."""
    deadline = time.monotonic() + wait_s
    entries: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        entries = _ask(args, "actions", {"action_id": action_id, "limit": 0})["entries"]
        if entries and entries[-1]["outcome"] in FINAL_OUTCOMES:
            break
        time.sleep(0.5)
    return entries


def _cmd_actions(args: argparse.Namespace) -> int:
    return _show(args, _ask(args, "actions", {"issue_id": args.issue, "limit": args.limit}), "render_actions")


def _cmd_demo(args: argparse.Namespace) -> int:
    from edge_agent.demo import run_demo
    from edge_agent.sim.scenario import ScenarioError

    try:
        return run_demo(args.scenario, args.speed, use_broker=not args.no_broker)
    except ScenarioError as exc:
        print(f"edge-agent: {exc}", file=sys.stderr)
        return EX_USAGE


def _cmd_sim_list(args: argparse.Namespace) -> int:
    from edge_agent.sim.scenario import load_scenario, shipped_scenarios

    for path in shipped_scenarios():
        scenario = load_scenario(path)
        print(f"{scenario.name:34} {scenario.description}")
    return EX_OK


def _cmd_sim_run(args: argparse.Namespace) -> int:
    import tempfile

    from edge_agent.sim.runner import judge, quiet_agent_logs, report_json, run_scenario
    from edge_agent.sim.scenario import ScenarioError, find_scenario, load_scenario, shipped_scenarios
    from edge_agent.views import render_scenario_reports, render_timeline

    if not args.scenarios and not args.all:
        print("edge-agent: name a SCENARIO (see `edge-agent sim list`) or --all", file=sys.stderr)
        return EX_USAGE
    try:
        paths = shipped_scenarios() if args.all else [find_scenario(name) for name in args.scenarios]
        scenarios = [load_scenario(path) for path in paths]
    except ScenarioError as exc:
        print(f"edge-agent: {exc}", file=sys.stderr)
        return EX_USAGE
    reports = []
    for scenario in scenarios:
        with tempfile.TemporaryDirectory(prefix="edge-agent-sim-") as workdir, quiet_agent_logs():
            run = run_scenario(scenario, Path(workdir), speed=args.speed)
        reports.append(judge(run))
        if args.timeline and not args.json:
            print(f"\n{scenario.name}: {scenario.description}\n{render_timeline(run.events)}")
    print(report_json(reports) if args.json else render_scenario_reports(reports))
    return EX_OK if all(r.passed for r in reports) else 1


def _broker_options(args: argparse.Namespace):
    """--broker HOST:PORT and the TLS and login options of the fleet tools; None (said why) when malformed."""
    from edge_agent.fleet.connection import BrokerOptions

    host, _, port = args.broker.rpartition(":")
    if not host or not port.isdigit():
        print(f"edge-agent: --broker {args.broker!r} is not HOST:PORT", file=sys.stderr)
        return None
    return BrokerOptions(host, int(port), args.username, os.environ.get("EDGE_AGENT_FLEET_PASSWORD"),
                         args.ca_file, args.cert_file, args.key_file)


def _add_broker_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", required=True, help="HOST:PORT of the MQTT broker")
    parser.add_argument("--prefix", default="edge/v1", help="topic prefix (default edge/v1)")
    parser.add_argument("--username", help="broker login; the password comes from EDGE_AGENT_FLEET_PASSWORD")
    parser.add_argument("--ca-file", type=Path, help="TLS: the broker's CA (PEM)")
    parser.add_argument("--cert-file", type=Path, help="TLS: this client's certificate (PEM)")
    parser.add_argument("--key-file", type=Path, help="TLS: this client's key (PEM)")


def _cmd_fleet_watch(args: argparse.Namespace) -> int:
    from edge_agent.fleet.watch import WatchOptions, watch

    broker = _broker_options(args)
    if broker is None:
        return EX_USAGE
    from edge_agent.fleet.dialect import StoreUrlError, database_errors

    options = WatchOptions(broker, prefix=args.prefix, share=args.share, as_json=args.json,
                           duration_s=args.duration, store_url=args.store, session=args.session,
                           session_expiry_s=int(args.session_expiry))
    try:
        state = watch(options)
    except OSError as exc:
        print(f"edge-agent: cannot reach the broker at {args.broker}: {exc.strerror or exc}", file=sys.stderr)
        return EX_UNAVAILABLE
    except StoreUrlError as exc:
        print(f"edge-agent: --store: {exc}", file=sys.stderr)
        return EX_USAGE
    except database_errors() as exc:
        print(f"edge-agent: the fleet store failed: {str(exc).strip()}", file=sys.stderr)
        return EX_UNAVAILABLE
    if args.json:
        print(json.dumps({"summary": state.summary()}), flush=True)  # the last line of the stream
    return EX_OK


def _cmd_fleet_report(args: argparse.Namespace) -> int:
    from edge_agent.fleet.dialect import StoreUrlError, database_errors
    from edge_agent.fleet.report import (
        ReportInputError,
        build_report,
        merge_streams,
        read_events,
        render_report,
        report_from_store,
    )

    if bool(args.files) == bool(args.store):
        print("edge-agent: fleet report reads either recordings (EVENTS.jsonl ...) or --store URL", file=sys.stderr)
        return EX_USAGE
    try:
        if args.store:
            report = report_from_store(args.store, args.since, args.until)
        else:
            streams = []
            for name in args.files:
                if name == "-":
                    streams.append(read_events(sys.stdin, "<stdin>"))
                else:
                    with open(name, encoding="utf-8") as f:
                        streams.append(read_events(f, name))
            report = build_report(merge_streams(streams), args.since, args.until)
        kpis = report.kpis()
        if args.chart:
            from edge_agent.fleet.report import write_chart

            write_chart(kpis, args.chart)
        if args.html:
            from edge_agent.fleet.html_report import write_html

            write_html(report, args.html)
    except StoreUrlError as exc:
        print(f"edge-agent: --store: {exc}", file=sys.stderr)
        return EX_USAGE
    except ReportInputError as exc:
        print(f"edge-agent: {exc}", file=sys.stderr)
        return EX_DATAERR
    except OSError as exc:
        print(f"edge-agent: cannot read {_os_error(exc)}", file=sys.stderr)
        return EX_NOINPUT
    except database_errors() as exc:
        print(f"edge-agent: the fleet store failed: {str(exc).strip()}", file=sys.stderr)
        return EX_UNAVAILABLE
    print(json.dumps(kpis, indent=2) if args.json else render_report(kpis))
    return EX_OK


def _cmd_fleet_prune(args: argparse.Namespace) -> int:
    from edge_agent.fleet.dialect import StoreUrlError, database_errors
    from edge_agent.fleet.retention import RetentionError, RetentionPolicy
    from edge_agent.fleet.store import FleetStore

    try:
        policy = RetentionPolicy(args.telemetry_days, args.ledger_days, args.issues_days)
        store = FleetStore(args.store, must_exist=True)
    except (RetentionError, StoreUrlError) as exc:
        print(f"edge-agent: {exc}", file=sys.stderr)
        return EX_USAGE
    try:
        result = store.prune(policy.cutoffs(time.time()), dry_run=args.dry_run).to_dict()
    except database_errors() as exc:
        print(f"edge-agent: the fleet store failed: {str(exc).strip()}", file=sys.stderr)
        return EX_UNAVAILABLE
    finally:
        store.close()
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, "deleted": result}))
    else:
        verb = "would delete" if args.dry_run else "deleted"
        print(f"{verb}: {result['telemetry']} telemetry windows (older than {args.telemetry_days:g} d), "
              f"{result['messages']} message ids (older than {args.ledger_days:g} d), {result['issues']} resolved "
              f"issues and {result['actions']} actions (older than {args.issues_days:g} d)")
    return EX_OK


def _cmd_fleet_cmd(args: argparse.Namespace) -> int:
    from edge_agent.fleet.command import render_reply, send_command

    broker = _broker_options(args)
    if broker is None:
        return EX_USAGE
    bad = [a for a in args.args if "=" not in a]
    if bad:
        print(f"edge-agent: arguments must be KEY=VALUE, got {bad}", file=sys.stderr)
        return EX_USAGE
    command_args = dict(a.split("=", 1) for a in args.args)
    final = None
    try:
        for reply in send_command(broker, args.device, args.command, command_args, args.prefix, args.timeout):
            print(json.dumps(reply) if args.json else render_reply(args.command, reply), flush=True)
            final = reply["state"]
    except TimeoutError as exc:
        # Most often a device id that is not online (or a typo): the fleet view lists who is.
        print(f"edge-agent: {exc}; `edge-agent fleet watch --broker {args.broker}` shows which devices are online",
              file=sys.stderr)
        return EX_UNAVAILABLE
    except OSError as exc:
        print(f"edge-agent: cannot reach the broker at {args.broker}: {exc.strerror or exc}", file=sys.stderr)
        return EX_UNAVAILABLE
    return EX_OK if final == "succeeded" else 1


def _cmd_issues(args: argparse.Namespace) -> int:
    return _show(args, _ask(args, "issues", {"all": not args.open}), "render_issues")


def _cmd_camera_check(args: argparse.Namespace) -> int:
    config = _load(_config_path(args))
    if config is None:
        return EX_CONFIG
    from edge_agent.camera_check import EX_CANNOT_CHECK, camera_check, led_check, render_check, render_led_report

    try:
        if args.profile is not None:
            report = led_check(config, args.source, args.profile, args.frames)
        else:
            report = camera_check(config, args.source, args.save)
    except ValueError as exc:  # ProfileError too: a broken profile is named, never a traceback
        print(f"edge-agent: {exc}", file=sys.stderr)
        return EX_CANNOT_CHECK
    render = render_led_report if args.profile is not None else render_check
    print(json.dumps(report, indent=2) if args.json else render(report))
    return report["exit_code"]


def _cmd_camera_calibrate(args: argparse.Namespace) -> int:
    config = _load(_config_path(args))
    if config is None:
        return EX_CONFIG
    from edge_agent.camera_check import EX_CANNOT_CHECK, led_calibrate, render_led_report

    try:
        report = led_calibrate(config, args.source, args.out, args.led, args.rules, args.frames)
    except (ValueError, OSError) as exc:
        print(f"edge-agent: {exc}", file=sys.stderr)
        return EX_CANNOT_CHECK
    print(json.dumps(report, indent=2) if args.json else render_led_report(report))
    return report["exit_code"]
