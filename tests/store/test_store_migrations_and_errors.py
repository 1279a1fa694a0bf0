"""Schema migrations under concurrency, and store failures in the package's exception tree (issue 15.8, 15.11)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from airflow_provider_messaging.exceptions import MessagingError
from airflow_provider_messaging.store import (
    MessageStore,
    SchemaOutdatedError,
    StoreError,
    StoreUnavailableError,
    migrate,
)
from tests.support.postgres import PostgresServer

PROCESSES = 6


# Each process imports everything, reports ready, then waits for one "go": the upgrades start together
# (a plain ``airflow-messaging db upgrade`` per process staggers them by its start-up time).
_RACER = """
import sys, time
from pathlib import Path
from airflow_provider_messaging.cli import main
ready, go, url = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
ready.touch()
while not go.exists():
    time.sleep(0.001)
sys.exit(main(["--store-url", url, "db", "upgrade"]))
"""


def test_concurrent_db_upgrades_on_an_empty_postgres_all_succeed(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """Schedulers and receivers start together: each runs ``db upgrade``; none may fail on a racing CREATE."""
    for round_ in range(3):  # fresh databases: the race is likely, not certain, in one round
        url = postgres_server.create_database(f"race_{uuid.uuid4().hex[:8]}")
        go = tmp_path / f"go-{round_}"
        ready = [tmp_path / f"ready-{round_}-{n}" for n in range(PROCESSES)]
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", _RACER, str(flag), str(go), url],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for flag in ready
        ]
        try:
            deadline = time.monotonic() + 120
            while not all(flag.exists() for flag in ready):
                assert time.monotonic() < deadline and all(p.poll() is None for p in processes)
                time.sleep(0.01)
            go.touch()
            results = [(p.wait(timeout=180), *p.communicate()) for p in processes]
        finally:
            for p in processes:
                if p.poll() is None:
                    p.kill()
                    p.wait()
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
