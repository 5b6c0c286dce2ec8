"""The reporting path's health: reconnect storms, stalls, long outages and resent messages make it degraded;
a blip does not, and the verdict heals once the window has passed."""

from __future__ import annotations

from edge_agent.detectors.reporting_path import ReportingPathRules
from edge_agent.model import Sample
from edge_agent.reporting.path_health import (
    MAX_EVENTS,
    PathHealthMonitor,
    broker_path_back,
    uplink_reachability,
)


def connected_monitor(now: float = 0.0) -> PathHealthMonitor:
    monitor = PathHealthMonitor()
    monitor.started(now)
    monitor.connected(now + 1)
    return monitor


def test_a_healthy_session_is_not_degraded_and_reports_what_it_wrote():
    monitor = connected_monitor()
    for t in range(2, 200):
        monitor.wrote(float(t), 3)
        monitor.unacknowledged_since(float(t), float(t) - 0.2)
    verdict = monitor.verdict(200.0)
    assert not verdict.degraded and verdict.reasons == ()
    assert verdict.metrics["written"] == 3 * 198 and verdict.metrics["connection_losses"] == 0


def test_one_lost_connection_is_a_blip_three_are_a_storm():
    monitor = connected_monitor()
    monitor.connection_lost(10.0, unconfirmed=0)
    monitor.connected(12.0)
    assert not monitor.verdict(13.0).degraded
    for t in (40.0, 80.0):
        monitor.connection_lost(t, unconfirmed=0)
        monitor.connected(t + 2)
    verdict = monitor.verdict(90.0)
    assert verdict.degraded and "3 lost connections" in verdict.reasons[0]
    assert not monitor.verdict(90.0 + monitor.window_s).degraded  # the storm has left the window


def test_failed_attempts_while_off_the_broker_are_not_more_losses():
    monitor = connected_monitor()
    monitor.connection_lost(10.0, unconfirmed=4)
    for t in range(11, 20):
        monitor.connection_lost(float(t), unconfirmed=0)  # the thread reports each failed attempt too
    assert monitor.total_losses == 1 and monitor.total_resent == 4


def test_a_message_waiting_past_the_stall_bound_is_a_stalled_session_even_while_connected():
    monitor = connected_monitor()
    monitor.unacknowledged_since(20.0, 5.0)
    assert not monitor.verdict(20.0).degraded
    monitor.unacknowledged_since(40.0, 5.0)
    verdict = monitor.verdict(40.0)
    assert verdict.degraded and "not acknowledged a message for 35 s" in verdict.reasons[0]
    monitor.unacknowledged_since(41.0, None)  # the PUBACK came: still remembered as a stall in the window
    assert monitor.verdict(41.0).reasons == ("1 stalled sessions in 5 min",)
    assert monitor.total_stalls == 1


def test_a_long_outage_is_degraded_from_the_start_too():
    monitor = PathHealthMonitor()
    monitor.started(0.0)  # never reached the broker
    assert not monitor.verdict(60.0).degraded
    verdict = monitor.verdict(monitor.offline_s + 1)
    assert verdict.degraded and verdict.metrics["offline_s"] == monitor.offline_s + 1


def test_a_high_share_of_resent_messages_is_degraded_but_a_small_sample_is_not_judged():
    monitor = connected_monitor()
    monitor.wrote(5.0, 10)
    monitor.connection_lost(6.0, unconfirmed=8)
    monitor.connected(7.0)
    assert not monitor.verdict(8.0).degraded  # 10 messages are too few to judge a share
    monitor.wrote(9.0, 90)
    assert not monitor.verdict(10.0).degraded  # 8 of 100 resent is within bounds
    monitor.connection_lost(11.0, unconfirmed=30)
    monitor.connected(12.0)
    assert any("38 of 100 messages" in r for r in monitor.verdict(13.0).reasons)


def test_a_flood_of_events_stays_within_the_memory_bound():
    monitor = connected_monitor()
    for t in range(10 * MAX_EVENTS):
        monitor.connection_lost(float(t), unconfirmed=1)
        monitor.connected(float(t) + 0.5)
        monitor.wrote(float(t), 1)
    assert len(monitor._losses) == MAX_EVENTS and len(monitor._written) <= MAX_EVENTS
    assert monitor.total_losses == 10 * MAX_EVENTS


def uplink(endpoint: str, ok: bool) -> Sample:
    return Sample("connectivity.uplink", endpoint, {"ok": ok, "connect_ms": 3.0, "error": None}, 0.0, 0.0)


def test_the_broker_path_is_back_when_its_own_endpoint_answers_again():
    broker = "mqtt.example:8883"
    down = uplink_reachability([uplink(broker, False), uplink("example.com:443", True)])
    up = uplink_reachability([uplink(broker, True), uplink("example.com:443", True)])
    assert broker_path_back(down, up, broker)
    assert not broker_path_back(up, up, broker)  # it never went away
    assert not broker_path_back({}, up, broker)  # no earlier round: nothing came back


def test_without_the_broker_among_the_endpoints_the_uplink_as_a_whole_decides():
    broker = "mqtt.example:8883"
    none = uplink_reachability([uplink("a:443", False), uplink("b:443", False)])
    some = uplink_reachability([uplink("a:443", False), uplink("b:443", True)])
    assert broker_path_back(none, some, broker)
    assert not broker_path_back(some, some, broker)
    assert uplink_reachability([Sample("connectivity.dns", "x", {"ok": True}, 0.0, 0.0)]) == {}


def agent_sample(**metrics) -> Sample:
    return Sample("agent", "gw", metrics, 0.0, 0.0)


def test_the_rule_opens_reporting_degraded_with_the_reasons_and_stays_silent_without_mqtt():
    rules = ReportingPathRules()
    assert rules.evaluate(agent_sample(open_issues=0)) == []  # MQTT off: no metric, no verdict
    finding, = rules.evaluate(agent_sample(reporting_degraded=1, reporting_reasons="3 lost connections in 5 min",
                                           reporting_broker="broker:8883", reporting_connection_losses=3))
    assert finding.present and finding.subject == "broker:8883" and "3 lost connections" in finding.summary
    assert finding.evidence["reporting_connection_losses"] == 3
    healthy, = rules.evaluate(agent_sample(reporting_degraded=0, reporting_broker="broker:8883"))
    assert not healthy.present and healthy.key == finding.key
