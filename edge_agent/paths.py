"""Where the agent keeps state and its control socket, following systemd's directory variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from edge_agent.config import AgentConfig

APP = "edge-agent"


def state_dir(config: AgentConfig, env: Mapping[str, str] | None = None) -> Path:
    """Config value, else systemd's StateDirectory=, else /var/lib for root, else the XDG state home."""
    env = os.environ if env is None else env
    if config.agent.state_dir is not None:
        return config.agent.state_dir
    if env.get("STATE_DIRECTORY"):
        return Path(env["STATE_DIRECTORY"].split(":")[0])
    if os.geteuid() == 0:
        return Path("/var/lib") / APP
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / APP


SERVICE_RUNTIME_DIR = Path("/run") / APP


def control_socket_path(config: AgentConfig, env: Mapping[str, str] | None = None) -> Path:
    """Config value, else systemd's RuntimeDirectory=, else /run/edge-agent for root or wherever the installed
    service runs (so a technician's CLI finds it), else the XDG runtime dir."""
    env = os.environ if env is None else env
    if config.control.socket_path is not None:
        return config.control.socket_path
    if env.get("RUNTIME_DIRECTORY"):
        return Path(env["RUNTIME_DIRECTORY"].split(":")[0]) / "control.sock"
    if os.geteuid() == 0 or SERVICE_RUNTIME_DIR.is_dir():
        return SERVICE_RUNTIME_DIR / "control.sock"
    base = env.get("XDG_RUNTIME_DIR") or f"/tmp/{APP}-{os.geteuid()}"
    return Path(base) / APP / "control.sock"
