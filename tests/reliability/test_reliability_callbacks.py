"""Callbacks under load and faults: the receiver process is SIGKILLed mid-run, the database goes away.

Proves on SQLite and PostgreSQL: no acknowledged callback is lost, every message ends in the state its
callbacks imply, no state ever goes backwards, a store outage gives clean 503s and heals by itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.scenarios import Verdict, postgres_outage, run_callback_load, run_store_outage, sqlite_outage
from tests.support.postgres import PostgresServer
from tests.support.receiver_process import secrets_found

MESSAGES = 400  # ~1,400 callbacks with duplicates
KILLS = 3


def store_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'reliability.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"reliability_{uuid.uuid4().hex[:8]}")


def assert_sound(verdict: Verdict, caplog: pytest.LogCaptureFixture) -> None:
    assert verdict.problems() == [], verdict.problems()
    assert secrets_found(verdict.logs, caplog.text) == {}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_no_callback_lost_while_the_receiver_is_killed(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    verdict = run_callback_load(kind, store_url(kind, tmp_path, request), tmp_path, n_messages=MESSAGES, kills=KILLS)

    assert verdict.kills >= KILLS and verdict.restarts >= KILLS
    assert verdict.acknowledged == verdict.callbacks_sent > MESSAGES * 3
    assert verdict.reads > 0
    # the kills were felt: some callbacks were refused or cut and had to be retried
    assert any(not s.isdigit() or s == "503" for s in verdict.statuses), verdict.statuses
    assert_sound(verdict, caplog)


@pytest.fixture
def own_postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test only (it is stopped mid-run); the shared one keeps running."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.destroy()


def test_postgres_outage_gives_503_and_heals(
    own_postgres: PostgresServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = own_postgres.create_database("outage")
    verdict = run_store_outage(
        "postgres", url, tmp_path, lambda receiver: postgres_outage(own_postgres), n_messages=150
    )
    assert verdict.outage_answers == {"503": 10}, verdict.outage_answers
    assert verdict.receiver_alive  # the same process, never restarted
    assert_sound(verdict, caplog)


def test_sqlite_outage_gives_503_and_heals(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    verdict = run_store_outage("sqlite", f"sqlite:///{tmp_path / 'outage.db'}", tmp_path, sqlite_outage, n_messages=150)
    assert verdict.outage_answers == {"503": 10}, verdict.outage_answers
    assert verdict.receiver_alive
    assert_sound(verdict, caplog)
