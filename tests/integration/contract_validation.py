"""Validate real messages against the published JSON Schemas in docs/schemas (what fleet managers rely on)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"

# topic suffix under edge/v1/<device>/ -> schema file
_BY_TOPIC = [
    ("status", "status"),
    ("meta", "meta"),
    ("telemetry/", "telemetry"),
    ("event/issue", "issue"),
    ("event/action", "action"),
    ("res/", "response"),
    ("ha/state", "ha_state"),
]


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{name}.json").read_text()))


def schema_for(topic: str) -> str:
    relative = topic.split("/", 3)[3]  # drop edge/v1/<device>/
    for prefix, name in _BY_TOPIC:
        if relative == prefix or (prefix.endswith("/") and relative.startswith(prefix)):
            return name
    raise AssertionError(f"no schema in the contract for topic {topic}")


def assert_valid(topic: str, body: dict) -> None:
    name = schema_for(topic)
    if name == "telemetry" and body.get("schema") == "edge.telemetry/2":
        name = "telemetry_v2"  # contract v2 telemetry shares the topic; the schema field tells them apart
    errors = sorted(validator(name).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors[:5])
        raise AssertionError(f"message on {topic} breaks the contract: {details}")
