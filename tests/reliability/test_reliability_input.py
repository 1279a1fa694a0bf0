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

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.receiver import parsing
from airflow_provider_messaging.store import MessageStore
from tests.reliability.fuzz import (
    SLOW_HEADS,
    TIME_FIELDS,
    VALID,
    Tally,
    content_types,
    counts,
    forged_requests,
    hostile_callbacks,
    hostile_heads,
    json_values,
    mutated_callbacks,
    out_of_range_times,
    post,
    raw_bodies,
    raw_request,
    slow_head_closed,
    ui_requests,
)
from tests.support.receiver_process import ReceiverProcess, airflow_token, secrets_found

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
    # a short header timeout, so that the slow-head checks below take seconds; Airflow's metadata
    # database of the run, where the view API's token check looks up revoked tokens
    airflow_db = request.getfixturevalue("airflow_db")
    env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_db / 'airflow.db'}"}
    receiver = ReceiverProcess(url, workdir, env=env, args=("--header-timeout", "2")).start()
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


def test_huge_and_non_finite_numbers_anywhere(running: Any) -> None:
    tally = Tally()

    @FUZZ
    @given(hostile_callbacks())
    def fuzz(case: tuple[str, bytes]) -> None:
        check(running, tally, case[0], case[1], "application/json")

    fuzz()
    assert tally.total >= EXAMPLES and tally.statuses[400], tally.statuses


def test_out_of_range_times_in_every_time_field_are_400(running: Any) -> None:
    tally = Tally()

    @FUZZ
    @given(st.sampled_from([(r, f) for r, fields in TIME_FIELDS.items() for f in fields]), out_of_range_times())
    def fuzz(where: tuple[str, tuple[Any, ...]], stamp: str) -> None:
        route, path = where
        data = json.loads(json.dumps(VALID[route]))
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = stamp
        assert check(running, tally, route, json.dumps(data).encode(), "application/json") == 400, (route, path, stamp)

    fuzz()
    assert tally.total >= EXAMPLES and set(tally.statuses) == {400}, tally.statuses


HEAD_EXAMPLES = 60


def test_non_ascii_oversized_and_countless_headers(running: Any) -> None:
    receiver, store, _session = running
    tally = Tally()

    @settings(max_examples=HEAD_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(hostile_heads())
    def fuzz(case: tuple[str, str, list[tuple[bytes, bytes]], bytes]) -> None:
        kind, target, headers, body = case
        before = counts(store)
        status = raw_request(receiver.url, "POST", target, headers, body)
        tally.record_status(status, before, counts(store), f"{kind} {target}")
        expected = {401} if kind == "non-ascii-credentials" else {0, 400, 431}
        assert status in expected, (kind, status)
        assert tally.rows_after_reject == [] and receiver.alive()

    fuzz()
    assert tally.total >= HEAD_EXAMPLES and tally.server_errors == 0, tally.statuses


def test_slow_request_heads_are_closed(running: Any) -> None:
    receiver = running[0]
    assert [slow_head_closed(receiver.url, prefix) for prefix in SLOW_HEADS] == [True] * len(SLOW_HEADS)
    assert receiver.alive()


def test_extreme_filters_and_ids_on_the_view_api_and_report(running: Any) -> None:
    receiver, store, session = running
    tally = Tally()
    login = {"Authorization": f"Bearer {airflow_token()}"}
    assert session.get(receiver.url + "/ui/api/me", headers=login, timeout=30).status_code == 200

    @FUZZ
    @given(ui_requests())
    def fuzz(case: tuple[str, dict[str, str]]) -> None:
        path, params = case
        before = counts(store)
        response = session.get(receiver.url + path, params=params, headers=login, timeout=60)
        tally.record(response, before, counts(store), f"{path} {params}"[:200])
        assert response.status_code in (200, 400, 404, 422), (path, params, response.status_code, response.text[:300])
        assert tally.traces == [] and receiver.alive()

    fuzz()
    assert tally.total >= EXAMPLES and tally.statuses[200] and tally.statuses[400], tally.statuses


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
