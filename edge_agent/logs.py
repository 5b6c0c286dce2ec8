"""Logging set-up: plain text, the journal's own priority prefixes under systemd, or JSON lines; an optional
bounded file.

Under systemd (JOURNAL_STREAM set) each line starts with `<N>`, the syslog priority, so `journalctl -p warning`
filters by level, and no timestamp is printed because the journal adds its own.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

from edge_agent.output import terminal_safe

# syslog priorities, as sd-daemon(3) prefixes expect them
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


# Besides what a terminal obeys (output.terminal_safe), what would end the line: a newline, and the Unicode line
# and paragraph separators some log viewers break at.
_LINE_BREAKS = {0x0a: "\\n", 0x2028: "\\u2028", 0x2029: "\\u2029"}


class OneLineFormatter(logging.Formatter):
    """Text lines whose message cannot start another line. Messages quote what others sent (a cloud command's
    keys, a DHCP server's host name, an SSID): with a newline and `<0>` a sender could otherwise write a line
    of its own into the journal, at any priority. A traceback still follows on lines of its own."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 — logging's name
        record.message = terminal_safe(record.message).translate(_LINE_BREAKS)
        return super().formatMessage(record)


class JournalFormatter(OneLineFormatter):
    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        return f"<{priority}>{record.name}: {super().format(record)}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message (and the traceback when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


TEXT_LINE = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def stream_formatter(log_format: str, env: Mapping[str, str]) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    if log_format == "journal" or (log_format == "auto" and env.get("JOURNAL_STREAM")):
        return JournalFormatter("%(message)s")
    return OneLineFormatter(TEXT_LINE)


def log_file_problem(path: Path) -> str | None:
    """Why `path` cannot take the agent's log: something other than a regular file is there. Opening a FIFO
    for writing waits for a reader, so the agent hung at start, before logging a line."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None  # created at the first line
    except OSError as exc:
        return f"cannot be used ({exc.strerror or exc})"
    return None if stat.S_ISREG(mode) else "not a regular file"


def configure_logging(
    level: str,
    log_format: str = "auto",
    log_file: Path | None = None,
    log_file_max_bytes: int = 1_000_000,
    log_file_backups: int = 3,
    env: Mapping[str, str] | None = None,
) -> None:
    env = os.environ if env is None else env
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(stream_formatter(log_format, env))
    root.addHandler(stream)
    if log_file is not None:
        from logging.handlers import RotatingFileHandler  # only for a log file: the journal needs none of it

        problem = log_file_problem(log_file)
        if problem is not None:
            raise OSError(f"agent.log_file = '{log_file}': {problem}")

        # Bounded: flash on a gateway is small and wears out; the journal is the primary log.
        file_handler = RotatingFileHandler(
            log_file, maxBytes=log_file_max_bytes, backupCount=log_file_backups
        )
        file_handler.setFormatter(OneLineFormatter(TEXT_LINE))
        root.addHandler(file_handler)
    root.setLevel(level.upper())
