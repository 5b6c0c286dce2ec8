"""A user who may only read the agent, asking in a loop: the real daemon answers it at a bounded rate, told "busy"
after a pause past it, and keeps answering its admins at once."""

from __future__ import annotations

import grp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from agent_process import Daemon

NOBODY_UID = 65534
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="needs root and setpriv to ask as another user")

LOOP_AS_NOBODY = """
import json, socket, sys, time
path, request, seconds = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3])
answers, fastest_busy = {"ok": 0, "busy": 0}, 99.0
end = time.monotonic() + seconds
while time.monotonic() < end:
    started = time.monotonic()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(30)
        client.connect(path)
        client.sendall(b'{"request": "' + request + b'"}\\n')
        reply = json.loads(client.makefile("rb").readline())
    if reply.get("ok"):
        answers["ok"] += 1
    elif reply.get("busy"):
        answers["busy"] += 1
        fastest_busy = min(fastest_busy, time.monotonic() - started)
print(json.dumps({**answers, "fastest_busy_s": fastest_busy}))
"""


@pytest.mark.timeout(90)
@pytest.mark.parametrize("request_name", ["status", "diagnose"])
def test_a_read_only_user_looping_on_requests_is_answered_at_a_bounded_rate(short_tmp: Path, request_name):
    short_tmp.chmod(0o755)  # nobody reaches the socket inside it
    group = grp.getgrgid(NOBODY_UID).gr_name
    daemon = Daemon(short_tmp)
    daemon.config.write_text(daemon.config.read_text().replace("[control]\n", f'[control]\ngroup = "{group}"\n'))
    daemon.start()
    try:
        daemon.wait_notify("READY=1", timeout_s=30)
        seconds = 3.0
        client = subprocess.run(
            ["setpriv", f"--reuid={NOBODY_UID}", f"--regid={NOBODY_UID}", "--clear-groups",
             sys.executable, "-I", "-S", "-c", LOOP_AS_NOBODY, str(daemon.sock), request_name, str(seconds)],
            capture_output=True, text=True, timeout=60)
        assert client.returncode == 0, client.stderr
        answers = json.loads(client.stdout)
        # The burst of 30 and 10 a second after it; each request past the rate waits half a second for its "busy".
        assert 30 <= answers["ok"] <= 30 + 10 * seconds + 5, answers
        assert 1 <= answers["busy"] <= seconds / 0.5 + 1 and answers["fastest_busy_s"] >= 0.5, answers
        assert daemon.ask_json("status")["device_id"] == "itest-gw"  # root is never held back
    finally:
        daemon.stop()
