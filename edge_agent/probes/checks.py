"""Slow checks beside the probe rounds: DHCP (a DISCOVER and the host's lease) and path MTU.

Each runs in the background at its own, rate-limited pace (sooner again while it finds a fault, to confirm
it and to see the repair), never inside a round: a DHCP server that pings before offering takes seconds, and a
round must not wait for it. A finished check is handed to the next round.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import socket
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edge_agent.collectors.connectivity import DhcpProbe, DnsComparison, LeaseState, PmtuProbe
from edge_agent.config import ConnectivityCollectorConfig
from edge_agent.detectors.dhcp_verdict import legitimate_server, rogue_servers
from edge_agent.detectors.dns_verdict import is_public_name
from edge_agent.probes import ProbePermissionError
from edge_agent.probes.certificates import CertificateMemory, check_certificate
from edge_agent.probes.leases import DEFAULT_LEASE_GLOBS, interface_address, lease_server, read_leases
from edge_agent.probes.links import carrier_state

if TYPE_CHECKING:
    from edge_agent.probes.pmtu_ipv6 import Ipv6PathMtu

log = logging.getLogger(__name__)
# The first checks wait this long after start: a one-round diagnosis never starts one it would not see end.
FIRST_CHECK_AFTER_S = 2.0
# A TLS handshake over a home uplink, certificate chain and all.
CERTIFICATE_TIMEOUT_S = 3.0
# After a check that saw a second DHCP server, this many checks come at the retry pace (unless every one of them
# sees it): a rogue that answers only now and then is seen again within the hold-down, so it stays one
# (intermittent) issue, and one that left is resolved within a few checks.
ROGUE_FOLLOW_UP_CHECKS = 6


@dataclass
class Cadence:
    """When a periodic check is due: every `interval_s`, every `retry_s` after one that found a fault, counted
    from the start of the one before (a check that listens for seconds does not stretch the pace)."""

    interval_s: float
    retry_s: float
    next_due: float = 0.0
    job: Future | None = None
    started: float | None = None

    def due(self, now: float) -> bool:
        return self.interval_s > 0 and self.job is None and now >= self.next_due

    def start(self, job: Future, now: float | None = None) -> None:
        self.job, self.started = job, now

    def harvest(self, now: float, failing: Callable[[Any], bool]) -> Any | None:
        """The finished job's result (None while it runs); schedules the next one."""
        if self.job is None or not self.job.done():
            return None
        job, self.job = self.job, None
        result = job.result()
        pause = min(self.retry_s, self.interval_s) if failing(result) else self.interval_s
        self.next_due = (self.started if self.started is not None else now) + pause
        return result


@dataclass(frozen=True)
class DhcpCheck:
    probe: DhcpProbe | None
    leases: tuple[LeaseState, ...]
    error: str | None = None  # the DISCOVER could not be sent (no CAP_NET_RAW)


def held_leases(leases: list[LeaseState], current_address: str | None) -> tuple[LeaseState, ...]:
    """The lease behind the interface's address; with no address at all, the newest (its expiry may be why).
    A lease for another address is an old file, not this interface's state."""
    if current_address is None:
        return tuple(leases[:1])
    return tuple(lease for lease in leases if lease.address == current_address)[:1]


def resolve_ipv4(host: str) -> str | None:
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_DGRAM)
    except (OSError, UnicodeError):
        return None
    return str(infos[0][4][0]) if infos else None


class BackgroundChecks:
    def __init__(self, config: ConnectivityCollectorConfig, uplinks: list[str],
                 clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.uplink_hosts = [endpoint.rpartition(":")[0].strip("[]") for endpoint in uplinks]
        self.clock = clock
        first = clock() + FIRST_CHECK_AFTER_S
        self.dhcp = Cadence(config.dhcp_check_interval_s, config.dhcp_retry_s, next_due=first)
        self.pmtu = Cadence(config.pmtu_check_interval_s, config.dhcp_retry_s, next_due=first)
        # at its own pace even while a resolver disagrees: a CDN's answers that one resolver follows a TTL later
        # must not make N comparisons in a row within seconds
        interval = config.dns_consistency_interval_s
        self.dns_compare = Cadence(interval, interval, next_due=first)
        self._server_seen = False
        self._rogue_seen: deque[bool] = deque(maxlen=ROGUE_FOLLOW_UP_CHECKS)  # two servers in the last checks?
        self._ipv6_pmtu: Ipv6PathMtu | None = None
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="check")
        self._certificates = CertificateMemory(
            lambda address, name: check_certificate(address, name, CERTIFICATE_TIMEOUT_S)) \
            if config.dns_certificate_check else None

    def collect(self, gateway: str | None, interface: str | None, errors: dict[str, str], dhcp: bool = True
                ) -> tuple[DhcpCheck | None, tuple[PmtuProbe, ...]]:
        """What finished since the last round, after starting what is due now (DHCP only where `dhcp`: a link
        that has it)."""
        now = self.clock()
        if interface is not None and dhcp and self.dhcp.due(now):
            self.dhcp.start(self._pool.submit(self._dhcp_check, interface, gateway), now)
        if self.pmtu.due(now):  # without an IPv4 route, IPv6 alone (an IPv6-only host)
            self.pmtu.start(self._pool.submit(self._pmtu_check, gateway, interface), now)
        dhcp = self._harvest(self.dhcp, "dhcp", errors, lambda c: c.error is None and c.probe is not None
                             and (not c.probe.ok and c.probe.server_expected or self._rogue_unsettled()))
        pmtu = self._harvest(self.pmtu, "pmtu", errors, lambda probes: any(p.verdict == "blackhole" for p in probes))
        return dhcp, tuple(pmtu or ())

    def collect_comparisons(self, resolvers: list[str]) -> tuple[DnsComparison, ...]:
        """The resolvers compared on the consistency names, when a comparison finished since the last round."""
        from edge_agent.probes.dns import compare_resolvers

        config = self.config
        names = config.dns_consistency_names
        if names is None:
            names = [config.dns_query] if is_public_name(config.dns_query) else []
        now = self.clock()
        if self.dns_compare.due(now) and names and len({*resolvers, *config.dns_reference_resolvers}) > 1:
            self.dns_compare.start(self._pool.submit(compare_resolvers, resolvers, config.dns_reference_resolvers,
                                                     names, config.timeout_s, certificates=self._certificates), now)
        return self._harvest(self.dns_compare, "dns comparison", {}, lambda _: False) or ()

    def _harvest(self, cadence: Cadence, name: str, errors: dict[str, str], failing: Callable[[Any], bool]) -> Any:
        try:
            result = cadence.harvest(self.clock(), failing)
        except ProbePermissionError as exc:
            errors[name] = str(exc)
            return None
        except Exception as exc:  # noqa: BLE001 — a broken check is reported like a probe that cannot run
            log.warning("the %s check failed: %s", name, exc)
            errors[name] = f"{type(exc).__name__}: {exc}"
            return None
        if isinstance(result, DhcpCheck) and result.error is not None:
            errors[name] = result.error
        return result

    def _rogue_unsettled(self) -> bool:
        """A second DHCP server seen lately, but not in every one of the last checks: check again soon, to
        confirm it or to see it gone (one that answers every time is checked at the usual pace)."""
        return any(self._rogue_seen) and not (len(self._rogue_seen) == self._rogue_seen.maxlen
                                               and all(self._rogue_seen))

    def _dhcp_check(self, interface: str, gateway: str | None = None) -> DhcpCheck:
        from edge_agent.probes.dhcp import dhcp_probe

        leases = self._held_leases(interface)
        timeout = self.config.dhcp_timeout_s
        carrier, changes = carrier_state(interface)
        try:
            # in the background, listen the whole timeout: a second server that pings before it offers answers
            # seconds after the first
            probe = dhcp_probe(interface, timeout_s=timeout, listen_after_offer_s=timeout)
        except ProbePermissionError as exc:
            return DhcpCheck(None, leases, str(exc))
        except OSError as exc:
            probe = DhcpProbe(interface, ok=False, offer_ms=None, server=None, offered_address=None, error=str(exc))
        if not probe.ok and (carrier is False or carrier_state(interface)[1] != changes):
            # The link was down or flapped while the DISCOVER waited: no OFFER says nothing about the server
            # (a link down is gateway_unreachable's); the leases are still judged.
            return DhcpCheck(None, leases)
        self._server_seen |= probe.ok
        probe = self._with_dhcp_context(probe, leases, gateway)
        servers = list(probe.servers)
        self._rogue_seen.append(bool(rogue_servers(servers, legitimate_server(servers, probe.lease_server,
                                                                              gateway)[0])))
        return DhcpCheck(dataclasses.replace(probe, server_expected=self._server_seen or bool(leases)), leases)

    def dhcp_context(self, probe: DhcpProbe, interface: str, gateway: str | None) -> DhcpProbe:
        """An on-demand DHCP probe (diagnose) with what the background check adds to tell its servers apart:
        the server of the host's lease, the gateway, and the servers listed as known."""
        leases = self._held_leases(interface)
        return dataclasses.replace(self._with_dhcp_context(probe, leases, gateway),
                                   no_lease=not leases and not self._server_seen)

    def _held_leases(self, interface: str) -> tuple[LeaseState, ...]:
        patterns = self.config.dhcp_lease_files if self.config.dhcp_lease_files is not None else DEFAULT_LEASE_GLOBS
        return held_leases(read_leases(patterns, interface), interface_address(interface))

    def _with_dhcp_context(self, probe: DhcpProbe, leases: tuple[LeaseState, ...], gateway: str | None
                           ) -> DhcpProbe:
        from edge_agent.probes.dhcp import mark_known

        return dataclasses.replace(probe, lease_server=lease_server(leases[0]) if leases else None, gateway=gateway,
                                   servers=mark_known(probe.servers, self.config.dhcp_known_servers))

    def pmtu_now(self, gateway: str | None, interface: str) -> tuple[PmtuProbe, ...]:
        return self._pmtu_check(gateway, interface)

    def _pmtu_check(self, gateway: str | None, interface: str | None) -> tuple[PmtuProbe, ...]:
        from edge_agent.probes.pmtu import interface_mtu, pmtu_probe

        ipv4: list[str] = []
        mtu = 0
        if gateway is not None and interface is not None:  # IPv4 needs the IPv4 route's interface for its MTU
            targets = [gateway, *(resolve_ipv4(h) for h in self.uplink_hosts), *self.config.pmtu_targets]
            ipv4 = [t for t in dict.fromkeys(targets) if t is not None and ":" not in t]
            mtu = interface_mtu(interface)
        timeout = max(1.0, self.config.timeout_s)
        if self._ipv6_pmtu is None:
            from edge_agent.probes.pmtu_ipv6 import Ipv6PathMtu

            self._ipv6_pmtu = Ipv6PathMtu()
        return (*(pmtu_probe(target, mtu, timeout) for target in ipv4),
                *self._ipv6_pmtu.check(self.uplink_hosts, self.config.pmtu_targets, timeout))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
