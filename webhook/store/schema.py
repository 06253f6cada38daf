"""The database schema: its migrations, and opening a connection to it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from webhook.store.models import SchemaTooNew

MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema.
    """
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        action TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        deployment_id INTEGER REFERENCES deployments(id),
        received_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE deployments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        stack TEXT NOT NULL,
        sha TEXT NOT NULL,
        ref TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        delivery_id TEXT,
        pr_number INTEGER,
        head_repo TEXT,
        rollback_of INTEGER REFERENCES deployments(id),
        rolled_back_to TEXT
    );
    CREATE INDEX deployments_stack_state ON deployments(stack, state, id);
    CREATE TABLE deployment_states (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id INTEGER NOT NULL REFERENCES deployments(id),
        state TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    CREATE INDEX deployment_states_by_deployment ON deployment_states(deployment_id, id);
    CREATE TABLE deployment_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id INTEGER NOT NULL REFERENCES deployments(id),
        line TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX deployment_logs_by_deployment ON deployment_logs(deployment_id, id);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    -- Done by SQLite inside the INSERT itself: fewer statements on the hot path.
    CREATE TRIGGER deployment_first_state AFTER INSERT ON deployments BEGIN
        INSERT INTO deployment_states (deployment_id, state, note, at)
        VALUES (NEW.id, NEW.state, NEW.reason, NEW.created_at);
    END;
    CREATE TRIGGER deployment_links_delivery AFTER INSERT ON deployments
    WHEN NEW.delivery_id IS NOT NULL BEGIN
        UPDATE deliveries SET deployment_id = NEW.id WHERE id = NEW.delivery_id;
    END;
    """,
    # 2: the SHA-256 of each signed delivery body, to know a replay under a new delivery id.
    """
    CREATE TABLE delivery_bodies (
        digest TEXT PRIMARY KEY,
        delivery_id TEXT NOT NULL REFERENCES deliveries(id)
    );
    """,
    # 3: drift checks (webhook/orchestrator/drift.py): their own table, never deployments.
    """
    CREATE TABLE drift_checks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        stack TEXT NOT NULL,
        sha TEXT NOT NULL,
        result TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        resources INTEGER NOT NULL DEFAULT 0,
        report TEXT NOT NULL DEFAULT '[]',
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX drift_checks_by_stack ON drift_checks(stack, id);
    """,
    # 4: each `up` (or skipped `up`) of a stack, with the fingerprint of what it deployed and,
    # once healthy, its outputs and the engine's containers (webhook/orchestrator/unchanged.py);
    # and the deployments asked for with `force` (always a full `up`).
    """
    CREATE TABLE stack_applies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id INTEGER NOT NULL REFERENCES deployments(id),
        stack TEXT NOT NULL,
        sha TEXT NOT NULL,
        purpose TEXT NOT NULL,
        path TEXT NOT NULL,
        reason TEXT NOT NULL,
        fingerprint TEXT NOT NULL DEFAULT '',
        parts TEXT NOT NULL DEFAULT '{}',
        outputs TEXT,
        containers TEXT,
        started_at TEXT NOT NULL,
        healthy_at TEXT
    );
    CREATE INDEX stack_applies_by_stack ON stack_applies(stack, id);
    CREATE INDEX stack_applies_by_deployment ON stack_applies(deployment_id, id);
    CREATE TABLE forced_deployments (
        deployment_id INTEGER PRIMARY KEY REFERENCES deployments(id)
    );
    """,
    # 5: how a drift check found its verdict: `refresh` (Pulumi) or `engine snapshot`
    # (webhook/orchestrator/drift_snapshot.py); '' for checks before it and unfinished ones.
    """
    ALTER TABLE drift_checks ADD COLUMN via TEXT NOT NULL DEFAULT '';
    """,
)
"""Schema migrations, applied in order; `schema_version` records how many ran."""


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the database at `path` (autocommit; rows by column name)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _statements(script: str) -> Iterator[str]:
    """The SQL statements of a script (triggers included), one at a time."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in a migration: {pending.strip()[:80]}")


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations not yet applied; return the schema version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    version = row[0] if row else 0
    if version > len(MIGRATIONS):
        raise SchemaTooNew(
            f"database schema version {version} is newer than this code knows "
            f"({len(MIGRATIONS)}): run the newer Slipway version or restore a backup"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version = number
    return version
