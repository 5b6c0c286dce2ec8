"""How fleet tools reach the broker: address, credentials and TLS, in one place for watch and cmd."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BrokerOptions:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


def fleet_client(broker: BrokerOptions, manual_ack: bool = False, client_id: str = "") -> Any:
    """A paho MQTT v5 client with the broker's credentials and TLS set; not yet connected. With `manual_ack`
    a QoS 1 message is acknowledged only when the caller says so (`client.ack`), e.g. once it is stored."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5,
                         manual_ack=manual_ack, client_id=client_id)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.ca_file or broker.cert_file:
        client.tls_set(ca_certs=str(broker.ca_file) if broker.ca_file else None,
                       certfile=str(broker.cert_file) if broker.cert_file else None,
                       keyfile=str(broker.key_file) if broker.key_file else None,
                       tls_version=ssl.PROTOCOL_TLS_CLIENT)
    return client
