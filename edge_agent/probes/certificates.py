"""Whether an address really serves a name: a TLS handshake to port 443 with the name as SNI, the certificate
checked against the host's trusted CAs.

This is what tells an honest resolver from a liar when two disagree from their very first answer: a CDN's other
address holds a certificate for the name, an address a liar made up does not. The check runs only where a host
resolver's answer shares no address with the others', against one of theirs as the control (a path that
intercepts TLS fails both), and its results are remembered, so a lasting disagreement costs one handshake an hour.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from edge_agent.collectors.connectivity import NO_ANSWER, NO_TLS, REFUSED, REJECTED, VALID

HTTPS_PORT = 443
REMEMBER_S = 3600.0
REMEMBERED_MAX = 64
CHECKS_PER_COMPARISON = 4


@dataclass(frozen=True)
class CertificateCheck:
    address: str
    result: str  # VALID, REJECTED (a certificate not valid for the name), NO_TLS, REFUSED or NO_ANSWER
    detail: str = ""


def check_certificate(address: str, name: str, timeout_s: float, port: int = HTTPS_PORT,
                      context: ssl.SSLContext | None = None) -> CertificateCheck:
    """One handshake, done within `timeout_s` in all (a server trickling its certificate cannot hold the probe);
    nothing is sent after it."""
    deadline = time.monotonic() + timeout_s
    try:
        sock = socket.create_connection((address, port), timeout=timeout_s)
    except ConnectionRefusedError:
        return CertificateCheck(address, REFUSED, "connection refused")
    except OSError as error:
        return CertificateCheck(address, NO_ANSWER, str(error) or type(error).__name__)
    context = context or ssl.create_default_context()
    try:
        with context.wrap_socket(sock, server_hostname=name, do_handshake_on_connect=False) as tls:
            tls.setblocking(False)
            _handshake(tls, deadline)
        return CertificateCheck(address, VALID)
    except ssl.SSLCertVerificationError as error:
        return CertificateCheck(address, REJECTED, error.verify_message or str(error))
    except TimeoutError:
        return CertificateCheck(address, NO_ANSWER, "the TLS handshake did not finish in time")
    except (ssl.SSLError, OSError) as error:
        return CertificateCheck(address, NO_TLS, str(error) or type(error).__name__)
    finally:
        sock.close()


def _handshake(tls: ssl.SSLSocket, deadline: float) -> None:
    while True:
        try:
            tls.do_handshake()
            return
        except ssl.SSLWantReadError:
            wanted = ([tls], [])
        except ssl.SSLWantWriteError:
            wanted = ([], [tls])
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not any(select.select(*wanted, [], remaining)[:2]):
            raise TimeoutError


Checker = Callable[[str, str], CertificateCheck]  # (address, name) -> its check


class CertificateMemory:
    """Checks already made, by name and address, for REMEMBER_S; at most REMEMBERED_MAX kept (oldest go)."""

    def __init__(self, checker: Checker, clock: Callable[[], float] = time.monotonic):
        self._checker, self._clock = checker, clock
        self._known: dict[tuple[str, str], tuple[float, CertificateCheck]] = {}

    def check(self, address: str, name: str) -> tuple[CertificateCheck, bool]:
        """The check, and whether it was made now (False: remembered)."""
        now = self._clock()
        known = self._known.get((name, address))
        if known is not None and now - known[0] < REMEMBER_S:
            return known[1], False
        result = self._checker(address, name)
        self._known.pop((name, address), None)
        self._known[(name, address)] = (now, result)
        while len(self._known) > REMEMBERED_MAX:
            del self._known[next(iter(self._known))]
        return result, True


def vouch_disagreements(name: str, answers: Mapping[str, Sequence[str]], judged: Sequence[str],
                        memory: CertificateMemory) -> dict[str, dict]:
    """For each judged resolver whose answer shares no address with the other sources': whether its first
    address holds a certificate for `name`, with the others' most given address as the control. Nothing for a
    resolver that agrees, or when there is no other answer to control with; at most CHECKS_PER_COMPARISON new
    handshakes."""
    made, vouched = 0, {}
    for resolver in judged:
        own = list(answers.get(resolver) or ())
        others = [a for source, addresses in answers.items() if source != resolver for a in addresses]
        if not own or not others or set(own) & set(others):
            continue
        control_address = max(dict.fromkeys(others), key=others.count)
        if made + 2 > CHECKS_PER_COMPARISON:
            break
        control, fresh = memory.check(control_address, name)
        made += fresh
        entry = {"address": own[0], "control": control_address, "control_result": control.result}
        if control.result == VALID:
            suspect, fresh = memory.check(own[0], name)
            made += fresh
            entry |= {"result": suspect.result, "detail": suspect.detail}
        vouched[resolver] = entry
    return vouched
