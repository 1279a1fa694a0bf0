"""Bad input never gets in: fuzzed bodies against the running receiver process (and the parsers), and
forged or replayed callbacks. 4xx (or 2xx for a valid vendor shape), never 5xx, nothing written on a
reject, the process stays up, no secret in its logs."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability.fuzz import (
    Tally,
    content_types,
    counts,
    forged_requests,
    json_values,
    mutated_callbacks,
    post,
    raw_bodies,
)
from reliability.receiver_process import ReceiverProcess, secrets_found

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.receiver import parsing
from airflow_provider_messaging.store import MessageStore

EXAMPLES = 150
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ReceiverProcess, MessageStore, requests.Session]]:
    """The receiver process on SQLite and on PostgreSQL (which refuses NUL characters and long ids)."""
    workdir = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        url = f"sqlite:///{workdir / 'fuzz.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(f"fuzz_{workdir.name.replace('-', '_')}")
    store = MessageStore(url)
    store.upgrade()
    receiver = ReceiverProcess(url, workdir).start()
    try:
        with requests.Session() as session:
            yield receiver, store, session
    finally:
        receiver.stop()
        assert secrets_found(receiver.log_text()) == {}
        store.dispose()


def check(running: Any, tally: Tally, route: str, body: bytes, content_type: str, *, auth: bool = True) -> int:
    receiver, store, session = running
    before = counts(store)
    response = post(session, receiver.url, route, body, content_type, auth=auth)
    tally.record(response, before, counts(store), f"{route} {body[:80]!r}")
    assert response.status_code < 500, (response.status_code, response.text[:300], body[:300])
    assert 200 <= response.status_code < 300 or 400 <= response.status_code < 500
    assert tally.rows_after_reject == [] and tally.traces == [], (tally.rows_after_reject, tally.traces)
    assert receiver.alive()
    return response.status_code


def test_fuzzed_bodies_never_get_in(running: Any) -> None:
    tally = Tally()

    @FUZZ
    @given(raw_bodies(), content_types)
    def fuzz(case: tuple[str, bytes], content_type: str) -> None:
        check(running, tally, case[0], case[1], content_type)

    fuzz()
    assert tally.total >= EXAMPLES and set(tally.statuses) <= {200, 400, 401, 413, 415}, tally.statuses


def test_wrong_types_huge_and_unicode_fields(running: Any) -> None:
    tally = Tally()

    @FUZZ
    @given(mutated_callbacks())
    def fuzz(case: tuple[str, bytes]) -> None:
        check(running, tally, case[0], case[1], "application/json")

    fuzz()
    assert tally.total >= EXAMPLES and tally.statuses[200] and tally.statuses[400], tally.statuses


def test_forged_and_replayed_callbacks_get_401_and_write_nothing(running: Any) -> None:
    receiver, store, session = running
    before = counts(store)
    answers = []
    for name, route, body, headers, params in forged_requests(b" "):
        response = session.post(receiver.url + route, data=body, headers=headers, params=params, timeout=30)
        answers.append((name, response.status_code))
    assert answers and all(status == 401 for _, status in answers), [a for a in answers if a[1] != 401]
    assert counts(store) == before

    # a genuine callback replayed as is: accepted again, kept raw, but it changes no state
    route, body = "/telesign/status", json.dumps({"reference_id": "REPLAY01", "status": {"code": 3000}}).encode()
    first = post(session, receiver.url, route, body, "application/json")
    state = store.get_status("REPLAY01")
    again = post(session, receiver.url, route, body, "application/json")
    assert (first.status_code, again.status_code) == (200, 200)
    assert store.get_status("REPLAY01") == state
    assert len(store.callbacks_for("REPLAY01")) == 2


PARSERS = (parsing.telesign_delivery, parsing.telesign_inbound, parsing.aerialink_delivery, parsing.aerialink_inbound)


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(PARSERS), json_values | mutated_callbacks().map(lambda case: json.loads(case[1])))
def test_parsers_reject_only_with_a_validation_error(parser: Any, data: Any) -> None:
    with contextlib.suppress(PayloadValidationError):  # anything else escapes and fails the test
        parser(data)


def test_fuzz_runs_in_a_separate_process(running: Any) -> None:
    receiver = running[0]
    assert receiver.starts == 1 and receiver.alive()
    assert Path(receiver.log_path).exists()
