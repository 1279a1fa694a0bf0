"""Schema migrations under concurrency, and store failures in the package's exception tree (issue 15.8, 15.11)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from support.postgres import PostgresServer

from airflow_provider_messaging.exceptions import MessagingError
from airflow_provider_messaging.store import (
    MessageStore,
    SchemaOutdatedError,
    StoreError,
    StoreUnavailableError,
    migrate,
)

PROCESSES = 6


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "airflow-messaging"
    return [str(script)] if script.exists() else [sys.executable, "-m", "airflow_provider_messaging.cli"]


def test_concurrent_db_upgrades_on_an_empty_postgres_all_succeed(postgres_server: PostgresServer) -> None:
    """Schedulers and receivers start together: each runs ``db upgrade``; none may fail on a racing CREATE."""
    for _ in range(2):  # two fresh databases: the race is not certain in every single round
        url = postgres_server.create_database(f"race_{uuid.uuid4().hex[:8]}")
        command = [*_cli(), "--store-url", url, "db", "upgrade"]
        processes = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(PROCESSES)
        ]
        results = [(p.wait(timeout=180), *p.communicate()) for p in processes]
        failed = [(code, err[-600:]) for code, _out, err in results if code != 0]
        assert failed == [], failed
        assert all("newest schema" in out for _code, out, _err in results)
        store = MessageStore(url)
        try:
            assert migrate.current_revision(store.engine) == migrate.head_revision()
            assert store.count("messages") == 0
        finally:
            store.dispose()


def test_store_errors_are_messaging_errors(tmp_path: Path) -> None:
    assert issubclass(StoreError, MessagingError)
    assert issubclass(StoreUnavailableError, StoreError) and issubclass(SchemaOutdatedError, StoreError)
    unmigrated = MessageStore(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(MessagingError) as caught:  # what DAG code and callers catch
            unmigrated.ensure_schema(auto_upgrade=False)
        assert isinstance(caught.value, SchemaOutdatedError)
    finally:
        unmigrated.dispose()
    down = MessageStore("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        with pytest.raises(MessagingError) as caught:
            down.get_status("any")
        assert isinstance(caught.value, StoreUnavailableError)
    finally:
        down.dispose()
