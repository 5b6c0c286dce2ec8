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
