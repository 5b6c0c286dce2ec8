"""Cloud commands over a real mosquitto: request/response with MQTT v5 properties, and every kind of refusal."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from fleet_client import DEVICE, request


def test_ping_goes_accepted_in_progress_succeeded_on_the_response_topic_with_correlation(fleet):
    client, _ = fleet
    client.send("ping", request("req-1"), response_topic=f"{DEVICE}/res/inbox-7", correlation=b"\x01corr")
    replies = client.replies_until({"succeeded", "failed"})
    assert [body["state"] for _, body, _ in replies] == ["accepted", "in_progress", "succeeded"]
    assert {topic for topic, _, _ in replies} == {f"{DEVICE}/res/inbox-7"}
    assert {correlation for _, _, correlation in replies} == {b"\x01corr"}
    result = replies[-1][1]["result"]
    assert result["pong"] is True and result["device_id"] == "itest-gw"
    assert all(body["request_id"] == "req-1" and body["schema"] == "edge.response/1" for _, body, _ in replies)


def test_get_issues_and_set_log_level_answer_on_the_default_reply_topic(fleet):
    client, _ = fleet
    client.send("get_issues", request("issues-1", args={"state": "open"}))
    topic, body, _ = client.replies_until({"succeeded", "failed"})[-1]
    assert topic == f"{DEVICE}/res/issues-1" and body["state"] == "succeeded"
    assert isinstance(body["result"], list)

    client.send("set_log_level", request("level-1", args={"level": "debug"}))
    _, body, _ = client.replies_until({"succeeded", "failed"})[-1]
    assert body["result"] == {"level": "debug"}


def test_diagnose_returns_samples_from_every_collector(fleet):
    client, _ = fleet
    client.send("diagnose", request("diag-1"))
    _, body, _ = client.replies_until({"succeeded", "failed"})[-1]
    assert body["state"] == "succeeded"
    streams = {s["stream"] for s in body["result"]["samples"]}
    assert {"system", "wifi.radio", "connectivity.gateway", "connectivity.dns"} <= streams


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("ping", b"{not json", "not JSON"),
        ("ping", b"[1, 2]", "must be a JSON object"),
        ("ping", json.dumps({"args": {}}).encode(), "request_id"),
        ("reboot", request("r-unknown"), "unknown command"),
        ("set_log_level", request("r-badarg", args={"level": "loud"}), "invalid args: level"),
        ("get_issues", request("r-extra", args={}, colour="red"), "unknown fields: colour"),
        ("ping", request("r-expired", expires_ts=1.0), "expired"),
        ("ping", b'{"request_id": "big", "args": {"x": "' + b"a" * 70_000 + b'"}}', "exceeds"),
    ],
)
def test_malformed_or_forbidden_commands_are_rejected_with_a_reason(fleet, name, payload, reason):
    client, daemon = fleet
    client.send(name, payload)
    _, body, _ = client.replies_until({"rejected", "succeeded", "failed"})[-1]
    assert body["state"] == "rejected"
    assert reason in body["reason"]
    assert daemon.proc.poll() is None  # still running


def test_a_repeated_request_id_is_rejected_and_not_run_twice(fleet):
    client, _ = fleet
    client.send("ping", request("once"))
    assert client.replies_until({"succeeded"})[-1][1]["state"] == "succeeded"
    client.send("ping", request("once"))
    _, body, _ = client.replies_until({"rejected", "succeeded"})[-1]
    assert body["state"] == "rejected" and "duplicate" in body["reason"]


def test_a_command_sent_while_the_agent_is_stopped_is_answered_when_it_returns(fleet):
    client, daemon = fleet
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=5) == 0

    # The agent's persistent session (clean start off, session expiry) makes the broker keep this for it.
    client.send("ping", request("while-away"))
    daemon.start()
    replies = client.replies_until({"succeeded", "failed"}, timeout_s=20)
    assert [body["state"] for _, body, _ in replies] == ["accepted", "in_progress", "succeeded"]
    assert replies[-1][1]["request_id"] == "while-away"


def test_fleet_cmd_follows_the_reply_chain_to_the_result(fleet, mosquitto):
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent", "fleet", "cmd", "itest-gw", "get_issues", "state=open",
         "--broker", f"{mosquitto.host}:{mosquitto.port}", "--timeout", "15"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "accepted: checks passed" and lines[1] == "in_progress: running"
    # Readable by default: the issues as the local `edge-agent issues` shows them (--json gives the raw replies).
    assert lines[2] == "succeeded: done"
    assert lines[3].split()[:3] == ["STATE", "SEVERITY", "TYPE"] or lines[3] == "no issues"


def test_fleet_cmd_shows_a_rejection_and_exits_nonzero(fleet, mosquitto):
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent", "fleet", "cmd", "itest-gw", "set_log_level", "level=loud",
         "--broker", f"{mosquitto.host}:{mosquitto.port}", "--timeout", "15"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 1
    assert result.stdout.startswith("rejected: invalid args: level")


def test_cloud_remediate_runs_through_the_engine_and_is_audited(fleet):
    client, daemon = fleet
    client.send("remediate", request("fix-1", args={"action": "restart_service:dnsmasq"}))
    _, body, _ = client.replies_until({"succeeded", "failed"})[-1]
    assert body["state"] == "succeeded" and body["result"]["state"] == "running"
    action_id = body["result"]["action_id"]
    entries = daemon.ask_json("actions", "--limit", "0")["entries"]
    mine = [e for e in entries if e["action_id"] == action_id]
    assert [e["outcome"] for e in mine] == ["completed"] and mine[0]["origin"] == "cloud"


def test_cloud_remediate_dry_run_changes_nothing(fleet):
    client, daemon = fleet
    client.send("remediate", request("dry-1", args={"action": "restart_service:dnsmasq", "dry_run": True}))
    _, body, _ = client.replies_until({"succeeded", "failed"})[-1]
    assert body["result"]["dry_run"] is True and "restarts the service dnsmasq" in body["result"]["would"]
    # The agent's own decisions on the scripted interference may be audited meanwhile: look at the cloud's.
    entries = [e for e in daemon.ask_json("actions", "--limit", "0")["entries"] if e["origin"] == "cloud"]
    assert [(e["name"], e["target"], e["outcome"]) for e in entries] == [("restart_service", "dnsmasq", "skipped")]


def test_the_cloud_cannot_bypass_the_safety_limits(fleet):
    client, daemon = fleet
    client.send("remediate", request("first", args={"action": "restart_service:hostapd"}))
    assert client.replies_until({"succeeded", "failed"})[-1][1]["state"] == "succeeded"
    # A second disruptive action straight after: the default minimum gap (600 s) refuses it, and says so.
    client.send("remediate", request("second", args={"action": "restart_service:dnsmasq"}))
    _, body, _ = client.replies_until({"succeeded", "failed"})[-1]
    assert body["state"] == "failed"
    assert body["reason"].startswith("refused: disruptive actions at least 600 s apart; allowed again in")
    cloud = [e for e in daemon.ask_json("actions", "--limit", "0")["entries"] if e["origin"] == "cloud"]
    assert [(e["target"], e["outcome"]) for e in cloud] == [("hostapd", "completed"), ("dnsmasq", "skipped")]


@pytest.mark.parametrize(("args", "reason"), [
    ({}, "name an action, or an issue_id"),
    ({"action": "restart_service:dnsmasq; reboot"}, "invalid args: action"),
    ({"issue_id": "not-an-id"}, "invalid args: issue_id"),
])
def test_bad_remediate_arguments_are_rejected(fleet, args, reason):
    client, _ = fleet
    client.send("remediate", request(args=args))
    _, body, _ = client.replies_until({"rejected", "succeeded", "failed"})[-1]
    assert body["state"] == "rejected" and reason in body["reason"]


def test_fleet_cmd_to_a_device_that_never_answers_says_how_to_see_who_is_online(mosquitto):
    cli = subprocess.run(
        [sys.executable, "-m", "edge_agent", "fleet", "cmd", "no-such-gw", "ping",
         "--broker", f"{mosquitto.host}:{mosquitto.port}", "--timeout", "1"],
        capture_output=True, text=True, timeout=30)
    assert cli.returncode == 69
    assert "no final reply from no-such-gw within 1 s" in cli.stderr
    assert f"edge-agent fleet watch --broker {mosquitto.host}:{mosquitto.port}" in cli.stderr
