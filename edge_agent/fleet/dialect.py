"""What differs between the fleet store's two databases, SQLite (embedded default) and PostgreSQL, in one place.

The store's SQL is written once, with `?` placeholders and the upsert syntax both share (INSERT ... ON CONFLICT,
RETURNING); this module opens the connection and supplies the few pieces that differ.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

BUSY_TIMEOUT_S = 30.0  # SQLite: how long a writer waits for another watcher's transaction


class StoreUrlError(ValueError):
    """The --store URL names no database this tool can open; the message says what is wrong."""


@dataclass(frozen=True)
class Dialect:
    name: str
    json_type: str  # a column holding a JSON document
    begin: str  # starts a write transaction
    for_update: str  # appended to a SELECT that reads a row it will rewrite: locks it against other writers
    migration_lock: str | None  # serialises schema changes between watchers that start together

    def sql(self, statement: str) -> str:
        """The statement with this driver's placeholders (written with `?`, which no statement uses otherwise)."""
        return statement if self.name == "sqlite" else statement.replace("?", "%s")

    def json_param(self) -> str:
        return "?" if self.name == "sqlite" else "CAST(? AS jsonb)"


SQLITE = Dialect("sqlite", json_type="TEXT", begin="BEGIN IMMEDIATE", for_update="", migration_lock=None)
# Transaction-scoped advisory lock: released at commit; the key is arbitrary but fixed for this schema.
POSTGRES = Dialect("postgresql", json_type="JSONB", begin="BEGIN", for_update=" FOR UPDATE",
                   migration_lock="SELECT pg_advisory_xact_lock(74201120)")


def connect(url: str, must_exist: bool = False) -> tuple[Dialect, Any]:
    """`sqlite:///path/to/fleet.db` or `postgresql://user@host:port/db`: the dialect and an open connection in
    autocommit mode (the store issues BEGIN and COMMIT itself); SQLite with the WAL journal. `must_exist`: a
    reader asking for a SQLite file that is not there gets an error, not a new empty store."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite://"):]
        if not path.startswith("/") or path == "/":
            raise StoreUrlError(f"{url!r}: a SQLite store is sqlite:///absolute/path/to/fleet.db")
        if must_exist and not os.path.exists(path):
            raise StoreUrlError(f"no fleet store at {path}")
        try:
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise StoreUrlError(f"{url!r}: cannot open the SQLite database: {exc}") from None
        return SQLITE, connection
    if scheme in ("postgresql", "postgres"):
        try:
            import psycopg
        except ImportError:
            raise StoreUrlError("a PostgreSQL store needs psycopg: install the fleet extra into the venv edge-agent "
                                "runs from (in a checkout: pip install '.[fleet]')") from None
        try:
            return POSTGRES, psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreUrlError(f"cannot connect to the PostgreSQL store: {str(exc).strip()}") from None
    raise StoreUrlError(f"{url!r}: the store must be sqlite:///PATH or postgresql://...")


def retryable(exc: BaseException) -> bool:
    """A transaction another writer made fail (deadlock, serialisation, SQLite busy): run it again."""
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "busy" in str(exc)
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate in ("40001", "40P01")


def database_errors() -> tuple[type[BaseException], ...]:
    """The exception classes a store operation may raise, for the CLI to turn into one clear message."""
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    try:
        import psycopg
    except ImportError:
        return errors
    return (*errors, psycopg.Error)
