"""The envelope every message carries (DESIGN.md, MQTT contract v1; v2 changes telemetry only)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from edge_agent import __version__

SCHEMA_ISSUE = "edge.issue/1"
SCHEMA_ACTION = "edge.action/1"
SCHEMA_TELEMETRY = "edge.telemetry/1"
SCHEMA_TELEMETRY_V2 = "edge.telemetry/2"
SCHEMA_STATUS = "edge.status/1"
SCHEMA_META = "edge.meta/1"
SCHEMA_RESPONSE = "edge.response/1"


class EnvelopeFactory:
    """Stamps messages with identity, a per-boot monotonic sequence number and both clocks.

    `boot_id` is new for every start of the agent, so (boot_id, seq) orders one device's messages. Every
    message that takes a number goes through the outbox, so within a boot the numbers have no gaps except
    telemetry the outbox dropped (counted in `telemetry/agent`). Presence (status, meta, the Last Will) takes
    none: it carries the last number taken before it and is ordered by its own `session` counter.
    """

    def __init__(self, device_id: str, site_id: str, clock_synced: Callable[[], bool | None],
                 real_wall: Callable[[], float] | None = None):
        """`real_wall`: given when the agent runs on simulated time; `ts` then stays the real wall clock (a
        command's deadline is judged by it) and the simulated time goes to `sim_ts`, present only then."""
        self.real_wall = real_wall
        self.device_id = device_id
        self.site_id = site_id
        self.boot_id = uuid.uuid4().hex
        self._clock_synced = clock_synced
        self._last_seq = 0
        self._lock = threading.Lock()

    def wrap(self, schema: str, body: Mapping[str, Any], ts: float, mono: float) -> dict[str, Any]:
        with self._lock:
            self._last_seq += 1
            seq = self._last_seq
        return self._stamp(schema, body, ts, mono, seq)

    def wrap_presence(self, schema: str, body: Mapping[str, Any], ts: float, mono: float) -> dict[str, Any]:
        """Status and meta: the sequence number of the last message before this one, none taken."""
        with self._lock:
            seq = self._last_seq
        return self._stamp(schema, body, ts, mono, seq)

    def _stamp(self, schema: str, body: Mapping[str, Any], ts: float, mono: float, seq: int) -> dict[str, Any]:
        if self.real_wall is not None:
            body = {"sim_ts": round(ts, 3), **body}
            ts = self.real_wall()
        return {
            "schema": schema,
            "id": uuid.uuid4().hex,
            "device_id": self.device_id,
            "site_id": self.site_id,
            "agent_version": __version__,
            "boot_id": self.boot_id,
            "seq": seq,
            "ts": round(ts, 3),
            "mono_ms": int(mono * 1000),
            "clock_synced": self._clock_synced(),
            **body,
        }
