"""What of a command's line and output may go into event/action: short, secrets blanked."""

from __future__ import annotations

import pytest

from edge_agent.remediation.redaction import redact, redact_argv, secret_values, short_output


@pytest.mark.parametrize(("text", "kept"), [
    ("password=hunter22 ok", "password=<redacted> ok"),
    ("MQTT_PASSWORD: 'x y z'", "MQTT_PASSWORD: <redacted>"),
    ('{"token": "t0k3n", "n": 1}', '{"token": <redacted>, "n": 1}'),
    ("--api-key abc123 --verbose", "--api-key <redacted> --verbose"),
    ("--client-secret=abc123", "--client-secret=<redacted>"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9", "Authorization: <redacted> <redacted>"),
    ("mqtts://gw-1:pa55word@broker.example:8883", "mqtts://<redacted>@broker.example:8883"),
    ("Authentication failed for user admin", "Authentication failed for user admin"),
    ("Job for dnsmasq.service failed", "Job for dnsmasq.service failed"),
])
def test_anything_that_looks_like_a_credential_is_blanked_and_ordinary_errors_are_kept(text, kept):
    assert redact(text) == kept


def test_the_agents_own_secret_values_are_blanked_wherever_they_appear():
    environ = {"EDGE_AGENT_MQTT_PASSWORD": "s3cret-Pa55", "EDGE_AGENT_CONFIG": "/etc/edge-agent/agent.toml",
               "PATH": "/usr/bin"}
    assert secret_values(environ) == ["s3cret-Pa55"]
    assert redact("read s3cret-Pa55 from /etc/edge-agent/agent.toml", secret_values(environ)) == \
        "read <redacted> from /etc/edge-agent/agent.toml"


def test_output_is_redacted_before_it_is_cut_so_no_half_secret_survives():
    output = "password=" + "p" * 300
    assert short_output(output) == "password=<redacted>"
    long = "line\n" * 100 + "error: disk full"
    kept = short_output(long, limit=40)
    assert len(kept) == 40 and kept.endswith("error: disk full") and kept.startswith("…")


def test_a_command_line_is_one_redacted_string():
    assert redact_argv(["/usr/bin/modem", "--password", "hunter22", "reset"]) == \
        "/usr/bin/modem --password <redacted> reset"
