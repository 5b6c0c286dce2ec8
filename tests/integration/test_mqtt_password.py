"""Username and password instead of client certificates; the password comes from the environment."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from agent_process import Daemon, wait_for
from conftest import Broker, mosquitto_binary

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto_passwd") is None or mosquitto_binary() is None, reason="needs mosquitto (mosquitto_passwd)"
)

SECRET = "s3cret-Pa55-for-itest"


@pytest.fixture
def password_broker(short_tmp: Path):
    passwords = short_tmp / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "itest-gw", SECRET], check=True)
    subprocess.run(["mosquitto_passwd", "-b", str(passwords), "fleet", "fleet-pass"], check=True)
    broker = Broker(mosquitto_binary(), short_tmp, ["allow_anonymous false", f"password_file {passwords}",
                                                    "persistence false"], name="mosquitto-pw")
    broker.start()
    try:
        yield broker.port
    finally:
        broker.stop()


def retained_status(port: int) -> dict | None:
    got: list[dict] = []
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set("fleet", "fleet-pass")
    client.on_message = lambda c, u, msg: got.append(json.loads(msg.payload))
    client.connect("127.0.0.1", port)
    client.subscribe("edge/v1/itest-gw/status", qos=1)
    for _ in range(10):
        client.loop(timeout=0.1)
    client.disconnect()
    return got[-1] if got else None


def agent_with_password(short_tmp: Path, port: int, password: str) -> Daemon:
    extra = f'\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\nusername = "itest-gw"\n'
    daemon = Daemon(short_tmp, extra)
    daemon.extra_env = {"EDGE_AGENT_MQTT_PASSWORD": password}
    return daemon


def test_agent_logs_in_with_the_password_from_the_environment_and_never_logs_it(short_tmp, password_broker):
    daemon = agent_with_password(short_tmp, password_broker, SECRET)
    daemon.start()
    try:
        status = wait_for(lambda: retained_status(password_broker), timeout_s=15, what="the agent's online status")
        assert status["state"] == "online"
        config_check = daemon.cli("status", "--json")
        assert SECRET not in config_check.stdout
    finally:
        daemon.stop()
    assert SECRET not in daemon.log_text()


def test_a_wrong_password_is_logged_as_refused_and_the_agent_keeps_running(short_tmp, password_broker):
    daemon = agent_with_password(short_tmp, password_broker, "wrong-password")
    daemon.start()
    try:
        wait_for(lambda: "refused the connection" in daemon.log_text(), timeout_s=15, what="the refusal in the log")
        assert daemon.proc.poll() is None
        assert daemon.ask_json("status")["reporting"]["mqtt"]["connected"] is False
        assert retained_status(password_broker) is None
    finally:
        daemon.stop()
    assert "wrong-password" not in daemon.log_text()
