"""A real mosquitto beyond the bed's gateway, in its far "wan" namespace, and the fleet's recorder beside it.

The agent in the cpe namespace reaches the broker through the isp router, so the bed's faults on that hop (a
path-MTU black hole, a firewall dropping the port) hit the reporting path as they would at a site. The recorder is
a persistent QoS 1 subscriber in the wan namespace that writes every message it gets to a file, one JSON line
each with the time it arrived: the test process, outside every namespace, cannot reach the broker itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from netns import PremisesNetwork

from edge_agent.local_broker import mosquitto_binary

BROKER_PORT = 18883  # the wan namespace's own port space: no clash with any other broker on the machine

RECORDER = """
import json, sys, time
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
host, port, topic, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = open(path, "a", buffering=1)
def on_message(client, userdata, message):
    out.write(json.dumps({"at": time.time(), "topic": message.topic, "retain": bool(message.retain),
                          "payload": message.payload.decode(errors="replace")}) + "\\n")
def on_connect(client, userdata, flags, reason_code, properties):
    client.subscribe(topic, qos=1)
client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="fleet-recorder",
                     protocol=mqtt.MQTTv5)
client.on_message, client.on_connect = on_message, on_connect
properties = Properties(PacketTypes.CONNECT)
properties.SessionExpiryInterval = 3600
client.connect(host, port, clean_start=False, properties=properties)
client.loop_forever(retry_first_connection=True)
"""


class FarBroker:
    """mosquitto on the far end's address and BROKER_PORT, and the recorder; stopped by PID."""

    def __init__(self, bed: PremisesNetwork, workdir: Path):
        self.bed, self.workdir = bed, workdir
        self.host, self.port = bed.far_ip, BROKER_PORT
        self.recording = workdir / "received.jsonl"
        self.processes: list[subprocess.Popen] = []

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        binary = mosquitto_binary()
        assert binary is not None
        conf = self.workdir / "mosquitto.conf"
        # No limit on queued messages: the broker itself must not drop one, so every loss is the path's.
        conf.write_text(f"listener {self.port} {self.host}\nallow_anonymous true\npersistence false\n"
                        f"max_queued_messages 0\nlog_dest file {self.workdir / 'mosquitto.log'}\nlog_type all\n"
                        "user root\n")
        self._spawn(binary, "-c", str(conf))
        self._wait_listening()
        self._spawn(sys.executable, "-c", RECORDER, self.host, str(self.port), "edge/v1/#", str(self.recording))
        deadline = time.monotonic() + 10
        while "fleet-recorder" not in self.log():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the fleet's recorder did not connect to {self.endpoint}")
            time.sleep(0.05)

    def _spawn(self, *command: str) -> None:
        self.processes.append(subprocess.Popen(["ip", "netns", "exec", self.bed.wan, *command],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            listening = subprocess.run(["ip", "netns", "exec", self.bed.wan, "ss", "-lnt", f"sport = :{self.port}"],
                                       capture_output=True, text=True).stdout
            if self.host in listening:
                return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.endpoint}")

    def log(self) -> str:
        path = self.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def received(self, device_id: str) -> list[dict]:
        """What the fleet got from this device so far, in order: each with `at` (arrival), `topic`, `retain`
        and `body` (the decoded message)."""
        if not self.recording.exists():
            return []
        messages = []
        for line in self.recording.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # the line being written
            if record["topic"].startswith(f"edge/v1/{device_id}/"):
                messages.append({**record, "body": json.loads(record["payload"])})
        return messages

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=5)
