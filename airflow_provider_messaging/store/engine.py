"""Engines for the store: SQLite (WAL, one writer at a time) or PostgreSQL (pooled, pre-pinged)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def normalize_url(url: str) -> str:
    """Use psycopg 3 for a bare ``postgresql://`` URL (the driver this package installs)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_store_engine(url: str, *, writer: bool = True, **kwargs: Any) -> Engine:
    """Create an engine. For SQLite, ``writer=True`` begins every transaction with ``BEGIN IMMEDIATE``.

    SQLite in WAL mode lets readers run beside one writer; a deferred transaction that later writes
    can fail with SQLITE_BUSY without waiting, so writers take the write lock up front instead.
    """
    url = normalize_url(url)
    if not is_sqlite(url):
        options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
        if make_url(url).get_driver_name() == "psycopg":
            # psycopg prepares a statement after 5 runs and PostgreSQL may then keep a generic plan made
            # while a table was still empty (a sequential scan) for the life of the connection; planning
            # each time uses the table's current size.
            options["connect_args"] = {"prepare_threshold": None}
        options.update(kwargs)
        return create_engine(url, **options)

    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine
