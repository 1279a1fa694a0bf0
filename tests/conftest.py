"""Shared fixtures: one Airflow home and one PostgreSQL server per test run, fresh stores per test."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Airflow reads its configuration at import time: set the run's Airflow home before anything imports it.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="messaging-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).parent / "dags")
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
os.environ.setdefault("AIRFLOW__CORE__TEST_CONNECTION", "Enabled")
os.environ["AIRFLOW__MESSAGING__STORE_URL"] = f"sqlite:///{_AIRFLOW_HOME / 'messaging.db'}"

import subprocess  # noqa: E402

import pytest  # noqa: E402

from airflow_provider_messaging import vendors  # noqa: E402
from airflow_provider_messaging.store import MessageStore  # noqa: E402
from airflow_provider_messaging.store.schema import metadata  # noqa: E402
from tests.operators.ops_support import Env, make_env  # noqa: E402
from tests.support.http_server import LocalHttpServer  # noqa: E402
from tests.support.postgres import PostgresServer, PostgresUnavailable  # noqa: E402
from tests.vendors.acme import ACME  # noqa: E402


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole run. Fails in CI if it cannot start; skips loudly elsewhere."""
    try:
        server = PostgresServer().start()
    except (PostgresUnavailable, OSError, Exception) as exc:
        if os.environ.get("CI"):
            raise
        message = f"PostgreSQL could not start here ({exc}); PostgreSQL tests are SKIPPED"
        warnings.warn(message, stacklevel=1)
        sys.stderr.write(f"\n!!! {message}\n")
        pytest.skip(message)
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database("messaging_tests")
    store = MessageStore(url)
    store.upgrade()
    store.dispose()
    return url


def _truncate(store: MessageStore) -> None:
    with store.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MessageStore]:
    """A fresh, migrated store on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / f'store-{uuid.uuid4().hex[:8]}.db'}"
        s = MessageStore(url)
        s.upgrade()
    else:
        s = MessageStore(request.getfixturevalue("postgres_url"))
        _truncate(s)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[MessageStore]:
    s = MessageStore(f"sqlite:///{tmp_path / 'store.db'}")
    s.upgrade()
    yield s
    s.dispose()


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata DB in the run's Airflow home, migrated once (``dag.test()`` needs it)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
        timeout=300,
    )
    return _AIRFLOW_HOME


@pytest.fixture
def env(airflow_db: Path, sqlite_store: MessageStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Env]:
    """For DAG-run tests: both vendors' send APIs on a recording local server (``VendorStub``), the store the
    operators use (a fresh SQLite one) and the DAGs' failure log."""
    with LocalHttpServer() as server:
        yield from make_env(server, sqlite_store, monkeypatch, tmp_path)


@pytest.fixture
def env_any_store(
    airflow_db: Path, store: MessageStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Env]:
    """Like ``env``, on SQLite and on PostgreSQL (for guarantees that come from the database)."""
    with LocalHttpServer() as server:
        yield from make_env(server, store, monkeypatch, tmp_path)


@pytest.fixture
def local_stack(store: MessageStore, airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Sandbox + receiver on the parametrized store, with Airflow connections/config pointing at them."""
    from airflow_provider_messaging import config
    from airflow_provider_messaging.localstack import LocalStack

    stack = LocalStack(store).start()
    for key, value in stack.environment().items():
        monkeypatch.setenv(key, value)
    config.reset_stores()
    try:
        yield stack
    finally:
        stack.stop()
        config.reset_stores()


@pytest.fixture
def acme() -> Iterator[vendors.VendorSpec]:
    """The test-only third vendor, registered for one test (tests/vendors/acme)."""
    vendors.register_vendor(ACME)
    try:
        yield ACME
    finally:
        vendors.unregister_vendor("acme")
