"""No message is sent twice: the operator's send path retried after a success, after a crash between
the HTTP call and the store write (exception injected; worker process SIGKILLed), after a read timeout."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.reliability.sends import SEND_API_KEY, run_duplicate_sends
from tests.support.postgres import PostgresServer
from tests.support.receiver_process import secrets_found


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_no_duplicate_sends(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, airflow_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'sends.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database(f"sends_{uuid.uuid4().hex[:8]}")
    crashes = 3 if kind == "sqlite" else 1  # each worker crash costs a process start (Airflow import)
    verdict = run_duplicate_sends(kind, url, tmp_path, n_retry=200, n_injected=20, n_timeout=4, n_crash=crashes)

    assert verdict.problems() == [], verdict.problems()
    assert verdict.keys == 224 + crashes
    assert verdict.requests == verdict.keys  # every key reached the vendor exactly once
    assert verdict.unknown_reported == 24 + crashes
    assert verdict.worker_kills == crashes
    assert secrets_found(verdict.logs, caplog.text, extra=(SEND_API_KEY,)) == {}
