#!/usr/bin/env python3
"""Write the MQTT contract from the code's own models: docs/schemas/*.json and docs/asyncapi.yaml.

Usage: .venv/bin/python scripts/gen_contract.py          # (re)write the files
       .venv/bin/python scripts/gen_contract.py --check  # exit 1 if the files differ from the models
The test suite runs the check, so the published contract cannot drift from the code.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from edge_agent import __version__
from edge_agent.reporting.commands import COMMAND_ARGS, MAX_COMMAND_BYTES, MAX_COMMAND_DEPTH
from edge_agent.reporting.contract import CONTRACT_MESSAGES, json_schema
from edge_agent.reporting.mqtt import MAX_INBOUND_PACKET_BYTES
from edge_agent.schema import json_schema as record_json_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "docs" / "schemas"
ASYNCAPI = ROOT / "docs" / "asyncapi.yaml"
DEVICE = "edge/v1/{device_id}"
MQTT_BINDING = "0.2.0"

DESCRIPTION = """\
What an edge-agent gateway publishes and accepts over MQTT v5. Every topic lives under
`edge/v1/{device_id}/` (the prefix `edge/v1` is configurable); the device id is also the MQTT client id
and, with mutual TLS, the certificate CN, so a broker ACL `pattern readwrite edge/v1/%u/#` confines each
device to its own subtree.

Every message the agent publishes carries the envelope: `schema` (name/major version), `id` (unique:
deduplicate on it, delivery is at least once), `device_id`, `site_id`, `agent_version`, `boot_id` and `seq`,
`ts` (wall clock, check `clock_synced`) and `mono_ms`.

Ordering, what a consumer may rely on: events, telemetry and command replies each take the next `seq` of
their boot and are committed to the device's durable outbox before they are sent, so within one `boot_id`
they are numbered without gaps, except telemetry the device dropped for lack of room (it counts those in
`telemetry/agent`); events are never dropped. Delivery is at least once and, after a reconnect, may repeat
or arrive out of order: deduplicate by `id`, order by (`boot_id`, `seq`). A new `boot_id` starts at 1 and
`boot_id`s are not ordered among themselves: use `ts` (when `clock_synced`) or arrival order across boots.
Presence (`status`, `meta`, the Last Will) takes no number of its own: it carries the last `seq` taken
before it was built (0 before any), so reconnects leave no gaps; order presence by `session`.

Telemetry, contract v2 (the default; `[reporting] contract`): the agent samples fast and reports slow. Each
`telemetry/{stream}` message (schema `edge.telemetry/2`) is one report window of one stream family
(`[reporting] report_interval_s`, 120 s by default, per family in `[reporting.streams.<family>]`) with every
subject in it under one envelope: per numeric field [min, mean, max, last, count], a histogram for latency
fields, text fields by their last value. A field is sent only when it moved beyond its deadband (`[reporting]
deadbands`) since it was last sent, or when its heartbeat (`heartbeat_s`, 900 s) is due: a field left out
still holds its last value. `n: 0` says a subject stopped reporting (silent for two heartbeats). A window with
nothing to say sends nothing. Events (`event/issue`, `event/action`) and command replies are never batched or
delayed. Compatibility: v1 telemetry (`edge.telemetry/1`, one message per sample, on the same topics) is still
sent by an agent configured with `contract = "v1"`: keep that setting until every consumer reads v2. A
consumer should dispatch telemetry on the `schema` field (a fleet of mixed agents sends both); `edge-agent
fleet watch` reads both, and `edge_agent.reporting.telemetry_records` turns either into the same per-subject
records. Nothing else changed: every other message is the same in v1 and v2.

Issues: `event/issue` says `opened` once per issue. A fault that clears and comes back within the agent's
hold-down (`[issues] hold_down_s`, 30 s) is the same issue reopened: an `updated` event with state `open`
and `evidence.intermittent` (drops, since_ts, hold_down_s); it resolves once the fault stays away. Related
symptoms of one cause are one issue (`evidence.symptoms`, `evidence.related`). `ip_conflict` means two
devices answered ARP for the gateway's address at once.

Presence: `status` is retained; `online` after every connect, `offline` with reason `shutdown` on a clean
stop, and the same `offline` with reason `connection lost` as the Last Will. `session` grows with every
connect: ignore a will whose session is lower than the latest online status.

Commands: publish `{"request_id": ..., "args": {...}}` to `cmd/{name}` with QoS 1, not retained, optionally
with the MQTT v5 Response Topic (under the device's own `res/`), Correlation Data (at most 256 bytes are
echoed) and Message Expiry Interval. Replies follow on `res/{request_id}` (or the Response Topic):
`accepted` or `rejected` (with a reason), then `in_progress`, then `succeeded` (with a result) or `failed`.
Requests above {max_bytes} bytes, nested deeper than {max_depth} levels, with NaN/Infinity or out-of-range
numbers, malformed JSON, unknown commands or fields, a request id seen before (ids are remembered across
restarts until the request expires, or for a day without `expires_ts`), a non-finite or past `expires_ts`
are rejected with a reason. Retained commands are never executed (the agent subscribes with Retain Handling
2 and ignores a retained one). Commands are rate limited per command and overall, and only one `diagnose`
runs at a time: a request past a limit is rejected with the time to retry; under a flood, rejections are
answered within a budget and the rest counted, not answered. The agent's CONNECT sets Maximum Packet Size
to {max_packet} bytes: larger messages are never delivered to it.

Authority: `remediate` is off by default; an operator enables it in the agent's `[commands] allowed` and names
the actions the cloud may run, and their mode, in `[remediation.authority.cloud]`. Targets must be listed in
the agent's `[remediation.targets]`. A refused request ends `failed` with `refused: <reason>` and is also
published as an `event/action` with outcome `skipped`, origin `cloud` and the reason. `diagnose` is read-only:
it reports what is wrong without opening or resolving issues, so it never triggers remediation. Broker ACL:
each device may write only under its own `edge/v1/%u/` (status, meta, event/#, telemetry/#, res/#, ha/#) and
read its own `cmd/#`; only the fleet's account may write `edge/v1/+/cmd/#`.
""".replace("{max_bytes}", str(MAX_COMMAND_BYTES)).replace("{max_depth}", str(MAX_COMMAND_DEPTH)).replace(
    "{max_packet}", str(MAX_INBOUND_PACKET_BYTES))

# name: (address under the device, direction, qos, retain, summary)
CHANNELS: dict[str, tuple[str, str, int, bool, str]] = {
    "status": ("status", "send", 1, True, "Presence; also the Last Will (offline, connection lost)."),
    "meta": ("meta", "send", 1, True, "The device card, at every connect."),
    "telemetry": ("telemetry/{stream}", "send", 0, False,
                  "Metric report windows (v2) or single samples (v1); may be dropped before any event."),
    "issue": ("event/issue", "send", 1, False, "An issue opened, changed or resolved."),
    "action": ("event/action", "send", 1, False, "A remediation step and its outcome."),
    "command": ("cmd/{name}", "receive", 1, False, "A request from the cloud."),
    "response": ("res/{request_id}", "send", 1, False, "Progress and result of a command."),
    "ha_state": ("ha/state", "send", 0, True, "Opt-in: the state Home Assistant's discovered entities read."),
}

# Channels that carry more than their own message: the consumer tells them apart by the `schema` field.
MORE_MESSAGES: dict[str, list[str]] = {"telemetry": ["telemetry_v2"]}
SUMMARIES = {"telemetry_v2": "Contract v2: one report window of a stream family, every subject in one message."}

PARAMETERS = {
    "device_id": "The gateway's id: MQTT client id and certificate CN.",
    "stream": "First part of the sample's stream: wifi, connectivity, system, interface.",
    "name": f"The command: {', '.join(sorted(COMMAND_ARGS))}.",
    "request_id": "The request_id of the command being answered.",
}


def standalone_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema (2020-12), one per payload and one per command's args."""
    schemas = {f"{name}.json": json_schema(model) for name, model in CONTRACT_MESSAGES.items()}
    for command, model in COMMAND_ARGS.items():
        schema = json_schema(model)
        schema["title"] = f"{command} args"
        schemas[f"cmd-{command}-args.json"] = schema
    return schemas


def component_schemas() -> dict[str, Any]:
    """All payload schemas with shared definitions hoisted to components.schemas (refs rewritten)."""
    components: dict[str, Any] = {}
    for name, model in CONTRACT_MESSAGES.items():
        schema = model.model_json_schema(
            by_alias=True, mode="serialization", ref_template="#/components/schemas/{model}"
        )
        components.update(schema.pop("$defs", {}))
        components[name] = schema
    for command, model in COMMAND_ARGS.items():
        components[f"{command}_args"] = record_json_schema(model)
    return components


def asyncapi_document() -> dict[str, Any]:
    channels, operations, messages = {}, {}, {}
    for name, (address, action, qos, retain, summary) in CHANNELS.items():
        full = f"{DEVICE}/{address}"
        params = [p for p in PARAMETERS if "{" + p + "}" in full]
        carried = [name, *MORE_MESSAGES.get(name, [])]
        channels[name] = {
            "address": full,
            "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in carried},
            "parameters": {p: {"description": PARAMETERS[p]} for p in params},
        }
        for message in carried:
            messages[message] = {
                "name": message,
                "title": CONTRACT_MESSAGES[message].__name__,
                "summary": SUMMARIES.get(message, summary),
                "contentType": "application/json",
                "payload": {"$ref": f"#/components/schemas/{message}"},
            }
        operation = {
            "action": action,
            "channel": {"$ref": f"#/channels/{name}"},
            "summary": summary,
            "bindings": {"mqtt": {"qos": qos, "retain": retain, "bindingVersion": MQTT_BINDING}},
        }
        if name == "command":
            operation["reply"] = {"channel": {"$ref": "#/channels/response"}}
        operations[f"{action}_{name}"] = operation
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "edge-agent MQTT contract",
            "version": "2.0.0",
            "description": DESCRIPTION,
            "x-agent-version": __version__,
        },
        "defaultContentType": "application/json",
        "servers": {
            "broker": {
                "host": "broker.example.net:8883",
                "protocol": "secure-mqtt",
                "protocolVersion": "5",
                "description": "The operator's broker; mutual TLS, one certificate per device.",
                "bindings": {
                    "mqtt": {
                        "cleanSession": False,
                        "keepAlive": 60,
                        "sessionExpiryInterval": 86400,
                        "lastWill": {"topic": f"{DEVICE}/status", "qos": 1, "retain": True,
                                     "message": "an offline status message with reason 'connection lost'"},
                        "bindingVersion": MQTT_BINDING,
                    }
                },
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": component_schemas()},
    }


class _ContractDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so the description reads as written."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ContractDumper.add_representer(str, _represent_str)


def rendered() -> dict[Path, str]:
    files = {SCHEMA_DIR / name: json.dumps(schema, indent=2) + "\n" for name, schema in standalone_schemas().items()}
    header = "# Generated by scripts/gen_contract.py from edge_agent/reporting/contract.py: do not edit by hand.\n"
    files[ASYNCAPI] = header + yaml.dump(
        asyncapi_document(), Dumper=_ContractDumper, sort_keys=False, width=110, allow_unicode=True
    )
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the files on disk differ from the models")
    args = parser.parse_args()
    files = rendered()
    if args.check:
        stale = [str(p.relative_to(ROOT)) for p, text in files.items() if not p.exists() or p.read_text() != text]
        extra = sorted(str(p.relative_to(ROOT)) for p in SCHEMA_DIR.glob("*.json") if p not in files)
        if stale or extra:
            print(f"contract out of date: {', '.join(stale + extra)}; run scripts/gen_contract.py", file=sys.stderr)
            return 1
        return 0
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text)
    print(f"wrote {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
