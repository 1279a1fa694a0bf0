"""Fixtures of the operator tests: real DAG runs against a real local HTTP server and a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from operators.ops_support import Env, make_env
from support.http_server import LocalHttpServer

from airflow_provider_messaging.store import MessageStore


@pytest.fixture
def env(airflow_db: Path, sqlite_store: MessageStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Env]:
    """Vendor stand-in + a fresh SQLite store that the operators use."""
    with LocalHttpServer() as server:
        yield from make_env(server, sqlite_store, monkeypatch, tmp_path)


@pytest.fixture
def env_any_store(
    airflow_db: Path, store: MessageStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Env]:
    """Like ``env``, on SQLite and on PostgreSQL (the idempotency guarantees come from the database)."""
    with LocalHttpServer() as server:
        yield from make_env(server, store, monkeypatch, tmp_path)
