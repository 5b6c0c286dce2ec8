"""Link physics for generated windows of Wi-Fi and connectivity metrics: the window classifier's training and
test data, and the per-station formulas the simulated premises uses too.

Each window is one premises (a profile's ranges: neighbour airtime, noise floor, distance of the weakest
device, gateway and resolver latency) observed for `steps` probe rounds, with at most one fault, which starts early
enough that at least the last 6 rounds show it and ramps in over 1-3 rounds:
- interference: a non-Wi-Fi transmitter (duty cycle 30-80 %) adds busy time and lifts the noise floor 8-20 dB;
  the lower SNR raises retries and lowers the PHY rate.
- weak_signal: the weakest device ends up at -86..-73 dBm (moved away, gateway put in a cabinet); its slow
  frames take more airtime, so busy time rises a little too.
- uplink_degradation: 20-250 ms more RTT with jitter and 2-30 % loss to the gateway; DNS answers, forwarded over
  the same link, slow down by as much.
- dns_trouble: the resolver answers in 250-1500 ms, or does not answer 40-100 % of the time.
Healthy windows keep the normal noise of a home: fading (AR(1), 1.5-3 dB), neighbour traffic bursts, single
lost pings, one-off RTT and DNS spikes, and a missing reading now and then.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_agent.ml.window_features import DNS_TIMEOUT_MS, FEATURE_NAMES

LABELS = ("healthy", "interference", "weak_signal", "uplink_degradation", "dns_trouble")
NOISE_FLOOR_DBM = -95.0
PINGS_PER_ROUND = 5


def retry_share_for_signal(signal_dbm: float | np.ndarray) -> float | np.ndarray:
    """Share of frames resent for a station heard at `signal_dbm` over a -95 dBm floor (the simulated premises'
    rule: 2 % near the gateway, 90 % at the edge of range)."""
    return np.clip((-np.asarray(signal_dbm) - 55) / 50, 0.02, 0.9)


def phy_rate_for_signal(signal_dbm: float | np.ndarray) -> float | np.ndarray:
    """PHY rate in Mbit/s for a station heard at `signal_dbm` over a -95 dBm floor."""
    return np.maximum(6.5, 300 + 6 * (np.asarray(signal_dbm) + 50))


@dataclass(frozen=True)
class PremisesProfile:
    """Ranges one kind of home is drawn from."""

    neighbour_busy: tuple[float, float]
    noise_floor_dbm: tuple[float, float]
    weakest_signal_dbm: tuple[float, float]
    gateway_rtt_ms: tuple[float, float]
    resolver_ms: tuple[float, float]
    extra_retry: tuple[float, float]  # some devices resend more than their signal explains


PROFILES: dict[str, PremisesProfile] = {
    "apartment": PremisesProfile((0.15, 0.35), (-95, -90), (-66, -50), (0.6, 4), (8, 40), (0.0, 0.15)),
    "house": PremisesProfile((0.03, 0.15), (-98, -93), (-68, -48), (0.5, 3), (5, 30), (0.0, 0.1)),
    "office": PremisesProfile((0.2, 0.4), (-94, -89), (-64, -52), (1, 8), (10, 50), (0.02, 0.2)),
    "rural": PremisesProfile((0.01, 0.08), (-99, -95), (-68, -55), (2, 12), (15, 60), (0.0, 0.1)),
    # Held out of training: a home between apartment and house, with its own seeds.
    "terraced": PremisesProfile((0.08, 0.28), (-96, -91), (-67, -49), (0.5, 6), (6, 45), (0.0, 0.18)),
}
TRAIN_PROFILES = ("apartment", "house", "office", "rural")
HELD_OUT_PROFILES = ("apartment", "house", "office", "rural", "terraced")


def generate_windows(
    count: int, steps: int, seed: int, profiles: tuple[str, ...] = TRAIN_PROFILES
) -> tuple[np.ndarray, np.ndarray]:
    """`count` windows (balanced over LABELS) as raw rows: float array (count, steps, features) with NaN for a
    missing reading, and their label indices."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % len(LABELS)
    rng.shuffle(labels)
    windows = np.empty((count, steps, len(FEATURE_NAMES)))
    for i, label in enumerate(labels):
        profile = PROFILES[profiles[rng.integers(len(profiles))]]
        windows[i] = _window(rng, profile, LABELS[label], steps)
    return windows, labels


def _window(rng: np.random.Generator, p: PremisesProfile, label: str, steps: int) -> np.ndarray:
    t = np.arange(steps)
    onset = rng.integers(0, steps - 5)  # at least the last 6 rounds show the fault
    ramp = np.clip((t - onset + 1) / rng.integers(1, 4), 0, 1)  # a fault takes 1-3 rounds to build up
    severity = rng.uniform()

    signal = rng.uniform(*p.weakest_signal_dbm) + _fading(rng, steps)
    noise = rng.uniform(*p.noise_floor_dbm) + rng.normal(0, 0.8, steps)
    busy = rng.uniform(*p.neighbour_busy) + rng.normal(0, 0.03, steps) + _bursts(rng, steps, 0.05, (0.08, 0.25))
    rtt = rng.uniform(*p.gateway_rtt_ms) * rng.lognormal(0, 0.25, steps) + _bursts(rng, steps, 0.03, (15, 80))
    loss_p = np.full(steps, rng.uniform(0, 0.01))
    dns = rng.uniform(*p.resolver_ms) * rng.lognormal(0, 0.3, steps) + _bursts(rng, steps, 0.02, (100, 400))
    dns_fail_p = np.full(steps, 0.005)

    if label == "interference":
        duty = 0.3 + 0.5 * severity
        busy += ramp * duty * rng.uniform(0.85, 1.15, steps)
        noise += ramp * (8 + 12 * severity + rng.normal(0, 1.5, steps))
    elif label == "weak_signal":
        target = rng.uniform(-86, -73)
        signal += ramp * (target - signal.mean())
        busy += ramp * rng.uniform(0.03, 0.12)
    elif label == "uplink_degradation":
        extra = (20 + 230 * severity) * rng.lognormal(0, 0.35, steps)
        rtt += ramp * extra
        dns += ramp * extra
        loss_p += ramp * rng.uniform(0.02, 0.3)
    elif label == "dns_trouble":
        if rng.uniform() < 0.5:
            dns += ramp * rng.uniform(250, 1500) * rng.lognormal(0, 0.2, steps)
        else:
            dns_fail_p += ramp * rng.uniform(0.4, 1.0)

    # The station hears the gateway over the noise: what a lifted floor costs it equals a weaker signal.
    effective_signal = signal - (noise - NOISE_FLOOR_DBM)
    retry = retry_share_for_signal(effective_signal) + rng.uniform(*p.extra_retry)
    retry += 0.3 * np.maximum(busy - 0.5, 0) + rng.normal(0, 0.015, steps)
    bitrate = phy_rate_for_signal(effective_signal) * rng.uniform(0.85, 1.0, steps)
    loss = rng.binomial(PINGS_PER_ROUND, np.clip(loss_p, 0, 1)) * (100.0 / PINGS_PER_ROUND)
    dns = np.where(rng.uniform(size=steps) < dns_fail_p, DNS_TIMEOUT_MS, np.minimum(dns, DNS_TIMEOUT_MS))

    rows = np.stack([signal, noise, np.clip(busy, 0, 0.99), np.clip(retry, 0, 0.95), bitrate, rtt, loss, dns], -1)
    rows[rng.uniform(size=rows.shape) < 0.01] = np.nan  # a reading lost now and then
    return rows


def _fading(rng: np.random.Generator, steps: int) -> np.ndarray:
    sigma, keep = rng.uniform(1.5, 3.0), 0.7
    shocks = rng.normal(0, sigma * np.sqrt(1 - keep**2), steps)
    out = np.empty(steps)
    level = rng.normal(0, sigma)
    for i in range(steps):
        level = keep * level + shocks[i]
        out[i] = level
    return out


def _bursts(rng: np.random.Generator, steps: int, rate: float, size: tuple[float, float]) -> np.ndarray:
    """Short one-round spikes: neighbour downloads, a slow answer, a ping lost in a queue."""
    return (rng.uniform(size=steps) < rate) * rng.uniform(*size, steps)
