"""A throwaway PostgreSQL cluster for the fleet-store tests and benchmark: its own data directory, port and socket
directory in a temp dir of its own, the server started as a child process and stopped by its PID.

PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user (Debian's package makes
it), else to `nobody`, and the server is exec'd under that user with setpriv, so the child's PID is the server's.
The temp dir is made directly under /tmp and given to that user: a test's own tmp_path sits below directories
only root may enter.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from edge_agent.local_broker import free_port

DATABASE_USER = "fleet"


def postgres_bin() -> Path | None:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/<major>/bin), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def why_no_postgres() -> str | None:
    """The reason PostgreSQL tests cannot run here, or None."""
    if postgres_bin() is None:
        return "PostgreSQL is not installed (scripts/test.sh installs Debian's postgresql when run as root)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'edge-agent[dev]')"
    if os.geteuid() == 0 and not _server_user():
        return "running as root, and neither a postgres nor a nobody account exists to run the server as"
    return None


def _server_user() -> pwd.struct_passwd | None:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


class PostgresCluster:
    def __init__(self, durable: bool = False):
        """`durable`: keep fsync and synchronous commit on, as a production server would (the benchmark); the
        tests turn them off, a crash of a throwaway cluster loses nothing anyone needs."""
        self.bin = postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="ea-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.port = free_port()
        self.durable = durable
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{DATABASE_USER}@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        user = _server_user()
        return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", *argv]

    def start(self) -> None:
        if os.geteuid() == 0:
            user = _server_user()
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.root.chmod(0o700)
        subprocess.run(self._as_owner([str(self.bin / "initdb"), "-D", str(self.data), "-U", DATABASE_USER,
                                       "-A", "trust", "--no-sync", "-E", "UTF8"]),
                       check=True, capture_output=True, cwd="/")
        options = ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
                   "-c", "max_connections=50"]
        if not self.durable:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        log = open(self.root / "server.log", "wb")  # noqa: SIM115 — the child writes it until stop()
        self.process = subprocess.Popen(self._as_owner([str(self.bin / "postgres"), "-D", str(self.data),
                                                        "-p", str(self.port), *options]),
                                        stdout=log, stderr=subprocess.STDOUT, cwd="/")
        log.close()
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {(self.root / 'server.log').read_text()[-2000:]}")
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends sessions, then exits
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
