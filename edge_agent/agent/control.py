"""Local control API: a Unix stream socket (0660, SO_PEERCRED-checked) speaking one JSON line each way."""

from __future__ import annotations

import errno
import grp
import json
import logging
import os
import pwd
import queue
import selectors
import socket
import stat
import struct
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from edge_agent.agent.control_requests import (
    MAX_REQUEST_BYTES,
    Handler,
    Peer,
    PeerHandler,
    PeerRates,
    RequestRefused,
    RequestRouter,
    ThrottledLog,
    error_reply,
    reply_line,
)

__all__ = ["MAX_REQUEST_BYTES", "AgentNotRunning", "ControlError", "ControlServer", "NotPermitted", "RefusedByAgent",
           "RequestRefused", "group_as_listed_now", "own_group_name", "peer_allowed", "request", "socket_in_use"]

log = logging.getLogger(__name__)

# The server's whole cost, whatever the clients do: 1 reader thread + WORKERS threads, MAX_CONNECTIONS descriptors.
WORKERS = 4
MAX_CONNECTIONS = 64  # a descriptor each; the unit's TasksMax (32) is what threads would have exhausted
LISTEN_BACKLOG = 64  # connections the kernel queues before accept; past it a client's connect() fails with EAGAIN
READ_DEADLINE_S = 3.0  # from connect to the end of the request line: slow or silent clients are dropped
WRITE_TIMEOUT_S = 5.0  # for the whole reply: a client that never reads it is dropped
DRAIN_DEADLINE_S = 1.0  # after an early answer (refused, too large): time for the client to finish sending
DRAIN_LIMIT_BYTES = 4 * MAX_REQUEST_BYTES
RECV_BYTES = 16 * 1024
# The client's bound on one reply line: far above the largest real one (a full audit log, a diagnose), far
# below what would hurt the technician's machine when something else listens on the socket.
MAX_REPLY_BYTES = 64 * 2**20
BUSY_ERROR = "busy: too many control connections open, try again"
RATE_ERROR = "busy: too many requests from this user, try again"
RATE_PAUSE_S = 0.5  # how long a request past its user's rate waits for its "busy" answer
REFUSED_ERROR = "permission denied: not root, the agent's user or its group"


class ControlError(Exception):
    """The agent could not be asked: not running, not permitted, or it answered with an error."""


class RefusedByAgent(ControlError):
    """The agent understood the request and said no (policy, a safety limit): the message says why."""


class AgentNotRunning(ControlError):
    """Nothing listens on the control socket (or there is none)."""


class NotPermitted(ControlError):
    """This user may not use the socket, or not this request (the admin ones)."""


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


def group_as_listed_now(group: grp.struct_group | None) -> grp.struct_group | None:
    """The group's members as the system lists them now: a technician added while the agent runs (as the README
    says to, after installing) must not need an agent restart. A deleted group has no members."""
    if group is None:
        return None
    try:
        return grp.getgrgid(group.gr_gid)
    except KeyError:
        return None


def own_group_name(euid: int, egid: int) -> str | None:
    """The agent's own group when it is its user's personal group (same name), not root's: under the installed
    unit that is edge-agent, whose members the socket's mode (0660, the agent's group) already lets connect and
    the docs send to the CLI. A shared primary group (`users` for everyone) is never let in by default."""
    if egid == 0:
        return None
    try:
        group = grp.getgrgid(egid).gr_name
        return group if pwd.getpwuid(euid).pw_name == group else None
    except KeyError:
        return None


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process on the other end, from the kernel."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", raw)


class ControlServer:
    """The agent's side of the socket: one thread reads every connection, a fixed pool of workers answers.

    Idle or slow clients hold a file descriptor, never a thread: the reader thread multiplexes all connections
    with deadlines, and only a complete request line reaches a worker. At most MAX_CONNECTIONS are open at once;
    the next one is told "busy" and closed. So the server costs 1 + WORKERS threads, whatever the clients do.
    """

    def __init__(
        self,
        path: Path,
        handlers: Mapping[str, Handler],
        group_name: str | None = None,
        admin_handlers: Mapping[str, Handler] | None = None,
        admin_group_name: str | None = None,
        peer_handlers: Mapping[str, PeerHandler] | None = None,
    ):
        """`handlers` serve root, the agent's user and `group`; `admin_handlers` (disruptive: reload) only root,
        the agent's user and `admin_group`; `peer_handlers` serve everyone `handlers` serve and are told who asks
        (remediation: the engine decides by the asker's authority and audits a refusal)."""
        self.path = path
        self.handlers = handlers
        self.admin_handlers = dict(admin_handlers or {})
        self.group = grp.getgrnam(group_name) if group_name else None
        self.admin_group = grp.getgrnam(admin_group_name) if admin_group_name else None
        self.note = ThrottledLog()
        self.router = RequestRouter(self.handlers, self.admin_handlers, self.note, peer_handlers)
        self._threads: list[threading.Thread] = []
        self._reader: _ConnectionReader | None = None
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._work: queue.SimpleQueue[tuple[socket.socket, bytes, Peer] | None] = queue.SimpleQueue()

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_socket(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Create the socket with no access for others, then open it to the group: no window where it is wider.
        old_umask = os.umask(0o117)
        try:
            listener.bind(str(self.path))
        except OSError:
            listener.close()
            raise
        finally:
            os.umask(old_umask)
        listener.listen(LISTEN_BACKLOG)
        os.chmod(self.path, 0o660)
        if self.group is not None and self.group.gr_gid != os.getegid():
            # Only when it differs: under systemd the socket already has the service's group, and chown is
            # outside the unit's system-call allow list.
            os.chown(self.path, -1, self.group.gr_gid)
        self._reader = _ConnectionReader(listener, self._slots, self._peer, self._work.put, self.note, PeerRates())
        self._threads = [threading.Thread(target=self._reader.run, name="control", daemon=True)]
        self._threads += [threading.Thread(target=self._answer_requests, name=f"control-{n}", daemon=True)
                          for n in range(WORKERS)]
        for thread in self._threads:
            thread.start()

    def alive(self) -> bool:
        """Every thread still runs (they catch everything; False means a bug, and the agent restarts)."""
        return all(thread.is_alive() for thread in self._threads)

    def stop(self) -> None:
        if self._reader is None:
            return
        self._reader.stop()
        for _ in range(WORKERS):
            self._work.put(None)
        # A worker may wait on the agent's loop (diagnose, up to 30 s) that has already stopped: do not wait for
        # it; its thread is a daemon thread and its connection closes with the process.
        for thread in self._threads:
            thread.join(timeout=1.0)
        self._reader = None
        self._threads = []
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _peer(self, conn: socket.socket) -> Peer | None:
        """The peer's credentials, or None when it may not use the socket at all."""
        pid, uid, gid = peer_credentials(conn)
        own_uid = os.geteuid()
        if not peer_allowed(uid, gid, own_uid, group_as_listed_now(self.group)):
            self.note(logging.WARNING, "control socket: refused pid %d uid %d gid %d", pid, uid, gid)
            return None
        return Peer(pid, uid, gid, is_admin=peer_allowed(uid, gid, own_uid, group_as_listed_now(self.admin_group)))

    def _answer_requests(self) -> None:
        while True:
            job = self._work.get()
            if job is None:
                return
            conn, line, peer = job
            try:
                reply = reply_line(self.router.answer(line, peer))
                conn.settimeout(WRITE_TIMEOUT_S)  # a client that never reads its answer is dropped
                conn.sendall(reply)
            except (TimeoutError, OSError) as exc:
                log.debug("control socket: reply to pid %d not delivered: %s", peer.pid, exc)
            except Exception as exc:  # noqa: BLE001 — the worker must survive anything one request does
                self.note(logging.ERROR, "control socket: answering pid %d failed: %s", peer.pid, exc)
            finally:
                _discard_unread(conn)
                _close(conn)
                self._slots.release()


class _Connection:
    """One client as the reader sees it: what it sent so far and when it must be done."""

    def __init__(self, sock: socket.socket, peer: Peer | None, deadline: float):
        self.sock = sock
        self.peer = peer
        self.deadline = deadline
        self.received = bytearray()
        self.drained = 0
        self.draining = peer is None  # answered already (refused): only waiting for the client to finish sending
        self.paused_reply: bytes | None = None  # told only when its deadline comes (a user asking too often)
        self.reading = True  # registered with the selector


class _ConnectionReader:
    """Accepts connections, checks the peer first, and reads request lines without a thread per client."""

    def __init__(self, listener: socket.socket, slots: threading.BoundedSemaphore,
                 check_peer: Callable[[socket.socket], Peer | None],
                 submit: Callable[[tuple[socket.socket, bytes, Peer]], None], note: ThrottledLog,
                 rates: PeerRates | None = None):
        """`slots` counts open connections, shared with the workers that close the ones they answered; `rates`
        bounds how often the read-only users may ask (the admins are not limited)."""
        self.listener = listener
        self.rates = rates or PeerRates()
        self.check_peer = check_peer
        self.submit = submit
        self.note = note
        self.selector = selectors.DefaultSelector()
        self.slots = slots
        self._wake_read, self._wake_write = socket.socketpair()
        self._stopping = threading.Event()
        self._connections: dict[socket.socket, _Connection] = {}
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ)
        self.selector.register(self._wake_read, selectors.EVENT_READ)

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._wake_write.send(b"x")
        except OSError:
            pass

    def release(self, sock: socket.socket) -> None:
        """Close a connection and free its slot."""
        _close(sock)
        self.slots.release()

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    self._serve_once()
                except Exception as exc:  # noqa: BLE001 — the reader is the server: it must not die
                    self.note(logging.ERROR, "control socket: reader error: %s", exc)
                    time.sleep(0.1)
        finally:
            for conn in list(self._connections.values()):
                self._close(conn)
            self.selector.close()
            _close(self.listener)
            _close(self._wake_read)
            _close(self._wake_write)

    def _serve_once(self) -> None:
        now = time.monotonic()
        deadlines = [conn.deadline for conn in self._connections.values()]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        for key, _ in self.selector.select(timeout):
            if key.fileobj is self.listener:
                self._accept()
            elif key.fileobj is self._wake_read:
                self._wake_read.recv(64)
            else:
                self._on_readable(self._connections[key.fileobj])
        self._expire(time.monotonic())

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE and the like: the backlog holds the rest until descriptors free up
                self.note(logging.ERROR, "control socket: accept failed: %s", exc)
                time.sleep(0.1)  # the listener stays readable: do not spin on it
                return
            sock.setblocking(False)
            if not self.slots.acquire(blocking=False):
                self.note(logging.WARNING, "control socket: %d connections open; told a new one to retry",
                          MAX_CONNECTIONS)
                _send_quietly(sock, reply_line(error_reply(BUSY_ERROR, busy=True)))
                _close(sock)
                continue
            try:
                peer = self.check_peer(sock)
            except OSError as exc:  # the client left between connect and accept
                log.debug("control socket: no peer credentials: %s", exc)
                self.release(sock)
                continue
            if peer is None:
                # Refuse before reading anything, then let the client finish sending: closing on its unread
                # request would make its send fail instead of letting it read why.
                _send_quietly(sock, reply_line(error_reply(REFUSED_ERROR, denied=True)))
                _shutdown_write(sock)
                self._track(_Connection(sock, None, time.monotonic() + DRAIN_DEADLINE_S))
            else:
                self._track(_Connection(sock, peer, time.monotonic() + READ_DEADLINE_S))

    def _track(self, conn: _Connection) -> None:
        self._connections[conn.sock] = conn
        self.selector.register(conn.sock, selectors.EVENT_READ)

    def _on_readable(self, conn: _Connection) -> None:
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        if conn.draining:
            conn.drained += len(data)
            if not data or b"\n" in data or conn.drained > DRAIN_LIMIT_BYTES:
                if conn.paused_reply is None:
                    self._close(conn)
                else:  # its pause is not over: wait for the deadline without reading
                    self.selector.unregister(conn.sock)
                    conn.reading = False
            return
        newline = data.find(b"\n")  # only the new bytes: a client dribbling its request costs no rescans
        if newline >= 0:
            self._hand_over(conn, bytes(conn.received + data[:newline]))
            return
        conn.received += data
        if not data and conn.received:
            self._hand_over(conn, bytes(conn.received))  # the client shut its side down: its request is complete
        elif not data:
            self._close(conn)  # connected and left without asking: a liveness probe, nothing to answer
        elif len(conn.received) > MAX_REQUEST_BYTES:
            self._answer_and_drain(conn, f"request larger than {MAX_REQUEST_BYTES} bytes")

    def _hand_over(self, conn: _Connection, line: bytes) -> None:
        assert conn.peer is not None
        if not conn.peer.is_admin and not self.rates.admit(conn.peer.uid):
            # Told "busy" by the reader after a pause, without a worker: answered at once, a client asking in a
            # loop still cost the agent a third of a core in accepts and replies; paused, it asks once a pause.
            self.note(logging.WARNING, "control socket: uid %d asks too often; told it to retry", conn.peer.uid)
            conn.draining = True
            conn.paused_reply = reply_line(error_reply(RATE_ERROR, busy=True))
            conn.deadline = time.monotonic() + RATE_PAUSE_S
            return
        self.selector.unregister(conn.sock)
        del self._connections[conn.sock]
        self.submit((conn.sock, line, conn.peer))

    def _answer_and_drain(self, conn: _Connection, error: str) -> None:
        _send_quietly(conn.sock, reply_line(error_reply(error)))
        _shutdown_write(conn.sock)
        conn.draining = True
        conn.deadline = time.monotonic() + DRAIN_DEADLINE_S

    def _expire(self, now: float) -> None:
        for conn in [c for c in self._connections.values() if c.deadline <= now]:
            if conn.paused_reply is not None:
                _send_quietly(conn.sock, conn.paused_reply)
                _discard_unread(conn.sock)
            elif not conn.draining:
                _send_quietly(conn.sock, reply_line(error_reply(
                    f"no complete request line within {READ_DEADLINE_S:g} s")))
            self._close(conn)

    def _close(self, conn: _Connection) -> None:
        if conn.reading:
            self.selector.unregister(conn.sock)
        del self._connections[conn.sock]
        self.release(conn.sock)


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    """A short reply on a non-blocking socket: it fits the socket buffer, or the client is gone."""
    try:
        sock.send(data)
    except OSError:
        pass


def _discard_unread(sock: socket.socket) -> None:
    """Read what the client sent past its request line: closing on unread bytes would reset the connection."""
    try:
        sock.setblocking(False)
        for _ in range(DRAIN_LIMIT_BYTES // RECV_BYTES):
            if not sock.recv(RECV_BYTES):
                return
    except OSError:  # nothing more waiting (EAGAIN), or the client is gone
        return


def _shutdown_write(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


def socket_in_use(path: Path) -> str | None:
    """Why an agent cannot put its control socket at `path` (another one listens there, or something else is
    there), or None when the path is free or holds only the socket a crashed agent left behind."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISSOCK(mode):
        return f"{path} exists and is not a socket: refusing to replace it"
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)  # a blocking connect would wait as long as a flooded agent's queue stays full
    try:
        probe.connect(str(path))
    except ConnectionRefusedError:
        return None  # stale: nobody listens
    except BlockingIOError:
        return f"another agent is already listening on {path} (its connection queue is full)"
    except OSError as exc:
        return f"cannot tell whether an agent listens on {path}: {exc.strerror or exc}"
    finally:
        probe.close()
    return f"another agent is already listening on {path}"


def _remove_stale_socket(path: Path) -> None:
    """Remove a socket left by a crashed agent; refuse to start beside a live one or over anything else."""
    problem = socket_in_use(path)
    if problem:
        raise ControlError(problem)
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def request(path: Path, name: str, args: Mapping[str, Any] | None = None, timeout_s: float = 5.0) -> Any:
    """Ask the running agent; returns the result or raises ControlError with a message for a person.

    A "busy" answer (every connection slot taken) is retried, with growing pauses, until `timeout_s` is spent.
    """
    deadline = time.monotonic() + timeout_s
    pause_s = 0.05
    while True:
        response = _exchange(path, name, args, max(0.1, deadline - time.monotonic()))
        if not response.get("busy") or time.monotonic() + pause_s > deadline:
            break
        time.sleep(pause_s)
        pause_s = min(2 * pause_s, 0.5)
    if not response.get("ok"):
        error = str(response.get("error", "the agent refused the request"))
        if response.get("refused"):
            raise RefusedByAgent(error)
        raise NotPermitted(error) if response.get("denied") else ControlError(error)
    return response.get("result")


def _exchange(path: Path, name: str, args: Mapping[str, Any] | None, timeout_s: float) -> dict[str, Any]:
    """One connection: send the request line, read the reply line."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        try:
            sock.connect(str(path))
        except BlockingIOError:  # the listen backlog is full: as busy as a "busy" reply
            return {"ok": False, "error": f"the agent's connection queue on {path} is full, try again", "busy": True}
        try:
            sock.sendall(json.dumps({"request": name, "args": dict(args or {})}).encode() + b"\n")
        except BrokenPipeError:
            pass  # the agent may have answered and closed already: its reply says why
        with sock.makefile("rb") as reader:
            line = reader.readline(MAX_REPLY_BYTES + 1)
    except FileNotFoundError:
        raise AgentNotRunning(f"the agent is not running (no control socket at {path})") from None
    except ConnectionRefusedError:
        raise AgentNotRunning(f"the agent is not running (nothing listens on {path})") from None
    except PermissionError:
        raise NotPermitted(f"permission denied on {path}: run as root or as a member of the agent's group") from None
    except TimeoutError:
        raise ControlError(f"the agent did not answer within {timeout_s:.0f} s on {path}") from None
    except OSError as exc:
        if exc.errno == errno.ENOTSOCK:
            raise ControlError(f"{path} is not a socket") from None
        raise ControlError(f"cannot reach the agent on {path}: {exc.strerror or exc}") from None
    finally:
        sock.close()
    if not line:
        raise ControlError(f"the agent closed the connection on {path} without answering")
    if len(line) > MAX_REPLY_BYTES:
        raise ControlError(f"the answer on {path} is longer than {MAX_REPLY_BYTES:,} bytes: not read (what "
                           "listens there is not the agent, or its reply is broken)")
    try:
        response = json.loads(line)
    except ValueError:
        response = None
    if not isinstance(response, dict):
        raise ControlError(f"the answer on {path} is not the agent's JSON reply: {line[:80]!r}")
    return response
