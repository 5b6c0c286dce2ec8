"""`edge-agent fleet cmd DEVICE COMMAND [ARGS]`: one request to one gateway, following its reply chain
(accepted | rejected → in_progress → succeeded | failed) until the end or a timeout."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from edge_agent.fleet.connection import BrokerOptions, fleet_client
from edge_agent.untrusted_json import FLEET_MESSAGE_BYTES, FLEET_MESSAGE_DEPTH, loads_untrusted

FINAL_STATES = frozenset({"rejected", "succeeded", "failed"})


def send_command(
    broker: BrokerOptions,
    device_id: str,
    command: str,
    args: dict[str, Any],
    prefix: str = "edge/v1",
    timeout_s: float = 30.0,
) -> Iterator[dict[str, Any]]:
    """Yield each reply of the chain; the request expires (MQTT v5) when its timeout does."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    request_id = uuid.uuid4().hex
    device = f"{prefix}/{device_id}"
    reply_topic = f"{device}/res/{request_id}"
    correlation = request_id.encode()
    replies: queue.SimpleQueue = queue.SimpleQueue()
    client = fleet_client(broker)

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        if getattr(message.properties, "CorrelationData", None) != correlation:
            return
        try:  # the device's reply: a broken or hostile one is shown as a failure, never a crash of this thread
            reply = loads_untrusted(bytes(message.payload), FLEET_MESSAGE_BYTES, FLEET_MESSAGE_DEPTH)
        except ValueError as exc:
            reply = f"unreadable reply: {exc}"
        if not isinstance(reply, dict) or not isinstance(reply.get("state"), str):
            reply = {"state": "failed", "reason": reply if isinstance(reply, str) else "reply is not a response"}
        replies.put(reply)

    subscribed = threading.Event()
    client.on_message = on_message
    client.on_subscribe = lambda c, u, mid, reason_codes, props: subscribed.set()
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        client.subscribe(reply_topic, qos=1)
        # The device may answer at once: listen before asking.
        if not subscribed.wait(timeout=min(5.0, timeout_s)):
            raise TimeoutError(f"the broker did not confirm the subscription to {reply_topic}")
        properties = Properties(PacketTypes.PUBLISH)
        properties.ResponseTopic = reply_topic
        properties.CorrelationData = correlation
        properties.MessageExpiryInterval = max(1, int(timeout_s))
        payload = {"request_id": request_id, "args": args, "expires_ts": time.time() + timeout_s}
        client.publish(f"{device}/cmd/{command}", json.dumps(payload), qos=1, properties=properties)
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                reply = replies.get(timeout=remaining)
            except queue.Empty:
                break
            yield reply
            if reply.get("state") in FINAL_STATES:
                return
        raise TimeoutError(f"no final reply from {device_id} within {timeout_s:g} s")
    finally:
        client.disconnect()
        client.loop_stop()


def render_reply(command: str, reply: dict[str, Any]) -> str:
    """One reply for a person: the state and reason, and a succeeded command's result laid out as the local CLI
    shows it (diagnose, get_issues) or as indented `key: value` lines. The device's text is made terminal-safe."""
    from edge_agent.output import terminal_safe

    state, reason = reply.get("state"), reply.get("reason", "")
    if state != "succeeded":
        return terminal_safe(f"{state}: {reason}" if reason else str(state))
    result = reply.get("result")
    try:
        body = _render_result(command, result)
    except (KeyError, TypeError, AttributeError, ValueError):
        body = _render_value(result)  # a reply not shaped as this agent's: still readable, never a traceback
    return terminal_safe(f"succeeded: {reason}\n{body}" if body else f"succeeded: {reason}")


def _render_result(command: str, result: Any) -> str:
    from edge_agent.views import render_diagnosis, render_issues

    if command == "diagnose":
        return render_diagnosis(result)
    if command == "get_issues":
        return render_issues(result)
    return _render_value(result)


def _render_value(value: Any, indent: str = "  ") -> str:
    """Nested JSON as indented `key: value` lines; a list item starts with '- '."""
    if isinstance(value, dict):
        if not value:
            return f"{indent}(empty)"
        lines = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{indent}{key}:")
                lines.append(_render_value(item, indent + "  "))
            else:
                lines.append(f"{indent}{key}: {_scalar(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return f"{indent}(none)"
        return "\n".join(f"{indent}- {_scalar(item)}" if not isinstance(item, dict | list) or not item
                         else f"{indent}-\n{_render_value(item, indent + '  ')}" for item in value)
    return "" if value is None else f"{indent}{_scalar(value)}"


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return "(empty)" if isinstance(value, dict) else "(none)"
    return str(value)
