"""`fleet cmd`'s readable form of a gateway's replies."""

from __future__ import annotations

from edge_agent.fleet.command import render_reply


def test_the_steps_of_the_chain_read_as_state_and_reason():
    assert render_reply("ping", {"state": "accepted", "reason": "checks passed"}) == "accepted: checks passed"
    assert render_reply("ping", {"state": "failed", "reason": "refused: off"}) == "failed: refused: off"


def test_a_result_reads_as_indented_key_value_lines_not_one_json_line():
    text = render_reply("ping", {"state": "succeeded", "reason": "done",
                                 "result": {"pong": True, "device_id": "gw-1", "uptime_s": 12.5,
                                            "nested": {"list": [1, {"a": None}]}}})
    assert text.splitlines() == ["succeeded: done", "  pong: yes", "  device_id: gw-1", "  uptime_s: 12.5",
                                 "  nested:", "    list:", "      - 1", "      -", "        a: -"]


def test_a_diagnosis_reads_as_the_local_diagnose_shows_it():
    result = {"samples": [{}, {}], "collector_failures": {}, "findings": [], "open_issues": [], "source": "agent"}
    text = render_reply("diagnose", {"state": "succeeded", "reason": "done", "result": result})
    assert text.splitlines()[1:] == ["2 samples taken now (agent)", "healthy: nothing wrong in these samples"]


def test_a_reply_not_shaped_as_expected_is_still_shown_and_made_terminal_safe():
    text = render_reply("diagnose", {"state": "succeeded", "reason": "done", "result": {"evil": "\x1b[2Jgone"}})
    assert "\x1b" not in text and "evil: " in text
