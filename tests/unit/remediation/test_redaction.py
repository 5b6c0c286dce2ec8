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


@pytest.mark.parametrize(("text", "kept"), [
    ("foo=password=hunter22", "foo=password=<redacted>"),  # a key that names no secret does not hide the next
    ("db.password: 'x' and api_key=abc", "db.password: <redacted> and api_key=<redacted>"),
    ("---password hunter22", "---password <redacted>"),
    ("see http://host/path and https://u:p@host/", "see http://host/path and https://<redacted>@host/"),
])
def test_keys_are_whole_words_wherever_they_sit(text, kept):
    assert redact(text) == kept


@pytest.mark.timeout(10)
@pytest.mark.parametrize("output", [
    "a" * 200_000,  # one long word: 16 KB of it took 24 s before
    "-" * 200_000,  # a separator line
    "a." * 100_000,
    "a-" * 100_000,
    "a+" * 100_000,
    'password="' + "a" * 200_000,
    "token=" * 30_000,
])
def test_redacting_a_long_output_takes_time_linear_in_its_length(output):
    assert len(short_output(output)) <= 200
