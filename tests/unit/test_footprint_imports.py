"""Issue 20's memory budget: a freshly started agent at default settings imports only what it runs. Each module
named here is loaded only on a path the defaults do not take (a log file, a model, the fleet side, the contract's
schemas); each one that creeps back costs the gateway its code and objects (measured in docs/BENCHMARKS.md)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # the child runs this checkout's code, as the test does

# Loaded only where it is used; never by an agent at default settings, with or without a camera.
NOT_AT_DEFAULT_SETTINGS = (
    "pydantic",  # ~12 MiB with its compiled schemas: the agent's records are edge_agent.schema's
    "pydantic_core",
    "edge_agent.reporting.contract",  # the contract's pydantic models: schemas, tests and fleet consumers only
    "edge_agent.reporting.telemetry_records",  # the consumer's view of telemetry
    "edge_agent.fleet",  # the fleet side
    "logging.handlers",  # only with [agent] log_file; the journal needs none of it
    "edge_agent.ml.metadata",  # model metadata: only when a model is enabled
    "edge_agent.ml.runtime",
    "edge_agent.ml.classifiers",
    "edge_agent.ml.custom",
    "edge_agent.detectors.custom_model",
    "tflite_runtime",
    "ai_edge_litert",
    "cv2",  # a Y4M replay and the health checks need no OpenCV
    "scapy",
)

# Runs the real `edge-agent run`; once every collector has run (the camera's first frame included), writes the
# modules it holds and stops the agent as systemd would (SIGTERM).
RUN_AND_LIST = """
import os, signal, sys, threading, time
from pathlib import Path

out, socket_path = Path(sys.argv[1]), Path(sys.argv[2])

def list_modules_once_running():
    from edge_agent.agent.control import ControlError, request
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            collectors = request(socket_path, "status")["collectors"]
            if collectors and all(c["runs"] >= 1 for c in collectors):
                out.write_text("\\n".join(sorted(sys.modules)))
                break
        except (ControlError, OSError, KeyError, TypeError):
            pass
        time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=list_modules_once_running, daemon=True).start()
from edge_agent.cli import main
sys.exit(main(sys.argv[3:]))
"""


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.timeout(150)
def test_the_simulated_agent_with_a_camera_at_default_settings_imports_only_what_it_runs(tmp_path):
    _write_replay(tmp_path / "camera.y4m")
    config = tmp_path / "agent.toml"
    config.write_text(f"""
[agent]
state_dir = "{tmp_path}/state"
[control]
socket_path = "{tmp_path}/ctl.sock"
[premises]
mode = "simulated"
[camera]
source = "replay"
path = "{tmp_path}/camera.y4m"
[mqtt]
enabled = true
host = "127.0.0.1"
port = {_closed_port()}
tls = false
""")
    listing = tmp_path / "modules.txt"
    script = tmp_path / "run_and_list.py"
    script.write_text(RUN_AND_LIST)
    done = subprocess.run([sys.executable, str(script), str(listing), str(tmp_path / "ctl.sock"),
                           "run", "--simulate", "--config", str(config)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=CHILD_ENV)
    assert listing.exists(), f"the agent never had every collector run: {done.stderr[-3000:]}"
    modules = set(listing.read_text().split())
    # the camera path really ran (else the assertion below would prove nothing about it)
    assert {"numpy", "edge_agent.collectors.camera", "edge_agent.detectors.camera_health"} <= modules
    assert _loaded(modules, NOT_AT_DEFAULT_SETTINGS) == []


def _write_replay(path: Path) -> None:
    import numpy as np

    from edge_agent.camera.formats import write_y4m
    from edge_agent.sim.camera_scene import SceneState, random_conditions, random_layout, render

    rng = np.random.default_rng(3)
    layout = random_layout(rng)
    write_y4m(path, [render(layout, SceneState(), random_conditions(rng), (192, 144), rng) for _ in range(3)])


@pytest.mark.parametrize("camera", [False, True], ids=["no camera", "a camera"])
def test_the_agent_in_hardware_mode_at_default_settings_imports_only_what_it_runs(tmp_path, camera):
    """A real gateway: with a camera it loads numpy and the health checks, never the simulated premises, the
    synthetic scene or the other camera kinds' wrappers (a replayed recording stands for the camera here)."""
    if any(Path("/dev").glob("video[0-9]*")):
        pytest.skip("this machine has a camera: the camera stack (OpenCV for a V4L2 device) would rightly load")
    camera_config = ""
    if camera:
        _write_replay(tmp_path / "camera.y4m")
        camera_config = f', "camera": {{"source": "replay", "path": "{tmp_path}/camera.y4m"}}'
    script = f"""
import sys
from edge_agent.agent.daemon import Agent
from edge_agent.clock import ManualClock
from edge_agent.config import AgentConfig
config = AgentConfig.model_validate({{"agent": {{"state_dir": "{tmp_path}/state"}},
                                     "control": {{"socket_path": "{tmp_path}/ctl.sock"}},
                                     "mqtt": {{"enabled": True, "host": "127.0.0.1", "port": {_closed_port()},
                                              "tls": False}}{camera_config}}})
agent = Agent(config, None, mode="hardware", clock=ManualClock(), env={{}})
print(" ".join(sorted(sys.modules)))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env=CHILD_ENV)
    assert done.returncode == 0, done.stderr
    modules = set(done.stdout.split())
    assert "edge_agent.reporting.telemetry_window" in modules  # contract v2's report windows are built
    assert ("edge_agent.collectors.camera" in modules) == camera  # the camera path ran exactly when configured
    assert _loaded(modules, NOT_AT_DEFAULT_SETTINGS) == []
    assert _loaded(modules, ("edge_agent.sim", "edge_agent.camera.synthetic", "edge_agent.camera.picamera")) == []


# The fleet side and the contract's message models are pydantic's (the demo runs a fleet manager's view beside
# its agent); nothing the agent process runs is.
FLEET_SIDE = ("edge_agent.fleet", "edge_agent.reporting.contract", "edge_agent.reporting.telemetry_records",
              "edge_agent.demo")

IMPORT_EVERY_AGENT_MODULE = """
import importlib, pkgutil, sys
import edge_agent
fleet_side = tuple(sys.argv[1:])
for module in pkgutil.walk_packages(edge_agent.__path__, "edge_agent."):
    if module.name.startswith(fleet_side) or module.name.endswith("__main__"):
        continue
    try:
        importlib.import_module(module.name)
    except ImportError as exc:  # an optional library this machine lacks (picamera2): its module cannot load
        print("unavailable", module.name, exc, file=sys.stderr)
print(" ".join(sorted(sys.modules)))
"""


def test_no_module_of_the_agent_process_imports_pydantic_whatever_the_settings():
    """Models on, a custom model, scenarios, the CLI: every path of the agent validates with edge_agent.schema."""
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERY_AGENT_MODULE, *FLEET_SIDE], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, env=CHILD_ENV)
    assert done.returncode == 0, done.stderr
    modules = set(done.stdout.split())
    assert {"edge_agent.ml.metadata", "edge_agent.config", "edge_agent.sim.scenario", "edge_agent.cli"} <= modules
    assert _loaded(modules, ("pydantic", "pydantic_core")) == []
