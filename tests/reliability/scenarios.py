"""Fault scenarios against the real receiver process, shared by the tests and ``bench/bench_reliability.py``.

* :func:`run_callback_load`: vendor traffic (duplicates, shuffled, retried) while the receiver process
  is SIGKILLed and restarted several times; then every acknowledged callback must be in the store and
  every message in the state its callbacks imply, and periodic reads must never see a state go back.
* :func:`run_store_outage`: the database stops (PostgreSQL server stopped; SQLite made unwritable)
  in the middle of the traffic; the receiver must answer 503 meanwhile and recover by itself.
"""

from __future__ import annotations

import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import select

from airflow_provider_messaging.models.status import RANK
from airflow_provider_messaging.store import MessageStore
from airflow_provider_messaging.store.schema import callbacks
from tests.reliability.vendor_client import (
    CASCADE,
    Callback,
    Outcome,
    StateWatcher,
    Traffic,
    VendorClient,
    expected_status,
    make_traffic,
    status_histogram,
)
from tests.support.receiver_process import ReceiverProcess
from tests.support.store_helpers import complete_send


def record_sends(store: MessageStore, traffic: Traffic) -> None:
    """Every message is sent (reserved, then completed) before its callbacks arrive."""
    for message in traffic.messages:
        key = f"reliability/{message.vendor}/{message.message_id}"
        reservation = store.reserve_send(
            idempotency_key=key, vendor=message.vendor, recipient=message.recipient, channels=CASCADE
        )
        assert reservation.send
        complete_send(store, key, message.message_id)


def stored_hashes(store: MessageStore) -> Counter[str]:
    with store.engine.connect() as connection:
        return Counter(row[0] for row in connection.execute(select(callbacks.c.body_sha256)))


@dataclass
class Verdict:
    """Everything the tests assert and the benchmark reports."""

    label: str
    messages: int = 0
    callbacks_sent: int = 0  # queue length, duplicates included
    acknowledged: int = 0  # callbacks that got a 2xx
    not_acknowledged: int = 0  # gave up before a 2xx (time limit)
    lost: list[str] = field(default_factory=list)  # acknowledged but not in the store
    wrong_state: list[str] = field(default_factory=list)
    backwards: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    bad_bodies: list[str] = field(default_factory=list)
    kills: int = 0
    restarts: int = 0
    reads: int = 0
    rows: int = 0
    seconds: float = 0.0
    outage_answers: Counter[str] = field(default_factory=Counter)  # answers seen while the DB was down
    outage_seconds: float = 0.0
    recovered: bool = True
    receiver_alive: bool = True
    notes: list[str] = field(default_factory=list)
    logs: str = field(default="", repr=False)  # the receiver's stdout and stderr, every run

    @property
    def server_errors(self) -> int:
        """5xx answers other than 503 (500 = a crash on the request path)."""
        return sum(n for s, n in self.statuses.items() if s.isdigit() and int(s) >= 500 and s != "503")

    @property
    def client_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s.isdigit() and 400 <= int(s) < 500)

    def problems(self) -> list[str]:
        out = []
        if self.lost:
            out.append(f"{len(self.lost)} acknowledged callbacks missing from the store: {self.lost[:5]}")
        if self.not_acknowledged:
            out.append(f"{self.not_acknowledged} callbacks never got a 2xx")
        if self.wrong_state:
            out.append(f"{len(self.wrong_state)} messages in the wrong state: {self.wrong_state[:5]}")
        if self.backwards:
            out.append(f"{len(self.backwards)} states went backwards: {self.backwards[:5]}")
        if self.server_errors or self.client_errors:
            out.append(f"unexpected answers: {dict(self.statuses)}")
        if self.bad_bodies:
            out.append(f"{len(self.bad_bodies)} error bodies not a clean JSON error: {self.bad_bodies[:3]}")
        if not self.recovered:
            out.append("the receiver did not recover after the database came back")
        if not self.receiver_alive:
            out.append("the receiver process died")
        return out


def _check(verdict: Verdict, store: MessageStore, traffic: Traffic, outcomes: list[Outcome]) -> None:
    verdict.messages = len(traffic.messages)
    verdict.callbacks_sent = len(outcomes)
    verdict.acknowledged = sum(o.ok for o in outcomes)
    verdict.not_acknowledged = sum(not o.ok for o in outcomes)
    verdict.statuses = status_histogram(outcomes)
    verdict.bad_bodies = [b for o in outcomes for b in o.bad_bodies]
    stored = stored_hashes(store)
    verdict.rows = sum(stored.values())
    verdict.lost = sorted({o.callback.sha256[:12] for o in outcomes if o.ok and o.callback.sha256 not in stored})
    statuses = store.get_statuses([m.message_id for m in traffic.messages])
    by_message: dict[str, list[Callback]] = {}
    for callback in traffic.distinct:
        if callback.kind == "status":
            by_message.setdefault(callback.message_id, []).append(callback)
    for message in traffic.messages:
        want = expected_status(by_message.get(message.message_id, []))
        got = statuses.get(message.message_id)
        if got is None:
            verdict.wrong_state.append(f"{message.message_id}: no record")
            continue
        ok = got.complete == want.complete and (
            (got.state == want.state and got.delivered_channel == want.delivered_channel)
            if want.complete
            else RANK[got.state] >= RANK[want.state]
        )
        if not ok:
            verdict.wrong_state.append(
                f"{message.message_id}: {got.state.value}/{got.complete} expected {want.state.value}/{want.complete}"
            )


def run_callback_load(
    label: str,
    store_url: str,
    workdir: Path,
    *,
    n_messages: int,
    kills: int,
    threads: int = 16,
    deadline_s: float = 240.0,
) -> Verdict:
    """Traffic for ``n_messages`` messages while the receiver is SIGKILLed and restarted ``kills`` times."""
    started = time.monotonic()
    verdict = Verdict(label)
    traffic = make_traffic(n_messages)
    store = MessageStore(store_url)
    store.upgrade()
    record_sends(store, traffic)
    receiver = ReceiverProcess(store_url, workdir)
    watcher = StateWatcher(store, [m.message_id for m in traffic.messages])
    client = VendorClient(receiver.url, threads=threads, deadline_s=deadline_s)
    try:
        receiver.start()
        watcher.start()
        client.start(traffic.queue)
        for k in range(1, kills + 1):
            # kill at evenly spaced points of the run, while callbacks are in flight
            target = k / (kills + 1)
            limit = time.monotonic() + deadline_s
            while client.progress < target and time.monotonic() < limit:
                time.sleep(0.01)
            receiver.restart()
        client.wait()
        verdict.receiver_alive = receiver.alive()
    finally:
        client.stop()
        watcher.stop()
        receiver.stop()
        verdict.logs = receiver.log_text()
    verdict.kills = receiver.kills
    verdict.restarts = receiver.starts - 1
    verdict.reads = watcher.reads
    verdict.backwards = watcher.backwards
    _check(verdict, store, traffic, client.outcomes)
    store.dispose()
    verdict.seconds = time.monotonic() - started
    return verdict


# ---------------------------------------------------------------------------------------------- store outage
class Outage:
    """How the database goes away and comes back."""

    def __init__(self, begin: Callable[[], None], end: Callable[[], None], how: str) -> None:
        self.begin, self.end, self.how = begin, end, how


def postgres_outage(server: object) -> Outage:
    """Stop and restart a PostgreSQL server of the scenario's own (``support.postgres.PostgresServer``)."""
    return Outage(
        lambda: server.stop("fast"),  # type: ignore[attr-defined]
        server.restart,  # type: ignore[attr-defined]
        "PostgreSQL server stopped (pg_ctl stop -m fast), then started again",
    )


def sqlite_outage(receiver: ReceiverProcess) -> Outage:
    """Make the SQLite file unwritable for the receiver process, in a way that binds root too.

    File modes do not stop root, and moving the file away does not stop a process that holds it open
    (in WAL mode it keeps committing to the moved file). A file-size limit of 1 byte on the receiver
    process (``prlimit``, RLIMIT_FSIZE) makes every write of the database and its WAL fail with EFBIG,
    so SQLite reports a disk I/O error, as on a full or failed disk. Raising the limit again is the
    recovery. Reads keep working.
    """
    saved: dict[str, tuple[int, int]] = {}

    def begin() -> None:
        current = resource.prlimit(receiver.pid, resource.RLIMIT_FSIZE)
        saved["limit"] = current
        resource.prlimit(receiver.pid, resource.RLIMIT_FSIZE, (1, current[1]))

    def end() -> None:
        resource.prlimit(receiver.pid, resource.RLIMIT_FSIZE, saved.get("limit", (-1, -1)))

    return Outage(begin, end, "receiver's file-size limit set to 1 byte (prlimit RLIMIT_FSIZE), then restored")


def _probe(session: requests.Session, receiver_url: str, callback: Callback) -> tuple[int, str]:
    response = session.post(
        receiver_url + callback.path,
        data=callback.body,
        headers=callback.headers(),
        params=callback.params(),
        timeout=(2, 40),
    )
    return response.status_code, response.text


def run_store_outage(
    label: str,
    store_url: str,
    workdir: Path,
    make_outage: Callable[[ReceiverProcess], Outage],
    *,
    n_messages: int,
    outage_s: float = 2.0,
    probes: int = 10,
    threads: int = 8,
    deadline_s: float = 180.0,
) -> Verdict:
    """Traffic; mid-run the database goes away for ``outage_s`` (plus ``probes`` sequential probes)."""
    started = time.monotonic()
    verdict = Verdict(label)
    traffic = make_traffic(n_messages)
    store = MessageStore(store_url)
    store.upgrade()
    record_sends(store, traffic)
    receiver = ReceiverProcess(store_url, workdir)
    client = VendorClient(receiver.url, threads=threads, deadline_s=deadline_s)
    outage: Outage | None = None
    down = False
    try:
        receiver.start()
        outage = make_outage(receiver)
        verdict.notes.append(outage.how)
        client.start(traffic.queue)
        limit = time.monotonic() + deadline_s
        while client.progress < 0.3 and time.monotonic() < limit:
            time.sleep(0.01)
        with requests.Session() as session:
            outage.begin()
            down = True
            went_down = time.monotonic()
            # sequential probes while it is down: every answer must be a clean 503
            for callback in traffic.distinct[:probes]:
                status, text = _probe(session, receiver.url, callback)
                verdict.outage_answers[str(status)] += 1
                if status != 503 or "Traceback" in text:
                    verdict.bad_bodies.append(f"during outage {status}: {text[:200]}")
            time.sleep(max(0.0, outage_s - (time.monotonic() - went_down)))
            outage.end()
            down = False
            verdict.outage_seconds = time.monotonic() - went_down
            # the same receiver process takes callbacks again, without a restart
            recovered_by = time.monotonic() + 30
            while True:
                status, _ = _probe(session, receiver.url, traffic.distinct[0])
                if 200 <= status < 300:
                    break
                if time.monotonic() > recovered_by:
                    verdict.recovered = False
                    break
                time.sleep(0.2)
        client.wait()
        verdict.receiver_alive = receiver.alive() and receiver.starts == 1
    finally:
        client.stop()
        if down and outage is not None:
            outage.end()
        receiver.stop()
        verdict.logs = receiver.log_text()
    _check(verdict, store, traffic, client.outcomes)
    store.dispose()
    verdict.seconds = time.monotonic() - started
    return verdict
