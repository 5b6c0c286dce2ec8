"""Local control API: a Unix stream socket (0660, SO_PEERCRED-checked) speaking one JSON line each way."""

from __future__ import annotations

import errno
import grp
import json
import logging
import os
import pwd
import socket
import socketserver
import stat
import struct
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024
Handler = Callable[[Mapping[str, Any]], Any]


class ControlError(Exception):
    """The agent could not be asked: not running, not permitted, or it answered with an error."""


class RequestRefused(Exception):
    """A handler's "no", with the reason for the person who asked (not a fault of the agent)."""


class RefusedByAgent(ControlError):
    """The agent understood the request and said no (policy, a safety limit): the message says why."""


class AgentNotRunning(ControlError):
    pass


def peer_allowed(peer_uid: int, peer_gid: int, own_uid: int, group: grp.struct_group | None) -> bool:
    """Root, the agent's own user, and members of `group` (when one is configured)."""
    if peer_uid in (0, own_uid):
        return True
    if group is None:
        return False
    if peer_gid == group.gr_gid:
        return True
    try:
        return pwd.getpwuid(peer_uid).pw_name in group.gr_mem
    except KeyError:
        return False


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process on the other end, from the kernel."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", raw)


class _RequestHandler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        pid, uid, gid = peer_credentials(self.connection)
        # Read the request even from a refused peer: closing on unread data would reset the connection and
        # the client would see a broken pipe instead of the reason.
        line = self.rfile.readline(MAX_REQUEST_BYTES + 1)
        if not line:
            return  # a liveness probe, or a client that gave up: nothing to answer
        if not peer_allowed(uid, gid, os.geteuid(), self.server.group):
            log.warning("control socket: refused pid %d uid %d gid %d", pid, uid, gid)
            self._reply({"ok": False, "error": "permission denied: not root, the agent's user or its group"})
            return
        is_admin = peer_allowed(uid, gid, os.geteuid(), self.server.admin_group)
        self._reply(self.server.dispatch(line, is_admin, pid, uid))

    def _reply(self, response: Mapping[str, Any]) -> None:
        try:
            self.wfile.write(json.dumps(response, default=str).encode() + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            log.debug("control socket: client left before the reply")


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 64  # a burst of CLI calls (a monitoring script, a technician's watch loop) must queue

    def __init__(
        self,
        path: str,
        handlers: Mapping[str, Handler],
        admin_handlers: Mapping[str, Handler],
        group: grp.struct_group | None,
        admin_group: grp.struct_group | None,
    ):
        self.handlers = handlers
        self.admin_handlers = admin_handlers
        self.group = group
        self.admin_group = admin_group
        super().__init__(path, _RequestHandler)

    def dispatch(self, line: bytes, is_admin: bool = True, pid: int = 0, uid: int = 0) -> dict[str, Any]:
        if len(line) > MAX_REQUEST_BYTES:
            return {"ok": False, "error": f"request larger than {MAX_REQUEST_BYTES} bytes"}
        try:
            request = json.loads(line)
        except ValueError:
            return {"ok": False, "error": "request is not a JSON line"}
        if not isinstance(request, dict) or not isinstance(request.get("request"), str):
            return {"ok": False, "error": 'request must be an object with a "request" name'}
        name = request["request"]
        handler = self.handlers.get(name)
        if handler is None and name in self.admin_handlers:
            if not is_admin:
                log.warning("control socket: %s refused to pid %d uid %d (not an admin)", name, pid, uid)
                return {"ok": False, "error": f"permission denied: {name} is for root or the admin group"}
            handler = self.admin_handlers[name]
        if handler is None:
            known = sorted([*self.handlers, *self.admin_handlers])
            return {"ok": False, "error": f"unknown request {name!r}; known: {known}"}
        try:
            return {"ok": True, "result": handler(request.get("args") or {})}
        except RequestRefused as exc:
            return {"ok": False, "error": str(exc), "refused": True}
        except (ValueError, KeyError) as exc:
            return {"ok": False, "error": f"bad arguments: {exc}"}
        except TimeoutError:
            return {"ok": False, "error": "the agent did not finish the request in time"}

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver would print a traceback to stderr; one log line, with the traceback, is enough.
        log.error("control socket: request failed", exc_info=True)


class ControlServer:
    def __init__(
        self,
        path: Path,
        handlers: Mapping[str, Handler],
        group_name: str | None = None,
        admin_handlers: Mapping[str, Handler] | None = None,
        admin_group_name: str | None = None,
    ):
        """`handlers` serve root, the agent's user and `group`; `admin_handlers` (disruptive: reload,
        remediation) only root, the agent's user and `admin_group`."""
        self.path = path
        self.handlers = handlers
        self.admin_handlers = dict(admin_handlers or {})
        self.group = grp.getgrnam(group_name) if group_name else None
        self.admin_group = grp.getgrnam(admin_group_name) if admin_group_name else None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_socket(self.path)
        # Create the socket with no access for others, then open it to the group: no window where it is wider.
        old_umask = os.umask(0o117)
        try:
            self._server = _Server(str(self.path), self.handlers, self.admin_handlers, self.group, self.admin_group)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o660)
        if self.group is not None and self.group.gr_gid != os.getegid():
            # Only when it differs: under systemd the socket already has the service's group, and chown is
            # outside the unit's system-call allow list.
            os.chown(self.path, -1, self.group.gr_gid)
        self._thread = threading.Thread(target=self._server.serve_forever, name="control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def _remove_stale_socket(path: Path) -> None:
    """Remove a socket left by a crashed agent; refuse to start beside a live one or over anything else."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ControlError(f"{path} exists and is not a socket: refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink()
        return
    finally:
        probe.close()
    raise ControlError(f"another agent is already listening on {path}")


def request(path: Path, name: str, args: Mapping[str, Any] | None = None, timeout_s: float = 5.0) -> Any:
    """Ask the running agent; returns the result or raises ControlError with a message for a person."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        sock.connect(str(path))
        try:
            sock.sendall(json.dumps({"request": name, "args": dict(args or {})}).encode() + b"\n")
        except BrokenPipeError:
            pass  # the agent may have answered and closed already: its reply says why
        with sock.makefile("rb") as reader:
            line = reader.readline()
    except FileNotFoundError:
        raise AgentNotRunning(f"the agent is not running (no control socket at {path})") from None
    except ConnectionRefusedError:
        raise AgentNotRunning(f"the agent is not running (nothing listens on {path})") from None
    except PermissionError:
        raise ControlError(f"permission denied on {path}: run as root or as a member of the agent's group") from None
    except TimeoutError:
        raise ControlError(f"the agent did not answer within {timeout_s:.0f} s on {path}") from None
    except OSError as exc:
        if exc.errno == errno.ENOTSOCK:
            raise ControlError(f"{path} is not a socket") from None
        raise ControlError(f"cannot reach the agent on {path}: {exc.strerror}") from None
    finally:
        sock.close()
    if not line:
        raise ControlError(f"the agent closed the connection on {path} without answering")
    response = json.loads(line)
    if not response.get("ok"):
        error = response.get("error", "the agent refused the request")
        raise RefusedByAgent(error) if response.get("refused") else ControlError(error)
    return response["result"]
