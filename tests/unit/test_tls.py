"""The MQTT TLS context and the problems of the files [mqtt] names: one line each, naming key and path."""

from __future__ import annotations

import importlib.util
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from edge_agent.config import AgentConfig, MqttSection, startup_problems
from edge_agent.tls import mqtt_tls_context, tls_file_problems

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI to make a PKI")

_spec = importlib.util.spec_from_file_location("pki", Path(__file__).resolve().parents[1] / "integration" / "pki.py")
pki_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pki_module)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return pki_module.Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def client(pki) -> tuple[Path, Path]:
    return pki.issue("gw-1")


def mqtt(**keys) -> MqttSection:
    return AgentConfig.model_validate({"mqtt": {"host": "127.0.0.1", **keys}}).mqtt


def garbage(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.pem"
    path.write_text("not a certificate\n")
    return path


def test_a_ca_a_certificate_and_its_key_have_no_problems(pki, client):
    cert, key = client
    assert tls_file_problems(mqtt(ca_file=str(pki.ca_cert), cert_file=str(cert), key_file=str(key))) == []


def test_the_context_verifies_the_broker_and_its_name():
    context = mqtt_tls_context(mqtt(host="broker.example.com"))
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_without_a_ca_file_the_context_trusts_the_system_store_only():
    context = mqtt_tls_context(mqtt(host="broker.example.com"))
    assert context.cert_store_stats() == ssl.create_default_context().cert_store_stats()


def test_a_missing_ca_file_is_named():
    assert tls_file_problems(mqtt(ca_file="/nonexistent/ca.pem")) == ["mqtt.ca_file = '/nonexistent/ca.pem': "
                                                                      "file not found"]


def test_a_garbage_ca_file_is_named_as_not_loadable(tmp_path):
    path = garbage(tmp_path)
    [problem] = tls_file_problems(mqtt(ca_file=str(path)))
    assert problem.startswith(f"mqtt.ca_file = '{path}': not a PEM CA certificate ssl can load")


def test_a_directory_as_ca_file_is_not_a_regular_file(tmp_path):
    assert tls_file_problems(mqtt(ca_file=str(tmp_path))) == [f"mqtt.ca_file = '{tmp_path}': not a regular file"]


def test_a_key_that_belongs_to_another_certificate_is_named(pki, client):
    cert, _ = client
    problems = tls_file_problems(mqtt(ca_file=str(pki.ca_cert), cert_file=str(cert), key_file=str(pki.server_key)))
    assert problems == [f"mqtt.key_file = '{pki.server_key}': not the private key of cert_file '{cert}'"]


def test_a_certificate_without_its_key_says_to_name_the_key(pki, client):
    cert, _ = client
    [problem] = tls_file_problems(mqtt(ca_file=str(pki.ca_cert), cert_file=str(cert)))
    assert problem.startswith(f"mqtt.cert_file = '{cert}': holds no private key")


def test_a_garbage_certificate_is_named(pki, client, tmp_path):
    _, key = client
    path = garbage(tmp_path)
    [problem] = tls_file_problems(mqtt(ca_file=str(pki.ca_cert), cert_file=str(path), key_file=str(key)))
    assert problem.startswith(f"mqtt.cert_file = '{path}': not a PEM certificate ssl can load")


@pytest.mark.timeout(10)
def test_an_encrypted_key_is_refused_without_prompting_for_a_passphrase(pki, client, tmp_path):
    cert, key = client
    encrypted = tmp_path / "encrypted.key"
    subprocess.run(["openssl", "ec", "-in", str(key), "-aes256", "-passout", "pass:x", "-out", str(encrypted)],
                   check=True, capture_output=True)
    [problem] = tls_file_problems(mqtt(ca_file=str(pki.ca_cert), cert_file=str(cert), key_file=str(encrypted)))
    assert problem.startswith(f"mqtt.key_file = '{encrypted}': encrypted with a passphrase")


def test_a_key_without_a_certificate_is_named(pki, client):
    _, key = client
    [problem] = tls_file_problems(mqtt(ca_file=str(pki.ca_cert), key_file=str(key)))
    assert problem == f"mqtt.key_file = '{key}': set without cert_file, the client certificate it belongs to"


def test_the_agent_refuses_to_start_on_an_unusable_tls_file_only_with_mqtt_on(tmp_path):
    path = garbage(tmp_path)
    enabled = AgentConfig.model_validate({"mqtt": {"enabled": True, "host": "127.0.0.1", "ca_file": str(path)}})
    [problem] = startup_problems(enabled, None, env={})
    assert problem.startswith(f"mqtt.ca_file = '{path}'")
    disabled = AgentConfig.model_validate({"mqtt": {"host": "127.0.0.1", "ca_file": str(path)}})
    assert startup_problems(disabled, None, env={}) == []


def test_a_missing_key_file_is_named_once_at_start(pki, client):
    cert, _ = client
    config = AgentConfig.model_validate({"mqtt": {"enabled": True, "host": "127.0.0.1", "cert_file": str(cert),
                                                  "key_file": "/nonexistent/gw.key"}})
    assert startup_problems(config, None, env={}) == ["mqtt.key_file = '/nonexistent/gw.key': file not found"]
