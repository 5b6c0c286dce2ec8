"""Username and password instead of client certificates; the password comes from the environment."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
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


def non_loopback_address() -> str | None:
    """An address of this machine that is not loopback: where a broker 'on another machine' can be faked."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        fields = line.split()
        if "inet" in fields:
            return fields[fields.index("inet") + 1].split("/")[0]
    return None


class FirstBytes:
    """A TCP listener that records what the first client sends, and answers nothing."""

    def __init__(self, address: str):
        self.server = socket.create_server((address, 0))
        self.port = self.server.getsockname()[1]
        self.received = b""
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.server.settimeout(20)
        try:
            connection, _ = self.server.accept()
        except TimeoutError:
            return
        with connection:
            connection.settimeout(5)
            try:
                while len(self.received) < 4096 and (chunk := connection.recv(4096)):
                    self.received += chunk
            except TimeoutError:
                pass

    def close(self) -> None:
        self.server.close()


@pytest.mark.skipif(non_loopback_address() is None, reason="this machine has no non-loopback IPv4 address")
def test_a_password_to_a_broker_on_another_machine_goes_only_inside_tls_by_default(short_tmp):
    listener = FirstBytes(non_loopback_address())
    extra = f'\n[mqtt]\nenabled = true\nhost = "{non_loopback_address()}"\nport = {listener.port}\nusername = "gw"\n'
    daemon = Daemon(short_tmp, extra)
    daemon.extra_env = {"EDGE_AGENT_MQTT_PASSWORD": SECRET}
    daemon.start()
    try:
        wait_for(lambda: listener.received, timeout_s=20, what="the agent's first bytes")
        listener.thread.join(timeout=10)
    finally:
        daemon.stop()
        listener.close()
    assert listener.received[:1] == b"\x16"  # a TLS handshake record (a plaintext MQTT CONNECT starts with 0x10)
    assert SECRET.encode() not in listener.received


def test_the_agent_refuses_to_start_with_a_clear_text_password_to_another_machine(short_tmp):
    extra = '\n[mqtt]\nenabled = true\nhost = "192.0.2.99"\nport = 1883\ntls = false\nusername = "gw"\n'
    daemon = Daemon(short_tmp, extra)
    daemon.extra_env = {"EDGE_AGENT_MQTT_PASSWORD": SECRET}
    assert daemon.exit_status() == 78
    log = daemon.log_text()
    assert "clear text" in log and "192.0.2.99" in log and SECRET not in log
