"""Never sent twice, proven with real processes racing on PostgreSQL and SQLite.

Eight worker processes (``race_worker.py``: each its own interpreter, store engine and HTTP pool)
meet at a barrier and then run the real send path - an operator's ``execute``, a failover operator,
a notifier - for the same idempotency key against a recording HTTP server. Every round asserts that
the vendor received exactly the documented number of requests and that every loser ended with a
documented outcome (the earlier record, "another try is sending", or "unknown outcome").

``LEDGER_RACE_SCALE=N`` multiplies the rounds (the bench profile runs more).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from airflow_provider_messaging.exceptions import SendOutcomeUnknownError
from airflow_provider_messaging.sending import SendLedger, SendRequest
from airflow_provider_messaging.store import MessageStore
from airflow_provider_messaging.store.schema import messages
from tests.ledger.race_worker import ACCEPTED, ALREADY_SENT, IN_FLIGHT, UNKNOWN
from tests.support.http_server import LocalHttpServer, Recorded, Reply
from tests.support.waiting import wait_for

WORKERS = 8
SCALE = int(os.environ.get("LEDGER_RACE_SCALE", "1"))
#: rounds per scenario and store (about 210 per store in the default profile)
ROUNDS = {
    "new_key": 40,
    "after_transient_rejection": 35,
    "after_unknown_with_resend_unknown": 30,
    "reserved_within_lease": 20,
    "reserved_after_lease_with_resend_unknown": 20,
    "reserved_after_lease": 15,
    "failover_first_vendor_rejects": 30,
    "notifier": 25,
}
ACCEPT_DELAY = 0.02  # the vendor takes a little time, as a real one does: losers may find the key in flight


def telesign_accepted() -> dict[str, Any]:
    return {"status": {"code": 3001, "description": "Message in progress"}, "reference_id": uuid.uuid4().hex.upper()}


def recipient(request: Recorded) -> str:
    body = request.json()
    return str(body.get("phone_number") or body.get("destination"))


class RaceVendor:
    """Both vendors' send APIs; what a connection answers depends on its path prefix."""

    def __init__(self, server: LocalHttpServer) -> None:
        self.server = server
        self.hold_released = threading.Event()
        server.default = self.answer

    def answer(self, request: Recorded) -> Reply:
        conn = request.path.split("/")[1]
        if conn == "race_down":
            return Reply(503, {"status": {"code": 3500, "description": "System unavailable, please resubmit"}})
        if conn == "race_reject":
            return Reply(400, {"status": {"code": 3101, "description": "Invalid phone_number"}})
        if conn == "race_ae":
            guid = str(uuid.uuid4())
            results = [{"messageGUID": guid, "destination": recipient(request), "status": "success"}]
            return Reply(
                200, {"status": "success", "message": "queued", "data": {"results": results}}, delay=ACCEPT_DELAY
            )
        if conn == "race_hold":
            self.hold_released.wait(timeout=60)
        return Reply(200, telesign_accepted(), delay=ACCEPT_DELAY)

    def sends(self, phone: str, conn: str | None = None) -> list[Recorded]:
        return [
            r for r in self.server.requests if recipient(r) == phone and (conn is None or r.path.split("/")[1] == conn)
        ]


def connections(server_url: str) -> dict[str, str]:
    env = {}
    for conn in ("race_ok", "race_down", "race_reject", "race_hold"):
        body = {
            "conn_type": "telesign",
            "host": f"{server_url}/{conn}",
            "login": "12345678-9ABC-DEF0-1234-56789ABCDEF0",
            "password": "race-api-key",
            "extra": {"timeout": 30, "max_retries": 0},
        }
        env[f"AIRFLOW_CONN_{conn.upper()}"] = json.dumps(body)
    body = {
        "conn_type": "aerialink",
        "host": f"{server_url}/race_ae",
        "login": "acme",
        "password": "secret",
        "extra": {"timeout": 30, "max_retries": 0, "default_source": "CONVEY"},
    }
    env["AIRFLOW_CONN_RACE_AE"] = json.dumps(body)
    return env


@dataclass
class Pool:
    """Eight spawned worker processes, a barrier they meet at, and their pause events."""

    processes: list[Any]
    commands: list[Any]
    results: Any
    pauses: list[dict[str, Any]]
    pids: list[int] = field(default_factory=list)

    def race(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        for queue in self.commands:
            queue.put(command)
        ends = [self.results.get(timeout=180) for _ in self.processes]
        assert all(end[1] == command["round"] for end in ends), ends
        return [end[2] for end in ends]

    def one(self, index: int, command: dict[str, Any]) -> None:
        self.commands[index].put({**command, "barrier": False})

    def result(self) -> dict[str, Any]:
        return self.results.get(timeout=180)[2]


@dataclass
class Race:
    store: MessageStore
    vendor: RaceVendor
    pool: Pool
    rounds: int = 0

    def next(self, kind: str = "operator", **extra: Any) -> dict[str, Any]:
        self.rounds += 1
        phone = f"1555867{self.rounds:04d}"
        key = f"race/{uuid.uuid4().hex[:12]}"
        return {"round": self.rounds, "kind": kind, "key": key, "phone": phone, "conn": "race_ok", **extra}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def race(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Race]:
    import multiprocessing

    from tests.ledger import race_worker

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('race') / 'race.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(f"race_{uuid.uuid4().hex[:8]}")
    store = MessageStore(url)
    store.upgrade()
    context = multiprocessing.get_context("spawn")
    with LocalHttpServer() as server:
        vendor = RaceVendor(server)
        saved = dict(os.environ)
        os.environ.update(connections(server.url))
        os.environ["AIRFLOW__MESSAGING__STORE_URL"] = url
        barrier = context.Barrier(WORKERS)
        results = context.Queue()
        pool = Pool([], [], results, [])
        try:
            for index in range(WORKERS):
                commands = context.Queue()
                pause = {"reserved": context.Event(), "go": context.Value("b", 0)}
                process = context.Process(
                    target=race_worker.serve, args=(index, commands, results, barrier, pause), daemon=True
                )
                process.start()
                pool.processes.append(process)
                pool.commands.append(commands)
                pool.pauses.append(pause)
            ready = sorted(results.get(timeout=300) for _ in range(WORKERS))
            pool.pids = [info["pid"] for _, _, info in ready]
            yield Race(store, vendor, pool)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            for queue in pool.commands:
                queue.put(None)
            for process in pool.processes:
                os.kill(process.pid, signal.SIGCONT) if process.is_alive() else None
                process.join(timeout=30)
                if process.is_alive():
                    process.kill()
            store.dispose()


def check_one_winner(ends: list[dict[str, Any]], requests: int, *, winner: str = ACCEPTED) -> str | None:
    """The documented ends of a round with one sender; a description of what is wrong, or None."""
    counts = Counter(end["end"] for end in ends)
    if requests != 1:
        return f"{requests} vendor requests"
    if counts[winner] != 1:
        return f"{counts[winner]} workers sent"
    losers = set(counts) - {winner}
    if not losers <= {ALREADY_SENT, IN_FLIGHT}:
        return f"undocumented loser ends: {counts}"
    ids = {end.get("message_id") for end in ends if end["end"] in (ACCEPTED, ALREADY_SENT)}
    if len(ids) != 1:
        return f"losers returned other message ids: {ids}"
    return None


def seed_unknown(store: MessageStore, command: dict[str, Any]) -> None:
    def timeout() -> str:
        raise SendOutcomeUnknownError("read timeout after the body was sent")

    request = SendRequest(command["key"], "telesign", command["phone"], ("sms",), send=timeout)
    assert SendLedger(store, lease_seconds=900).send(request).outcome.value == "unknown"


def seed_reserved(store: MessageStore, command: dict[str, Any], *, age: timedelta = timedelta(0)) -> None:
    """A RESERVED row, as a task frozen (or killed) between its reservation and its vendor call leaves."""
    assert store.reserve_send(
        idempotency_key=command["key"], vendor="telesign", recipient=command["phone"], channels=["sms"]
    ).send
    if age:
        with store.engine.begin() as connection:
            connection.execute(
                update(messages)
                .where(messages.c.idempotency_key == command["key"])
                .values(updated_at=datetime.now(timezone.utc) - age)
            )


def seed_transient_rejection(command: dict[str, Any]) -> None:
    """A real earlier try through the operator: the vendor answers 503 and the key is REJECTED."""
    from airflow.sdk.exceptions import AirflowException

    from airflow_provider_messaging.operators.telesign import TelesignSmsOperator
    from tests.ledger.race_worker import _context

    operator = TelesignSmsOperator(
        task_id="race",
        telesign_conn_id="race_down",
        phone_number=command["phone"],
        text="Hi",
        idempotency_key=command["key"],
    )
    with pytest.raises(AirflowException, match="retry is safe"):
        operator.execute(_context(command["key"]))


def test_racing_workers_send_each_key_once(race: Race) -> None:
    from airflow_provider_messaging import config

    problems: list[str] = []
    tally: Counter[str] = Counter()

    def play(scenario: str, command: dict[str, Any], expect: str) -> None:
        ends = race.pool.race(command)
        tally.update(f"{scenario}:{end['end']}" for end in ends)
        if command["kind"] == "failover":
            telesign, aerialink = (
                len(race.vendor.sends(command["phone"], "race_reject")),
                len(race.vendor.sends(command["phone"], "race_ae")),
            )
            problem = None if telesign == 1 else f"{telesign} requests to the first vendor"
            problem = problem or check_one_winner(ends, aerialink)
        elif command["kind"] == "notifier":
            requests = len(race.vendor.sends(command["phone"], "race_ok"))
            errors = [end for end in ends if end["end"] != "returned"]
            problem = f"{requests} vendor requests" if requests != 1 else (f"errors: {errors}" if errors else None)
        else:
            requests = len(race.vendor.sends(command["phone"], "race_ok"))
            if expect == ACCEPTED:
                problem = check_one_winner(ends, requests)
            else:  # nobody may send
                wrong = [end for end in ends if end["end"] != expect]
                problem = f"{requests} vendor requests" if requests else (f"ends {wrong}" if wrong else None)
        if problem:
            problems.append(f"{scenario} round {command['round']} ({command['key']}): {problem}")

    for _ in range(ROUNDS["new_key"] * SCALE):
        play("new_key", race.next(), ACCEPTED)
    for _ in range(ROUNDS["after_transient_rejection"] * SCALE):
        command = race.next()
        seed_transient_rejection(command)
        play("after_transient_rejection", command, ACCEPTED)
    for _ in range(ROUNDS["after_unknown_with_resend_unknown"] * SCALE):
        command = race.next(resend_unknown=True)
        seed_unknown(race.store, command)
        play("after_unknown_with_resend_unknown", command, ACCEPTED)
    for _ in range(ROUNDS["reserved_within_lease"] * SCALE):
        command = race.next(resend_unknown=True)  # even told to resend: a send in flight is never re-sent
        seed_reserved(race.store, command)
        play("reserved_within_lease", command, IN_FLIGHT)
    lease = timedelta(seconds=config.send_lease_seconds() + 60)
    for _ in range(ROUNDS["reserved_after_lease_with_resend_unknown"] * SCALE):
        command = race.next(resend_unknown=True)
        seed_reserved(race.store, command, age=lease)
        play("reserved_after_lease_with_resend_unknown", command, ACCEPTED)
    for _ in range(ROUNDS["reserved_after_lease"] * SCALE):
        command = race.next()
        seed_reserved(race.store, command, age=lease)
        play("reserved_after_lease", command, UNKNOWN)
    for _ in range(ROUNDS["failover_first_vendor_rejects"] * SCALE):
        play(
            "failover_first_vendor_rejects", race.next("failover", conn="race_reject", second_conn="race_ae"), ACCEPTED
        )
    for _ in range(ROUNDS["notifier"] * SCALE):
        play("notifier", race.next("notifier"), "returned")

    print(f"\n{race.store.safe_url}: {race.rounds} rounds x {WORKERS} processes: {dict(sorted(tally.items()))}")
    assert race.rounds >= 200
    assert not problems, "\n".join(problems[:20])
    # the races were real: losers found the winner's key still in flight (finding it done depends on timing;
    # the zombie test and test_ledger.py prove that path deterministically)
    assert tally["new_key:in_flight"] > 0, tally


@pytest.mark.parametrize("frozen", ["after_reserving", "after_sending"])
def test_zombie_and_its_retry_send_once(race: Race, frozen: str) -> None:
    """A task process frozen (SIGSTOP) after reserving, or after its request left; its retry runs; it resumes."""
    pool, vendor = race.pool, race.vendor
    conn = "race_ok" if frozen == "after_reserving" else "race_hold"
    command = race.next(conn=conn)
    zombie_pid = pool.pids[0]
    vendor.hold_released.clear()
    try:
        if frozen == "after_reserving":
            pool.pauses[0]["reserved"].clear()
            pool.pauses[0]["go"].value = 0
            pool.one(0, {**command, "pause_after_reserve": True})
            assert pool.pauses[0]["reserved"].wait(timeout=120)
            os.kill(zombie_pid, signal.SIGSTOP)
            pool.pauses[0]["go"].value = 1  # it would go on now, but it is frozen
        else:
            pool.one(0, command)
            wait_for(
                lambda: vendor.sends(command["phone"]), 60, "the zombie's request to reach the vendor", interval=0.01
            )
            os.kill(zombie_pid, signal.SIGSTOP)
            vendor.hold_released.set()  # the vendor answers; the frozen process does not read it yet

        pool.one(1, command)  # Airflow's retry of the task, while the first try is frozen
        retry = pool.result()
        assert retry["end"] == IN_FLIGHT, retry
        assert "Another try is sending" in retry["error"]
        assert len(vendor.sends(command["phone"])) == (0 if frozen == "after_reserving" else 1)
    finally:
        os.kill(zombie_pid, signal.SIGCONT)
        vendor.hold_released.set()

    zombie = pool.result()
    assert zombie["end"] == ACCEPTED, zombie
    pool.one(1, command)  # the next retry finds the zombie's message
    later = pool.result()
    assert later["end"] == ALREADY_SENT and later["message_id"] == zombie["message_id"], later
    assert len(vendor.sends(command["phone"])) == 1
    status = race.store.get_status(command["key"])
    assert status is not None and status.send_status == "ACCEPTED" and status.message_id == zombie["message_id"]


def test_workers_really_are_separate_processes(race: Race) -> None:
    assert len(set(race.pool.pids)) == WORKERS and os.getpid() not in race.pool.pids
    assert all(Path(f"/proc/{pid}").exists() for pid in race.pool.pids)
