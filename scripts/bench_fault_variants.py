#!/usr/bin/env python3
"""Fault variants the tests do not contain, against the agent with its shipped settings and 1 s probes: what
each one opens, how fast, how often, what remediation fires, and how soon it resolves after the repair. Needs
root.

Usage: sudo .venv/bin/python scripts/bench_fault_variants.py [--episode-s 120] [--gap-s 35] [--only NAME ...]

The test bed and the agent's configuration are scripts/bench_detection.py's (the namespace bed of
tests/integration/netns.py, a far end two hops away, probes every second, everything else shipped). Each
variant waits for a healthy premises (and past the hold-down when the last one opened anything), runs the fault
for --episode-s seconds, repairs it, and waits until nothing is open. Its row: the issues opened (type x count,
severity), the issue transitions journaled, the time to the first open, the time from the repair to the last
resolution, the remediation attempts, and a verdict against what a careful tool should say (EXPECT).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
import bench_detection as bench  # noqa: E402  (puts tests/integration on the path too)
from agent_process import Daemon, wait_for  # noqa: E402
from netns import PremisesNetwork, can_build_test_bed  # noqa: E402

LOSS = ("gateway_packet_loss", "gateway_loss_rising")
LATENCY = ("gateway_high_latency", "gateway_latency_rising", "gateway_high_jitter")
UPLINK = ("uplink_down", "uplink_slow", "uplink_unreliable")
DECIDED = ("attempted", "skipped", "pending", "deferred")
AFTER_REPAIR_S = 30.0  # how long past the repair a variant is still watched


@dataclass(frozen=True)
class Expect:
    """What a careful tool says about a variant: `needed` (one of these must open; empty: nothing must),
    `allowed` beside them (low-severity notes), whether a critical issue or a remediation may come of it."""

    needed: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    critical_ok: bool = True
    remediation_ok: bool = True


@dataclass(frozen=True)
class Variant:
    name: str
    run: Callable[[float], None]  # drives the fault for that many seconds and ends repaired
    expect: Expect


def steady(inject: Callable[[], None], repair: Callable[[], None]) -> Callable[[float], None]:
    def run(seconds: float) -> None:
        inject()
        try:
            time.sleep(seconds)
        finally:
            repair()
    return run


def cycling(inject: Callable[[], None], repair: Callable[[], None], on_s: float, off_s: float):
    def run(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            inject()
            try:
                time.sleep(on_s)
            finally:
                repair()
            time.sleep(off_s)
    return run


def variants(bed: PremisesNetwork) -> list[Variant]:
    grid = []
    for pct in (5, 10, 25, 40):
        # iptables' statistic match drops this share of the echo requests (or of everything to the far end).
        needed = LOSS if pct >= 25 else ()
        grid.append(Variant(f"gateway loss {pct} %", steady(lambda p=pct: bed.icmp_loss(p / 100), bed.clear_firewall),
                            Expect(needed, LOSS, critical_ok=False, remediation_ok=False)))
    for pct in (5, 10, 25, 40):
        needed = UPLINK if pct >= 25 else ()
        grid.append(Variant(f"uplink loss {pct} %", steady(lambda p=pct: bed.path_loss(p / 100), bed.clear_path_loss),
                            Expect(needed, UPLINK, critical_ok=False, remediation_ok=False)))
    for delay, needed in ((80, ("gateway_latency_rising",)), (300, LATENCY), (1000, LATENCY)):
        grid.append(Variant(f"gateway +{delay} ms", steady(lambda d=delay: bed.late_echo(d), bed.prompt_echo),
                            Expect(needed, LATENCY, critical_ok=False, remediation_ok=False)))
    for delay, needed in ((80, ()), (300, ()), (1000, UPLINK)):
        queued = steady(lambda d=delay: bed.queued_path(d), bed.unqueued_path)
        grid.append(Variant(f"uplink +{delay} ms (queue)", queued,
                            Expect(needed, UPLINK, critical_ok=False, remediation_ok=False)))
    grid += [
        Variant("link flaps 1 s/10 s", bench.flapping(bed, 1, 10), Expect(("gateway_unreachable",))),
        Variant("link flaps 5 s/30 s", bench.flapping(bed, 5, 30), Expect(("gateway_unreachable",))),
        Variant("bursty loss 50 % 5 s/10 s", cycling(lambda: bed.host_loss(0.5), bed.clear_firewall, 5, 10),
                Expect(LOSS, (*LOSS, "dns_failure", "dns_slow", *UPLINK), critical_ok=False, remediation_ok=False)),
        Variant("DNS answers 127.0.0.1", steady(lambda: bed.dns_lies("127.0.0.1"), bed.dns_truthful),
                Expect(("dns_resolver_lies",))),
        Variant("DNS answers private 10.99.7.7", steady(lambda: bed.dns_lies("10.99.7.7"), bed.dns_truthful),
                Expect(("dns_resolver_lies",))),
        Variant("DNS answers public 93.184.216.34", steady(lambda: bed.dns_lies("93.184.216.34"), bed.dns_truthful),
                Expect(("dns_resolver_lies",))),
        Variant("DNS SERVFAIL for AAAA only", steady(lambda: bed.dns_shaped(aaaa_servfail=True), bed.dns_unshaped),
                Expect((), ("dns_upstream_failing",), critical_ok=False, remediation_ok=False)),
        Variant("DNS answers in 1.5 s", steady(lambda: bed.dns_shaped(delay_s=1.5), bed.dns_unshaped),
                Expect(("dns_slow",), ("dns_slow",), critical_ok=False, remediation_ok=False)),
        Variant("ARP spoof 5 s on/20 s off", bench.conflicting(bed, 5, 20), Expect(("ip_conflict",))),
        Variant("DHCP pool exhausted", steady(bed.dhcp_exhausted, lambda: bed.dhcp_exhausted(False)),
                Expect(("dhcp_failure",))),
        Variant("bulk download, shaped link", steady(bed.bulk_download, bed.bulk_done),
                Expect((), (*LATENCY, *LOSS), critical_ok=False, remediation_ok=False)),
    ]
    return grid


def journal_since(root: Path, offset: int) -> list[dict]:
    path = root / "state" / "events.jsonl"
    if not path.exists():
        return []  # nothing journaled yet
    with path.open("rb") as journal:
        journal.seek(offset)
        return [json.loads(line) for line in journal.read().splitlines() if line.strip()]


@dataclass
class Row:
    name: str
    opened: Counter
    transitions: int
    critical: bool
    first_open_s: float | None
    resolved_s: float | None  # None: still open when the wait ended
    actions: Counter
    verdict: str
    after_repair: list[str]  # types opened after the repair


def measure(daemon: Daemon, root: Path, variant: Variant, seconds: float, resolve_wait_s: float) -> Row:
    offset = bench.journal_offset(root)
    started = time.time()
    variant.run(seconds)
    repaired = time.time()
    try:
        wait_for(lambda: bench.healthy(daemon), timeout_s=resolve_wait_s, what="nothing open")
        settled: float | None = time.time() - repaired
    except AssertionError:
        settled = None
    # Past the repair for a while: an issue that opens now (a repair taken for a fault) is this variant's too.
    time.sleep(max(0.0, repaired + AFTER_REPAIR_S - time.time()))
    if settled is not None and not bench.healthy(daemon):
        settled = None
    events = journal_since(root, offset)
    issues = [e for e in events if e["topic"] == "event/issue"]
    opened = Counter(e["type"] for e in issues if e["change"] == "opened")
    late = sorted({e["type"] for e in issues if e["change"] == "opened" and e["opened_ts"] > repaired + 2})
    first = min((e["opened_ts"] - started for e in issues if e["change"] == "opened"), default=None)
    resolved = [e["resolved_ts"] for e in issues if e["change"] == "resolved" and e.get("resolved_ts")]
    resolved_s = None if settled is None else max(0.0, max(resolved, default=repaired) - repaired)
    critical = any(e["severity"] == "critical" for e in issues)
    # Remediation decided: attempted, or what a dry-run (the shipped default mode) would have done.
    actions = Counter(e["name"] for e in events if e["topic"] == "event/action" and e["outcome"] in DECIDED)
    row = Row(variant.name, opened, len(issues), critical, first, resolved_s, actions, "", late)
    row.verdict = judge(row, variant.expect)
    return row


def judge(row: Row, expect: Expect) -> str:
    problems = []
    if expect.needed and not any(row.opened[t] for t in expect.needed):
        problems.append("missed")
    strange = [t for t in row.opened if t not in (*expect.needed, *expect.allowed)]
    if strange:
        problems.append("wrong type " + ",".join(strange))
    if any(count > 1 for count in row.opened.values()):
        problems.append("storm")
    if row.critical and not expect.critical_ok:
        problems.append("critical")
    if row.actions and not expect.remediation_ok:
        problems.append("remediation")
    if sum(row.actions.values()) > 2:
        problems.append("remediation per flap")
    if row.resolved_s is None:
        problems.append("not resolved")
    if row.after_repair:
        problems.append("opened after the repair: " + ",".join(row.after_repair))
    return "ok" if not problems else "FAIL: " + "; ".join(problems)


def print_row(row: Row) -> None:
    opened = " ".join(f"{t}x{n}" for t, n in sorted(row.opened.items())) or "-"
    first = f"{row.first_open_s:.0f}s" if row.first_open_s is not None else "-"
    resolved = f"{row.resolved_s:.0f}s" if row.resolved_s is not None else "open"
    actions = " ".join(f"{a}x{n}" for a, n in sorted(row.actions.items())) or "-"
    print(f"| {row.name} | {opened}{' (crit)' if row.critical else ''} | {row.transitions} | {first} | {resolved} "
          f"| {actions} | {row.verdict} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode-s", type=float, default=120.0, help="how long each fault lasts")
    parser.add_argument("--gap-s", type=float, default=35.0,
                        help="healthy time after a variant that opened anything: past [issues] hold_down_s (30 s)")
    parser.add_argument("--resolve-wait-s", type=float, default=240.0)
    parser.add_argument("--only", nargs="*", help="run only variants whose name starts with one of these")
    parser.add_argument("--list", action="store_true", help="list the variants and exit")
    args = parser.parse_args()
    reason = can_build_test_bed()
    if reason and not args.list:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="ea-variants-", dir="/tmp"))
    bed = PremisesNetwork(root, far_end=True, lease_time="2m")
    chosen = [v for v in variants(bed) if not args.only or any(v.name.startswith(o) for o in args.only)]
    if args.list:
        print("\n".join(v.name for v in chosen))
        return 0
    bed.setup()
    try:
        config = bench.CONFIG.format(interval=1.0, isp_ip=bed.isp_ip, dns_name=bed.dns_name, uplink=bed.uplink,
                                     far_uplink=bed.far_uplink)
        daemon = Daemon(root, config_text=config, prefix=tuple(bed.in_cpe()))
        daemon.start()
        try:
            daemon.wait_notify("READY=1", timeout_s=15)
            wait_for(lambda: bench.healthy(daemon), timeout_s=60, what="a healthy premises")
            time.sleep(20)  # the baselines learn the healthy premises first
            print(f"{args.episode_s:g} s per fault, probes every 1 s, shipped settings")
            print("| variant | opened (type x count) | transitions | first open | resolved after repair | "
                  "remediation | verdict |")
            print("|---|---|---|---|---|---|---|")
            busy = False
            for variant in chosen:
                wait_for(lambda: bench.healthy(daemon), timeout_s=300, what="a healthy premises")
                if busy:
                    time.sleep(args.gap_s)
                row = measure(daemon, root, variant, args.episode_s, args.resolve_wait_s)
                print_row(row)
                busy = bool(row.transitions)
        finally:
            daemon.stop()
    finally:
        bed.teardown()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
