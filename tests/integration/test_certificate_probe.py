"""The certificate probe against real TLS servers on localhost: an address holding the name's certificate, one
holding another name's, one that speaks no TLS, one that refuses, and servers that stall or trickle (the probe
still ends within its time); the memory that keeps a lasting disagreement to one handshake an hour; and which
disagreements get a check at all."""

from __future__ import annotations

import socket
import ssl
import threading
import time

import pytest
from pki import Pki

from edge_agent.probes import certificates
from edge_agent.probes.certificates import (
    NO_ANSWER,
    NO_TLS,
    REFUSED,
    REJECTED,
    VALID,
    CertificateCheck,
    CertificateMemory,
    check_certificate,
    vouch_disagreements,
)

NAME = "cdn.example.test"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


class Server:
    """One listening socket on 127.0.0.1 and a thread answering each connection with `answer`."""

    def __init__(self, answer):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        try:
            self.answer(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


def tls_answer(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def answer(conn):
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)
    return answer


@pytest.fixture()
def client(pki):
    return ssl.create_default_context(cafile=str(pki.ca_cert))


def probe(server: Server, client, timeout_s: float = 2.0) -> CertificateCheck:
    return check_certificate("127.0.0.1", NAME, timeout_s, port=server.port, context=client)


def test_an_address_holding_the_names_certificate_is_valid(pki, client):
    server = Server(tls_answer(*pki.issue(NAME, san=f"DNS:{NAME}")))
    try:
        assert probe(server, client) == CertificateCheck("127.0.0.1", VALID)
    finally:
        server.close()


def test_an_address_holding_another_names_certificate_or_an_unknown_cas_is_rejected(pki, client, tmp_path):
    other = Server(tls_answer(*pki.issue("phish.example.test", san="DNS:phish.example.test")))
    stranger = Pki(tmp_path / "stranger")  # a CA the host does not trust, issuing for the very name
    untrusted = Server(tls_answer(*stranger.issue(NAME, san=f"DNS:{NAME}")))
    try:
        mismatch = probe(other, client)
        assert mismatch.result == REJECTED and "Hostname mismatch" in mismatch.detail
        unknown_ca = probe(untrusted, client)
        assert unknown_ca.result == REJECTED and "unable to get local issuer certificate" in unknown_ca.detail
    finally:
        other.close()
        untrusted.close()


def test_an_address_that_speaks_no_tls_or_refuses_is_told_apart(client):
    plain = Server(lambda conn: conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n"))
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    try:
        assert probe(plain, client).result == NO_TLS
        refused = check_certificate("127.0.0.1", NAME, 2.0, port=port, context=client)
        assert refused.result == REFUSED
    finally:
        plain.close()


def test_a_server_that_stalls_or_trickles_cannot_hold_the_probe_past_its_time(client):
    def trickle(conn):
        for _ in range(200):  # a TLS record header a byte at a time, never finished
            conn.sendall(b"\x16")
            time.sleep(0.1)

    stalled = Server(lambda conn: time.sleep(30))
    trickling = Server(trickle)
    try:
        for server in (stalled, trickling):
            started = time.monotonic()
            check = probe(server, client, timeout_s=1.0)
            assert check.result in (NO_ANSWER, NO_TLS), check
            assert time.monotonic() - started < 5, "the probe's time is a deadline, not a per-read timeout"
    finally:
        stalled.close()
        trickling.close()


def test_checks_are_remembered_for_an_hour_and_the_memory_is_bounded(monkeypatch):
    now = [0.0]
    made = []

    def checker(address, name):
        made.append((address, name))
        return CertificateCheck(address, VALID)

    memory = CertificateMemory(checker, clock=lambda: now[0])
    assert memory.check("203.0.113.1", NAME) == (CertificateCheck("203.0.113.1", VALID), True)
    now[0] = certificates.REMEMBER_S - 1
    assert memory.check("203.0.113.1", NAME)[1] is False
    now[0] = certificates.REMEMBER_S + 1
    assert memory.check("203.0.113.1", NAME)[1] is True
    for i in range(certificates.REMEMBERED_MAX * 3):  # a CDN rotating through many addresses
        memory.check(f"198.51.100.{i % 250}", f"n{i}.example")
    assert len(memory._known) == certificates.REMEMBERED_MAX


def test_only_a_host_resolver_sharing_no_address_is_checked_against_the_others_address_within_a_budget():
    made = []

    def checker(address, name):
        made.append(address)
        return CertificateCheck(address, VALID if address.startswith("23.") else REJECTED, "Hostname mismatch")

    memory = CertificateMemory(checker)
    answers = {"a": ["23.45.67.10"], "b": ["45.33.10.10"], "ref": ["23.45.67.10", "23.45.67.11"],
               "c": ["23.45.67.11", "23.45.67.12"]}
    vouched = vouch_disagreements(NAME, answers, ["a", "b", "c"], memory)
    assert list(vouched) == ["b"]  # a and c share an address with another source
    assert vouched["b"] == {"address": "45.33.10.10", "control": "23.45.67.10", "control_result": VALID,
                            "result": REJECTED, "detail": "Hostname mismatch"}
    assert made == ["23.45.67.10", "45.33.10.10"]
    # a flood of disagreeing resolvers: at most CHECKS_PER_COMPARISON handshakes in one comparison
    made.clear()
    many = {f"r{i}": [f"45.33.{i}.1"] for i in range(20)} | {"ref": ["23.1.1.1"]}
    vouch_disagreements(NAME, many, [f"r{i}" for i in range(20)], CertificateMemory(checker))
    assert len(made) <= certificates.CHECKS_PER_COMPARISON
    # no other answer to control with: no check
    assert vouch_disagreements(NAME, {"a": ["45.33.10.10"]}, ["a"], CertificateMemory(checker)) == {}
