"""Bulk sends: the operator's bulk mode against a sequential loop of hook sends, and its rate limit.

A local HTTP/1.1 keep-alive server runs in a separate process and answers every send after 20 ms
(Telesign's 3001 "Message in progress", a fresh ``reference_id`` each time), like a remote API.
Bulk mode = ``TelesignSmsOperator(recipients=[...]).execute(context)``: validation of every recipient,
then per recipient opt-out check, idempotency reservation and completion in the SQLite store, and the
send, ``max_concurrency`` at a time. Baseline = the same messages sent one by one with
``TelesignHook.send_omnichannel`` (no store), in the same run. A third run sets the connection's
``rate_limit`` extra and the server's arrival times show the busiest 1-second window.

Run: ``python bench/bench_bulk.py [--quick]``.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from types import SimpleNamespace
from typing import Any

LATENCY_S = 0.020
CONCURRENCY = 16
RATE_LIMIT = 50.0
CUSTOMER_ID = "12345678-9ABC-DEF0-1234-56789ABCDEF0"
API_KEY = "dGVzdC1hcGkta2V5LXRoYXQtbXVzdC1uZXZlci1sZWFr"
TEXT = "Service notice: maintenance tonight 01:00-02:00 UTC."


# ---- server (child process) ------------------------------------------------------------------


class _SlowApi(asyncio.Protocol):
    """Keep-alive HTTP/1.1: each POST is answered after LATENCY_S; ``GET /arrivals`` lists POST arrival times."""

    arrivals: list[float] = []
    counter = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""
        self.pending: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].split(b"\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            method, path = head[0].split(b" ")[:2]
            if method == b"GET" and path == b"/arrivals":
                body = json.dumps(_SlowApi.arrivals).encode()
                _SlowApi.arrivals = []
                self._answer(body, delay=0.0)
            else:
                _SlowApi.arrivals.append(time.time())
                _SlowApi.counter += 1
                body = json.dumps(
                    {
                        "status": {"code": 3001, "description": "Message in progress"},
                        "reference_id": f"{_SlowApi.counter:032X}",
                    }
                ).encode()
                self._answer(body, delay=LATENCY_S)

    def _answer(self, body: bytes, delay: float) -> None:
        response = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        loop = asyncio.get_running_loop()
        previous = self.pending

        async def later() -> None:
            await asyncio.sleep(delay)
            if previous is not None:
                await previous  # answers on one connection stay in request order
            self.transport.write(response)

        self.pending = loop.create_task(later())  # type: ignore[assignment]


def _serve(port_queue: Any) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_SlowApi, "127.0.0.1", 0, backlog=256)
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


# ---- client ----------------------------------------------------------------------------------


def _environment(url: str) -> None:
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # no log line per message
    home = tempfile.mkdtemp(prefix="bench-bulk-")
    os.environ.setdefault("AIRFLOW_HOME", home)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ["AIRFLOW__MESSAGING__STORE_URL"] = f"sqlite:///{home}/bench-messaging.db"
    for conn_id, extra in (("bench_bulk", {}), ("bench_bulk_limited", {"rate_limit": RATE_LIMIT})):
        conn = {"conn_type": "telesign", "host": url, "login": CUSTOMER_ID, "password": API_KEY, "extra": extra}
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)


def _context(task_id: str) -> dict[str, Any]:
    """What the operator reads from an Airflow context: the task instance's ids and xcom_push."""
    ti = SimpleNamespace(
        dag_id="bench_bulk",
        task_id=task_id,
        run_id=f"bench__{uuid.uuid4().hex}",
        map_index=-1,
        try_number=1,
        xcom_push=lambda **kwargs: None,
    )
    return {"ti": ti, "task_instance": ti}


def _numbers(n: int, offset: int) -> list[str]:
    return [f"1555{offset + i:07d}" for i in range(n)]


def _bulk(recipients: list[str], conn_id: str) -> tuple[float, list[dict[str, Any]]]:
    from airflow_provider_messaging.operators.telesign import TelesignSmsOperator

    operator = TelesignSmsOperator(
        task_id=f"bulk_{uuid.uuid4().hex[:8]}",
        telesign_conn_id=conn_id,
        recipients=recipients,
        text=TEXT,
        max_concurrency=CONCURRENCY,
        fail_on_any_failure=True,
    )
    started = time.perf_counter()
    records = operator.execute(_context(operator.task_id))  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    assert len(records) == len(recipients) and all(r["message_id"] for r in records)
    return elapsed, records


def _sequential(recipients: list[str]) -> float:
    from airflow_provider_messaging.hooks.telesign import TelesignHook
    from airflow_provider_messaging.models.telesign import OmnichannelRequest

    hook = TelesignHook(telesign_conn_id="bench_bulk")
    requests = [
        OmnichannelRequest.parse(
            {
                "channels": [{"channel": "sms"}],
                "phone_number": number,
                "message": {"sms": {"template": "text", "parameters": {"text": TEXT}}},
                "message_type": "ARN",
            }
        )
        for number in recipients
    ]
    hook.send_omnichannel(requests[0])  # warm: open the connection
    started = time.perf_counter()
    for request in requests:
        assert hook.send_omnichannel(request).reference_id
    return time.perf_counter() - started


def _arrivals(url: str) -> list[float]:
    import requests

    return sorted(requests.get(f"{url}/arrivals", timeout=10).json())


def _busiest_second(times: list[float]) -> int:
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def run(quick: bool = False) -> str:
    """Measure bulk vs sequential messages/s and the rate limit; return a Markdown section."""
    n, n_limited = (150, 100) if quick else (600, 250)
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    server = ctx.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=30)}"
        _environment(url)
        _bulk(_numbers(20, 9_000_000), "bench_bulk")  # warm: store schema, connections, imports
        sequential_s = _sequential(_numbers(n, 0))
        bulk_s, _ = _bulk(_numbers(n, 1_000_000), "bench_bulk")
        _arrivals(url)  # reset
        limited_s, _ = _bulk(_numbers(n_limited, 2_000_000), "bench_bulk_limited")
        times = _arrivals(url)
    finally:
        server.terminate()
        server.join(5)

    sequential, bulk = n / sequential_s, n / bulk_s
    ratio = bulk / sequential
    busiest = _busiest_second(times)
    lines = [
        "## Bulk sends: operator bulk mode vs a sequential loop of hook sends",
        "",
        f"Server: asyncio HTTP/1.1 keep-alive in a separate process, {LATENCY_S * 1000:.0f} ms per answer "
        "(Telesign 3001, a fresh reference_id each). Same messages (SMS, one per recipient), same run. "
        f"Bulk = `TelesignSmsOperator(recipients=[...], max_concurrency={CONCURRENCY}).execute(context)`, "
        "including validation, opt-out check and idempotency reserve/complete in the SQLite store for "
        "every recipient; sequential = `TelesignHook.send_omnichannel` in a loop, no store.",
        "",
        "| run | messages | seconds | msg/s | vs sequential |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| sequential hook sends | {n} | {sequential_s:.2f} | {sequential:,.0f} | 1.00x |",
        f"| bulk mode | {n} | {bulk_s:.2f} | {bulk:,.0f} | {ratio:.2f}x |",
        f"| bulk mode, rate_limit={RATE_LIMIT:g}/s | {n_limited} | {limited_s:.2f} | {n_limited / limited_s:,.0f} | "
        f"{n_limited / limited_s / sequential:.2f}x |",
        "",
        f"Rate limit: {len(times)} requests arrived at the server; the busiest 1-second window (sliding, "
        f"server-side arrival times) held **{busiest}** (limit {RATE_LIMIT:g}).",
        "",
        f"Targets: bulk >= 5x sequential: **{'met' if ratio >= 5 else 'NOT met'}** ({ratio:.1f}x); "
        f"rate limit never exceeded: **{'met' if busiest <= RATE_LIMIT else 'NOT met'}**.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    print(run(quick="--quick" in sys.argv))
