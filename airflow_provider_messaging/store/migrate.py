"""Versioned schema migrations (Alembic), run by ``airflow-messaging db upgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from airflow_provider_messaging.store.schema import VERSION_TABLE

_SCRIPTS = Path(__file__).parent / "migrations"
#: PostgreSQL advisory lock key of schema migrations (any constant; "msg_migr" in ASCII).
MIGRATION_LOCK_KEY = 0x6D73675F6D696772


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent; safe when several processes run it at once).

    On PostgreSQL the migration runs under a transaction-level advisory lock: schedulers and
    receivers that start together queue on it, and each one after the first finds the schema at
    ``revision`` already (Alembic reads the version table after the lock is granted). Without it
    two ``CREATE TABLE`` of one name race and one fails on ``pg_type_typname_nsp_index``. SQLite
    serializes writers already (the store's engine begins with ``BEGIN IMMEDIATE``).
    """
    config = _config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
