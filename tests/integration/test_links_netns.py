"""Default routes with no next hop, on a real point-to-point link: a TUN device in its own namespace, as PPPoE
(a peer address) and WireGuard (none) leave a home router. The agent pings the peer without ARP, runs no DHCP
check there, and reports no probe failure; with no peer it probes DNS and the uplink only. Also: a gateway that
has never answered a ping while traffic goes through it is not unreachable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from agent_process import Daemon, wait_for
from netns import PROBING_CONFIG, PremisesNetwork, built, can_build_test_bed, run, running_agent

pytestmark = pytest.mark.skipif(can_build_test_bed() is not None, reason=str(can_build_test_bed()))

LOCAL, PEER = "100.64.9.2", "100.64.9.1"

# The far end of the link, in user space on the TUN device: answers pings to the peer address and DNS queries
# to it (an A record of the peer for any name), as a PPPoE concentrator and its resolver would.
TUN_PEER = r"""
import fcntl, os, socket, struct, sys
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), IFF_TUN | IFF_NO_PI))
peer = socket.inet_aton(sys.argv[2])
def checksum(data):
    data += bytes(len(data) % 2)
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
def ip(src, dst, proto, payload):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0, src, dst)
    return header[:10] + checksum(header).to_bytes(2, "big") + header[12:] + payload
while True:
    packet = os.read(fd, 65535)
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[16:20] != peer:
        continue
    length, proto, src = (packet[0] & 15) * 4, packet[9], packet[12:16]
    body = packet[length:]
    if proto == 1 and body[:1] == b"\x08":
        echo = b"\x00\x00\x00\x00" + body[4:]
        os.write(fd, ip(peer, src, 1, echo[:2] + checksum(echo).to_bytes(2, "big") + echo[4:]))
    elif proto == 17 and len(body) > 20 and body[2:4] == b"\x00\x35":
        query = body[8:]
        end = 12
        while end < len(query) and query[end]:
            end += query[end] + 1
        qtype = query[end + 1:end + 3]
        answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + peer if qtype == b"\x00\x01" else b""
        reply = (query[:2] + b"\x81\x80\x00\x01" + (1 if answer else 0).to_bytes(2, "big") + bytes(4)
                 + query[12:end + 5] + answer)
        os.write(fd, ip(peer, src, 17, body[2:4] + body[0:2] + (8 + len(reply)).to_bytes(2, "big") + bytes(2)
                        + reply))
"""

CONFIG = PROBING_CONFIG.format(device_id="p2p-gw", issues="", isp_ip=PEER, dns_name="probe.test", uplinks="[]",
                               connectivity="dhcp_check_interval_s = 5")


class PointToPoint:
    """A namespace whose only way out is a TUN device, with or without a peer address; the far end answers in user
    space."""

    def __init__(self, with_peer: bool):
        self.ns = f"ea-p2p-{os.getpid()}-{int(with_peer)}"
        self.device = f"p2p{os.getpid() % 100000}"
        self.with_peer = with_peer
        self.peer_process: subprocess.Popen | None = None

    def setup(self) -> None:
        run("ip", "netns", "add", self.ns)
        run("ip", "-n", self.ns, "link", "set", "lo", "up")
        run("ip", "-n", self.ns, "tuntap", "add", "dev", self.device, "mode", "tun")
        address = ["addr", "add", LOCAL, "peer", PEER] if self.with_peer else ["addr", "add", f"{LOCAL}/32"]
        run("ip", "-n", self.ns, *address, "dev", self.device)
        run("ip", "-n", self.ns, "link", "set", self.device, "up")
        run("ip", "-n", self.ns, "route", "add", "default", "dev", self.device)
        # Without a peer address the far end still answers at PEER (the resolver), reached by the default route.
        self.peer_process = subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, "-c", TUN_PEER,
                                              self.device, PEER])

    def teardown(self) -> None:
        if self.peer_process is not None:
            self.peer_process.kill()
            self.peer_process.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


def run_agent(link: PointToPoint, seconds: float) -> tuple[list[dict], list[dict]]:
    """The agent on the link for `seconds`: its latest samples and its issues."""
    root = Path(tempfile.mkdtemp(prefix="ea-p2p-", dir="/tmp"))
    daemon = Daemon(root, config_text=CONFIG, prefix=("ip", "netns", "exec", link.ns))
    daemon.start()
    try:
        daemon.wait_notify("READY=1", timeout_s=15)
        time.sleep(seconds)
        latest, issues = daemon.ask_json("status")["latest"], daemon.ask_json("issues")
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)
    return latest, issues


@pytest.mark.parametrize("with_peer", [True, False], ids=["pppoe-like peer", "wireguard-like no peer"])
def test_a_point_to_point_default_route_is_probed_without_arp_dhcp_or_a_false_failure(with_peer):
    link = PointToPoint(with_peer)
    try:
        link.setup()
        latest, issues = run_agent(link, 8)
    finally:
        link.teardown()
    streams = {(s["stream"], s["subject"]): s["metrics"] for s in latest}
    assert not [s for s in latest if s["stream"] == "connectivity.probe"], json.dumps(latest)[:2000]
    assert not [s for s in latest if s["stream"] == "connectivity.dhcp"]
    assert streams[("connectivity.dns", PEER)]["ok"] is True
    if with_peer:
        gateway = streams[("connectivity.gateway", PEER)]
        assert gateway["received"] > 0 and gateway.get("mac") is None, gateway
    else:
        assert not [s for s in latest if s["stream"] == "connectivity.gateway"]
    assert [(i["type"], i["summary"]) for i in issues] == []


def test_a_gateway_that_never_answers_pings_but_forwards_is_not_unreachable(tmp_path_factory):
    with built(PremisesNetwork(tmp_path_factory.mktemp("netns"), far_end=True)) as bed:
        # Echo requests to the gateway are dropped before the agent starts: it has never heard one answered.
        run("ip", "netns", "exec", bed.isp, "iptables", "-A", "INPUT", "-p", "icmp", "--icmp-type", "echo-request",
            "-j", "DROP")
        config = bed.probing_config("netns-icmp-filtered", uplinks=(bed.far_uplink,))
        with running_agent(bed, config, "ea-icf-") as agent:
            wait_for(lambda: [s for s in agent.ask_json("status")["latest"]
                              if s["stream"] == "connectivity.uplink" and s["metrics"]["ok"]],
                     timeout_s=20, what="a connection beyond the gateway")
            time.sleep(8)
            silent = [s["metrics"] for s in agent.ask_json("status")["latest"]
                      if s["stream"] == "connectivity.gateway"]
            issues = agent.ask_json("issues")
    assert silent and silent[0]["received"] == 0  # the filter held: its pings went unanswered throughout
    assert [(i["type"], i["summary"]) for i in issues] == []
