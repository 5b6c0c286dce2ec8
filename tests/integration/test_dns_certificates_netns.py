"""A resolver that lies from its very first answer, told from an honest one by the certificates: two resolvers
disagree on a public name from the start (no history says which is right), the honest one's address presents the
name's certificate and the liar's address another name's, so the liar is `dns_resolver_lies` and the honest one
is not; a resolver whose different answer holds the name's certificate (another CDN edge, another network) is no
issue. Real dnsmasq resolvers and real TLS servers in the far namespace; the agent trusts the bed's CA through
SSL_CERT_FILE, as a gateway trusts the system's CAs."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from agent_process import Daemon, wait_for
from netns import PremisesNetwork, built, can_build_test_bed, run, two_resolver_config
from pki import Pki

REASON = can_build_test_bed()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))

CDN = "cdn.example.net"
# Ordinary public addresses, each in its own /24 so the answers share nothing, served in the far namespace.
HONEST, OTHER_EDGE, LIAR = "23.45.67.10", "104.16.1.10", "45.33.10.10"
DISAGREE_CHECKS = 2

TLS_SERVER = """
import socket, ssl, sys, threading
address, cert, key = sys.argv[1:4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server = socket.create_server((address, 443))
def one(conn):
    try:
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.settimeout(5)
            tls.recv(1)
    except (OSError, ssl.SSLError):
        pass
while True:
    conn, _ = server.accept()
    threading.Thread(target=one, args=(conn,), daemon=True).start()
"""


def serve_tls(bed: PremisesNetwork, pki: Pki, address: str, certificate_name: str) -> None:
    """A TLS server at `address` (another network, routed to the far host) presenting a certificate for
    `certificate_name`, signed by the bed's CA."""
    run("ip", "-n", bed.wan, "addr", "add", f"{address}/32", "dev", bed.wan_if)
    run("ip", "-n", bed.isp, "route", "add", f"{address}/32", "via", bed.far_ip)
    cert, key = pki.issue(f"{certificate_name}-{address}", san=f"DNS:{certificate_name}")
    bed._start_helper(bed.wan, TLS_SERVER, address, str(cert), str(key))
    listening = ["ip", "netns", "exec", bed.wan, "ss", "-ltn", "sport = :443"]
    wait_for(lambda: f"{address}:443" in subprocess.run(listening, capture_output=True, text=True).stdout,
             timeout_s=10, what=f"the TLS server at {address}")


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    with built(PremisesNetwork(tmp_path_factory.mktemp("netns-certs"), far_end=True)) as test_bed:
        test_bed.pki = Pki(test_bed.workdir / "pki")
        serve_tls(test_bed, test_bed.pki, HONEST, CDN)
        serve_tls(test_bed, test_bed.pki, OTHER_EDGE, CDN)
        serve_tls(test_bed, test_bed.pki, LIAR, "login.phish.example")
        test_bed.first = test_bed.start_resolver(3, {CDN: [HONEST]})
        test_bed.second = test_bed.start_resolver(4, {CDN: [HONEST]})
        yield test_bed


def start_agent(bed: PremisesNetwork) -> tuple[Daemon, Path]:
    config = two_resolver_config("netns-certs", bed.first, bed.second, CDN, bed.far_uplink, 1, DISAGREE_CHECKS)
    root = Path(tempfile.mkdtemp(prefix="ea-certs-", dir="/tmp"))
    daemon = Daemon(root, config_text=config, prefix=tuple(bed.in_cpe()))
    daemon.extra_env = {"SSL_CERT_FILE": str(bed.pki.ca_cert)}
    daemon.start()
    daemon.wait_notify("READY=1", timeout_s=15)
    return daemon, root


def lies(daemon: Daemon) -> list[dict]:
    return [i for i in daemon.ask_json("issues") if i["type"] == "dns_resolver_lies"]


def comparisons(daemon: Daemon, resolver: str, answers: list[str], count: int) -> dict:
    """Wait for `count` comparisons in which `resolver` answered `answers`; the last one's metrics."""
    seen: dict[float, dict] = {}

    def enough() -> bool:
        for sample in daemon.ask_json("status")["latest"]:
            if (sample["stream"], sample["subject"]) == ("connectivity.dns_comparison", CDN) and \
                    sample["metrics"]["answers"].get(resolver) == answers:
                seen[sample["ts"]] = sample["metrics"]
        return len(seen) >= count

    wait_for(enough, timeout_s=count * 4 + 15, what=f"{count} comparisons with {resolver} answering {answers}")
    return seen[max(seen)]


def test_a_resolver_lying_from_its_first_answer_is_caught_by_the_certificate_and_cleared_on_repair(bed):
    bed.start_resolver(4, {CDN: [LIAR]})  # before the agent ever asks: no history of agreement
    daemon, root = start_agent(bed)
    try:
        [issue] = wait_for(lambda: [i for i in lies(daemon) if i["state"] != "resolved"], timeout_s=40,
                           what="dns_resolver_lies to open")
        assert issue["subject"] == bed.second, "the honest resolver is not accused"
        assert LIAR in issue["summary"] and "no valid certificate" in issue["summary"], issue["summary"]
        assert "Hostname mismatch" in issue["summary"] and HONEST in issue["summary"]
        started = time.monotonic()
        bed.start_resolver(4, {CDN: [HONEST]})  # the repair
        wait_for(lambda: [i for i in lies(daemon) if i["issue_id"] == issue["issue_id"]
                          and i["state"] == "resolved"], timeout_s=40, what="dns_resolver_lies to resolve")
        print(f"dns_resolver_lies resolved {time.monotonic() - started:.1f} s after the repair")
        assert [i["subject"] for i in lies(daemon)] == [bed.second]
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)
        bed.start_resolver(4, {CDN: [HONEST]})


def test_a_different_answer_from_the_start_that_holds_the_names_certificate_is_no_issue(bed):
    bed.start_resolver(4, {CDN: [OTHER_EDGE]})
    daemon, root = start_agent(bed)
    try:
        metrics = comparisons(daemon, bed.second, [OTHER_EDGE], DISAGREE_CHECKS + 3)
        assert metrics["certificates"][bed.second]["result"] == "valid", metrics
        assert lies(daemon) == [], "another CDN edge holding the name's certificate is no liar"
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)
        bed.start_resolver(4, {CDN: [HONEST]})
