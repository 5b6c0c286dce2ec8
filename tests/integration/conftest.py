"""A real mosquitto broker per test, on its own port and config, stopped by PID; it can be stopped and restarted."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_process import Daemon
from fleet_client import FleetClient

from edge_agent.local_broker import LocalBroker as Broker  # noqa: F401 — the tests' and benchmarks' name for it
from edge_agent.local_broker import free_port, mosquitto_binary, wait_for_port  # noqa: F401


@pytest.fixture
def mosquitto(short_tmp: Path) -> Broker:
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto is not installed (scripts/test.sh installs it when run as root)")
    broker = Broker(binary, short_tmp)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


# Remediation from the cloud is off by default: the fleet tests turn the command and one action on.
CLOUD_REMEDIATION = """
[commands]
allowed = ["ping", "diagnose", "get_issues", "set_log_level", "remediate"]
[remediation.authority.cloud]
actions = ["restart_service"]
mode = "auto"
"""


@pytest.fixture
def fleet(short_tmp: Path, mosquitto):
    """The real agent on the simulated premises, reporting to `mosquitto`, and a fleet client that is subscribed
    to its replies and presence; the agent is online when the test starts."""
    extra = f'\n[mqtt]\nenabled = true\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\n' + CLOUD_REMEDIATION
    daemon = Daemon(short_tmp, extra)
    client = FleetClient(mosquitto.host, mosquitto.port)
    daemon.start()
    try:
        client.wait_online()
        yield client, daemon
        assert client.contract_violations == []
    finally:
        client.close()
        daemon.stop()
