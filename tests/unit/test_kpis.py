"""KPIs counted from the reported events."""

from edge_agent.kpis import KpiCounter, flat_kpis


def issue(change: str, issue_id: str, severity: str) -> dict:
    return {"change": change, "issue_id": issue_id, "severity": severity}


def test_kpis_tell_degradations_caught_early_from_outages_and_count_actions():
    kpis = KpiCounter()
    for topic, message in [
        ("event/issue", issue("opened", "a", "warning")),  # a degradation, fixed before it got worse
        ("event/action", {"name": "switch_channel", "outcome": "attempted", "issue_id": "a"}),
        ("event/action", {"name": "switch_channel", "outcome": "fixed", "issue_id": "a"}),
        ("event/issue", issue("resolved", "a", "warning")),
        ("event/issue", issue("opened", "b", "warning")),  # got worse before it cleared
        ("event/issue", issue("updated", "b", "critical")),
        ("event/issue", issue("resolved", "b", "warning")),
        ("event/issue", issue("opened", "c", "critical")),
        ("event/issue", issue("escalated", "c", "critical")),
        ("telemetry/system", {"stream": "system"}),
    ]:
        kpis.publish(topic, message, durable=True)
    snapshot = kpis.snapshot(flaps_prevented=4)
    assert snapshot == {"detected": 3, "resolved": 2, "auto_resolved": 1, "resolved_before_outage": 1,
                        "escalated": 1, "flaps_prevented": 4,
                        "actions": {"switch_channel": {"attempted": 1, "fixed": 1}}}
    flat = flat_kpis(snapshot)
    assert flat["kpi_action_switch_channel_fixed"] == 1 and flat["kpi_detected"] == 3
    assert all(isinstance(v, int) for v in flat.values())
