"""Mutual TLS with per-device certificates, and a broker ACL that confines each device to its own subtree."""

from __future__ import annotations

import json
import queue
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from agent_process import Daemon
from conftest import Broker, mosquitto_binary
from contract_validation import assert_valid
from pki import Pki

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None or mosquitto_binary() is None,
    reason="needs openssl and mosquitto (scripts/test.sh installs mosquitto when run as root)",
)


@pytest.fixture
def tls_broker(short_tmp: Path):
    pki = Pki(short_tmp / "pki")
    acl = short_tmp / "acl"
    # Devices: only their own subtree. The fleet: read everything under edge/v1, send commands.
    acl.write_text("user fleet\ntopic read edge/v1/#\ntopic write edge/v1/+/cmd/#\n\n"
                   "pattern readwrite edge/v1/%u/#\n")
    broker = Broker(mosquitto_binary(), short_tmp, [
        f"cafile {pki.ca_cert}", f"certfile {pki.server_cert}", f"keyfile {pki.server_key}",
        "require_certificate true", "use_identity_as_username true", f"acl_file {acl}", "persistence false",
    ], name="mosquitto-tls")
    broker.start()
    try:
        yield pki, broker.port
    finally:
        broker.stop()


def tls_client(pki: Pki, common_name: str, port: int) -> mqtt.Client:
    cert, key = pki.issue(common_name)
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=common_name,
                         protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(pki.ca_cert), certfile=str(cert), keyfile=str(key))
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def test_agent_reports_over_mutual_tls_and_cannot_write_into_another_devices_subtree(short_tmp, tls_broker):
    pki, port = tls_broker
    received: queue.Queue = queue.Queue()
    fleet = tls_client(pki, "fleet", port)
    fleet.on_message = lambda c, u, msg: received.put((msg.topic, json.loads(msg.payload)))
    fleet.subscribe("edge/v1/#", qos=1)

    cert, key = pki.issue("itest-gw")
    extra = (f'\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
             f'ca_file = "{pki.ca_cert}"\ncert_file = "{cert}"\nkey_file = "{key}"\n')
    daemon = Daemon(short_tmp, extra)
    daemon.start()
    try:
        deadline = time.monotonic() + 20
        while True:
            topic, body = received.get(timeout=max(0.1, deadline - time.monotonic()))
            assert_valid(topic, body)
            if topic == "edge/v1/itest-gw/status" and body["state"] == "online":
                break
    finally:
        daemon.stop()

    # A device (here: a client holding itest-gw's certificate) publishing into gw-other's subtree.
    intruder = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="itest-gw",
                           protocol=mqtt.MQTTv5)
    intruder.tls_set(ca_certs=str(pki.ca_cert), certfile=str(cert), keyfile=str(key))
    acks: queue.Queue = queue.Queue()
    intruder.on_publish = lambda c, u, mid, reason_code, props: acks.put(reason_code)
    intruder.connect("127.0.0.1", port)
    intruder.loop_start()
    try:
        intruder.publish("edge/v1/gw-other/event/issue", b'{"forged": true}', qos=1)
        reason = acks.get(timeout=5)
        assert reason.is_failure and reason.value == 0x87  # Not authorized
        intruder.publish("edge/v1/itest-gw/event/issue", b'{"own": true}', qos=1)
        assert not acks.get(timeout=5).is_failure  # its own subtree is fine
    finally:
        intruder.disconnect()
        intruder.loop_stop()

    time.sleep(0.5)  # give the broker time to deliver, were it to deliver the forged message
    seen = []
    while not received.empty():
        seen.append(received.get_nowait()[0])
    assert "edge/v1/gw-other/event/issue" not in seen
    assert "edge/v1/itest-gw/event/issue" in seen
    fleet.disconnect()
    fleet.loop_stop()


def test_a_client_without_a_certificate_is_refused(tls_broker):
    pki, port = tls_broker
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(pki.ca_cert))
    try:
        client.connect("127.0.0.1", port)
        for _ in range(20):
            client.loop(timeout=0.1)
    except (ssl.SSLError, OSError):
        pass  # the handshake fails: the broker demands a client certificate
    assert not client.is_connected()


def test_fleet_cmd_reaches_the_agent_over_mutual_tls(short_tmp, tls_broker):
    pki, port = tls_broker
    cert, key = pki.issue("itest-gw")
    extra = (f'\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
             f'ca_file = "{pki.ca_cert}"\ncert_file = "{cert}"\nkey_file = "{key}"\n')
    daemon = Daemon(short_tmp, extra)
    daemon.start()
    fleet_cert, fleet_key = pki.issue("fleet")
    try:
        daemon.wait_notify("READY=1", timeout_s=15)
        result = subprocess.run(
            [sys.executable, "-m", "edge_agent", "fleet", "cmd", "itest-gw", "ping", "--broker", f"127.0.0.1:{port}",
             "--ca-file", str(pki.ca_cert), "--cert-file", str(fleet_cert), "--key-file", str(fleet_key),
             "--timeout", "20", "--json"],
            capture_output=True, text=True, timeout=40)
    finally:
        daemon.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["result"]["pong"] is True


@pytest.mark.parametrize("which", ["ca_file", "cert_file"])
def test_the_agent_refuses_to_start_on_an_unusable_tls_file_naming_it_without_a_traceback(short_tmp, which):
    pki = Pki(short_tmp / "pki")
    cert, key = pki.issue("itest-gw")
    garbage = short_tmp / "garbage.pem"
    garbage.write_text("this is not PEM\n")
    files = {"ca_file": pki.ca_cert, "cert_file": cert, "key_file": key, which: garbage}
    extra = '\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = 8883\n' + \
        "".join(f'{name} = "{path}"\n' for name, path in files.items())
    daemon = Daemon(short_tmp, extra)
    assert daemon.exit_status() == 78
    log = daemon.log_text()
    assert f"mqtt.{which} = '{garbage}'" in log and "Traceback" not in log
    check = subprocess.run([sys.executable, "-m", "edge_agent", "config", "check", str(daemon.config)],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 78 and f"mqtt.{which} = '{garbage}'" in check.stderr
