"""One pass from samples to events: detector failures are contained, issues reach the reporter and remediation."""

from __future__ import annotations

from edge_agent.agent.pipeline import DETECTOR_MAX_BACKOFF_S, Pipeline
from edge_agent.issues import IssueTracker
from edge_agent.model import Action, ActionOutcome, Event, EventKind, Finding, Sample, Severity
from edge_agent.remediation import NoRemediation


def radio_sample(busy_ratio: float, mono: float = 0.0, subject: str = "wlan0") -> Sample:
    return Sample("wifi.radio", subject, {"busy_ratio": busy_ratio}, mono, 1_700_000_000.0 + mono)


class BusyChannelDetector:
    name = "test.busy"

    def evaluate(self, sample: Sample) -> list[Finding]:
        present = sample.metrics["busy_ratio"] > 0.6
        return [Finding("wifi_interference", sample.subject, present, Severity.WARNING, self.name)]


class BrokenDetector:
    name = "test.broken"

    def __init__(self, failures: int = 10**6):
        self.failures_left = failures
        self.called_at: list[float] = []

    def evaluate(self, sample: Sample) -> list[Finding]:
        self.called_at.append(sample.mono)
        if self.failures_left > 0:
            self.failures_left -= 1
            raise KeyError("busy_ratio_pct")
        return []


class RecordingRemediation:
    """Answers every issue event with one action, as a policy engine would."""

    def __init__(self) -> None:
        self.seen: list[Event] = []

    def on_issue_event(self, event: Event) -> list[Event]:
        self.seen.append(event)
        action = Action("a1", "switch_channel", "wlan0", ActionOutcome.ATTEMPTED, "busy channel", "auto", "auto",
                        issue_id=event.body["issue_id"])
        return [Event(EventKind.ACTION, "attempted", action.to_dict(), event.ts, event.mono)]


def make_pipeline(reporter, detectors, remediation=None) -> Pipeline:
    tracker = IssueTracker(open_after=1, resolve_after=1)
    return Pipeline(detectors, tracker, remediation or NoRemediation(), reporter)


def run_each_second(pipeline: Pipeline, seconds: int) -> None:
    for t in range(seconds):
        pipeline.process([radio_sample(0.1, mono=float(t))], mono=float(t), ts=1_700_000_000.0 + t)


def test_detector_that_raises_is_counted_in_detector_health(reporter):
    pipeline = make_pipeline(reporter, [BrokenDetector()])
    pipeline.process([radio_sample(0.9)], 0.0, 1_700_000_000.0)
    health = pipeline.detector_health["test.broken"]
    assert (health.runs, health.failures, health.last_error) == (1, 1, "KeyError: 'busy_ratio_pct'")


def test_other_detectors_still_produce_findings_when_one_raises(reporter):
    pipeline = make_pipeline(reporter, [BrokenDetector(), BusyChannelDetector()])
    events = pipeline.process([radio_sample(0.9)], 0.0, 1_700_000_000.0)
    assert [(e.change, e.body["type"]) for e in events] == [("opened", "wifi_interference")]


def test_failing_detector_is_skipped_until_its_backoff_has_passed(reporter):
    broken = BrokenDetector()
    pipeline = make_pipeline(reporter, [broken])
    run_each_second(pipeline, 11)
    # Backoff doubles from 2 s: tried at 0, then 0+2, then 2+4; the next try would be at 6+8.
    assert broken.called_at == [0.0, 2.0, 6.0]


def test_detector_backoff_is_capped(reporter):
    pipeline = make_pipeline(reporter, [BrokenDetector()])
    health = pipeline.detector_health["test.broken"]
    mono, backoffs = 0.0, []
    for _ in range(12):
        pipeline.process([radio_sample(0.1, mono)], mono, 1_700_000_000.0 + mono)
        backoffs.append(health.retry_at - mono)
        mono = health.retry_at
    assert max(backoffs) == DETECTOR_MAX_BACKOFF_S
    assert backoffs[-1] == DETECTOR_MAX_BACKOFF_S


def test_detector_that_recovers_is_run_every_time_again(reporter):
    broken = BrokenDetector(failures=1)
    pipeline = make_pipeline(reporter, [broken])
    run_each_second(pipeline, 6)
    assert broken.called_at == [0.0, 2.0, 3.0, 4.0, 5.0]
    assert pipeline.detector_health["test.broken"].consecutive_failures == 0


def test_every_sample_is_reported_as_telemetry_on_its_stream_family(reporter, recording_sink):
    pipeline = make_pipeline(reporter, [])
    pipeline.process([radio_sample(0.1), radio_sample(0.2, subject="wlan1")], 0.0, 1_700_000_000.0)
    assert recording_sink.topics() == ["telemetry/wifi", "telemetry/wifi"]


def test_issue_events_are_reported_durably(reporter, recording_sink):
    pipeline = make_pipeline(reporter, [BusyChannelDetector()])
    pipeline.process([radio_sample(0.9)], 0.0, 1_700_000_000.0)
    assert [(topic, durable) for topic, _, durable in recording_sink.published if topic.startswith("event/")] == [
        ("event/issue", True)]


def test_remediation_sees_issue_events_and_its_actions_are_reported(reporter, recording_sink):
    remediation = RecordingRemediation()
    pipeline = make_pipeline(reporter, [BusyChannelDetector()], remediation)
    events = pipeline.process([radio_sample(0.9)], 0.0, 1_700_000_000.0)
    assert [e.change for e in remediation.seen] == ["opened"]
    assert [e.kind for e in events] == [EventKind.ISSUE, EventKind.ACTION]
    assert "event/action" in recording_sink.topics()


def test_latest_samples_keep_the_newest_sample_per_stream_and_subject(reporter):
    pipeline = make_pipeline(reporter, [])
    pipeline.process([radio_sample(0.1, 0.0), radio_sample(0.3, 0.0, subject="wlan1")], 0.0, 1_700_000_000.0)
    pipeline.process([radio_sample(0.2, 1.0)], 1.0, 1_700_000_001.0)
    latest = pipeline.latest_samples()
    assert [(s["subject"], s["metrics"]["busy_ratio"]) for s in latest] == [("wlan0", 0.2), ("wlan1", 0.3)]


def test_replacing_detectors_keeps_the_health_of_those_that_stay(reporter):
    pipeline = make_pipeline(reporter, [BrokenDetector(), BusyChannelDetector()])
    pipeline.process([radio_sample(0.1)], 0.0, 1_700_000_000.0)
    pipeline.replace_detectors([BrokenDetector()])
    assert list(pipeline.detector_health) == ["test.broken"]
    assert pipeline.detector_health["test.broken"].failures == 1


class AdvisoryWindowModel:
    """An advisory model verdict about the whole premises, explained by the busy-channel rule's issues."""

    name = "test.model"
    explained_by = ("test.busy",)

    def evaluate(self, sample: Sample) -> list[Finding]:
        present = sample.metrics["busy_ratio"] > 0.4
        return [Finding("ml_interference", "premises", present, Severity.INFO, self.name, "model sees interference")]


def opened_types(pipeline: Pipeline, busy: list[float]) -> list[str]:
    opened = []
    for t, ratio in enumerate(busy):
        for event in pipeline.process([radio_sample(ratio, mono=float(t))], mono=float(t), ts=1_700_000_000.0 + t):
            if event.kind is EventKind.ISSUE and event.change == "opened":
                opened.append(event.body["type"])
    return opened


def test_an_advisory_verdict_is_held_back_while_a_rule_issue_explains_the_same_samples(reporter):
    pipeline = make_pipeline(reporter, [BusyChannelDetector(), AdvisoryWindowModel()])
    assert opened_types(pipeline, [0.1, 0.9, 0.9, 0.9]) == ["wifi_interference"]
    assert pipeline.detector_health["test.model"].held_back == 3


def test_an_advisory_verdict_with_no_rule_issue_open_is_still_raised(reporter):
    # Busy enough for the model, not for the rule: the model's early signal is what it is for.
    pipeline = make_pipeline(reporter, [BusyChannelDetector(), AdvisoryWindowModel()])
    assert opened_types(pipeline, [0.1, 0.5, 0.5]) == ["ml_interference"]
    assert pipeline.detector_health["test.model"].held_back == 0


def test_an_advisory_issue_already_open_is_not_hidden_when_a_rule_issue_opens_later(reporter):
    pipeline = make_pipeline(reporter, [BusyChannelDetector(), AdvisoryWindowModel()])
    assert opened_types(pipeline, [0.5, 0.9, 0.9]) == ["ml_interference", "wifi_interference"]
    assert {i.type for i in pipeline.tracker.active()} == {"ml_interference", "wifi_interference"}
