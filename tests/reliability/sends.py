"""No duplicate sends: the operator's real send path (the operator's request through the send ledger), retried.

A recording vendor server (``tests.support.http_server.LocalHttpServer``) counts what reaches it. Four kinds of
retry, each on its own keys: after a success; after an exception injected between the HTTP call and the
store write; after a read timeout; after the worker PROCESS was SIGKILLed right after the HTTP call
(``python -m tests.reliability.sends KEYFILE``, one crash per run, re-run like an Airflow task retry).
Every key must reach the vendor at most once, exactly once where the outcome was known, and every
unknown outcome must fail loudly (AirflowFailException, send_status UNKNOWN/RESERVED), not be re-sent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

CONN_ID = "telesign_reliability_send"
SEND_API_KEY = "cmVsaWFiaWxpdHktc2VuZC1hcGkta2V5LW5ldmVyLWxvZ2dlZA=="
SEND_CUSTOMER_ID = "SENDREL0-0000-4000-8000-000000000002"
SLOW_PREFIX = "1310555"  # these recipients get their answer only after the read timeout


def recipient(i: int, kind: str) -> str:
    """A distinct valid US number per send (the vendor counts requests per number)."""
    if kind == "timeout":
        return f"{SLOW_PREFIX}{i % 10000:04d}"
    area = {"retry": "202", "injected": "212", "crash": "415"}[kind]
    return f"1{area}555{i % 10000:04d}"


def connection_env(vendor_url: str, store_url: str) -> dict[str, str]:
    return {
        f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(
            {
                "conn_type": "telesign",
                "host": vendor_url,
                "login": SEND_CUSTOMER_ID,
                "password": SEND_API_KEY,
                "extra": {"timeout": 0.5, "connect_timeout": 2, "max_retries": 0},
            }
        ),
        "AIRFLOW__MESSAGING__STORE_URL": store_url,
    }


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    from airflow_provider_messaging import config

    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    config.reset_stores()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        config.reset_stores()


def make_operator(die_after_send: set[str] | None = None, raise_after_send: set[str] | None = None) -> Any:
    """A TelesignSmsOperator whose send can crash right after the vendor answered (the HTTP call is real)."""
    from airflow_provider_messaging.operators.telesign import TelesignSmsOperator

    class FaultySms(TelesignSmsOperator):
        def send_payload(self, payload: Any) -> str:
            message_id = super().send_payload(payload)
            number = self.recipient_of(payload)
            if die_after_send and number in die_after_send:
                os.kill(os.getpid(), signal.SIGKILL)  # the worker dies before the store write
            if raise_after_send and number in raise_after_send:
                raise RuntimeError("worker interrupted between the HTTP call and the store write")
            return message_id

    return FaultySms(task_id="send", phone_number="12025550100", text="Your order shipped", telesign_conn_id=CONN_ID)


def send_once(op: Any, number: str, key: str) -> dict[str, Any]:
    """One try of the operator's send path for ``number``; what the task would report."""
    context: Any = {"ti": SimpleNamespace(dag_id="reliability", task_id="send", run_id="run-1", map_index=-1)}
    from airflow_provider_messaging.sending import raise_for_airflow

    payload = op.build_payload(number)
    try:
        result = op.ledger().send(op.send_request(payload, key, context))
    except Exception as exc:  # the task would fail with it (and Airflow would retry)
        return {"key": key, "outcome": "raised", "error": f"{type(exc).__name__}: {exc}"}
    try:
        raise_for_airflow(result)
    except Exception as failure:
        return {"key": key, "outcome": type(failure).__name__, "error": str(failure), "ledger": result.outcome.value}
    return {"key": key, "outcome": "sent", "message_id": result.message_id}


def worker_main(spec_path: str) -> int:
    """Entry of the worker process: send every key of the spec in order (dies at the first crash key)."""
    spec = json.loads(Path(spec_path).read_text())
    op = make_operator(die_after_send=set(spec["die_after_send"]))
    with Path(spec["results"]).open("a") as out:
        for number, key in spec["sends"]:
            out.write(json.dumps(send_once(op, number, key)) + "\n")
            out.flush()
    return 0


@dataclass
class SendVerdict:
    label: str
    keys: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    accepted_requests: int = 0
    duplicates: list[str] = field(default_factory=list)  # keys that reached the vendor twice
    known_not_sent_once: list[str] = field(default_factory=list)  # known outcome but not exactly one request
    unknown_reported: int = 0
    unknown_silent: list[str] = field(default_factory=list)  # unknown outcome not reported loudly
    worker_kills: int = 0
    seconds: float = 0.0
    logs: str = field(default="", repr=False)

    def problems(self) -> list[str]:
        out = []
        if self.duplicates:
            out.append(f"{len(self.duplicates)} keys sent twice: {self.duplicates[:5]}")
        if self.known_not_sent_once:
            out.append(f"{len(self.known_not_sent_once)} known outcomes not sent once: {self.known_not_sent_once[:5]}")
        if self.unknown_silent:
            out.append(f"{len(self.unknown_silent)} unknown outcomes not reported: {self.unknown_silent[:5]}")
        return out


def _vendor_server() -> Any:
    from tests.support.http_server import LocalHttpServer, Recorded, Reply

    def answer(request: Recorded) -> Reply:
        number = str(request.json().get("phone_number"))
        body = {
            "status": {"code": 3001, "description": "Message in progress"},
            "reference_id": uuid.uuid4().hex.upper(),
        }
        delay = 1.2 if number.startswith(SLOW_PREFIX) else 0.0
        return Reply(200, body, delay=delay)

    class QuietServer(LocalHttpServer):
        def start(self) -> QuietServer:
            super().start()
            assert self._httpd is not None
            self._httpd.handle_error = lambda *args: None  # type: ignore[method-assign]  # timed-out clients hang up
            return self

    return QuietServer(answer)


def run_duplicate_sends(
    label: str, store_url: str, workdir: Path, *, n_retry: int, n_injected: int, n_timeout: int, n_crash: int
) -> SendVerdict:
    """Send, "retry" every key, count requests per key at the vendor; see the module docstring."""
    from airflow_provider_messaging.store import MessageStore

    started = time.monotonic()
    verdict = SendVerdict(label)
    store = MessageStore(store_url)
    store.upgrade()
    plan: dict[str, list[tuple[str, str]]] = {
        kind: [(recipient(i, kind), f"{label}/{kind}/{i}") for i in range(n)]
        for kind, n in (("retry", n_retry), ("injected", n_injected), ("timeout", n_timeout), ("crash", n_crash))
    }
    results: dict[str, list[dict[str, Any]]] = {}
    logs: list[str] = []
    with _vendor_server() as vendor, environment(connection_env(vendor.url, store_url)):
        injected = {number for number, _ in plan["injected"]}
        op = make_operator(raise_after_send=injected)
        for kind in ("retry", "injected", "timeout"):
            for number, key in plan[kind]:
                first = send_once(op, number, key)
                again = send_once(make_operator(), number, key)  # the task retry: a fresh operator
                results[key] = [first, again]
        # the worker process: a crash right after the HTTP call, then the task is retried (re-run)
        crash_numbers = [number for number, _ in plan["crash"]]
        spec = workdir / "send-worker.json"
        out = workdir / "send-worker-results.jsonl"
        spec.write_text(json.dumps({"sends": plan["crash"], "die_after_send": crash_numbers, "results": str(out)}))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), *sys.path])}
        for _ in range(n_crash + 1):  # each run dies at the next crash key; the last one gets through
            run = subprocess.run(
                [sys.executable, "-m", "tests.reliability.sends", str(spec)],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                start_new_session=True,
            )
            logs.append(run.stdout + run.stderr)
            if run.returncode == -signal.SIGKILL:
                verdict.worker_kills += 1
            elif run.returncode != 0:
                raise RuntimeError(f"send worker failed ({run.returncode}): {run.stderr[-2000:]}")
        for line in out.read_text().splitlines() if out.exists() else []:
            entry = json.loads(line)
            results.setdefault(entry["key"], []).append(entry)
        requests_ = vendor.requests
    per_number = Counter(str(r.json().get("phone_number")) for r in requests_)
    verdict.requests = len(requests_)
    verdict.accepted_requests = len(requests_)  # every answer is a 200 here
    rows = {status.idempotency_key: status for status in _all_statuses(store)}
    for kind, sends in plan.items():
        for number, key in sends:
            verdict.keys += 1
            verdict.by_kind[kind] += 1
            count = per_number[number]
            if count > 1:
                verdict.duplicates.append(key)
            entries = results.get(key, [])
            row = rows.get(key)
            if kind == "retry":
                if count != 1 or [e["outcome"] for e in entries] != ["sent", "sent"]:
                    verdict.known_not_sent_once.append(f"{key}: {count} requests, {entries}")
                continue
            # unknown outcome: reached the vendor once, then every later try refused loudly - as an unknown
            # outcome, or (a worker killed mid-send, retried within its lease) as a send still in flight
            last = entries[-1] if entries else {}
            loud = last.get("outcome") == "AirflowFailException" or (
                last.get("outcome") == "AirflowException" and last.get("ledger") == "in_flight"
            )
            recorded = row is not None and row.send_status in ("UNKNOWN", "RESERVED")
            if count == 1 and loud and recorded:
                verdict.unknown_reported += 1
            else:
                verdict.unknown_silent.append(f"{key}: {count} requests, {row and row.send_status}, {entries}")
            logs.extend(e.get("error", "") for e in entries)
    store.dispose()
    verdict.logs = "\n".join(logs)
    verdict.seconds = time.monotonic() - started
    return verdict


def _all_statuses(store: Any) -> list[Any]:
    from sqlalchemy import select

    from airflow_provider_messaging.store.rows import status_from_row
    from airflow_provider_messaging.store.schema import messages

    with store.engine.connect() as connection:
        return [status_from_row(r._mapping) for r in connection.execute(select(messages))]


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1]))
