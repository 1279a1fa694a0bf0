"""Fixtures of the policy DAG tests: real DAG runs against a local vendor stand-in and a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from operators.ops_support import Env, make_env
from support.http_server import LocalHttpServer

from airflow_provider_messaging.store import MessageStore


@pytest.fixture
def env(airflow_db: Path, sqlite_store: MessageStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Env]:
    with LocalHttpServer() as server:
        yield from make_env(server, sqlite_store, monkeypatch, tmp_path)
