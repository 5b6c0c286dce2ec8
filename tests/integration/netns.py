"""A real premises network in two namespaces: "cpe" (where the agent runs) and "isp" (gateway, DNS, DHCP).

Names and the subnet are unique per test bed; everything started is stopped by PID, and teardown removes the
namespaces (and so the veth) even when a test fails. Faults follow ../shared/TESTBED.md.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent_process import Daemon

# An agent in the cpe namespace probing the bed every second: [issues] and further [collectors.connectivity]
# lines are the caller's (none: the shipped hysteresis).
PROBING_CONFIG = """
[agent]
device_id = "{device_id}"
state_dir = "{{state}}"
[control]
socket_path = "{{sock}}"
[premises]
mode = "hardware"
[issues]
{issues}
[collectors.system]
enabled = false
[collectors.interfaces]
enabled = false
[collectors.connectivity]
interval_s = 1
resolvers = ["{isp_ip}"]
dns_query = "{dns_name}"
uplink_endpoints = {uplinks}
timeout_s = 0.5
{connectivity}
"""


# Connectivity of an agent with two resolvers of its own to compare on one name, at test pace.
TWO_RESOLVERS = """[collectors.connectivity]
interval_s = 1
timeout_s = 0.5
resolvers = ["{first}", "{second}"]
dns_query = "{name}"
uplink_endpoints = ["{uplink}"]
dhcp_check_interval_s = 0
pmtu_check_interval_s = {pmtu}
dhcp_retry_s = {retry}
dns_consistency_interval_s = {compare}
[detectors.connectivity]
dns_disagree_checks = {disagree}
"""


def two_resolver_config(device_id: str, first: str, second: str, name: str, uplink: str, compare_s: float,
                        disagree: int, pmtu_s: float = 0) -> str:
    """The bed's probing agent (state, control socket, hardware premises, no system collectors) asking `name`
    of two resolvers and comparing them every `compare_s`; path MTU checked every `pmtu_s` (0: never)."""
    preamble = PROBING_CONFIG.split("[collectors.connectivity]")[0].format(device_id=device_id,
                                                                         issues="hold_down_s = 0")
    return preamble + TWO_RESOLVERS.format(first=first, second=second, name=name, uplink=uplink, pmtu=pmtu_s,
                                           retry=pmtu_s or 5, compare=compare_s, disagree=disagree)


def _veth(*ends: tuple[str, str, str]) -> None:
    """A veth pair between two namespaces: each end (namespace, interface, address in a /24) set up."""
    (ns_a, if_a, _), (ns_b, if_b, _) = ends
    run("ip", "link", "add", if_a, "type", "veth", "peer", "name", if_b)
    for ns, iface, address in ends:
        run("ip", "link", "set", iface, "netns", ns)
        run("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", iface)
        run("ip", "-n", ns, "link", "set", iface, "up")


@contextmanager
def running_agent(bed: PremisesNetwork, config_text: str, prefix: str) -> Iterator[Daemon]:
    """The agent started in the cpe namespace, ready; stopped and its directory removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    daemon = Daemon(root, config_text=config_text, prefix=tuple(bed.in_cpe()))
    daemon.start()
    try:
        daemon.wait_notify("READY=1", timeout_s=15)
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def built(bed: PremisesNetwork) -> Iterator[PremisesNetwork]:
    """The test bed set up, and torn down afterwards even when setting it up failed half-way."""
    try:
        bed.setup()
        yield bed
    finally:
        bed.teardown()


def run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def can_build_test_bed() -> str | None:
    """None when this machine can build the test bed, else the reason it cannot."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces (CI runs as root)"
    for tool in ("ip", "dnsmasq", "iptables"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"needs {tool} (scripts/test.sh installs it when run as root)"
    return None


# A DNS server that answers SERVFAIL to every query: the upstream of a resolver that cannot get answers.
SERVFAIL_UPSTREAM = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(4096)
    if len(data) >= 12:
        flags = 0x8000 | (data[2] & 0x01) << 8 | 0x0080 | 2  # QR, RD echoed, RA, rcode SERVFAIL
        s.sendto(data[:2] + flags.to_bytes(2, "big") + data[4:6] + bytes(6) + data[12:], peer)
"""
SERVFAIL_PORT = 5399

# A service beyond the gateway that accepts connections and closes them (an uplink endpoint to probe).
TCP_SERVICE = """
import socket, sys
s = socket.create_server((sys.argv[1], int(sys.argv[2])))
while True:
    s.accept()[0].close()
"""


# A gateway that answers ICMP echo late: the kernel's own replies are off (icmp_echo_ignore_all) and this one
# sends each reply argv[1] ms after the request arrived (there is no netem here: TESTBED.md).
LATE_ECHO = """
import heapq, select, socket, sys, time
delay = float(sys.argv[1]) / 1000
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def checksum(data):
    data += bytes(len(data) % 2)
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
pending = []
while True:
    wait = max(0.0, pending[0][0] - time.monotonic()) if pending else None
    if select.select([s], [], [], wait)[0]:
        data, (source, _) = s.recvfrom(65535)
        icmp = data[(data[0] & 15) * 4:]
        if icmp[:1] == b"\\x08":
            body = b"\\x00\\x00\\x00\\x00" + icmp[4:]
            reply = body[:2] + checksum(body).to_bytes(2, "big") + body[4:]
            heapq.heappush(pending, (time.monotonic() + delay, reply, source))
    while pending and pending[0][0] <= time.monotonic():
        _, reply, target = heapq.heappop(pending)
        s.sendto(reply, (target, 0))
"""

# An upstream resolver for the probe name: A answered with argv[3] after argv[4] seconds (TTL 0: dnsmasq asks
# again every time, as for a name not in its cache); AAAA answered SERVFAIL when argv[5] is "aaaa-servfail", else
# NOERROR without records.
SHAPED_UPSTREAM = """
import heapq, select, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
address, delay, mode = socket.inet_aton(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
pending = []
while True:
    wait = max(0.0, pending[0][0] - time.monotonic()) if pending else None
    if select.select([s], [], [], wait)[0]:
        data, peer = s.recvfrom(4096)
        end = 12
        while end < len(data) and data[end]:
            end += data[end] + 1
        question = data[12:end + 5]
        qtype = int.from_bytes(data[end + 1:end + 3], "big")
        rcode = 2 if qtype == 28 and mode == "aaaa-servfail" else 0
        answers = b"\\xc0\\x0c\\x00\\x01\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x04" + address if qtype == 1 else b""
        flags = 0x8000 | (data[2] & 0x01) << 8 | 0x0080 | rcode
        reply = (data[:2] + flags.to_bytes(2, "big") + b"\\x00\\x01" + (1 if answers else 0).to_bytes(2, "big")
                 + bytes(4) + question + answers)
        heapq.heappush(pending, (time.monotonic() + delay, reply, peer))
    while pending and pending[0][0] <= time.monotonic():
        _, reply, peer = heapq.heappop(pending)
        s.sendto(reply, peer)
"""
SHAPED_PORT = 5398

# A receiver that reads and discards whatever a bulk TCP sender sends it.
TCP_SINK = """
import socket, sys, threading
s = socket.create_server((sys.argv[1], int(sys.argv[2])))
def drain(c):
    while c.recv(65536):
        pass
while True:
    threading.Thread(target=drain, args=(s.accept()[0],), daemon=True).start()
"""
# A bulk TCP sender: as fast as the link takes it, for ever.
TCP_BULK = """
import socket, sys, time
chunk = bytes(65536)
while True:
    try:
        with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as c:
            while True:
                c.sendall(chunk)
    except OSError:
        time.sleep(0.5)
"""
BULK_PORT = 5001


# A service beyond the gateway on IPv4 and IPv6 at once (an uplink endpoint with an A and an AAAA record).
DUAL_STACK_SERVICE = """
import socket, sys
s = socket.create_server(("", int(sys.argv[1])), family=socket.AF_INET6, dualstack_ipv6=True)
while True:
    s.accept()[0].close()
"""
DUAL_STACK_PORT = 8444


class PremisesNetwork:
    def __init__(self, workdir: Path, far_end: bool = False, lease_time: str = "1h"):
        """`far_end`: also a "wan" namespace beyond the gateway (routed through isp) with a TCP service, for
        faults on the path past the first hop (a path MTU black hole). `lease_time`: dnsmasq's lease length."""
        tag = f"{os.getpid() % 10000:04d}{random.randrange(100):02d}"
        self.cpe, self.isp, self.spoof = f"eacpe{tag}", f"eaisp{tag}", f"easpf{tag}"
        self.wan, self.isp_wan_if, self.wan_if = f"eawan{tag}", f"vw{tag}", f"vx{tag}"
        self.cpe_if, self.isp_if = f"vc{tag}", f"vi{tag}"
        subnet = (random.randrange(232, 240), random.randrange(0, 256))
        self.isp_ip = f"10.{subnet[0]}.{subnet[1]}.1"
        self.cpe_ip = f"10.{subnet[0]}.{subnet[1]}.2"
        self.prefix = f"10.{subnet[0]}.{subnet[1]}"
        self.workdir = workdir
        self.dnsmasq: subprocess.Popen | None = None
        self.blaster: subprocess.Popen | None = None
        self.dns_name = "probe.test"
        self.uplink = f"{self.isp_ip}:53"  # dnsmasq's TCP port stands in for an uplink service
        self.far_end, self.lease_time = far_end, lease_time
        wan_net = f"10.{subnet[0]}.{(subnet[1] + 1) % 256}"
        self.wan_gateway_ip, self.far_ip = f"{wan_net}.1", f"{wan_net}.2"
        self.far_uplink = f"{self.far_ip}:8443"
        # How dnsmasq answers the probe name: None is the truth (the isp address); else "servfail", "nxdomain"
        # or a lie (an address). And whether it serves DHCP.
        self.dns_answer: str | None = None
        self.dhcp_enabled = True
        self.helpers: list[subprocess.Popen] = []  # the SERVFAIL upstream, the far TCP service
        # What the fault variants started (their repairs stop them), and whether the DHCP pool is used up.
        self.late_echoer = self.path_blaster = self.shaped_upstream = None
        self.bulk: list[subprocess.Popen] = []
        self.dhcp_pool_full = False

    def setup(self) -> None:
        run("ip", "netns", "add", self.cpe)
        run("ip", "netns", "add", self.isp)
        _veth((self.cpe, self.cpe_if, self.cpe_ip), (self.isp, self.isp_if, self.isp_ip))
        for ns in (self.cpe, self.isp):
            run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", self.cpe, "route", "add", "default", "via", self.isp_ip)
        # Inside a namespace getaddrinfo reads /etc/netns/<ns>/resolv.conf; without it lookups hang 10 s.
        resolv = Path("/etc/netns") / self.cpe
        resolv.mkdir(parents=True, exist_ok=True)
        (resolv / "resolv.conf").write_text(f"nameserver {self.isp_ip}\n")
        self._start_helper(self.isp, SERVFAIL_UPSTREAM, "127.0.0.1", str(SERVFAIL_PORT))
        if self.far_end:
            self._setup_far_end()
        self.start_dns()

    def _start_helper(self, ns: str, program: str, *args: str) -> subprocess.Popen:
        process = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", program, *args],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.helpers.append(process)
        return process

    def _setup_far_end(self) -> None:
        """wan: a host two hops away, reached through the isp namespace as a router."""
        run("ip", "netns", "add", self.wan)
        _veth((self.isp, self.isp_wan_if, self.wan_gateway_ip), (self.wan, self.wan_if, self.far_ip))
        run("ip", "-n", self.wan, "link", "set", "lo", "up")
        run("ip", "-n", self.wan, "route", "add", "default", "via", self.wan_gateway_ip)
        run("ip", "netns", "exec", self.isp, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        host, _, port = self.far_uplink.rpartition(":")
        self._start_helper(self.wan, TCP_SERVICE, host, port)
    def dnsmasq_argv(self) -> list[str]:
        """dnsmasq in the foreground in the isp namespace: DNS for the probe name, and DHCP.

        --keep-in-foreground, not --no-daemon: in debug mode dnsmasq serves TCP in its only process, so one
        connection whose FIN never arrives (its peer's frames went to another MAC during an ARP conflict)
        blocks DNS for good."""
        return ["ip", "netns", "exec", self.isp, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                f"--interface={self.isp_if}", "--bind-interfaces", f"--listen-address={self.isp_ip}",
                "--no-resolv", "--no-hosts", *self._probe_name_answer(), "--local=/test/",
                *([f"--dhcp-range={self.prefix}.100,{self.prefix}.150,{self.lease_time}"] if self.dhcp_enabled
                  and not self.dhcp_pool_full else []),
                *([f"--dhcp-range={self.prefix}.100,{self.prefix}.100,{self.lease_time}",
                   f"--dhcp-host=02:00:00:00:00:01,{self.prefix}.100"] if self.dhcp_pool_full
                  else []),
                "--no-ping", f"--dhcp-leasefile={self.workdir / 'leases'}",
                f"--log-facility={self.workdir / 'dnsmasq.log'}", "--log-dhcp", "--pid-file="]

    def _probe_name_answer(self) -> list[str]:
        if self.dns_answer is None:
            return [f"--address=/{self.dns_name}/{self.isp_ip}"]
        if self.dns_answer == "servfail":
            return [f"--server=/{self.dns_name}/127.0.0.1#{SERVFAIL_PORT}"]
        if self.dns_answer == "shaped":
            return [f"--server=/{self.dns_name}/127.0.0.1#{SHAPED_PORT}"]
        if self.dns_answer == "nxdomain":
            return [f"--address=/{self.dns_name}/"]  # no address: NXDOMAIN
        return [f"--address=/{self.dns_name}/{self.dns_answer}"]

    def dns_ready_probe(self) -> list[str]:
        """A command whose output names the isp address once dnsmasq listens."""
        return ["ip", "netns", "exec", self.isp, "ss", "-lnu", "sport = :53"]

    def start_dns(self) -> None:
        self.dnsmasq = subprocess.Popen(self.dnsmasq_argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            probe = subprocess.run(self.dns_ready_probe(), capture_output=True, text=True)
            if self.isp_ip in probe.stdout:
                return
            time.sleep(0.05)
        raise RuntimeError("dnsmasq did not start listening")

    def stop_dns(self) -> None:
        if self.dnsmasq is not None and self.dnsmasq.poll() is None:
            self.dnsmasq.send_signal(signal.SIGCONT)  # a frozen dnsmasq cannot act on SIGTERM
            self.dnsmasq.terminate()
            try:
                self.dnsmasq.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.dnsmasq.kill()  # stuck: teardown must still remove the namespaces
                self.dnsmasq.wait(timeout=5)
        self.dnsmasq = None

    # Faults, each with its repair.
    def _restart_dns(self) -> None:
        self.stop_dns()
        self.start_dns()

    def dns_lies(self, address: str = "0.0.0.0") -> None:
        """The resolver answers the probe name with `address` (a sinkhole, or any wrong address)."""
        self.dns_answer = address
        self._restart_dns()

    def dns_servfail(self) -> None:
        """The resolver forwards the probe name to an upstream that answers SERVFAIL."""
        self.dns_answer = "servfail"
        self._restart_dns()

    def dns_nxdomain(self) -> None:
        """The resolver says the probe name does not exist."""
        self.dns_answer = "nxdomain"
        self._restart_dns()

    def dns_truthful(self) -> None:
        self.dns_answer = None
        self._restart_dns()

    def dhcp_stop(self) -> None:
        """dnsmasq keeps serving DNS but no longer DHCP."""
        self.dhcp_enabled = False
        self._restart_dns()

    def dhcp_start(self) -> None:
        self.dhcp_enabled = True
        self._restart_dns()

    def pmtu_blackhole(self, mtu: int = 1280, far_host_mtu: int | None = None) -> None:
        """The hop from the gateway towards the far end carries only `mtu` bytes, and the gateway's ICMP
        "fragmentation needed" never leaves it: full-size packets to the far end vanish without a word.

        `far_host_mtu`: the far host's own MTU, `mtu` unless given. With the small one the far host offers a small
        MSS, so TCP connections opened during the fault get through; with 1500 it offers a full one, as a host
        beyond a narrow hop in the middle of a real path does, and every TCP connection's full segments vanish."""
        for ns, iface, size in ((self.isp, self.isp_wan_if, mtu), (self.wan, self.wan_if, far_host_mtu or mtu)):
            run("ip", "-n", ns, "link", "set", iface, "mtu", str(size))
        run("ip", "netns", "exec", self.isp, "iptables", "-A", "OUTPUT", "-p", "icmp", "--icmp-type",
            "fragmentation-needed", "-j", "DROP")

    def pmtu_repaired(self) -> None:
        for ns, iface in ((self.isp, self.isp_wan_if), (self.wan, self.wan_if)):
            run("ip", "-n", ns, "link", "set", iface, "mtu", "1500")
        run("ip", "netns", "exec", self.isp, "iptables", "-D", "OUTPUT", "-p", "icmp", "--icmp-type",
            "fragmentation-needed", "-j", "DROP")

    def link_down(self) -> None:
        run("ip", "-n", self.cpe, "link", "set", self.cpe_if, "down")

    def link_up(self) -> None:
        run("ip", "-n", self.cpe, "link", "set", self.cpe_if, "up")
        # link down deleted the default route
        subprocess.run(["ip", "-n", self.cpe, "route", "replace", "default", "via", self.isp_ip], check=True)

    def gateway_silent(self) -> None:
        run("ip", "-n", self.isp, "route", "add", "blackhole", f"{self.cpe_ip}/32")

    def gateway_answers(self) -> None:
        run("ip", "-n", self.isp, "route", "del", "blackhole", f"{self.cpe_ip}/32")

    def dns_freeze(self) -> None:
        assert self.dnsmasq is not None
        self.dnsmasq.send_signal(signal.SIGSTOP)  # ip netns exec has exec'd into dnsmasq: same PID

    def dns_thaw(self) -> None:
        assert self.dnsmasq is not None
        self.dnsmasq.send_signal(signal.SIGCONT)

    def icmp_loss(self, probability: float) -> None:
        run("ip", "netns", "exec", self.isp, "iptables", "-A", "INPUT", "-p", "icmp", "-m", "statistic",
            "--mode", "random", "--probability", str(probability), "-j", "DROP")

    def tcp_blocked(self, port: int) -> None:
        run("ip", "netns", "exec", self.isp, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", str(port),
            "-j", "DROP")

    def clear_firewall(self) -> None:
        run("ip", "netns", "exec", self.isp, "iptables", "-F", "INPUT")

    def far_port_blocked(self, port: int) -> None:
        """The gateway's firewall drops every packet towards TCP `port` of the far end: an open connection's
        segments and every new SYN vanish without a word."""
        run("ip", "netns", "exec", self.isp, "iptables", "-A", "FORWARD", "-p", "tcp", "-d", self.far_ip,
            "--dport", str(port), "-j", "DROP")

    def far_port_open(self, port: int) -> None:
        run("ip", "netns", "exec", self.isp, "iptables", "-D", "FORWARD", "-p", "tcp", "-d", self.far_ip,
            "--dport", str(port), "-j", "DROP")

    def congested_uplink(self) -> None:
        """Bufferbloat: a slow link (tbf) towards the cpe, kept full by a bulk UDP flow from the isp side, so
        every packet to the cpe (the gateway's echo replies too) waits in a deep queue. The flow (~300 kbit/s)
        only just exceeds the link, so the queue stays full while few packets are dropped. The queue (latency
        250 ms plus the 4 kB burst at 256 kbit/s) holds replies ~380 ms: far above the 100 ms latency limit, yet
        clearly inside the tests' 0.5 s probe timeout (with 400 ms the replies took 490-510 ms and counted as lost
        once the prober timed its wait exactly)."""
        run("tc", "-n", self.isp, "qdisc", "add", "dev", self.isp_if, "root", "tbf", "rate", "256kbit",
            "burst", "4kb", "latency", "250ms")
        blast = (f"import socket, time\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                 f"while True:\n    s.sendto(b'x' * 1000, ('{self.cpe_ip}', 9))\n    time.sleep(0.027)\n")
        self.blaster = subprocess.Popen(["ip", "netns", "exec", self.isp, sys.executable, "-c", blast],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def uncongested_uplink(self) -> None:
        if self.blaster is not None:
            self.blaster.kill()
            self.blaster.wait(timeout=5)
            self.blaster = None
        run("tc", "-n", self.isp, "qdisc", "del", "dev", self.isp_if, "root")

    def spoof_gateway(self) -> str:
        """A second host on the gateway's segment claiming the gateway's address: it answers ARP for the gateway
        with its own MAC. Returns that MAC."""
        return self.claim_address(self.isp_ip)

    def claim_address(self, address: str) -> str:
        """A second host on the segment holding `address` (a macvlan on the isp side of the link, in a namespace
        of its own): it answers ARP for it with its own MAC. Returns that MAC. stop_spoofing() removes it."""
        spoof_if = f"vs{self.cpe[5:]}"
        run("ip", "netns", "add", self.spoof)
        run("ip", "-n", self.isp, "link", "add", spoof_if, "link", self.isp_if, "type", "macvlan", "mode", "bridge")
        run("ip", "-n", self.isp, "link", "set", spoof_if, "netns", self.spoof)
        run("ip", "-n", self.spoof, "addr", "add", f"{address}/24", "dev", spoof_if)
        run("ip", "-n", self.spoof, "link", "set", spoof_if, "up")
        return json.loads(subprocess.run(["ip", "-n", self.spoof, "-j", "link", "show", spoof_if],
                                         capture_output=True, text=True, check=True).stdout)[0]["address"]

    def poison_neighbour(self, mac: str) -> None:
        """The cpe's neighbour entry for the gateway points at `mac`, as a spoofer's gratuitous ARP makes it (the
        entry ages and is probed as usual, so the real gateway wins it back once the spoofer is gone)."""
        run("ip", "-n", self.cpe, "neigh", "replace", self.isp_ip, "lladdr", mac, "dev", self.cpe_if, "nud",
            "reachable")

    def stop_spoofing(self) -> None:
        subprocess.run(["ip", "netns", "del", self.spoof], capture_output=True)

    def gateway_mac(self, mac: str) -> None:
        run("ip", "-n", self.isp, "link", "set", "dev", self.isp_if, "address", mac)
        # A real router that changes its MAC announces it (gratuitous ARP); without that the cpe kernel keeps the
        # old entry for a while, and the next test's DNS and TCP probes would go to a MAC nobody has.
        run("ip", "-n", self.cpe, "neigh", "flush", "dev", self.cpe_if)

    # Fault variants (scripts/bench_fault_variants.py, test_fault_variants_netns.py): each with its repair.
    def late_echo(self, delay_ms: float) -> None:
        """The gateway answers pings `delay_ms` late (its DNS and TCP answers stay prompt)."""
        self.late_echoer = self._start_helper(self.isp, LATE_ECHO, str(delay_ms))
        time.sleep(1.0)  # the late replier listens before the kernel stops answering: no echo goes unanswered
        run("ip", "netns", "exec", self.isp, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1")

    def prompt_echo(self) -> None:
        self._stop(self.late_echoer)
        run("ip", "netns", "exec", self.isp, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=0")

    def path_loss(self, probability: float) -> None:
        """Random loss beyond the gateway: this share of everything towards the far end is dropped."""
        run("ip", "netns", "exec", self.isp, "iptables", "-A", "FORWARD", "-d", self.far_ip, "-m", "statistic",
            "--mode", "random", "--probability", str(probability), "-j", "DROP")

    def host_loss(self, probability: float) -> None:
        """Random loss of everything the cpe sends the gateway (pings, DNS, TCP)."""
        run("ip", "netns", "exec", self.isp, "iptables", "-A", "INPUT", "-s", self.cpe_ip, "-m", "statistic",
            "--mode", "random", "--probability", str(probability), "-j", "DROP")

    def clear_path_loss(self) -> None:
        run("ip", "netns", "exec", self.isp, "iptables", "-F", "FORWARD")

    def queued_path(self, latency_ms: int, rate_kbit: int = 1000) -> None:
        """A full queue on the hop to the far end: a tbf of `latency_ms` kept full by a flow ~5 % above its rate,
        so packets to the far end wait ~latency_ms (and a few are dropped, as in any full queue). The flow sends
        full-size packets, as bulk transfers do (small ones would leave a byte-limited queue room for small packets
        only), paced by the clock rather than by sleeps, which a busy machine stretches."""
        run("tc", "-n", self.isp, "qdisc", "add", "dev", self.isp_wan_if, "root", "tbf", "rate",
            f"{rate_kbit}kbit", "burst", "10kb", "latency", f"{latency_ms}ms")
        per_s = rate_kbit * 1000 * 1.05 / (8 * 1500)
        fill = int(rate_kbit * 1000 / 8 * latency_ms / 1000 / 1500)  # the queue's worth first: full at once
        blast = (f"import socket, time\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nstart, sent = "
                 f"time.monotonic(), -{fill}\nwhile True:\n    while sent < (time.monotonic() - start) * {per_s:.3f}:\n"
                 f"        s.sendto(b'x' * 1472, ('{self.far_ip}', 9))\n        sent += 1\n    time.sleep(0.005)\n")
        self.path_blaster = self._start_helper(self.isp, blast)

    def unqueued_path(self) -> None:
        self._stop(self.path_blaster)
        run("tc", "-n", self.isp, "qdisc", "del", "dev", self.isp_wan_if, "root")

    def bulk_download(self, rate_kbit: int = 4000, queue_ms: int = 200) -> None:
        """Heavy legitimate traffic: a bulk TCP transfer from the gateway side to the cpe fills a shaped link
        (tbf of `rate_kbit`, a queue of up to `queue_ms`), as a big download does (bufferbloat)."""
        run("tc", "-n", self.isp, "qdisc", "add", "dev", self.isp_if, "root", "tbf", "rate", f"{rate_kbit}kbit",
            "burst", "16kb", "latency", f"{queue_ms}ms")
        self.bulk = [self._start_helper(self.cpe, TCP_SINK, self.cpe_ip, str(BULK_PORT))]
        time.sleep(0.3)
        self.bulk.append(self._start_helper(self.isp, TCP_BULK, self.cpe_ip, str(BULK_PORT)))

    def bulk_done(self) -> None:
        for process in self.bulk:
            self._stop(process)
        self.bulk = []
        run("tc", "-n", self.isp, "qdisc", "del", "dev", self.isp_if, "root")

    def dns_shaped(self, delay_s: float = 0.0, aaaa_servfail: bool = False) -> None:
        """The resolver forwards the probe name to an upstream that answers the truth after `delay_s`, and
        SERVFAIL to AAAA queries when `aaaa_servfail`."""
        self.shaped_upstream = self._start_helper(self.isp, SHAPED_UPSTREAM, "127.0.0.1", str(SHAPED_PORT),
                                                  self.isp_ip, str(delay_s),
                                                  "aaaa-servfail" if aaaa_servfail else "plain")
        self.dns_answer = "shaped"
        self._restart_dns()

    def dns_unshaped(self) -> None:
        self._stop(self.shaped_upstream)
        self.dns_truthful()

    def dhcp_exhausted(self, exhausted: bool = True) -> None:
        """The DHCP server runs but has no address to give: its one-address pool is reserved for another host
        (False: its pool back)."""
        self.dhcp_pool_full = exhausted
        self._restart_dns()

    def _stop(self, process: subprocess.Popen | None) -> None:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=5)

    # IPv6 and more resolvers, for the tests that need them (none of the above uses them).
    def add_ipv6(self) -> None:
        """ULA addresses on both links of a far-end bed (without duplicate address detection: usable at once),
        IPv6 default routes through the isp namespace, and the name far6.test in the cpe's hosts file for the far
        host's IPv4 and IPv6 addresses, with a service on both at DUAL_STACK_PORT (an uplink with an AAAA)."""
        assert self.far_end, "IPv6 is added to a bed with a far end"
        a, b = (int(part) for part in self.prefix.split(".")[1:])
        self.isp_ip6, self.cpe_ip6 = f"fdea:{a:x}:{b:x}::1", f"fdea:{a:x}:{b:x}::2"
        self.wan_gateway_ip6, self.far_ip6 = f"fdea:{a:x}:{b:x}:1::1", f"fdea:{a:x}:{b:x}:1::2"
        for ns, iface, address in ((self.cpe, self.cpe_if, self.cpe_ip6), (self.isp, self.isp_if, self.isp_ip6),
                                   (self.isp, self.isp_wan_if, self.wan_gateway_ip6),
                                   (self.wan, self.wan_if, self.far_ip6)):
            run("ip", "-n", ns, "-6", "addr", "add", f"{address}/64", "dev", iface, "nodad")
        run("ip", "netns", "exec", self.isp, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        run("ip", "-n", self.cpe, "-6", "route", "add", "default", "via", self.isp_ip6)
        run("ip", "-n", self.wan, "-6", "route", "add", "default", "via", self.wan_gateway_ip6)
        hosts = Path("/etc/netns") / self.cpe / "hosts"
        hosts.write_text(f"127.0.0.1 localhost\n{self.far_ip} far6.test\n{self.far_ip6} far6.test\n")
        self.far6_uplink = f"far6.test:{DUAL_STACK_PORT}"
        self._start_helper(self.wan, DUAL_STACK_SERVICE, str(DUAL_STACK_PORT))

    def pmtu6_blackhole(self, mtu: int = 1280, too_big_dropped: bool = True) -> None:
        """The hop from the gateway towards the far end carries only `mtu` bytes; with `too_big_dropped` the
        gateway's ICMPv6 Packet Too Big never leaves it (an IPv6 black hole), else it does (a lower path MTU that
        path MTU discovery copes with). IPv4 on that hop keeps its "fragmentation needed"."""
        for ns, iface in ((self.isp, self.isp_wan_if), (self.wan, self.wan_if)):
            run("ip", "-n", ns, "link", "set", iface, "mtu", str(mtu))
        self._too_big_dropped = too_big_dropped
        if too_big_dropped:
            run("ip", "netns", "exec", self.isp, "ip6tables", "-A", "OUTPUT", "-p", "icmpv6", "--icmpv6-type",
                "packet-too-big", "-j", "DROP")

    def pmtu6_repaired(self) -> None:
        for ns, iface in ((self.isp, self.isp_wan_if), (self.wan, self.wan_if)):
            run("ip", "-n", ns, "link", "set", iface, "mtu", "1500")
        if getattr(self, "_too_big_dropped", False):
            run("ip", "netns", "exec", self.isp, "ip6tables", "-D", "OUTPUT", "-p", "icmpv6", "--icmpv6-type",
                "packet-too-big", "-j", "DROP")
            self._too_big_dropped = False

    def start_resolver(self, host: int, answers: dict[str, list[str]]) -> str:
        """A resolver of its own beyond the gateway (in the far end's subnet, as a provider's resolver is; not in
        isp, where the bed's dnsmasq binds every new address): a dnsmasq answering each name with its addresses
        (REFUSED for any other name). Started again for the same host, it answers the new addresses. Returns its
        address."""
        assert self.far_end, "the resolvers live in the far end"
        address = f"{self.far_ip.rsplit('.', 1)[0]}.{host}"
        previous = getattr(self, "resolvers", {}).get(address)
        if previous is None:
            run("ip", "-n", self.wan, "addr", "add", f"{address}/24", "dev", self.wan_if)
        else:
            previous.terminate()
            previous.wait(timeout=5)
            self.helpers.remove(previous)
        records = [f"--address=/{name}/{a}" for name, addresses in answers.items() for a in addresses]
        resolver = subprocess.Popen(
            ["ip", "netns", "exec", self.wan, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
             f"--listen-address={address}", "--bind-interfaces", "--no-resolv", "--no-hosts", *records,
             "--pid-file=", f"--log-facility={self.workdir / f'dnsmasq-{host}.log'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.helpers.append(resolver)
        self.resolvers = {**getattr(self, "resolvers", {}), address: resolver}
        deadline = time.monotonic() + 5
        listening = ["ip", "netns", "exec", self.wan, "ss", "-lnu", "sport = :53"]
        while f"{address}:53" not in subprocess.run(listening, capture_output=True, text=True).stdout:
            if resolver.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the resolver at {address} did not start listening")
            time.sleep(0.05)
        return address

    def agent_config(self, device_id: str, open_after: int) -> str:
        """An agent in the cpe namespace probing this bed every second; {state} and {sock} are left to fill."""
        return self.probing_config(device_id, issues=f"open_after = {open_after}\nresolve_after = 2")

    def probing_config(self, device_id: str, issues: str = "", connectivity: str = "",
                       uplinks: tuple[str, ...] | None = None) -> str:
        """An agent probing this bed every second with the shipped hysteresis; `issues` and `connectivity` are
        extra lines for those sections; {state} and {sock} are left to fill."""
        return PROBING_CONFIG.format(device_id=device_id, issues=issues, connectivity=connectivity,
                                     isp_ip=self.isp_ip, dns_name=self.dns_name,
                                     uplinks=json.dumps(list(uplinks or (self.uplink,))))

    def in_cpe(self, *command: str) -> list[str]:
        return ["ip", "netns", "exec", self.cpe, *command]

    def teardown(self) -> None:
        if self.blaster is not None:
            self.blaster.kill()
            self.blaster.wait(timeout=5)
        self.stop_dns()
        for helper in self.helpers:
            helper.kill()
            helper.wait(timeout=5)
        for ns in (self.cpe, self.isp, self.spoof, self.wan):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(Path("/etc/netns") / self.cpe, ignore_errors=True)
