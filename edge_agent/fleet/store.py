"""The fleet store: presence, issue lives, actions and telemetry windows in SQLite or PostgreSQL.

Several `fleet watch --share` watchers may write to one database. Each message is stored at most once: its id goes
into `messages` (primary key, INSERT ... ON CONFLICT DO NOTHING) in the same transaction as its effects, so a
message a broker redelivers to another watcher finds its id taken and changes nothing. Rows are locked in one
global order (message ids, then devices, then issues, each sorted) so concurrent writers cannot deadlock, and the
folds are order-independent (see `outcomes`): watchers may store one issue's messages in any order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from edge_agent.fleet import dialect as dialects
from edge_agent.fleet.outcomes import IssueLife, fold_action, fold_issue
from edge_agent.fleet.retention import BATCH_ROWS, Cutoffs, PruneResult
from edge_agent.reporting.telemetry_records import TelemetryRecord, telemetry_records

SCHEMA_VERSION = 2
RETRIES = 5
# Message ids claimed per INSERT: a fixed size keeps the statement text the same, so the driver's parsed-query
# cache hits (a new VALUES length each time was re-parsed, and cost more than the insert).
ROWS_PER_STATEMENT = 50

ISSUE_COLUMNS = ("device_id", "issue_id", "type", "subject", "opened_ts", "first_bad_ts", "worst_severity",
                 "updates", "state", "state_ts", "state_seq", "resolved_ts", "transitions", "agent_fixed_ts",
                 "agent_fixed_by", "time_to_fix_s", "person_acted_ts", "category", "before_impact")


def _migrations(d: dialects.Dialect) -> dict[int, list[str]]:
    real, json_type = "DOUBLE PRECISION", d.json_type
    return {1: [
        f"""CREATE TABLE messages (message_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, topic TEXT NOT NULL,
            ts {real} NOT NULL, received_ts {real} NOT NULL, stored_ts {real} NOT NULL)""",
        f"""CREATE TABLE devices (device_id TEXT PRIMARY KEY, site_id TEXT, agent_version TEXT,
            online INTEGER, session BIGINT, presence_reason TEXT, presence_ts {real},
            first_seen_ts {real} NOT NULL, last_seen_ts {real} NOT NULL, messages BIGINT NOT NULL)""",
        f"""CREATE TABLE issues (device_id TEXT NOT NULL, issue_id TEXT NOT NULL, type TEXT, subject TEXT,
            opened_ts {real}, first_bad_ts {real}, worst_severity TEXT NOT NULL, updates INTEGER NOT NULL,
            state TEXT, state_ts {real}, state_seq BIGINT, resolved_ts {real}, transitions {json_type} NOT NULL,
            agent_fixed_ts {real}, agent_fixed_by TEXT, time_to_fix_s {real}, person_acted_ts {real},
            category TEXT NOT NULL, before_impact INTEGER NOT NULL, PRIMARY KEY (device_id, issue_id))""",
        "CREATE INDEX issues_opened ON issues (opened_ts)",
        f"""CREATE TABLE actions (message_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, action_id TEXT,
            issue_id TEXT, issue_type TEXT, name TEXT NOT NULL, target TEXT, outcome TEXT NOT NULL,
            origin TEXT NOT NULL, mode TEXT, reason TEXT, ts {real} NOT NULL)""",
        "CREATE INDEX actions_issue ON actions (device_id, issue_id)",
        f"""CREATE TABLE telemetry (message_id TEXT NOT NULL, part INTEGER NOT NULL, device_id TEXT NOT NULL,
            stream TEXT NOT NULL, subject TEXT NOT NULL, window_start {real} NOT NULL, window_end {real} NOT NULL,
            samples INTEGER NOT NULL, aggregates {json_type} NOT NULL, PRIMARY KEY (message_id, part))""",
        "CREATE INDEX telemetry_device_stream ON telemetry (device_id, stream, window_start)",
    ], 2: [
        # What `prune` selects by: without them each batch scans the whole table.
        "CREATE INDEX messages_stored ON messages (stored_ts)",
        "CREATE INDEX telemetry_end ON telemetry (window_end)",
        "CREATE INDEX issues_resolved ON issues (resolved_ts)",
    ]}

# Rows aged out, a batch at a time (`retention`): every `?` but the last is the cutoff, the last the batch size.
_AGED_OUT = {
    "telemetry": "(message_id, part) IN (SELECT message_id, part FROM telemetry WHERE window_end < ? LIMIT ?)",
    "messages": "message_id IN (SELECT message_id FROM messages WHERE stored_ts < ? LIMIT ?)",
    "issues": "(device_id, issue_id) IN (SELECT device_id, issue_id FROM issues WHERE resolved_ts IS NOT NULL "
              "AND resolved_ts < ? LIMIT ?)",
    # An action goes with its issue: only when that issue is gone or aged out too (never while it is open).
    "actions": "message_id IN (SELECT message_id FROM actions a WHERE a.ts < ? AND NOT EXISTS (SELECT 1 FROM "
               "issues i WHERE i.device_id = a.device_id AND i.issue_id = a.issue_id AND (i.resolved_ts IS NULL "
               "OR i.resolved_ts >= ?)) LIMIT ?)",
}


@dataclass(frozen=True)
class StoreCounts:
    messages: int
    devices: int
    issues: int
    actions: int
    telemetry: int


class FleetStore:
    """One connection to the fleet's database; `record` takes batches of normalised fleet events."""

    def __init__(self, url: str, now: Callable[[], float] = time.time, must_exist: bool = False):
        self.dialect, self._db = dialects.connect(url, must_exist)
        self._now = now
        self.migrate()

    def close(self) -> None:
        self._db.close()

    # schema

    def migrate(self) -> int:
        """Create or update the schema to SCHEMA_VERSION; returns the version found before."""
        def run(cursor: Any) -> int:
            if self.dialect.migration_lock:
                cursor.execute(self.dialect.migration_lock)
            cursor.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, "
                           "applied_ts DOUBLE PRECISION NOT NULL)")
            cursor.execute("SELECT MAX(version) FROM schema_version")
            found = cursor.fetchone()[0] or 0
            if found > SCHEMA_VERSION:
                raise dialects.StoreUrlError(f"the store's schema is version {found}, newer than this tool's "
                                             f"{SCHEMA_VERSION}: upgrade edge-agent")
            for version, statements in sorted(_migrations(self.dialect).items()):
                if version > found:
                    for statement in statements:
                        cursor.execute(statement)
                    cursor.execute(self._sql("INSERT INTO schema_version VALUES (?, ?)"), (version, self._now()))
            return found
        return self._transaction(run)

    def schema_version(self) -> int:
        return self._one("SELECT MAX(version) FROM schema_version")

    # writing

    def record(self, events: Sequence[dict[str, Any]]) -> int:
        """Store a batch of events (FleetState.ingest results); returns how many were new to the store."""
        if not events:
            return 0
        return self._transaction(lambda cursor: self._record(cursor, events))

    def _record(self, cursor: Any, events: Sequence[dict[str, Any]]) -> int:
        stored_ts = self._now()
        by_id = {e["message"]["id"]: e for e in events}
        fresh_ids = self._claim(cursor, sorted(by_id), by_id, stored_ts)
        fresh = [by_id[i] for i in sorted(fresh_ids)]
        self._devices(cursor, fresh)
        self._issues(cursor, fresh)
        self._actions(cursor, fresh)
        self._telemetry(cursor, fresh)
        return len(fresh)

    def _claim(self, cursor: Any, ids: list[str], by_id: dict[str, dict[str, Any]], stored_ts: float) -> set[str]:
        """Insert the message ids; those already there (another watcher, a redelivery) come back absent."""
        claimed: set[str] = set()
        for start in range(0, len(ids), ROWS_PER_STATEMENT):
            chunk = ids[start:start + ROWS_PER_STATEMENT]
            values = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(chunk))
            params: list[Any] = []
            for message_id in chunk:
                event = by_id[message_id]
                params += [message_id, event["device_id"], event["topic"], float(event["message"]["ts"]),
                           float(event["received_ts"]), stored_ts]
            cursor.execute(self._sql(f"INSERT INTO messages VALUES {values} ON CONFLICT (message_id) DO NOTHING "
                                     "RETURNING message_id"), params)
            claimed.update(row[0] for row in cursor.fetchall())
        return claimed

    def _devices(self, cursor: Any, fresh: list[dict[str, Any]]) -> None:
        rows: dict[str, list[Any]] = {}
        for event in fresh:
            message = event["message"]
            row = rows.setdefault(event["device_id"], [event["device_id"], message["site_id"],
                                                       message["agent_version"], None, None, None, None,
                                                       event["received_ts"], event["received_ts"], 0])
            row[7], row[8], row[9] = min(row[7], event["received_ts"]), max(row[8], event["received_ts"]), row[9] + 1
            if event["topic"] == "status" and _presence_key(message) > _presence_key_of_row(row):
                row[3:7] = [int(message["state"] == "online"), message["session"], message["reason"], message["ts"]]
        if not rows:
            return
        # Presence: the higher session wins, and within one session offline (a clean stop or the Last Will)
        # beats online: a session never comes back online. Written as CASEs both databases evaluate alike.
        newer = ("excluded.session IS NOT NULL AND (devices.session IS NULL OR excluded.session > devices.session "
                 "OR (excluded.session = devices.session AND excluded.online <= devices.online))")
        cursor.executemany(self._sql(f"""
            INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (device_id) DO UPDATE SET
              site_id = excluded.site_id, agent_version = excluded.agent_version,
              online = CASE WHEN {newer} THEN excluded.online ELSE devices.online END,
              presence_reason = CASE WHEN {newer} THEN excluded.presence_reason ELSE devices.presence_reason END,
              presence_ts = CASE WHEN {newer} THEN excluded.presence_ts ELSE devices.presence_ts END,
              session = CASE WHEN {newer} THEN excluded.session ELSE devices.session END,
              first_seen_ts = CASE WHEN excluded.first_seen_ts < devices.first_seen_ts
                              THEN excluded.first_seen_ts ELSE devices.first_seen_ts END,
              last_seen_ts = CASE WHEN excluded.last_seen_ts > devices.last_seen_ts
                             THEN excluded.last_seen_ts ELSE devices.last_seen_ts END,
              messages = devices.messages + excluded.messages"""), [rows[d] for d in sorted(rows)])

    def _issues(self, cursor: Any, fresh: list[dict[str, Any]]) -> None:
        touched: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for event in fresh:
            if event["topic"] in ("event/issue", "event/action") and event["message"].get("issue_id"):
                touched.setdefault((event["device_id"], event["message"]["issue_id"]), []).append(event)
        for key in sorted(touched):
            cursor.execute(self._sql(
                "INSERT INTO issues (device_id, issue_id, worst_severity, updates, transitions, category, "
                f"before_impact) VALUES (?, ?, 'info', 0, {self.dialect.json_param()}, 'still_open', 0) "
                "ON CONFLICT (device_id, issue_id) DO NOTHING"), (*key, "[]"))
            cursor.execute(self._sql(f"SELECT {', '.join(ISSUE_COLUMNS)} FROM issues WHERE device_id = ? "
                                     f"AND issue_id = ?{self.dialect.for_update}"), key)
            life = _life_from_row(cursor.fetchone())
            for event in touched[key]:
                (fold_issue if event["topic"] == "event/issue" else fold_action)(life, event["message"])
            row = _row_from_life(life)
            assignments = ", ".join(f"{c} = {self.dialect.json_param() if c == 'transitions' else '?'}"
                                    for c in ISSUE_COLUMNS[2:])
            cursor.execute(self._sql(f"UPDATE issues SET {assignments} WHERE device_id = ? AND issue_id = ?"),
                           (*row[2:], *key))

    def _actions(self, cursor: Any, fresh: list[dict[str, Any]]) -> None:
        rows = [(e["message"]["id"], e["device_id"], e["message"]["action_id"], e["message"]["issue_id"],
                 e["message"]["issue_type"], e["message"]["name"], e["message"]["target"], e["message"]["outcome"],
                 e["message"]["origin"], e["message"]["mode"], e["message"]["reason"], float(e["message"]["ts"]))
                for e in fresh if e["topic"] == "event/action"]
        if rows:
            cursor.executemany(self._sql("INSERT INTO actions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                         "ON CONFLICT (message_id) DO NOTHING"), rows)

    def _telemetry(self, cursor: Any, fresh: list[dict[str, Any]]) -> None:
        """One row per subject and window: a v1 sample is a window of one, a v2 batch holds many."""
        rows = [(record.message_id, part, record.device_id, record.stream, record.subject, record.start_ts,
                 record.end_ts, record.samples, json.dumps(_aggregates(record)))
                for event in fresh if event["topic"].startswith("telemetry/")
                for part, record in enumerate(telemetry_records(event["message"]))]
        if rows:
            cursor.executemany(self._sql(f"INSERT INTO telemetry VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                                         f"{self.dialect.json_param()}) ON CONFLICT DO NOTHING"), rows)

    # retention

    def prune(self, cutoffs: Cutoffs, dry_run: bool = False, batch_rows: int = BATCH_ROWS) -> PruneResult:
        """Delete what aged out (see `retention`), each batch in its own short transaction so watchers keep
        writing; with `dry_run`, only count it."""
        before = {"telemetry": cutoffs.telemetry_before, "messages": cutoffs.ledger_before,
                  "issues": cutoffs.issues_before, "actions": cutoffs.issues_before}
        result = PruneResult()
        for table in ("telemetry", "messages", "issues", "actions"):
            if dry_run:
                count = self._aged_out_count(table, before[table])
            else:
                count = 0
                while True:
                    deleted = self._transaction(lambda cursor, t=table: self._delete_batch(cursor, t, before[t],
                                                                                           batch_rows))
                    count += deleted
                    if deleted < batch_rows:
                        break
            setattr(result, table, count)
        return result

    def _delete_batch(self, cursor: Any, table: str, before: float, batch_rows: int) -> int:
        cursor.execute(self._sql(f"DELETE FROM {table} WHERE {_AGED_OUT[table]}"),
                       _aged_out_params(table, before, batch_rows))
        return cursor.rowcount

    def _aged_out_count(self, table: str, before: float) -> int:
        cursor = self._db.cursor()
        cursor.execute(self._sql(f"SELECT COUNT(*) FROM {table} WHERE {_AGED_OUT[table]}"),
                       _aged_out_params(table, before, 1 << 62))
        return cursor.fetchone()[0]

    # reading

    def issue_lives(self, since: float | None = None, until: float | None = None) -> list[IssueLife]:
        """Issues opened within [since, until), each with its whole life so far."""
        cursor = self._db.cursor()
        cursor.execute(self._sql(f"SELECT {', '.join(ISSUE_COLUMNS)} FROM issues WHERE opened_ts IS NOT NULL "
                                 "AND opened_ts >= ? AND opened_ts < ? ORDER BY opened_ts, device_id, issue_id"),
                       (-1e18 if since is None else since, 1e18 if until is None else until))
        return [_life_from_row(row) for row in cursor.fetchall()]

    def issue_categories(self) -> dict[tuple[str, str], str]:
        """The category column as stored (it is the outcome fold's verdict at the last write)."""
        cursor = self._db.cursor()
        cursor.execute("SELECT device_id, issue_id, category FROM issues")
        return {(d, i): c for d, i, c in cursor.fetchall()}

    def devices(self) -> list[dict[str, Any]]:
        cursor = self._db.cursor()
        cursor.execute("SELECT device_id, site_id, online, session, presence_reason, last_seen_ts, messages "
                       "FROM devices ORDER BY device_id")
        names = ("device_id", "site_id", "online", "session", "presence_reason", "last_seen_ts", "messages")
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        for row in rows:
            row["online"] = None if row["online"] is None else bool(row["online"])
        return rows

    def telemetry(self, device_id: str, stream: str | None = None) -> list[dict[str, Any]]:
        cursor = self._db.cursor()
        cursor.execute(self._sql("SELECT stream, subject, window_start, window_end, samples, aggregates FROM "
                                 "telemetry WHERE device_id = ? AND (? IS NULL OR stream = ?) "
                                 "ORDER BY window_start, window_end, stream, subject"), (device_id, stream, stream))
        return [{"stream": s, "subject": subj, "start": a, "end": b, "samples": n, "aggregates": _json(agg)}
                for s, subj, a, b, n, agg in cursor.fetchall()]

    def counts(self) -> StoreCounts:
        return StoreCounts(*(self._one(f"SELECT COUNT(*) FROM {table}")
                             for table in ("messages", "devices", "issues", "actions", "telemetry")))

    # plumbing

    def _sql(self, statement: str) -> str:
        return self.dialect.sql(statement)

    def _one(self, statement: str) -> Any:
        cursor = self._db.cursor()
        cursor.execute(statement)
        return cursor.fetchone()[0]

    def _transaction(self, work: Callable[[Any], Any]) -> Any:
        for attempt in range(RETRIES):
            cursor = self._db.cursor()
            cursor.execute(self.dialect.begin)
            try:
                result = work(cursor)
                cursor.execute("COMMIT")
                return result
            except BaseException as exc:
                cursor.execute("ROLLBACK")
                if attempt == RETRIES - 1 or not dialects.retryable(exc):
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")


def _aged_out_params(table: str, before: float, limit: int) -> tuple[float | int, ...]:
    return (*[before] * (_AGED_OUT[table].count("?") - 1), limit)


def _presence_key(status: dict[str, Any]) -> tuple[int, int]:
    return (status["session"], int(status["state"] != "online"))


def _presence_key_of_row(row: list[Any]) -> tuple[int, int]:
    return (-1, 0) if row[4] is None else (row[4], 1 - row[3])


def _aggregates(record: TelemetryRecord) -> dict[str, Any]:
    # Spelled out: dataclasses.asdict's deep copy was the largest cost of storing a window.
    numbers = {name: {"min": n.min, "mean": n.mean, "max": n.max, "last": n.last, "count": n.count}
               for name, n in record.numbers.items()}
    return {"contract": record.contract, "numbers": numbers, "values": record.values,
            "histograms": record.histograms}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _life_from_row(row: Sequence[Any]) -> IssueLife:
    values = dict(zip(ISSUE_COLUMNS, row, strict=True))
    state_key = None if values["state_ts"] is None else (values["state_ts"], values["state_seq"])
    return IssueLife(
        device_id=values["device_id"], issue_id=values["issue_id"], type=values["type"], subject=values["subject"],
        opened_ts=values["opened_ts"], first_bad_ts=values["first_bad_ts"], worst_severity=values["worst_severity"],
        updates=values["updates"], state=values["state"], state_key=state_key, resolved_ts=values["resolved_ts"],
        transitions=_json(values["transitions"]), agent_fixed_ts=values["agent_fixed_ts"],
        agent_fixed_by=values["agent_fixed_by"], time_to_fix_s=values["time_to_fix_s"],
        person_acted_ts=values["person_acted_ts"])


def _row_from_life(life: IssueLife) -> tuple[Any, ...]:
    state_ts, state_seq = life.state_key if life.state_key is not None else (None, None)
    return (life.device_id, life.issue_id, life.type, life.subject, life.opened_ts, life.first_bad_ts,
            life.worst_severity, life.updates, life.state, state_ts, state_seq, life.resolved_ts,
            json.dumps(life.transitions), life.agent_fixed_ts, life.agent_fixed_by, life.time_to_fix_s,
            life.person_acted_ts, life.category, int(life.before_impact))
