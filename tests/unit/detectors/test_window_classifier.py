"""The window classifier in the pipeline: probe rounds from the simulated premises become windows, and a
sustained fault becomes a finding carrying label, score, model and version."""

from __future__ import annotations

import math

import pytest

from edge_agent.clock import ManualClock
from edge_agent.collectors.connectivity import ConnectivityCollector
from edge_agent.collectors.wifi import WifiCollector
from edge_agent.config import FaultConfig, SimulationSection
from edge_agent.detectors.window_classifier import ISSUE_TYPES, WindowClassifierDetector, findings_for
from edge_agent.ml.classifiers import load_window_classifier
from edge_agent.ml.runtime import select_runtime
from edge_agent.model import Severity
from edge_agent.sim.premises import SimulatedPremises

from ..ml.shipped import WINDOW_MODEL, copy_model, edit_metadata


@pytest.fixture(scope="module")
def classifier():
    return load_window_classifier(WINDOW_MODEL, select_runtime("tflite-runtime"))


def run_rounds(detector, faults, rounds: int, seed: int = 4, interval: float = 5) -> list:
    """Feed `rounds` probe rounds (`interval` seconds apart) of a premises with `faults`; the findings of every
    round."""
    clock = ManualClock()
    premises = SimulatedPremises(SimulationSection(seed=seed, cycle_s=None, faults=faults), clock)
    collectors = [WifiCollector(interval, "wlan0", premises), ConnectivityCollector(interval, premises)]
    findings = []
    for _ in range(rounds):
        for collector in collectors:
            for sample in collector.collect(clock.monotonic(), clock.wall()):
                findings.extend(detector.evaluate(sample))
        clock.advance(interval)
    return findings


def present(findings) -> set[str]:
    return {f.type for f in findings if f.present}


def test_no_verdict_until_the_window_is_full(classifier):
    detector = WindowClassifierDetector(classifier, every_n_rounds=1, min_score=0.6)
    assert run_rounds(detector, [], classifier.steps) == []


def test_a_healthy_premises_gives_absent_findings_that_let_issues_resolve(classifier):
    detector = WindowClassifierDetector(classifier, every_n_rounds=3, min_score=0.6)
    findings = run_rounds(detector, [], classifier.steps + 12)
    assert findings and present(findings) == set()
    assert {f.type for f in findings} == set(ISSUE_TYPES.values())


@pytest.mark.parametrize(("fault", "issue_type"), [
    (FaultConfig(kind="interference", channel=6, start_s=0, end_s=1000, level=0.55), "ml_interference"),
    (FaultConfig(kind="dns_down", start_s=0, end_s=1000), "ml_dns_trouble"),
    (FaultConfig(kind="weak_station", start_s=0, end_s=1000), "ml_weak_signal"),
    (FaultConfig(kind="latency", start_s=0, end_s=1000, level=0.5), "ml_uplink_degradation"),
])
def test_a_sustained_fault_on_the_simulated_premises_is_named(classifier, fault, issue_type):
    detector = WindowClassifierDetector(classifier, every_n_rounds=3, min_score=0.6)
    findings = run_rounds(detector, [fault], classifier.steps + 6)
    verdicts = [f for f in findings if f.present]
    assert verdicts and {f.type for f in verdicts} == {issue_type}
    evidence = verdicts[-1].evidence
    assert evidence["model"] == "connectivity-window" and evidence["model_version"] == "2.0.0"
    assert evidence["score"] >= 0.6


def test_the_classifier_runs_only_every_n_rounds(classifier):
    detector = WindowClassifierDetector(classifier, every_n_rounds=5, min_score=0.6)
    findings = run_rounds(detector, [], classifier.steps + 10)
    # A round closes when the next one's gateway sample arrives: 39 rounds closed, a full window from the 30th,
    # a verdict at the 30th and 35th.
    assert detector.rounds == classifier.steps + 9
    assert len(findings) == 2 * len(ISSUE_TYPES)


def test_an_unsure_verdict_says_nothing_either_way():
    verdict = {"label": "interference", "score": 0.4, "model": "m", "model_version": "1.0.0"}
    assert findings_for(verdict, 0.6, "ml.window", ISSUE_TYPES, "premises") == []


@pytest.mark.parametrize("interval", [1, 2, 10])
def test_the_window_spans_the_same_seconds_at_any_probe_interval(classifier, interval):
    """The first verdict waits until the rounds span the model's window (150 s: from the first round to the
    newest, which closes the last 5 s slot, 145 s), not for a count of rounds."""
    assert classifier.grid.window_s == 150
    short_of_the_span = math.ceil(145 / interval) + 1  # one round less closed spans < 145 s
    detector = WindowClassifierDetector(classifier, every_n_rounds=1, min_score=0.6)
    assert run_rounds(detector, [], short_of_the_span, interval=interval) == []
    detector = WindowClassifierDetector(classifier, every_n_rounds=1, min_score=0.6)
    findings = run_rounds(detector, [], short_of_the_span + 1, interval=interval)
    assert {f.type for f in findings} == set(ISSUE_TYPES.values())
    rows_times = [t for t, _ in detector.rows]
    assert rows_times[-1] - rows_times[0] < 150  # only the window's rounds are kept


def test_a_sustained_fault_probed_every_second_is_named(classifier):
    fault = FaultConfig(kind="dns_down", start_s=0, end_s=1000)
    detector = WindowClassifierDetector(classifier, every_n_rounds=5, min_score=0.6)
    verdicts = [f for f in run_rounds(detector, [fault], 170, interval=1) if f.present]
    assert verdicts and {f.type for f in verdicts} == {"ml_dns_trouble"}


def test_verdicts_are_informational_until_the_model_passes_its_independent_test(classifier, tmp_path):
    fault = FaultConfig(kind="dns_down", start_s=0, end_s=1000)
    assert classifier.model.metadata.metrics["independent_test"]["passed"] is False  # models/README.md says why
    detector = WindowClassifierDetector(classifier, every_n_rounds=3, min_score=0.6)
    assert {f.severity for f in run_rounds(detector, [fault], classifier.steps + 6)} == {Severity.INFO}
    model = copy_model(WINDOW_MODEL, tmp_path)
    edit_metadata(model, lambda meta: meta["metrics"]["independent_test"].update(passed=True))
    passed = load_window_classifier(model, select_runtime("tflite-runtime"))
    detector = WindowClassifierDetector(passed, every_n_rounds=3, min_score=0.6)
    assert {f.severity for f in run_rounds(detector, [fault], classifier.steps + 6)} == {Severity.WARNING}
