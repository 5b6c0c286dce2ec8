"""The local control socket: a real Unix socket, one JSON line each way, checked by the peer's credentials."""

from __future__ import annotations

import concurrent.futures
import grp
import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from edge_agent.agent import control
from edge_agent.agent.control import (
    BUSY_ERROR,
    MAX_CONNECTIONS,
    MAX_REQUEST_BYTES,
    REFUSED_ERROR,
    WORKERS,
    AgentNotRunning,
    ControlError,
    ControlServer,
    peer_allowed,
    request,
)

from ..support import serving, short_socket_dir

NOBODY_UID = 65534
STATUS = {"device_id": "gw-7", "open_issues": 0}
BIG_ANSWER_BYTES = 8_000_000  # far more than a Unix socket buffers: the server must wait for the client to read


class Handlers(dict):
    """Control handlers that remember every call they answered."""

    def __init__(self) -> None:
        super().__init__(status=self.status, echo=self.echo, strict=self.strict, actions=self.actions, big=self.big)
        self.calls: list[tuple[str, Mapping[str, Any]]] = []

    def status(self, args: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append(("status", args))
        return STATUS

    def echo(self, args: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append(("echo", args))
        return dict(args)

    def strict(self, args: Mapping[str, Any]) -> None:
        raise ValueError("limit must be positive")

    def actions(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Trusts its argument types, as the agent's `actions` handler does."""
        return {"limit": int(args.get("limit", 50))}

    def big(self, args: Mapping[str, Any]) -> str:
        return "x" * BIG_ANSWER_BYTES


@pytest.fixture(scope="module")
def shared_server() -> Iterator[ControlServer]:
    """One server for the tests that only ask it things: each stop costs half a second."""
    with short_socket_dir() as socket_dir, serving(socket_dir / "ctl.sock", Handlers()) as control:
        yield control


@pytest.fixture
def server(shared_server: ControlServer) -> ControlServer:
    shared_server.handlers.calls.clear()
    return shared_server


@pytest.fixture
def server_path(server: ControlServer) -> Path:
    return server.path


@pytest.fixture
def server_handlers(server: ControlServer) -> Handlers:
    return server.handlers


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


@pytest.fixture
def sock_path(short_tmp: Path) -> Path:
    """A fresh socket path for tests that start (or fake) a server of their own."""
    return short_tmp / "ctl.sock"


@contextmanager
def connected(path: Path) -> Iterator[socket.socket]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(5)
        client.connect(str(path))
        yield client


def raw_exchange(path: Path, payload: bytes) -> dict[str, Any]:
    """Send bytes as they are and read the agent's one-line answer."""
    with connected(path) as client:
        client.sendall(payload)
        with client.makefile("rb") as reader:
            return json.loads(reader.readline())


def leave_stale_socket(path: Path) -> None:
    """What a crashed agent leaves behind: a socket file nobody listens on."""
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()


def test_status_request_round_trip(server_path):
    assert request(server_path, "status") == STATUS


def test_request_arguments_reach_the_handler(server_path):
    assert request(server_path, "echo", {"all": False}) == {"all": False}


def test_unknown_request_is_an_error_naming_the_known_requests(server_path):
    with pytest.raises(ControlError) as raised:
        request(server_path, "reboot")
    assert "unknown request 'reboot'" in str(raised.value)
    assert "status" in str(raised.value)


def test_line_that_is_not_json_is_answered_with_an_error(server_path):
    response = raw_exchange(server_path, b"status please\n")
    assert response["ok"] is False
    assert response["error"].startswith("bad request: not JSON")


def test_json_without_a_request_name_is_answered_with_an_error(server_path, server_handlers):
    response = raw_exchange(server_path, b'["status"]\n')
    assert response["ok"] is False
    assert server_handlers.calls == []


def test_request_larger_than_the_limit_is_refused_unread(server_path, server_handlers):
    padding = "x" * (MAX_REQUEST_BYTES + 10)
    response = raw_exchange(server_path, json.dumps({"request": "echo", "args": {"pad": padding}}).encode() + b"\n")
    assert response["ok"] is False
    assert str(MAX_REQUEST_BYTES) in response["error"]
    assert server_handlers.calls == []


def test_handler_refusing_its_arguments_is_reported_as_bad_arguments(server_path):
    with pytest.raises(ControlError, match="bad arguments: limit must be positive"):
        request(server_path, "strict", {"limit": -1})


def test_socket_is_created_with_mode_0660(server_path):
    mode = server_path.stat().st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o660


def test_socket_is_removed_when_the_server_stops(sock_path, handlers):
    control = ControlServer(sock_path, handlers)
    control.start()
    control.stop()
    assert not sock_path.exists()


def test_server_creates_a_missing_socket_directory(short_tmp, handlers):
    path = short_tmp / "run" / "ctl.sock"
    with serving(path, handlers):
        assert request(path, "status") == STATUS


def test_stale_socket_of_a_dead_agent_is_replaced(sock_path, handlers):
    leave_stale_socket(sock_path)
    with serving(sock_path, handlers):
        assert request(sock_path, "status") == STATUS


def test_second_server_refuses_to_start_beside_a_live_one(server_path):
    with pytest.raises(ControlError, match="already listening"):
        ControlServer(server_path, Handlers()).start()


def test_live_server_keeps_answering_after_a_second_one_was_refused(server_path):
    with pytest.raises(ControlError):
        ControlServer(server_path, Handlers()).start()
    assert request(server_path, "status") == STATUS


def test_client_on_a_missing_socket_raises_agent_not_running(short_tmp):
    with pytest.raises(AgentNotRunning, match="not running"):
        request(short_tmp / "absent.sock", "status")


def test_client_on_a_socket_nobody_listens_on_raises_agent_not_running(sock_path):
    leave_stale_socket(sock_path)
    with pytest.raises(AgentNotRunning):
        request(sock_path, "status")


def test_client_gives_up_when_the_agent_does_not_answer(sock_path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as mute:
        mute.bind(str(sock_path))
        mute.listen(1)
        with pytest.raises(ControlError, match="did not answer"):
            request(sock_path, "status", timeout_s=0.2)


def test_client_refuses_an_endless_reply_line_with_a_clear_error_instead_of_reading_it_all(sock_path, monkeypatch):
    # Whatever listens on the socket (not the agent, or an agent gone wrong) must not make the technician's CLI
    # read without end: the line is bounded, and the error says so.
    monkeypatch.setattr(control, "MAX_REPLY_BYTES", 64 * 1024)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as flooder:
        flooder.bind(str(sock_path))
        flooder.listen(1)

        def flood():
            conn, _ = flooder.accept()
            with conn:
                try:
                    for _ in range(64):  # 4 MiB without a newline, 64 times the bound
                        conn.sendall(b"x" * 65536)
                except OSError:
                    pass  # the client stopped reading: what the bound is for

        threading.Thread(target=flood, daemon=True).start()
        with pytest.raises(ControlError, match="longer than 65,536 bytes: not read"):
            request(sock_path, "status", timeout_s=5)


# peer_allowed: who may use the socket, as a pure function of the peer's credentials.
AGENT_UID = 995
AGENT_GID = 4242


def agent_group(*members: str) -> grp.struct_group:
    # Built per test, not kept in a module global: a struct_group alive at interpreter exit trips CPython 3.11's
    # structseq finaliser ("SystemError: bad argument to internal function" after the run).
    return grp.struct_group(("edge-agent", "x", AGENT_GID, list(members)))


def test_root_is_allowed_without_a_group():
    assert peer_allowed(0, 0, AGENT_UID, None)


def test_the_agents_own_user_is_allowed_without_a_group():
    assert peer_allowed(AGENT_UID, 1234, AGENT_UID, None)


def test_another_user_is_refused_without_a_group():
    assert not peer_allowed(1000, 1000, AGENT_UID, None)


def test_a_peer_whose_primary_group_is_the_agents_group_is_allowed():
    assert peer_allowed(1000, AGENT_GID, AGENT_UID, agent_group())


def test_a_listed_member_of_the_agents_group_is_allowed():
    try:
        named_nobody = pwd.getpwuid(NOBODY_UID).pw_name == "nobody"
    except KeyError:
        named_nobody = False
    if not named_nobody:
        pytest.skip("no passwd entry 'nobody' with uid 65534 on this machine")
    assert peer_allowed(NOBODY_UID, NOBODY_UID, AGENT_UID, agent_group("nobody"))


def test_a_user_outside_the_agents_group_is_refused():
    assert not peer_allowed(1000, 1000, AGENT_UID, agent_group("alice"))


def test_a_peer_uid_without_a_passwd_entry_is_refused():
    unnamed_uid = 3_999_999
    with pytest.raises(KeyError):
        pwd.getpwuid(unnamed_uid)
    assert not peer_allowed(unnamed_uid, unnamed_uid, AGENT_UID, agent_group("nobody"))


def needs_another_user(test: Any) -> Any:
    """Root only: the test runs a client as uid 65534 (with setpriv)."""
    for mark in (
        pytest.mark.root,
        pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another user (uid 65534)"),
        pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux) to switch user"),
    ):
        test = mark(test)
    return test


@contextmanager
def serving_everyone(handlers: Mapping[str, Any]) -> Iterator[ControlServer]:
    """A server whose socket every local user can reach (tmp_path sits under a 0700 directory): only the
    SO_PEERCRED check stands between a peer and the handlers."""
    with short_socket_dir(mode=0o755) as socket_dir, serving(socket_dir / "ctl.sock", handlers) as served:
        served.path.chmod(0o666)
        yield served


def run_as_nobody(script: str, *args: str) -> subprocess.CompletedProcess:
    """A Python client script run as uid/gid 65534 with no supplementary groups."""
    return subprocess.run(
        ["setpriv", f"--reuid={NOBODY_UID}", f"--regid={NOBODY_UID}", "--clear-groups",
         sys.executable, "-I", "-S", "-c", script, *args],
        capture_output=True, text=True, timeout=10,
    )


CLIENT_AS_NOBODY = """
import socket, sys
for _ in range(20):  # the refusal must arrive every time, never as a reset connection
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(5)
    client.connect(sys.argv[1])
    client.sendall(b'{"request": "status"}\\n')
    line = client.makefile("rb").readline().decode()
    client.close()
sys.stdout.write(line)
"""


@needs_another_user
def test_a_real_peer_outside_root_the_agent_and_its_group_is_refused(handlers):
    with serving_everyone(handlers) as control:
        client = run_as_nobody(CLIENT_AS_NOBODY, str(control.path))
    assert client.returncode == 0, client.stderr
    response = json.loads(client.stdout)
    assert response["ok"] is False
    assert response["error"].startswith("permission denied")
    assert handlers.calls == []


def test_a_regular_file_at_the_socket_path_is_left_alone_and_start_refuses(short_tmp, handlers):
    path = short_tmp / "ctl.sock"
    path.write_text("precious")
    server = ControlServer(path, handlers)
    with pytest.raises(ControlError, match="not a socket"):
        server.start()
    assert path.read_text() == "precious"


def test_a_client_that_hangs_up_without_asking_leaves_no_error_and_the_server_keeps_answering(server_path, caplog):
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.connect(str(server_path))
    probe.close()
    assert request(server_path, "status") is not None
    assert "request failed" not in caplog.text


def test_a_burst_of_fifty_clients_is_answered_in_full(server_path):
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda _: request(server_path, "status"), range(50)))
    assert len(results) == 50 and all(r is not None for r in results)


ASK_AS_NOBODY = """
import json, socket, sys
for name in sys.argv[2:]:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(5)
    client.connect(sys.argv[1])
    client.sendall(json.dumps({"request": name}).encode() + b"\\n")
    print(client.makefile("rb").readline().decode().strip())
    client.close()
"""


@needs_another_user
def test_a_group_member_may_read_but_not_reload_unless_in_the_admin_group(handlers):
    group_name = grp.getgrgid(NOBODY_UID).gr_name  # the member's primary group is the agent's group
    reloads = []
    with short_socket_dir(mode=0o755) as socket_dir:
        control = ControlServer(socket_dir / "ctl.sock", handlers, group_name,
                                admin_handlers={"reload": lambda args: reloads.append(args) or {"applied": True}})
        control.start()
        try:
            control.path.chmod(0o666)
            client = run_as_nobody(ASK_AS_NOBODY, str(control.path), "status", "reload")
        finally:
            control.stop()
    status, reload = (json.loads(line) for line in client.stdout.splitlines())
    assert status["ok"] is True
    assert reload == {"ok": False, "error": "permission denied: reload is for root or the admin group", "denied": True}
    assert reloads == []


def test_root_may_use_admin_requests(short_tmp, handlers):
    control = ControlServer(short_tmp / "ctl.sock", handlers, admin_handlers={"reload": lambda args: {"applied": 1}})
    control.start()
    try:
        assert request(control.path, "reload") == {"applied": 1}
    finally:
        control.stop()


@contextmanager
def idle_connections(path: Path, count: int) -> Iterator[list[socket.socket]]:
    """Connections that connect and then neither send nor read (what a stuck or hostile client does), closed
    afterwards."""
    idle = []
    try:
        for _ in range(count):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            idle.append(client)
            client.connect(str(path))
        yield idle
    finally:
        for client in idle:
            client.close()


def read_until_closed(client: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := client.recv(1 << 20):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def test_idle_connections_beyond_the_worker_pool_start_no_thread_and_status_is_still_answered(server_path):
    threads_before = threading.active_count()
    with idle_connections(server_path, 10 * WORKERS):
        assert request(server_path, "status") == STATUS
        assert threading.active_count() == threads_before


def test_connections_past_the_cap_are_told_busy_at_once_and_status_is_served_when_slots_free(
    sock_path, handlers, monkeypatch
):
    monkeypatch.setattr(control, "READ_DEADLINE_S", 1.0)
    threads_before = threading.active_count()
    with serving(sock_path, handlers), idle_connections(sock_path, MAX_CONNECTIONS):
        with connected(sock_path) as extra:
            assert json.loads(read_until_closed(extra)) == {"ok": False, "error": BUSY_ERROR, "busy": True}
        assert threading.active_count() <= threads_before + 1 + WORKERS
        assert request(sock_path, "status", timeout_s=5) == STATUS  # retried until the idle ones were dropped


def test_a_client_that_sends_nothing_gets_an_error_line_and_is_dropped_at_the_read_deadline(
    sock_path, handlers, monkeypatch
):
    monkeypatch.setattr(control, "READ_DEADLINE_S", 0.3)
    with serving(sock_path, handlers), connected(sock_path) as silent:
        reply = read_until_closed(silent)
    assert json.loads(reply) == {"ok": False, "error": "no complete request line within 0.3 s"}


def test_a_client_dribbling_its_request_is_dropped_at_the_deadline_however_often_it_sends(
    sock_path, handlers, monkeypatch
):
    monkeypatch.setattr(control, "READ_DEADLINE_S", 0.3)
    with serving(sock_path, handlers), connected(sock_path) as slow:
        try:
            for byte in b'{"request": "status", "args": {"padding": "' + b"x" * 200:
                slow.send(bytes([byte]))
                time.sleep(0.02)
        except (BrokenPipeError, ConnectionResetError):
            pass  # dropped mid-request, as it should be
        reply = read_until_closed(slow)
    assert json.loads(reply)["error"] == "no complete request line within 0.3 s"
    assert handlers.calls == []


def test_clients_that_never_read_their_answer_are_cut_off_and_free_the_workers(sock_path, handlers, monkeypatch):
    monkeypatch.setattr(control, "WRITE_TIMEOUT_S", 0.3)
    with serving(sock_path, handlers), idle_connections(sock_path, WORKERS + 1) as stuck:
        for client in stuck:
            client.sendall(b'{"request": "big"}\n')
        assert request(sock_path, "status", timeout_s=5) == STATUS
        time.sleep(0.5)  # past the write deadline: the server has given up on them
        for client in stuck:
            client.settimeout(5)
            assert len(read_until_closed(client)) < BIG_ANSWER_BYTES


def test_arguments_of_the_wrong_type_get_an_error_reply_and_one_log_line_without_traceback(server_path, caplog):
    with caplog.at_level("DEBUG", logger="edge_agent.agent.control"):
        not_an_object = raw_exchange(server_path, b'{"request": "echo", "args": [1]}\n')
        wrong_type = raw_exchange(server_path, b'{"request": "actions", "args": {"limit": [1]}}\n')
        assert request(server_path, "status") == STATUS
    assert not_an_object == {"ok": False, "error": '"args" must be an object, got an array'}
    assert wrong_type["ok"] is False and wrong_type["error"].startswith("bad arguments: ")
    assert len(caplog.records) == 2
    assert all(record.exc_info is None for record in caplog.records)


SILENT_CLIENT_AS_NOBODY = """
import socket, sys
client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
client.settimeout(5)
client.connect(sys.argv[1])
sys.stdout.write(client.makefile("rb").readline().decode())
"""


@needs_another_user
def test_a_refused_peer_is_told_so_before_it_sends_anything(handlers):
    with serving_everyone(handlers) as served:
        client = run_as_nobody(SILENT_CLIENT_AS_NOBODY, str(served.path))
    assert client.returncode == 0, client.stderr
    assert json.loads(client.stdout) == {"ok": False, "error": REFUSED_ERROR, "denied": True}


# Who the installed agent lets in: its own group by default, with members as /etc/group lists them now.


def test_a_member_added_to_the_group_while_the_agent_runs_is_let_in(monkeypatch, handlers):
    server = ControlServer(Path("/nonexistent/ctl.sock"), handlers)
    server.group = agent_group()  # as it was when the agent started: nobody listed
    monkeypatch.setattr(control.grp, "getgrgid", lambda gid: agent_group("nobody") if gid == AGENT_GID else None)
    monkeypatch.setattr(control.pwd, "getpwuid", lambda uid: pwd.struct_passwd(
        ("nobody", "x", NOBODY_UID, NOBODY_UID, "", "/", "/bin/false")))
    monkeypatch.setattr(control, "peer_credentials", lambda conn: (4321, NOBODY_UID, NOBODY_UID))
    assert server._peer(None) is not None


def test_the_agent_running_as_root_lets_in_no_group_by_default():
    assert control.own_group_name(0, 0) is None


def test_the_agent_under_its_users_personal_group_lets_that_group_in_by_default(monkeypatch):
    monkeypatch.setattr(control.grp, "getgrgid", lambda gid: grp.struct_group(("edge-agent", "x", gid, [])))
    monkeypatch.setattr(control.pwd, "getpwuid", lambda uid: pwd.struct_passwd(
        ("edge-agent", "x", uid, AGENT_GID, "", "/var/lib/edge-agent", "/usr/sbin/nologin")))
    assert control.own_group_name(AGENT_UID, AGENT_GID) == "edge-agent"


def test_a_shared_primary_group_is_not_let_in_by_default(monkeypatch):
    monkeypatch.setattr(control.grp, "getgrgid", lambda gid: grp.struct_group(("users", "x", gid, [])))
    monkeypatch.setattr(control.pwd, "getpwuid", lambda uid: pwd.struct_passwd(
        ("alice", "x", uid, 100, "", "/home/alice", "/bin/sh")))
    assert control.own_group_name(1000, 100) is None


# How often a user who may only read may ask.


def ask_raw(path: Path, line: bytes) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(5)
        client.connect(str(path))
        client.sendall(line)
        return json.loads(read_until_closed(client))


@pytest.mark.parametrize("is_admin", [False, True])
def test_a_read_only_user_asking_in_a_loop_is_told_busy_past_its_rate_and_an_admin_never_is(
        monkeypatch, sock_path, handlers, is_admin):
    now = [0.0]
    rates = control.PeerRates(clock=lambda: now[0])
    monkeypatch.setattr(control, "PeerRates", lambda: rates)
    monkeypatch.setattr(control, "RATE_PAUSE_S", 0.2)
    server = ControlServer(sock_path, handlers)
    monkeypatch.setattr(server, "_peer", lambda conn: control.Peer(4321, 1234, 1234, is_admin=is_admin))
    server.start()
    try:
        answers = [ask_raw(sock_path, b'{"request": "status"}\n') for _ in range(30)]
        assert answers == [{"ok": True, "result": STATUS}] * 30  # the burst
        started = time.monotonic()
        beyond = [ask_raw(sock_path, b'{"request": "status"}\n') for _ in range(5)]
        if is_admin:
            assert beyond == [{"ok": True, "result": STATUS}] * 5
            return
        assert beyond == [{"ok": False, "error": control.RATE_ERROR, "busy": True}] * 5
        assert time.monotonic() - started >= 5 * 0.2  # each told only after the pause: a loop asks at its pace
        assert len(handlers.calls) == 30  # the refused ones never reached a handler
        now[0] += 1.0  # a second later, ten more
        assert request(sock_path, "status") == STATUS
    finally:
        server.stop()
