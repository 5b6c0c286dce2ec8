"""The shipped window model on real probe data: rounds recorded every second in the namespace test bed (real
kernel links and dnsmasq; scripts/record_window_netns.py) through four phases of 200 s, replayed through the
agent's own round_row, resampling and gates. Each phase is judged on the windows that lie wholly inside it."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from edge_agent.config import WindowModelConfig
from edge_agent.ml.classifiers import WindowClassifier
from edge_agent.ml.runtime import load_classifier, select_runtime
from edge_agent.ml.window_features import round_row

from .shipped import RUNTIMES, WINDOW_MODEL

RECORDING = Path(__file__).resolve().parents[2] / "data" / "window_replay" / "netns_1s.jsonl"
MIN_SCORE = WindowModelConfig().min_score


@cache
def recorded_rounds() -> list[dict]:
    return [json.loads(line) for line in RECORDING.read_text().splitlines()]


def verdicts(runtime_name: str) -> dict[str, Counter]:
    """Per phase, the verdicts (label, or unknown below min_score) on windows ending every 5 s from the moment a
    whole window fits in the phase to its end."""
    classifier = WindowClassifier(load_classifier(WINDOW_MODEL, select_runtime(runtime_name)))
    rounds = recorded_rounds()
    times = [r["t"] for r in rounds]
    rows = [round_row(None, [], r.get("gateway"), r.get("dns")) for r in rounds]
    out: dict[str, Counter] = {}
    for phase in dict.fromkeys(r["phase"] for r in rounds):
        inside = [r["t"] for r in rounds if r["phase"] == phase]
        end, counts = inside[0] + classifier.grid.window_s, Counter()
        while end <= inside[-1]:
            upto = sum(1 for t in times if t <= end)
            prediction = classifier.classify_rounds(times[:upto], rows[:upto], end)
            counts[prediction.label if prediction.score >= MIN_SCORE else "unknown"] += 1
            end += 5.0
        out[phase] = counts
    return out


@pytest.mark.parametrize("runtime_name", RUNTIMES)
def test_real_probe_data_from_the_namespace_bed(runtime_name):
    seen = verdicts(runtime_name)
    assert set(seen) == {"healthy", "loss_15pct", "congested", "dns_frozen"}
    assert all(sum(c.values()) >= 8 for c in seen.values()), seen
    assert set(seen["healthy"]) <= {"healthy", "unknown"}, seen
    assert seen["loss_15pct"]["dns_trouble"] == 0, seen
    assert set(seen["congested"]) <= {"uplink_degradation", "unknown"}, seen
    assert set(seen["dns_frozen"]) <= {"dns_trouble", "unknown"}, seen
