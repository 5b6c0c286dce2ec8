"""The TLS client context the agent reaches its broker with, and what is wrong with the files [mqtt] names for it.

One function builds the context (the publisher uses it) and one reports, as a line per problem naming the key and
the path, why building it would fail, so that `config check`, start-up and reload refuse a bad file with a clear
message instead of a traceback in the middle of connecting.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from edge_agent.config import MqttSection
from edge_agent.file_checks import unreadable_file


class EncryptedKeyError(ValueError):
    """The key file asks for a passphrase: a daemon has nobody to type it."""


def _no_passphrase() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal, which blocks a daemon forever.
    raise EncryptedKeyError("encrypted with a passphrase nobody can type for a daemon: store it unencrypted, "
                            "readable only by the agent (chmod 600)")


def mqtt_tls_context(mqtt: MqttSection) -> ssl.SSLContext:
    """Verify the broker against ca_file, else the system's CA store; present cert_file/key_file when set.

    Raises OSError, ssl.SSLError or EncryptedKeyError for unusable files (tls_file_problems says which)."""
    context = ssl.create_default_context(cafile=str(mqtt.ca_file) if mqtt.ca_file else None)
    if mqtt.cert_file is not None:
        key = str(mqtt.key_file) if mqtt.key_file else None
        context.load_cert_chain(str(mqtt.cert_file), key, password=_no_passphrase)
    return context


def tls_file_problems(mqtt: MqttSection) -> list[str]:
    """One line per TLS file that is missing, unreadable, or not what its key says; [] when TLS would work."""
    problems = [problem for key, path in _named_files(mqtt)
                if (problem := unreadable_file(f"mqtt.{key} = '{path}'", path)[0])]
    if mqtt.key_file is not None and mqtt.cert_file is None:
        problems.append(f"mqtt.key_file = '{mqtt.key_file}': set without cert_file, the client certificate it "
                        "belongs to")
    if problems or not mqtt.uses_tls:
        return problems
    if mqtt.ca_file is not None:
        try:
            ssl.create_default_context(cafile=str(mqtt.ca_file))
        except (ssl.SSLError, ValueError) as exc:
            return [f"mqtt.ca_file = '{mqtt.ca_file}': not a PEM CA certificate ssl can load{_reason(exc)}"]
    if mqtt.cert_file is not None:
        return _client_certificate_problems(mqtt)
    return []


def _client_certificate_problems(mqtt: MqttSection) -> list[str]:
    cert, key = mqtt.cert_file, mqtt.key_file
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(cert))
    except (ssl.SSLError, ValueError) as exc:
        return [f"mqtt.cert_file = '{cert}': not a PEM certificate ssl can load{_reason(exc)}"]
    try:
        mqtt_tls_context(mqtt)
    except EncryptedKeyError as exc:
        return [f"mqtt.{'key_file' if key else 'cert_file'} = '{key or cert}': {exc}"]
    except (ssl.SSLError, ValueError) as exc:
        if key is None:
            return [f"mqtt.cert_file = '{cert}': holds no private key for its certificate; name the key file in "
                    f"key_file{_reason(exc)}"]
        if isinstance(exc, ssl.SSLError) and exc.reason == "KEY_VALUES_MISMATCH":
            return [f"mqtt.key_file = '{key}': not the private key of cert_file '{cert}'"]
        return [f"mqtt.key_file = '{key}': not a PEM private key ssl can load{_reason(exc)}"]
    return []


def _named_files(mqtt: MqttSection) -> list[tuple[str, Path]]:
    named = [("ca_file", mqtt.ca_file), ("cert_file", mqtt.cert_file), ("key_file", mqtt.key_file)]
    return [(key, path) for key, path in named if path is not None]


def _reason(exc: Exception) -> str:
    """OpenSSL's reason code in parentheses, when it gave one (its other text names C source lines)."""
    reason = exc.reason if isinstance(exc, ssl.SSLError) else str(exc)
    return f" ({reason})" if reason else ""
