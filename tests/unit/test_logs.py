"""Log output: journal priorities under systemd, JSON lines on request, and a bounded file."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from edge_agent.logs import JournalFormatter, JsonFormatter, configure_logging, stream_formatter


def record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("edge_agent.agent.daemon", level, __file__, 1, message, None, None)


@pytest.mark.parametrize(("level", "prefix"), [(logging.ERROR, "<3>"), (logging.WARNING, "<4>"),
                                                (logging.INFO, "<6>"), (logging.DEBUG, "<7>")])
def test_journal_lines_carry_the_syslog_priority_and_no_timestamp(level, prefix):
    line = JournalFormatter("%(message)s").format(record(level, "ISSUE OPENED: dns_failure"))
    assert line == f"{prefix}edge_agent.agent.daemon: ISSUE OPENED: dns_failure"


def test_json_lines_are_one_object_with_level_logger_and_message():
    entry = json.loads(JsonFormatter().format(record(logging.WARNING, "outbox full")))
    assert (entry["level"], entry["logger"], entry["message"]) == ("warning", "edge_agent.agent.daemon", "outbox full")


def test_auto_format_uses_the_journal_only_under_systemd():
    assert isinstance(stream_formatter("auto", {"JOURNAL_STREAM": "8:12345"}), JournalFormatter)
    assert not isinstance(stream_formatter("auto", {}), (JournalFormatter, JsonFormatter))


def test_the_optional_log_file_is_bounded(tmp_path):
    path = tmp_path / "agent.log"
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("info", "text", path, log_file_max_bytes=10_000, log_file_backups=2, env={})
        for n in range(2000):
            logging.getLogger("edge_agent.test").info("line %d with some words to fill the file", n)
        files = sorted(tmp_path.glob("agent.log*"))
        assert [f.name for f in files] == ["agent.log", "agent.log.1", "agent.log.2"]
        assert all(f.stat().st_size <= 10_000 for f in files)
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], root.level = saved


@pytest.mark.timeout(10)
def test_a_fifo_as_the_log_file_is_refused_naming_it_not_waited_on(tmp_path):
    import os

    os.mkfifo(tmp_path / "agent.log")
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        with pytest.raises(OSError, match=r"agent.log_file = '.*agent.log': not a regular file"):
            configure_logging("info", log_file=tmp_path / "agent.log")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)


FORGED = "command x rejected: unknown fields: a\n<0>edge_agent: FORGED emergency\r\x1b[2J\u2028end"


@pytest.mark.parametrize("log_format, env", [("journal", {}), ("text", {}), ("json", {}),
                                             ("auto", {"JOURNAL_STREAM": "8:1"})])
def test_a_message_quoting_what_a_sender_wrote_stays_one_line_in_every_format(log_format, env):
    """A cloud command's keys, a DHCP host name or an SSID end up in messages: none may start a line of its own
    (under systemd a line starting `<0>` is an emergency from the agent)."""
    line = stream_formatter(log_format, env).format(record(logging.WARNING, FORGED))
    assert len(line.splitlines()) == 1 and "\x1b" not in line
    assert "FORGED emergency" in line  # escaped, not dropped: the technician still sees what was sent
    if log_format != "json":
        assert "a\\n<0>edge_agent: FORGED" in line


def test_a_traceback_still_follows_on_lines_of_its_own():
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("edge_agent", logging.ERROR, __file__, 1, "failed:\n%s", ("x",), sys.exc_info())
    lines = JournalFormatter("%(message)s").format(failed).splitlines()
    assert lines[0] == "<3>edge_agent: failed:\\nx" and lines[-1] == "ValueError: boom"


def test_the_log_file_gets_one_line_per_message(tmp_path):
    path = tmp_path / "agent.log"
    configure_logging("info", "text", log_file=path, env={})
    try:
        logging.getLogger("edge_agent.test").warning(FORGED)
        for handler in logging.getLogger().handlers:
            handler.flush()
    finally:
        configure_logging("info", "text", env={})
    [line] = path.read_text().splitlines()
    assert "FORGED emergency" in line
