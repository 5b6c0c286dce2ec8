"""The demo's narration: one line per step of the loop, routine messages left out, and an honest summary."""

from edge_agent.fleet.narrate import Narrator


def event(topic: str, ts: float, **message) -> dict:
    return {"topic": topic, "message": {"ts": ts, "device_id": "gw", **message}}


def test_each_step_of_the_loop_gets_one_line_with_its_time_and_routine_samples_are_left_out():
    n = Narrator()
    radio = {"stream": "wifi.radio", "subject": "wlan0", "metrics": {"channel": 6, "busy_ratio": 0.1}}
    lines = [
        n.line(event("status", 100.0, state="online", reason="connected", session=1)),
        n.line(event("telemetry/wifi", 100.5, **radio)),
        n.line(event("telemetry/wifi", 101.0, **radio)),  # the same stream again: not narrated
        n.line(event("event/issue", 114.0, change="opened", issue_id="i1", type="wifi_interference",
                     subject="wlan0", severity="warning", summary="busy 0.7",
                     guidance="Move the access point. Then check again.")),
        n.line(event("event/issue", 114.0, change="remediating", issue_id="i1")),
        n.line(event("event/action", 114.1, name="switch_channel", target=None, outcome="attempted",
                     issue_type="wifi_interference", reason="", details={"switch": {"from_channel": 6,
                                                                                     "to_channel": 11}})),
        n.line(event("event/action", 120.0, name="switch_channel", target=None, outcome="fixed",
                     issue_type="wifi_interference", reason="", details={"time_to_fix_s": 6.0})),
    ]
    assert lines[0] == "     0.0 s  reported   gw is online (connected, session 1)"
    assert lines[1] == "     0.5 s  sampled    wifi.radio wlan0: channel 6, busy_ratio 0.1"
    assert lines[2] is None and lines[4] is None
    assert lines[3].startswith("    14.0 s  detected   wifi_interference on wlan0 (warning): busy 0.7\n")
    assert lines[3].endswith("a person would be told: Move the access point.")
    assert lines[5] == "    14.1 s  remediated switch_channel for wifi_interference: channel 6 → 11"
    assert lines[6] == "    20.0 s  verified   switch_channel fixed wifi_interference in 6 s"
    assert n.summary(invalid=0, duplicates=0) == (
        "summary: 1 issue detected, 1 fixed by the agent, mean time to fix 6 s, 0 escalated to a person; "
        "still open: wifi_interference. The fleet view received 7 messages (0 invalid, 0 duplicates).")


def test_a_simulated_agent_is_narrated_in_its_simulated_time_not_the_real_clock():
    n = Narrator()
    # At 40x: 10 simulated seconds pass in a quarter of a real one.
    n.line(event("status", 1000.0, sim_ts=5000.0, state="online", reason="connected", session=1))
    line = n.line(event("event/issue", 1000.25, sim_ts=5010.0, change="opened", issue_id="i1", type="dns_failure",
                        subject="192.168.1.1", severity="critical", summary="timeout", guidance=""))
    assert line.startswith("    10.0 s  detected   dns_failure")


def test_a_contract_v2_window_is_narrated_by_its_first_series_of_each_stream():
    n = Narrator()
    window = {"stream": "wifi", "window_s": 60.0, "series": [
        {"stream": "wifi.radio", "subject": "wlan0", "n": 12, "stats": {"busy_ratio": [0.1, 0.15, 0.2, 0.12, 12]},
         "values": {"ssid": "home"}},
        {"stream": "wifi.station", "subject": "aa:bb", "n": 12, "stats": {"signal_dbm": [-70, -66, -61, -65, 12]}},
    ]}
    first = n.line(event("telemetry/wifi", 100.0, **window))
    assert first == "     0.0 s  sampled    wifi.radio wlan0: ssid home, busy_ratio 0.12"
    assert n.line(event("telemetry/wifi", 160.0, **window)) is None  # the same stream again


def test_a_window_with_two_narrated_streams_puts_the_second_under_the_first():
    n = Narrator()
    window = {"stream": "connectivity", "window_s": 60.0, "series": [
        {"stream": "connectivity.gateway", "subject": "gw", "n": 12, "stats": {"rtt_ms": [1.0, 1.5, 2.0, 1.5, 12]}},
        {"stream": "connectivity.dns", "subject": "gw", "n": 12, "values": {"rcode": "NOERROR"}},
    ]}
    assert n.line(event("telemetry/connectivity", 100.0, **window)).split("\n") == [
        "     0.0 s  sampled    connectivity.gateway gw: rtt_ms 1.5",
        "            sampled    connectivity.dns gw: rcode NOERROR"]
