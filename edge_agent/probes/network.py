"""The real ConnectivityBackend: one probe round against the gateway, the resolvers and the uplink endpoints."""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from edge_agent.collectors.connectivity import (
    ConnectivityStatus,
    DhcpProbe,
    DnsProbe,
    GatewayProbe,
    PmtuProbe,
    UplinkProbe,
)
from edge_agent.config import ConnectivityCollectorConfig
from edge_agent.probes import ProbePermissionError
from edge_agent.probes.arp import ArpResolver
from edge_agent.probes.checks import BackgroundChecks
from edge_agent.probes.dns import dns_probe
from edge_agent.probes.icmp import IcmpProber
from edge_agent.probes.icmp6 import ping6
from edge_agent.probes.links import has_neighbours, point_to_point_peer
from edge_agent.probes.own_address import OwnAddressCheck
from edge_agent.probes.routes import DefaultRoute, is_on_link, parse_default_route, parse_nameservers
from edge_agent.probes.routes6 import Route6, default_route6, parse_ipv6_routes
from edge_agent.probes.tcp import LATE_CONNECT_S, UplinkAttempts
from edge_agent.untrusted_files import read_bounded

log = logging.getLogger(__name__)


def read_text(path: str) -> str:
    """A file the probes read each round (/etc/resolv.conf, /proc/net/...): a regular file of at most 1 MiB, so a
    FIFO or a vast file in place of resolv.conf is an OSError for the caller, never a hang or a bloat."""
    return read_bounded(Path(path), 1 << 20).decode(errors="replace")


def parse_neighbour(proc_net_arp: str, address: str, interface: str) -> str | None:
    """The complete entry for `address` on `interface` in /proc/net/arp (IP, HW type, flags, MAC, mask, device)."""
    for line in proc_net_arp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 6 or fields[0] != address or fields[5] != interface:
            continue
        try:
            complete = int(fields[2], 16) & 0x2
        except ValueError:
            continue
        if complete and fields[3] != "00:00:00:00:00:00":
            return fields[3].lower()
    return None


class NetworkProbes:
    def __init__(
        self,
        config: ConnectivityCollectorConfig,
        extra_uplinks: list[str] | None = None,
        read: Callable[[str], str] = read_text,
    ):
        self.config = config
        self.uplinks = list(dict.fromkeys([*config.uplink_endpoints, *(extra_uplinks or [])]))
        self._read = read
        self._icmp = IcmpProber()
        self._arp = ArpResolver()
        self._last_route: DefaultRoute | None = None
        self._logged_no_gateway: str | None = None
        self._routes_text = ""  # /proc/net/route as this round's _route() read it
        self._last_mac: str | None = None
        # The gateway, the resolvers and the endpoints wait for their answers side by side.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="probe")
        self._checks = BackgroundChecks(config, self.uplinks)
        self._uplink_attempts = UplinkAttempts(self.uplinks)
        self._own_address = OwnAddressCheck(config.address_check_interval_s, self._pool)

    def _route(self) -> DefaultRoute | None:
        """The configured gateway and interface, completed from the routing table where set to auto.

        A link going down deletes the default route: keep probing the last known gateway, so the outage
        shows as an unreachable gateway rather than as a configuration problem. A default route with no next
        hop (PPPoE, WireGuard, a tunnel) has the link's peer as its gateway, or none at all.
        """
        try:
            self._routes_text = self._read("/proc/net/route")
            route = parse_default_route(self._routes_text) or self._last_route
        except OSError:
            self._routes_text = ""
            route = self._last_route
        gateway = self.config.gateway if self.config.gateway != "auto" else (route.gateway if route else None)
        interface = self.config.interface if self.config.interface != "auto" else (route.interface if route else None)
        if interface is None or (gateway is None and route is None):
            return None
        if gateway is None:
            gateway = point_to_point_peer(interface)
            if gateway is None and self._logged_no_gateway != interface:
                log.info("the default route leaves by %s, a link with no gateway address: the gateway is not "
                         "probed; DNS and the uplink are", interface)
                self._logged_no_gateway = interface
        self._last_route = DefaultRoute(interface, gateway)
        return self._last_route

    def _resolvers(self) -> list[str]:
        if self.config.resolvers:
            return list(self.config.resolvers)
        try:
            return parse_nameservers(self._read("/etc/resolv.conf"))
        except OSError:
            return []

    def probe_settled(self) -> ConnectivityStatus:
        """One round whose uplink attempts are waited for to the end (a diagnosis: there is no next round to
        report a late connection)."""
        return self.probe(settle=True)

    def probe(self, settle: bool = False) -> ConnectivityStatus:
        """One round. The gateway, each resolver and each endpoint are probed at the same time: in an outage
        every probe waits for its timeout, and in sequence those waits would add up to a late detection."""
        errors: dict[str, str] = {}
        route = self._route()
        router6 = self._router6() if route is None else None  # an IPv6-only host: its IPv6 gateway
        if route is None and router6 is None:
            errors["gateway"] = "no default route and no gateway configured"
        resolvers = self._resolvers()
        if not resolvers:
            errors["dns"] = "no resolver configured and none in /etc/resolv.conf"
        timeout = self.config.timeout_s
        ethernet = route is not None and has_neighbours(route.interface)  # ARP, DHCP and a MAC to watch
        neighbours_before = self._neighbour_mac(route)
        started = time.monotonic()
        if route is not None and route.gateway is not None:
            gateway_job = self._pool.submit(self._probe_gateway, route, ethernet, errors)
        else:
            gateway_job = self._pool.submit(self._probe_gateway6, router6, errors) if router6 else None
        dns_jobs = [self._pool.submit(dns_probe, r, self.config.dns_query, timeout) for r in resolvers]
        uplink_jobs = self._uplink_attempts.start(timeout)
        gateway, macs = gateway_job.result() if gateway_job else (None, ())
        dns: list[DnsProbe] = [job.result() for job in dns_jobs]
        allowance = timeout + (LATE_CONNECT_S if settle else 0.0)
        uplinks: list[UplinkProbe] = self._uplink_attempts.collect(uplink_jobs, started + allowance + 0.05)
        mac = self._last_mac if self._last_mac in macs else (macs[0] if macs else None)
        neighbours = tuple(dict.fromkeys(m for m in (neighbours_before, self._neighbour_mac(route)) if m))
        dhcp, pmtu = self._checks.collect(route.gateway if route else None, route.interface if route else None,
                                          errors, dhcp=ethernet)
        return ConnectivityStatus(gateway, tuple(dns), mac, tuple(uplinks), errors, gateway_macs=macs,
                                  neighbour_macs=neighbours, dhcp=dhcp.probe if dhcp else None,
                                  leases=dhcp.leases if dhcp else (), pmtu=pmtu,
                                  dns_comparisons=self._checks.collect_comparisons(resolvers),
                                  forwarded=self._forwarded(route, uplinks),
                                  own_address=self._own_address.collect(route.interface if ethernet else None))

    def _forwarded(self, route: DefaultRoute | None, uplinks: list[UplinkProbe]) -> int:
        """How many endpoints this round connected to through the gateway (beyond it, or on it): proof that it
        is up and forwarding, whatever its answer to pings."""
        if route is None or route.gateway is None:
            return 0
        return sum(1 for u in uplinks if u.ok and u.address is not None and ":" not in u.address
                   and (u.address == route.gateway or not is_on_link(self._routes_text, u.address)))

    def _neighbour_mac(self, route: DefaultRoute | None) -> str | None:
        """The MAC the host's own neighbour table holds for the gateway: where its DNS and TCP traffic goes."""
        if route is None or route.gateway is None:
            return None
        try:
            return parse_neighbour(self._read("/proc/net/arp"), route.gateway, route.interface)
        except OSError:
            return None

    def _probe_gateway(
        self, route: DefaultRoute, ethernet: bool, errors: dict[str, str]
    ) -> tuple[GatewayProbe | None, tuple[str, ...]]:
        timeout = self.config.timeout_s
        assert route.gateway is not None
        macs: tuple[str, ...] = ()
        try:
            if ethernet:
                # ARP first and every round: who owns the gateway's address matters even when ICMP is filtered.
                answer = self._arp.ask(route.gateway, route.interface, timeout / 2)
                # ICMP goes to a MAC this round's ARP just confirmed, never to a cached one (a spoofer that left,
                # a replaced router): the one known from earlier rounds while it still answers, else the first.
                mac = self._last_mac if self._last_mac in answer.macs else answer.mac
                self._icmp.use_neighbour(route.gateway, mac)
                self._last_mac = mac or self._last_mac
                macs = answer.macs
            else:  # a point-to-point link (PPPoE) has no MACs: the kernel sends to its peer
                self._icmp.use_neighbour(route.gateway, None)
            gateway = self._icmp.ping(route.gateway, self.config.pings_per_round, timeout)
            if gateway.received == 0:
                gateway = self._confirm_unreachable(route.gateway, gateway)
        except ProbePermissionError as exc:
            errors["gateway"] = str(exc)
            return None, ()
        except OSError as exc:
            errors["gateway"] = f"cannot send on {route.interface}: {exc.strerror or exc}"
            return None, ()
        return gateway, macs

    def _router6(self) -> Route6 | None:
        if self.config.gateway != "auto":
            return None
        try:
            return default_route6(parse_ipv6_routes(self._read("/proc/net/ipv6_route")))
        except OSError:
            return None  # a kernel without IPv6

    def _probe_gateway6(self, route: Route6, errors: dict[str, str]) -> tuple[GatewayProbe | None, tuple[str, ...]]:
        assert route.next_hop is not None
        try:
            return ping6(route.next_hop, route.interface, self.config.pings_per_round, self.config.timeout_s), ()
        except ProbePermissionError as exc:
            errors["gateway"] = str(exc)
        except OSError as exc:
            errors["gateway"] = f"cannot send on {route.interface}: {exc.strerror or exc}"
        return None, ()

    def _confirm_unreachable(self, address: str, first: GatewayProbe) -> GatewayProbe:
        """A second burst, half a timeout long, before calling the gateway unreachable: one lost burst may be a
        blip, two in a row are an outage. This is what lets the issue open after a single round. Replies to
        the first burst that come in meanwhile say the gateway is there and slow: the round is theirs."""
        second = self._icmp.ping(address, self.config.pings_per_round, self.config.timeout_s / 2)
        late = second.late_rtts_ms
        if late:
            return GatewayProbe(address, first.sent, len(late), round(statistics.median(late), 3),
                                round(statistics.pstdev(late), 3) if len(late) > 1 else None)
        if second.received:
            return second
        return GatewayProbe(address, first.sent + second.sent, 0, None, None)

    def dhcp(self) -> DhcpProbe | None:
        from edge_agent.probes.dhcp import dhcp_probe

        route = self._route()
        if route is None or not has_neighbours(route.interface):
            return None  # PPPoE, WireGuard and tunnels get their addresses without DHCP
        try:
            probe = dhcp_probe(route.interface, timeout_s=max(2.0, self.config.timeout_s))
            return self._checks.dhcp_context(probe, route.interface, route.gateway)
        except ProbePermissionError:
            raise
        except OSError as exc:
            return DhcpProbe(route.interface, ok=False, offer_ms=None, server=None, offered_address=None,
                             error=str(exc))

    def pmtu(self) -> tuple[PmtuProbe, ...]:
        """A path-MTU check now, for diagnose: the running agent's own ones are in the background."""
        route = self._route()
        if route is None:
            return ()
        return self._checks.pmtu_now(route.gateway, route.interface)

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self._uplink_attempts.close()
        self._own_address.close()
        self._checks.close()
        self._icmp.close()
        self._arp.close()
