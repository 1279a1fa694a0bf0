"""Fixtures of the failover tests: real local vendor servers, a real store, real DAG runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from operators.ops_support import Env, make_env
from support.http_server import LocalHttpServer

from airflow_provider_messaging.store import MessageStore


@pytest.fixture
def env(airflow_db: Path, store: MessageStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Env]:
    """Both vendors' send APIs on a recording local server, and the store (SQLite and PostgreSQL)."""
    with LocalHttpServer() as server:
        yield from make_env(server, store, monkeypatch, tmp_path)
