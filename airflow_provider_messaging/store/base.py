"""What every part of the store shares: the engines, one transaction per write, reads, and key locks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection

from airflow_provider_messaging.store.engine import create_store_engine, is_sqlite, normalize_url
from airflow_provider_messaging.store.errors import unavailable_as_store_error
from airflow_provider_messaging.store.locking import advisory_lock


class StoreBase:
    """The connection to one store database; each part of :class:`MessageStore` builds on it."""

    def __init__(self, url: str):
        self.url = normalize_url(url)
        self.sqlite = is_sqlite(self.url)
        self.engine = create_store_engine(self.url, writer=True)
        # SQLite readers must not take the write lock; PostgreSQL uses one engine for both.
        self.read_engine = create_store_engine(self.url, writer=False) if self.sqlite else self.engine
        # SQLite has one writer at a time. Threads of this process queue on this lock instead of on the
        # database lock, whose busy handler polls with sleeps of up to 100 ms (other processes still do).
        self._sqlite_writer = threading.Lock() if self.sqlite else None

    @property
    def sqlite_file(self) -> Path | None:
        """The database file of a SQLite store (None for a server database)."""
        return Path(self.engine.url.database or "") if self.sqlite else None

    @property
    def safe_url(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction (SQLite: this process's writers queue on a thread lock first)."""
        if self._sqlite_writer is None:
            with unavailable_as_store_error(), self.engine.begin() as connection:
                yield connection
            return
        with self._sqlite_writer, unavailable_as_store_error(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with unavailable_as_store_error(), self.read_engine.connect() as connection:
            yield connection

    def _lock(self, connection: Connection, *keys: str) -> None:
        """Serialize writers of these keys (see :mod:`.locking`) until the transaction ends.

        SQLite: nothing to do, ``BEGIN IMMEDIATE`` already made this transaction the only writer.
        """
        if not self.sqlite and keys:
            advisory_lock(connection, keys)
