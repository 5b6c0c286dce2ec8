"""Where the agent keeps state and its control socket (following systemd's directory variables), made with modes
no umask can widen, and refused when someone else could have put their own socket there."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from edge_agent.config import AgentConfig

APP = "edge-agent"
STATE_DIR_MODE = 0o750  # the agent's user; its group may read (a technician's tools), others nothing
STATE_FILE_MODE = 0o640
RUNTIME_DIR_MODE = 0o755  # the socket itself is 0660 and checks each peer's credentials
SERVICE_RUNTIME_DIR = Path("/run") / APP
KEEP_SIMULATION_DIRS = 5  # simulated runs' own directories kept for a look afterwards; older ones go


class UnsafeDirectory(Exception):
    """A directory the agent or the CLI must not use: someone other than root or this user controls it."""


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


def control_socket_path(config: AgentConfig, env: Mapping[str, str] | None = None) -> Path:
    """Config value, else systemd's RuntimeDirectory=, else /run/edge-agent for root or wherever the installed
    service runs (so a technician's CLI finds it), else the XDG runtime dir, else a per-user directory in the
    temporary directory (checked by `directory_problem` before use: another user may have made it first)."""
    env = os.environ if env is None else env
    if config.control.socket_path is not None:
        return config.control.socket_path
    if env.get("RUNTIME_DIRECTORY"):
        return Path(env["RUNTIME_DIRECTORY"].split(":")[0]) / "control.sock"
    if os.geteuid() == 0 or SERVICE_RUNTIME_DIR.is_dir():
        return SERVICE_RUNTIME_DIR / "control.sock"
    base = env.get("XDG_RUNTIME_DIR") or str(_temp_root(env) / f"{APP}-{os.geteuid()}")
    return Path(base) / APP / "control.sock"


@dataclass(frozen=True)
class AgentPaths:
    state_dir: Path
    socket_path: Path
    run_dir: Path | None = None  # a simulated run's own directory, when the config named no place

    @property
    def runtime_dir(self) -> Path:
        return self.socket_path.parent


def agent_paths(config: AgentConfig, env: Mapping[str, str] | None = None, simulated: bool = False) -> AgentPaths:
    """The agent's places. A simulated run never touches the system's state or runtime directory: what the config
    does not name goes to a fresh directory of its own, so simulated events never mix with real ones."""
    if not simulated or (config.agent.state_dir is not None and config.control.socket_path is not None):
        return AgentPaths(state_dir(config, env), control_socket_path(config, env))
    run_dir = new_simulation_dir(env)
    return AgentPaths(config.agent.state_dir or run_dir / "state",
                      config.control.socket_path or run_dir / "control.sock", run_dir)


def new_simulation_dir(env: Mapping[str, str] | None = None) -> Path:
    """A fresh 0700 directory for one simulated run, in the XDG runtime directory or else the temporary one."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_RUNTIME_DIR")
    base = Path(xdg) if xdg and Path(xdg).is_dir() else _temp_root(env)
    prune_simulation_dirs(base, KEEP_SIMULATION_DIRS)
    return Path(tempfile.mkdtemp(prefix=f"{APP}-sim-", dir=base))


def prune_simulation_dirs(base: Path, keep: int) -> list[Path]:
    """Remove this user's older simulated-run directories beyond the newest `keep`, except any whose agent still
    runs (its control socket answers): demos run again and again must not fill /tmp. Returns what went."""
    mine = []
    for path in base.glob(f"{APP}-sim-*"):
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            mine.append((info.st_mtime, path))
    removed = []
    for _, path in sorted(mine, reverse=True)[keep:]:
        if _socket_answers(path / "control.sock"):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _socket_answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _temp_root(env: Mapping[str, str]) -> Path:
    tmpdir = env.get("TMPDIR")
    return Path(tmpdir) if tmpdir and Path(tmpdir).is_dir() else Path(tempfile.gettempdir())


def ensure_state_dir(path: Path) -> None:
    """Create the state directory 0750 whatever the umask; tighten one an older version left wider, and the
    files in it to 0640."""
    _make_dirs(path, STATE_DIR_MODE)
    info = path.stat()
    if info.st_uid != os.geteuid():
        return  # systemd's StateDirectory= (or root) set it up: not ours to change
    if stat.S_IMODE(info.st_mode) & ~STATE_DIR_MODE:
        os.chmod(path, stat.S_IMODE(info.st_mode) & STATE_DIR_MODE)
    for entry in path.iterdir():
        make_private(entry)


def make_private(path: Path) -> None:
    """Narrow a regular file the agent made to 0640 at most (never wider than it is): journals, the outbox and
    session files hold what the premises look like and must not be readable by every local user."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & ~STATE_FILE_MODE:
        os.chmod(path, stat.S_IMODE(info.st_mode) & STATE_FILE_MODE)


def ensure_runtime_dir(path: Path, uid: int | None = None) -> None:
    """Create the control socket's directory (0755 whatever the umask) once the part that exists is trusted;
    raises UnsafeDirectory when it is not."""
    existing, first_new = path, path
    while not existing.exists() and existing != existing.parent:
        existing, first_new = existing.parent, existing
    # Before creating anything inside someone else's directory. The chain is checked down to the directory about
    # to be made, so a sticky /tmp above it is trusted as it is for the socket itself (a non-root agent without
    # XDG_RUNTIME_DIR makes its own /tmp/edge-agent-UID; before, /tmp as the last part was refused).
    _refuse_untrusted(first_new, uid)
    _make_dirs(path, RUNTIME_DIR_MODE)
    _refuse_untrusted(path, uid)


def _refuse_untrusted(path: Path, uid: int | None) -> None:
    problem = directory_problem(path, uid)
    if problem:
        raise UnsafeDirectory(problem)


def _make_dirs(path: Path, mode: int) -> None:
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode)
        except FileExistsError:
            continue  # made meanwhile by someone else: the trust check looks at it
        os.chmod(directory, mode)  # mkdir's mode is narrowed by the umask, and never made wider


def directory_problem(directory: Path, uid: int | None = None) -> str | None:
    """Why a process of `uid` must not trust `directory` with the control socket, or None when it may.

    Whoever can write to the directory, or to one above it, can put their own socket in its place and answer
    the technician (or read what the agent is asked). So each directory on the way from / must belong to root or
    `uid`, or to a user root gave it to (its parent is root's and nobody else may write there, as /run is), and
    none may be writable by others, except one above that is sticky (like /tmp: others cannot rename what is not
    theirs). A part that does not exist yet ends the check: nobody listens there.
    """
    uid = os.geteuid() if uid is None else uid
    lexical = Path(os.path.abspath(directory))
    for chain in (lexical, Path(os.path.realpath(lexical))):
        problem = _chain_problem(chain, uid)
        if problem:
            return problem
    return None


def _chain_problem(directory: Path, uid: int) -> str | None:
    parts = [*reversed(directory.parents), directory]
    parent: os.stat_result | None = None  # "/" has none: it is root's by definition
    for part in parts:
        try:
            link = part.lstat()
            info = part.stat()
        except FileNotFoundError:
            return None
        placed_by_root = parent is None or (parent.st_uid == 0 and not parent.st_mode & 0o022)
        trusted_owner = link.st_uid in (0, uid) or placed_by_root
        if not trusted_owner:
            return (f"{part} belongs to {_user(link.st_uid)}, not to root or {_user(uid)}: refusing to use it for "
                    "the control socket (its owner could put their own socket there and impersonate the agent); "
                    "remove it, or set [control] socket_path")
        if not stat.S_ISDIR(info.st_mode):
            return f"{part} is not a directory"
        writable_by_others = info.st_mode & 0o022
        sticky_above = info.st_mode & stat.S_ISVTX and part != directory
        if writable_by_others and not sticky_above:
            return (f"{part} (owner {_user(info.st_uid)}, mode {stat.S_IMODE(info.st_mode):04o}) may be written "
                    f"by others: refusing to use it for the control socket")
        parent = info
    return None


def _user(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"
