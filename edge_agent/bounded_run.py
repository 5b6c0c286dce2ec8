"""Run a program with bounds on its time and on how much of its output is held in memory.

`subprocess.run(capture_output=True)` keeps everything a program prints until it exits: a broken or hostile `iw`
or action script printing without end would grow the agent until the timeout, or the OOM killer, ends it. Here
output past the bound stops the program, and a timeout ends its whole process group (a script's children too).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass

READ_CHUNK = 65536


@dataclass(frozen=True)
class BoundedResult:
    returncode: int | None  # None: stopped by us (see `problem`)
    stdout: bytes
    stderr: bytes
    problem: str | None = None  # why it was stopped: too slow, or too much output
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None and self.returncode == 0


def run_bounded(argv: list[str], timeout_s: float, max_output_bytes: int,
                env: Mapping[str, str] | None = None) -> BoundedResult:
    """Run `argv` (no shell). Raises OSError when it cannot start (not found, not executable), as Popen does."""
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=None if env is None else dict(env), start_new_session=True)
    deadline = time.monotonic() + timeout_s
    chunks: dict[int, list[bytes]] = {process.stdout.fileno(): [], process.stderr.fileno(): []}
    total = 0
    problem = None
    with selectors.DefaultSelector() as selector:
        for pipe in (process.stdout, process.stderr):
            selector.register(pipe, selectors.EVENT_READ)
        while selector.get_map() and problem is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                problem = f"no exit within {timeout_s:g} s"
                break
            for key, _ in selector.select(timeout=remaining):
                data = os.read(key.fd, READ_CHUNK)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                total += len(data)
                if total > max_output_bytes:
                    problem = f"printed more than {max_output_bytes} bytes"
                    break
                chunks[key.fd].append(data)
    returncode = None
    if problem is None:
        try:
            returncode = process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            problem = f"no exit within {timeout_s:g} s"
    if problem is not None:
        _kill_group(process)
    out, err = (b"".join(chunks[pipe.fileno()]) for pipe in (process.stdout, process.stderr))
    process.stdout.close()
    process.stderr.close()
    return BoundedResult(returncode, out, err, problem, timed_out=problem is not None and total <= max_output_bytes)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.wait()
