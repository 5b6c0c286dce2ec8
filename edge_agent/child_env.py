"""The environment of every program the agent starts (remediation actions, iw): a few harmless names and a PATH,
never the agent's own secrets (EDGE_AGENT_MQTT_PASSWORD and the like) or systemd's NOTIFY_SOCKET."""

from __future__ import annotations

from collections.abc import Mapping

CHILD_ENV_NAMES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What a program the agent starts gets: a few names from the agent's environment, and a PATH."""
    env = {name: environ[name] for name in CHILD_ENV_NAMES if name in environ}
    env.setdefault("PATH", DEFAULT_PATH)
    return env
