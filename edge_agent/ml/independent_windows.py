"""An independent generator of labelled probe rounds, to test the window classifier on data it was not made from.

It shares no code and no noise model with the training generator (edge_agent.ml.window_training): it simulates
single pings and DNS queries rather than per-round aggregates, and emits each round as the collectors' sample
metrics (radio, stations, gateway, DNS) stamped with its time, so the test goes through `round_row` and the
resampling exactly as the agent's own rounds do. Its models differ on purpose:
- loss is a Gilbert-Elliott two-state Markov chain per ping (bursty) or independent per ping, and a DNS query
  is lost when its request or its answer is;
- RTTs are a baseline (log-uniform 0.4-30 ms) plus Pareto-tailed queueing delay, a round reports the median
  of the pings that came back;
- several stations with their own log-normal shadowing and an MCS-table rate; the noise floor drifts;
- interference is either a duty-cycled non-Wi-Fi source (noise rises) or co-channel congestion (airtime and
  collisions rise, the noise floor does not);
- a fault starts anywhere in the first 90 s of the window (so at least 60 s show it) and may overlap a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

LABELS = ("healthy", "interference", "weak_signal", "uplink_degradation", "dns_trouble")
PINGS = 5
DNS_TIMEOUT_S = 1.0
# 802.11n MCS0-7 (20 MHz, long guard): the SNR each needs and its rate.
MCS_SNR_DB = (5, 8, 11, 14, 18, 22, 25, 28)
MCS_RATE_MBPS = (6.5, 13, 19.5, 26, 39, 52, 58.5, 65)


@dataclass
class ProbeRound:
    """One probe round as the collectors report it."""

    t: float
    radio: dict[str, Any]
    stations: list[dict[str, Any]]
    gateway: dict[str, Any]
    dns: dict[str, Any]


@dataclass
class LabelledRounds:
    rounds: list[ProbeRound]
    label: str  # the main fault (or healthy)
    labels: frozenset[str]  # every fault present (two for an overlap)


def generate(count: int, seed: int, window_s: float = 150.0, interval_s: float | tuple[float, float] = 5.0,
             overlap_share: float = 0.0, history_s: float = 30.0) -> list[LabelledRounds]:
    """`count` windows balanced over LABELS; `interval_s` fixed or drawn per window from a (low, high) range, each
    gap jittered by ±10 %; `overlap_share` of the fault windows carry a second fault. Rounds run from
    -`history_s` to `window_s`; faults start within 0..window_s - 60 s."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        label = LABELS[i % len(LABELS)]
        faults = [label] if label != "healthy" else []
        if faults and rng.random() < overlap_share:
            faults.append(str(rng.choice([x for x in LABELS[1:] if x != label])))
        interval = interval_s if isinstance(interval_s, (int, float)) else math.exp(rng.uniform(*np.log(interval_s)))
        out.append(LabelledRounds(_rounds(rng, faults, window_s, float(interval), history_s), label,
                                  frozenset(faults or ["healthy"])))
    return out


def steady_loss(count: int, seed: int, loss: float, interval_s: float = 5.0, bursty: bool = False,
                window_s: float = 150.0) -> list[LabelledRounds]:
    """Uplink windows with nothing but `loss` (independent per ping, or Gilbert-Elliott bursts) for the whole
    window: the case where lost DNS lookups must not read as DNS trouble."""
    rng = np.random.default_rng(seed)
    shape = {"extra_ms": 0.0, "loss": loss, "bursty": bursty, "burst_len": 6.0}
    return [LabelledRounds(_rounds(rng, ["uplink_degradation"], window_s, interval_s, 30.0,
                                   {"uplink_degradation": shape}, start=-30.0),
                           "uplink_degradation", frozenset(["uplink_degradation"]))
            for _ in range(count)]


def _rounds(rng: np.random.Generator, faults: list[str], window_s: float, interval: float, history_s: float,
            shapes: dict[str, dict[str, Any]] | None = None, start: float | None = None) -> list[ProbeRound]:
    home = _Home(rng)
    starts = {fault: rng.uniform(0, window_s - 60) if start is None else start for fault in faults}
    shapes = shapes or {fault: _fault_shape(rng, fault) for fault in faults}
    rounds, t = [], rng.uniform(0, interval)
    t -= history_s + 60  # start early so Markov states and drifts are settled
    while t <= window_s:
        active = {f: shapes[f] for f in faults if t >= starts[f]}
        rounds.append(home.round(rng, t, active))
        t += interval * rng.uniform(0.9, 1.1)
    return [r for r in rounds if r.t >= -history_s]


def _fault_shape(rng: np.random.Generator, fault: str) -> dict[str, Any]:
    if fault == "interference":
        if rng.random() < 0.5:
            return {"kind": "co_channel", "airtime": rng.uniform(0.35, 0.7), "collisions": rng.uniform(0.1, 0.4)}
        return {"kind": "non_wifi", "rise_db": rng.uniform(7, 22), "duty": rng.uniform(0.3, 0.9),
                "period_s": rng.uniform(8, 40)}
    if fault == "weak_signal":
        return {"signal_dbm": rng.uniform(-88, -74)}
    if fault == "uplink_degradation":
        kind = rng.choice(["latency", "random_loss", "bursty_loss", "both"])
        shape: dict[str, Any] = {"extra_ms": 0.0, "loss": 0.0, "bursty": False}
        if kind in ("latency", "both"):
            shape["extra_ms"] = math.exp(rng.uniform(math.log(30), math.log(400)))
        if kind in ("random_loss", "both"):
            shape["loss"] = rng.uniform(0.03, 0.3)
        if kind == "bursty_loss":
            shape.update(loss=rng.uniform(0.05, 0.3), bursty=True, burst_len=rng.uniform(3, 15))
        return shape
    kind = rng.choice(["slow", "failing", "servfail"])
    if kind == "slow":
        return {"kind": "slow", "median_s": math.exp(rng.uniform(math.log(0.3), math.log(2.5)))}
    return {"kind": kind, "fail": rng.uniform(0.35, 1.0)}


class _Home:
    """The premises' steady state and its slow processes."""

    def __init__(self, rng: np.random.Generator):
        self.base_rtt = math.exp(rng.uniform(math.log(0.4), math.log(30)))
        self.tail = rng.uniform(1.6, 3.0)  # Pareto shape of queueing delay
        self.jitter = self.base_rtt * rng.uniform(0.05, 0.5)
        self.resolver_s = math.exp(rng.uniform(math.log(0.004), math.log(0.08)))
        self.floor = rng.uniform(-100, -88)
        self.drift = (rng.uniform(0.5, 2.0), rng.uniform(100, 600), rng.uniform(0, 2 * math.pi))
        self.airtime = rng.beta(2, 8) * 0.6
        self.stations = [rng.uniform(-70, -40) for _ in range(rng.integers(1, 7))]
        self.shadow = [0.0] * len(self.stations)
        self.bad = False  # Gilbert-Elliott state of the uplink
        self.spike_p = rng.uniform(0.0, 0.04)

    def round(self, rng: np.random.Generator, t: float, active: dict[str, dict[str, Any]]) -> ProbeRound:
        amp, period, phase = self.drift
        noise = self.floor + amp * math.sin(2 * math.pi * t / period + phase) + rng.normal(0, 0.5)
        busy = float(np.clip(self.airtime + rng.gamma(2, 0.02), 0, 0.98))
        collisions = 0.0
        rf = active.get("interference")
        if rf and rf["kind"] == "non_wifi":
            on = (t % rf["period_s"]) / rf["period_s"] < rf["duty"]
            noise += rf["rise_db"] * (1.0 if on else 0.25) + rng.normal(0, 1)
            busy = min(0.98, busy + (rf["duty"] * 0.8 if on else 0.05))
        elif rf:
            busy = min(0.98, busy + rf["airtime"] * rng.uniform(0.8, 1.2))
            collisions = rf["collisions"]
        stations = []
        for i, mean in enumerate(self.stations):
            self.shadow[i] = 0.8 * self.shadow[i] + rng.normal(0, 1.2)
            signal = mean + self.shadow[i]
            if i == 0 and "weak_signal" in active:
                signal = active["weak_signal"]["signal_dbm"] + self.shadow[i]
            snr = signal - noise
            mcs = sum(snr >= need for need in MCS_SNR_DB)
            rate = MCS_RATE_MBPS[max(mcs - 1, 0)] * (2 if rng.random() < 0.7 else 1) * (1 if mcs else 0.5)
            frame_error = 1 / (1 + math.exp((snr - 12) / 2.5))
            retry = 1 - (1 - frame_error) * (1 - collisions) * (1 - 0.3 * busy * rng.random())
            stations.append({"signal_dbm": round(signal), "tx_bitrate_mbps": rate,
                             "retry_ratio": round(float(np.clip(retry + rng.normal(0, 0.01), 0, 1)), 3)})
        if rng.random() < 0.01:
            noise_out = None  # a driver that did not report this time
        else:
            noise_out = round(noise)
        radio = {"noise_dbm": noise_out, "busy_ratio": round(busy, 3)}
        wifi_delay = 0.0
        if rf and rf["kind"] == "co_channel":
            wifi_delay = busy * rng.exponential(8)
        gateway, link_loss, extra_ms = self._pings(rng, active.get("uplink_degradation"), wifi_delay)
        dns = self._dns(rng, active.get("dns_trouble"), link_loss, extra_ms)
        return ProbeRound(t, radio, stations, gateway, dns)

    def _loss(self, rng: np.random.Generator, uplink: dict[str, Any] | None) -> bool:
        if not uplink or uplink["loss"] == 0:
            return rng.random() < 0.002
        if not uplink["bursty"]:
            return rng.random() < uplink["loss"]
        # Gilbert-Elliott: mean bad run burst_len pings, long-run share of bad pings = loss.
        leave_bad = 1 / uplink["burst_len"]
        enter_bad = leave_bad * uplink["loss"] / (1 - uplink["loss"])
        self.bad = rng.random() >= leave_bad if self.bad else rng.random() < enter_bad
        return self.bad and rng.random() < 0.95

    def _pings(self, rng: np.random.Generator, uplink: dict[str, Any] | None, wifi_delay: float
               ) -> tuple[dict[str, Any], float, float]:
        extra = uplink["extra_ms"] * rng.lognormal(0, 0.3) if uplink else 0.0
        rtts = []
        for _ in range(PINGS):
            if self._loss(rng, uplink):
                continue
            queue = self.jitter * (rng.pareto(self.tail))
            spike = rng.uniform(20, 150) if rng.random() < self.spike_p else 0.0
            rtts.append(self.base_rtt + queue + spike + wifi_delay + extra * rng.uniform(0.7, 1.3))
        received = len(rtts)
        gateway = {"sent": PINGS, "received": received, "loss_pct": round(100.0 * (PINGS - received) / PINGS, 1),
                   "rtt_ms": round(float(np.median(rtts)), 2) if rtts else None}
        link_loss = uplink["loss"] if uplink else 0.0
        return gateway, link_loss, extra

    def _dns(self, rng: np.random.Generator, trouble: dict[str, Any] | None, link_loss: float, extra_ms: float
             ) -> dict[str, Any]:
        if 1 - (1 - link_loss) ** 2 > rng.random():  # the query or its answer lost on the way
            return {"ok": False, "latency_ms": None, "rcode": None}
        latency = self.resolver_s * rng.lognormal(0, 0.5) + extra_ms / 1000
        if rng.random() < 0.03:
            latency += rng.uniform(0.05, 0.3)  # a cache miss upstream
        if trouble:
            if trouble["kind"] == "slow":
                latency = trouble["median_s"] * rng.lognormal(0, 0.4)
            elif rng.random() < trouble["fail"]:
                if trouble["kind"] == "servfail":
                    return {"ok": False, "latency_ms": round(latency * 1000, 1), "rcode": "SERVFAIL"}
                return {"ok": False, "latency_ms": None, "rcode": None}
        if latency >= DNS_TIMEOUT_S:
            return {"ok": False, "latency_ms": None, "rcode": None}
        return {"ok": True, "latency_ms": round(latency * 1000, 1), "rcode": "NOERROR"}
