"""The window classifier's training data: generated probe rounds at a random probe interval, put on the time grid
by the agent's own resampling (window_resample), so the model learns time, not rounds.

Each window is one home observed for `window_s` seconds, probed every 1-12 s (fixed, jittered, or with a gap
where rounds are missing). Homes are drawn from wide ranges rather than a few profiles: gateway RTT baselines
0.4-35 ms, resolvers 4-90 ms, neighbour airtime 1-45 %. A fault starts early enough that at least the last 60 s
show it and ramps in over 3-15 s:
- interference: a non-Wi-Fi source (noise floor +6-22 dB, duty-cycled airtime), or co-channel congestion
  (airtime and collisions rise, RTT jitters, the noise floor does not);
- weak_signal: the weakest device at -88..-72 dBm;
- uplink_degradation: added latency (25-400 ms), random loss (2-30 %), bursty loss (outages of a few seconds),
  or both; DNS queries cross the same link, so they are lost about as often as pings and slow down as much;
- dns_trouble: a slow resolver (often past the 1 s timeout) or one failing 30-100 % of lookups, with a
  healthy gateway.
Some fault windows carry a second fault (soft target split between them), and a share of the windows are
out-of-domain (noise in the scaled space, contradictory extremes) with a uniform target, so the model learns
to be unsure where it knows nothing (outlier exposure).
"""

from __future__ import annotations

import math

import numpy as np

from edge_agent.ml.window_features import DNS_TIMEOUT_MS, FEATURE_NAMES, UNREACHABLE_RTT_MS, fill_gaps, scale_window
from edge_agent.ml.window_resample import WindowGrid, resample

LABELS = ("healthy", "interference", "weak_signal", "uplink_degradation", "dns_trouble")
FAULTS = LABELS[1:]
PINGS_PER_ROUND = 5
OVERLAP_SHARE = 0.2
OUT_OF_DOMAIN_SHARE = 0.08
COL = {name: i for i, name in enumerate(FEATURE_NAMES)}


def training_windows(count: int, seed: int, grid: WindowGrid, out_of_domain: bool = True
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scaled windows (count, steps, features) float32, soft targets (count, labels) and the main label index
    (-1 for an out-of-domain window). Balanced over LABELS before the out-of-domain share is drawn."""
    rng = np.random.default_rng(seed)
    x = np.empty((count, grid.steps, len(FEATURE_NAMES)), dtype=np.float32)
    targets = np.zeros((count, len(LABELS)), dtype=np.float32)
    main = np.arange(count) % len(LABELS)
    rng.shuffle(main)
    for i in range(count):
        if out_of_domain and rng.random() < OUT_OF_DOMAIN_SHARE:
            x[i] = _out_of_domain(rng, grid)
            targets[i] = 1.0 / len(LABELS)
            main[i] = -1
            continue
        faults = [LABELS[main[i]]] if main[i] else []
        if faults and rng.random() < OVERLAP_SHARE:
            faults.append(str(rng.choice([f for f in FAULTS if f != faults[0]])))
        times, rows = _rounds(rng, grid, faults)
        x[i] = scale_window(fill_gaps(resample(times, rows, times[-1], grid)))
        for fault in faults or ["healthy"]:
            targets[i, LABELS.index(fault)] = 1.0 / len(faults or ["healthy"])
    return x, targets, main


def _probe_times(rng: np.random.Generator, window_s: float) -> np.ndarray:
    interval = math.exp(rng.uniform(math.log(1.0), math.log(12.0)))
    if rng.random() < 0.3:
        interval = float(rng.choice([1.0, 2.0, 5.0, 10.0]))
    count = int(window_s / interval) + 3
    gaps = interval * rng.uniform(0.92, 1.08, count) if rng.random() < 0.7 else np.full(count, interval)
    times = window_s - np.concatenate([[0.0], np.cumsum(gaps[:-1])])[::-1]
    if rng.random() < 0.15 and count > 6:  # the agent stalled: no rounds for 10-40 s
        start = rng.uniform(0, window_s - 20)
        times = times[(times < start) | (times > start + rng.uniform(10, 40)) | (times == times[-1])]
    return times


def _rounds(rng: np.random.Generator, grid: WindowGrid, faults: list[str]) -> tuple[np.ndarray, np.ndarray]:
    t = _probe_times(rng, grid.window_s)
    n = len(t)
    onset = {f: rng.uniform(-60, grid.window_s - 60) for f in faults}
    ramp = {f: np.clip((t - onset[f]) / rng.uniform(3, 15), 0, 1) for f in faults}

    signal = rng.uniform(-70, -45) + _ar1(rng, t, rng.uniform(1.0, 3.0))
    noise = rng.uniform(-100, -87) + rng.normal(0, 0.8, n)
    busy = rng.uniform(0.01, 0.45) + rng.normal(0, 0.03, n) + _spikes(rng, n, 0.05, (0.05, 0.25))
    extra_retry = rng.uniform(0, 0.2)
    collisions = np.zeros(n)
    base_rtt = math.exp(rng.uniform(math.log(0.4), math.log(35)))
    rtt = base_rtt * rng.lognormal(0, rng.uniform(0.1, 0.45), n) + _spikes(rng, n, 0.03, (10, 120))
    loss_p = np.full(n, rng.uniform(0, 0.01))
    dns = math.exp(rng.uniform(math.log(4), math.log(90))) * rng.lognormal(0, 0.35, n)
    dns += _spikes(rng, n, 0.03, (60, 400))
    dns_fail_p = np.full(n, 0.005)
    outage = np.zeros(n, dtype=bool)

    if "interference" in faults:
        r = ramp["interference"]
        if rng.random() < 0.5:  # a non-Wi-Fi transmitter
            duty = rng.uniform(0.3, 0.9)
            busy += r * duty * rng.uniform(0.8, 1.15, n)
            noise += r * (rng.uniform(6, 22) + rng.normal(0, 1.5, n))
        else:  # co-channel congestion: airtime and collisions, no noise rise
            busy += r * rng.uniform(0.3, 0.7) * rng.uniform(0.85, 1.15, n)
            collisions += r * rng.uniform(0.08, 0.4)
            rtt += r * rng.exponential(rng.uniform(2, 25), n)
    if "weak_signal" in faults:
        r = ramp["weak_signal"]
        signal += r * (rng.uniform(-88, -72) - signal.mean())
        busy += r * rng.uniform(0.02, 0.12)
    dns_loss_factor = rng.uniform(0.8, 2.0)  # a lookup needs its query and its answer through
    if "uplink_degradation" in faults:
        r = ramp["uplink_degradation"]
        kind = rng.choice(["latency", "loss", "bursty", "both"])
        if kind in ("latency", "both"):
            extra = math.exp(rng.uniform(math.log(25), math.log(400))) * rng.lognormal(0, 0.35, n)
            rtt += r * extra
            dns += r * extra
        if kind in ("loss", "both"):
            loss_p += r * rng.uniform(0.02, 0.3)
        if kind == "bursty":
            outage = _outages(rng, t, rng.uniform(0.05, 0.3), rng.uniform(2, 15)) & (r > 0.5)
            loss_p += r * rng.uniform(0, 0.05)
    if "dns_trouble" in faults:
        r = ramp["dns_trouble"]
        if rng.random() < 0.5:
            dns += r * math.exp(rng.uniform(math.log(250), math.log(2500))) * rng.lognormal(0, 0.3, n)
        else:
            dns_fail_p += r * rng.uniform(0.3, 1.0)

    # What a lifted floor costs equals a weaker signal. Devices differ: a 1x1 20 MHz phone tops out near 72
    # Mbit/s, a 2x2 80 MHz laptop near 870; some resend far more than others at the same SNR.
    effective = signal - (noise + 95)
    retry = np.clip((-effective - 55) / 50, 0.02, 0.9) * rng.uniform(0.2, 1.5) + extra_retry + collisions
    retry += 0.3 * np.maximum(busy - 0.5, 0) + rng.normal(0, 0.015, n)
    top_rate = math.exp(rng.uniform(math.log(54), math.log(1200)))
    share = np.clip((effective + 90) / 35, 0.04, 1.0)  # of the top rate, from -90 dBm (nothing) to -55 dBm
    bitrate = np.maximum(1.0, top_rate * share * rng.uniform(0.8, 1.0, n) * (1 - 0.5 * collisions))
    loss_p = np.clip(np.where(outage, 1.0, loss_p), 0, 1)
    received = rng.binomial(PINGS_PER_ROUND, 1 - loss_p)
    loss = (PINGS_PER_ROUND - received) * (100.0 / PINGS_PER_ROUND)
    rtt = np.where(received == 0, UNREACHABLE_RTT_MS, rtt)
    lookup_lost = rng.uniform(size=n) < np.clip(loss_p * dns_loss_factor, 0, 1)
    dns_failed = lookup_lost | (rng.uniform(size=n) < dns_fail_p) | (dns >= DNS_TIMEOUT_MS)
    dns = np.where(dns_failed, DNS_TIMEOUT_MS, dns)

    rows = np.stack([signal, noise, np.clip(busy, 0, 0.99), np.clip(retry, 0, 0.95), bitrate, rtt, loss, dns], -1)
    rows[rng.uniform(size=rows.shape) < 0.01] = np.nan  # a reading lost now and then
    if rng.random() < 0.1:  # a wired gateway, or no station connected: no Wi-Fi readings at all
        rows[:, [COL["signal_dbm"], COL["retry_ratio"], COL["bitrate_mbps"]]] = np.nan
    return t, rows


def _ar1(rng: np.random.Generator, t: np.ndarray, sigma: float) -> np.ndarray:
    """Slow fading: correlation 0.7 per 5 s, whatever the spacing of the rounds."""
    out = np.empty(len(t))
    level = rng.normal(0, sigma)
    previous = t[0]
    for i, now in enumerate(t):
        keep = 0.7 ** ((now - previous) / 5.0)
        level = keep * level + rng.normal(0, sigma * math.sqrt(1 - keep**2))
        out[i], previous = level, now
    return out


def _spikes(rng: np.random.Generator, n: int, rate: float, size: tuple[float, float]) -> np.ndarray:
    return (rng.uniform(size=n) < rate) * rng.uniform(*size, n)


def _outages(rng: np.random.Generator, t: np.ndarray, share: float, mean_s: float) -> np.ndarray:
    """Bursty loss: outages of about `mean_s` seconds covering about `share` of the time."""
    down = np.zeros(len(t), dtype=bool)
    clock = t[0] - rng.uniform(0, 60)
    while clock < t[-1]:
        clock += rng.exponential(mean_s * (1 - share) / share)
        length = rng.exponential(mean_s)
        down |= (t >= clock) & (t < clock + length)
        clock += length
    return down


def _out_of_domain(rng: np.random.Generator, grid: WindowGrid) -> np.ndarray:
    """Windows no home produces, in the scaled space: each feature, independently, noise over the whole range,
    stuck at an extreme, or swinging between extremes every slot."""
    steps = grid.steps
    columns = []
    for _ in FEATURE_NAMES:
        kind = rng.integers(3)
        if kind == 0:
            low = rng.uniform(-4, 2)
            column = rng.uniform(low, rng.uniform(low + 2, 4), steps)
        elif kind == 1:
            column = np.full(steps, rng.choice([-1.0, 1.0]) * rng.uniform(2.5, 4)) + rng.normal(0, 0.1, steps)
        else:
            column = np.where(np.arange(steps) % 2, 1.0, -1.0) * rng.uniform(1.5, 4) + rng.uniform(-1, 1)
        columns.append(column)
    return np.clip(np.stack(columns, -1), -4, 4).astype(np.float32)
