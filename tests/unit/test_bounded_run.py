"""Programs the agent runs are bounded in time and in the output it holds: a program printing without end or
never exiting is stopped with a clear reason, its children too, and the agent's memory stays small."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import pytest

from edge_agent.bounded_run import run_bounded


def test_a_normal_program_gives_its_exit_code_and_both_outputs():
    result = run_bounded([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"],
                         timeout_s=10, max_output_bytes=1000)
    assert (result.returncode, result.stdout, result.stderr, result.problem) == (3, b"out\n", b"err\n", None)
    assert not result.ok


@pytest.mark.timeout(30)
def test_endless_output_is_stopped_at_the_bound_without_holding_it():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = run_bounded(["yes", "a line a broken iw might print over and over"], timeout_s=20,
                         max_output_bytes=1_000_000)
    assert result.returncode is None and result.problem == "printed more than 1000000 bytes"
    assert not result.timed_out
    assert len(result.stdout) <= 1_000_000
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 20_000  # a few MiB at most, never the gigabytes `yes` would print in 20 s


@pytest.mark.timeout(30)
def test_a_program_that_never_exits_is_stopped_at_the_timeout_with_its_children(tmp_path):
    marker = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {marker}; wait"
    started = time.monotonic()
    result = run_bounded(["sh", "-c", script], timeout_s=1.0, max_output_bytes=1000)
    assert result.problem == "no exit within 1 s" and result.timed_out and time.monotonic() - started < 10
    child = int(marker.read_text())
    time.sleep(0.2)
    assert not running(child)  # the script's own child is gone too, not left holding a pipe


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan waits as one where PID 1 does not reap, as in containers)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_program_that_cannot_start_raises_oserror_like_popen():
    with pytest.raises(FileNotFoundError):
        run_bounded(["/nonexistent/program"], timeout_s=1, max_output_bytes=10)
