"""Exit codes of the `edge-agent` command: sysexits.h where one fits, and what each means to a technician."""

from __future__ import annotations

import textwrap

EX_OK = 0
EX_FOUND = 1  # a check found something, or a request was refused or failed: the output says which
EX_CANNOT_CHECK = 2  # diagnose or camera check could not look at all
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CANTCREAT = 73
EX_IOERR = 74
EX_NOPERM = 77
EX_CONFIG = 78
EX_INTERRUPTED = 130  # the shell's convention for a command ended by SIGINT (128 + 2)

MEANINGS: dict[int, str] = {
    EX_OK: "done; diagnose: healthy",
    EX_FOUND: "diagnose: issues found; remediate: refused, failed or escalated; sim run: a scenario failed; "
              "fleet cmd: the command did not succeed; camera check: set-up problems seen",
    EX_CANNOT_CHECK: "diagnose: no sample could be taken; camera check: no camera or no model",
    EX_USAGE: "bad command line: unknown command or option, missing or malformed value",
    EX_DATAERR: "fleet report: an input is not a `fleet watch --json` recording",
    EX_NOINPUT: "fleet report: an input file cannot be read",
    EX_UNAVAILABLE: "the agent is not running, did not answer in time, stayed busy, or answered with an error; "
                    "fleet: the broker is unreachable or the device did not answer",
    EX_SOFTWARE: "internal error (a bug: EDGE_AGENT_DEBUG=1 shows the traceback); run: a critical agent thread died",
    EX_CANTCREAT: "run: another agent already listens on the control socket, or something else is at its path",
    EX_IOERR: "the output was closed early (a pipe into head) or a file could not be read or written",
    EX_NOPERM: "permission denied: the control socket, a file or directory, or a socket directory others control",
    EX_CONFIG: "the config file is invalid; reload: the agent refused the new config and kept the old one",
    EX_INTERRUPTED: "interrupted (Ctrl-C)",
}


def exit_code_table(width: int = 100) -> str:
    """The codes and their meanings, for `edge-agent --help`."""
    return "\n".join(
        textwrap.fill(meaning, width, initial_indent=f"  {code:>3}  ", subsequent_indent=" " * 7)
        for code, meaning in MEANINGS.items()
    )
