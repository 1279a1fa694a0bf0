"""Benchmark: committed callbacks/s of the receiver vs a do-nothing FastAPI app of the same shape (the ceiling).

The app under test runs in its own process, served exactly as ``airflow-messaging receiver`` serves it
(``receiver.server.server_config``: uvicorn with the h11 protocol, header limits and header deadline), so
the load generator does not share its GIL; the ceiling app is served the same way. ``--http uvicorn``
serves both with plain ``uvicorn.run`` defaults instead (httptools), to measure what the CLI's h11 costs. The load generator is a lean asyncio HTTP/1.1 client with keep-alive
connections in this (second) process; it sends N distinct, validly signed Telesign delivery callbacks (the doc
example with a distinct ``reference_id`` each, for messages whose sends are recorded). After the run the rows
are counted: ``lost = sent_2xx - rows`` must be 0. CPU seconds of the load generator, the receiver process,
the database server and everything else on the machine are read around the timed run (psutil), so the
figures say what bounded the rate on a shared machine.

    .venv/bin/python bench/bench_receiver.py [--quick] [--http cli|uvicorn] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support.postgres, tests.vendor_examples

API_KEY = base64.b64encode(b"bench-receiver-api-key-0123456789abcdef").decode()
CUSTOMER_ID = "BENCH000-0000-0000-0000-000000000000"
CONCURRENCY = 32
TARGET_RATE = 2000.0
TARGET_RATIO = 0.5


# ---------------------------------------------------------------------------------------------- server side
def _receiver_app(store_url: str, stats_file: str = "") -> Any:
    from airflow_provider_messaging.receiver.app import create_app
    from airflow_provider_messaging.receiver.auth import CallbackAuth
    from airflow_provider_messaging.store import MessageStore

    auth = CallbackAuth(telesign_credentials=lambda: (CUSTOMER_ID, API_KEY))
    store = MessageStore(store_url)
    if stats_file:
        _count_batches(store, stats_file)
    return create_app(store, auth, max_body_bytes=65536)


def _count_batches(store: Any, stats_file: str) -> None:
    """Count the group commits of ``store`` (batches, callbacks, seconds inside); written to ``stats_file`` at exit."""
    stats = {"batches": 0, "callbacks": 0, "seconds": 0.0, "largest": 0}
    record_deliveries = store.record_deliveries

    def counted(records: Any) -> Any:
        start = time.perf_counter()
        try:
            return record_deliveries(records)
        finally:
            stats["seconds"] += time.perf_counter() - start
            stats["batches"] += 1
            stats["callbacks"] += len(records)
            stats["largest"] = max(stats["largest"], len(records))

    store.record_deliveries = counted

    def write_and_exit(*_: Any) -> None:
        Path(stats_file).write_text(json.dumps(stats))
        raise SystemExit(0)

    # uvicorn shuts down gracefully on SIGTERM, then raises it again for the handler it found: this one
    signal.signal(signal.SIGTERM, write_and_exit)


def _ceiling_app() -> Any:
    """Same shape (FastAPI, same routes, body read, JSON answer) with a handler that does nothing."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    # the annotation must be the class itself (this module uses postponed annotations)
    app = FastAPI()

    async def route(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"status": "ok"})

    route.__annotations__ = {"request": Request, "return": JSONResponse}

    for path in ("/telesign/status", "/telesign/inbound", "/aerialink/status", "/aerialink/inbound"):
        app.add_api_route(path, route, methods=["GET", "POST"])
    app.add_api_route("/health", route, methods=["GET"])
    return app


def serve(kind: str, store_url: str, port: int, http: str = "cli", stats_file: str = "") -> None:
    """Entry point of the server process: ``cli`` = the server of ``airflow-messaging receiver``."""
    import uvicorn

    from airflow_provider_messaging.receiver.server import server_config

    app = _ceiling_app() if kind == "ceiling" else _receiver_app(store_url, stats_file)
    if http == "uvicorn":
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return
    uvicorn.Server(server_config(app, host="127.0.0.1", port=port, log_level="warning")).run()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server_process(kind: str, store_url: str = "", http: str = "cli", stats_file: str = "") -> Any:
    """Yield ``(port, pid)`` of a server process."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--serve",
        kind,
        "--store-url",
        store_url,
        "--port",
        str(port),
        "--http",
        http,
        "--stats-file",
        stats_file,
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{kind} server died: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{kind} server did not start") from None
                time.sleep(0.05)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------------------------------------- load generator
def _callbacks(n: int) -> list[tuple[str, bytes]]:
    from airflow_provider_messaging.receiver.auth import telesign_signature
    from tests.vendor_examples import load

    template = load("telesign_delivery_callback_rcs_sms")
    out = []
    for i in range(n):
        template["reference_id"] = f"{i:032X}"
        body = json.dumps(template).encode()
        out.append((template["reference_id"], body))
    requests_ = []
    for _mid, body in out:
        signature = telesign_signature(body, API_KEY)
        head = (
            "POST /telesign/status HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Authorization: TSA {CUSTOMER_ID}:{signature}\r\nX-TS-Authorization: {signature}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        requests_.append((_mid, head + body))
    return requests_


async def _worker(port: int, queue: list[bytes], results: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while queue:
            writer.write(queue.pop())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            results.append(status)
    finally:
        writer.close()


def blast(port: int, payloads: list[bytes], concurrency: int = CONCURRENCY) -> tuple[float, dict[int, int]]:
    """Send every payload once over ``concurrency`` keep-alive connections; (seconds, {status: count})."""
    queue = list(reversed(payloads))
    results: list[int] = []

    async def main() -> None:
        await asyncio.gather(*(_worker(port, queue, results) for _ in range(concurrency)))

    try:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:  # pragma: no cover
        loop = asyncio.new_event_loop()
    start = time.perf_counter()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    elapsed = time.perf_counter() - start
    counts: dict[int, int] = {}
    for status in results:
        counts[status] = counts.get(status, 0) + 1
    return elapsed, counts


# ---------------------------------------------------------------------------------------------- measurements
def _process_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (those gone meanwhile count 0)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _postgres_pids(data_dir: Path | None) -> list[int]:
    """The postmaster and its backends (the receiver's pooled connections, checkpointer, WAL writer ...)."""
    import psutil

    if data_dir is None:
        return []
    try:
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
        return [postmaster, *(child.pid for child in psutil.Process(postmaster).children(recursive=True))]
    except (OSError, ValueError, psutil.Error):
        return []


def _machine_busy() -> float:
    """CPU seconds all cores spent on anything but idle/iowait since boot."""
    import psutil

    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "guest", 0.0))


@dataclass
class CpuSplit:
    """CPU seconds spent during the timed run, by whom."""

    load_generator: float
    receiver: float
    database: float
    machine: float

    @property
    def other(self) -> float:
        return max(0.0, self.machine - self.load_generator - self.receiver - self.database)


@contextmanager
def cpu_meter(receiver_pid: int, database_pids: list[int]) -> Any:
    """Measure the CPU split of the block; the yielded list receives one :class:`CpuSplit`."""
    out: list[CpuSplit] = []
    before = (time.process_time(), _process_cpu([receiver_pid]), _process_cpu(database_pids), _machine_busy())
    yield out
    after = (time.process_time(), _process_cpu([receiver_pid]), _process_cpu(database_pids), _machine_busy())
    out.append(CpuSplit(*(b - a for a, b in zip(before, after, strict=True))))


@dataclass
class Result:
    store: str
    sent: int
    ok: int
    rows: int
    seconds: float
    statuses: dict[int, int]
    cpu: CpuSplit | None = None
    batches: dict[str, Any] | None = None  # group commits in the server (warm-up included)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    @property
    def lost(self) -> int:
        return self.ok - self.rows


def _prepare_store(url: str, message_ids: list[str]) -> None:
    """Schema + one recorded send per message (bulk insert: the sends are not what is measured)."""
    from sqlalchemy import insert

    from airflow_provider_messaging.store import MessageStore
    from airflow_provider_messaging.store.schema import messages

    store = MessageStore(url)
    store.upgrade()
    now = datetime.now(timezone.utc)
    rows = [
        {
            "vendor": "telesign",
            "message_id": mid,
            "idempotency_key": f"bench/send/run/{mid}",
            "recipient": "15558675309",
            "channels": ["rcs", "sms"],
            "send_status": "ACCEPTED",
            "state": "QUEUED",
            "complete": False,
            "created_at": now,
            "updated_at": now,
        }
        for mid in message_ids
    ]
    with store.engine.begin() as connection:
        connection.execute(insert(messages), rows)
    store.dispose()


def measure_receiver(label: str, url: str, n: int, http: str = "cli", database_dir: Path | None = None) -> Result:
    from airflow_provider_messaging.store import MessageStore

    callbacks = _callbacks(n)
    _prepare_store(url, [mid for mid, _ in callbacks])
    stats_file = Path(tempfile.mkdtemp(prefix="bench-receiver-stats-")) / "batches.json"
    with server_process("receiver", url, http, str(stats_file)) as (port, pid):
        blast(port, [p for _, p in callbacks[: min(200, n // 10)]], concurrency=8)  # warm-up (counted in rows)
        warm = min(200, n // 10)
        with cpu_meter(pid, _postgres_pids(database_dir)) as cpu:
            seconds, statuses = blast(port, [p for _, p in callbacks[warm:]])
    store = MessageStore(url)
    rows = store.count("callbacks") - warm
    delivered = sum(1 for s in store.get_statuses([mid for mid, _ in callbacks]).values() if s.delivered)
    store.dispose()
    ok = sum(c for s, c in statuses.items() if 200 <= s < 300)
    batches = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    result = Result(label, n - warm, ok, rows, seconds, statuses, cpu[0], batches)
    if delivered != n:
        raise AssertionError(f"{label}: only {delivered} of {n} messages delivered")
    return result


def measure_ceiling(n: int, http: str = "cli") -> tuple[float, dict[int, int], CpuSplit]:
    payloads = [p for _, p in _callbacks(n)]
    with server_process("ceiling", "", http) as (port, pid):
        blast(port, payloads[: n // 10], concurrency=8)
        with cpu_meter(pid, []) as cpu:
            seconds, statuses = blast(port, payloads)
    return n / seconds, statuses, cpu[0]


def _cpu_row(label: str, count: int, seconds: float, cpu: CpuSplit) -> str:
    def us(value: float) -> str:
        return f"{value / count * 1e6:,.0f}"

    return (
        f"| {label} | {us(seconds)} | {us(cpu.receiver)} | {us(cpu.database)} | {us(cpu.load_generator)} | "
        f"{us(cpu.other)} | {cpu.machine / seconds / (os.cpu_count() or 1):.0%} |"
    )


def _batch_summary(result: Result) -> str:
    b = result.batches or {}
    mean = b["callbacks"] / max(1, b["batches"])
    per_batch = b["seconds"] / max(1, b["batches"]) * 1000
    return (
        f"{result.store}: {b['batches']:,} batches, {mean:.1f} callbacks each (largest {b['largest']}), "
        f"{per_batch:.1f} ms per batch in record_deliveries"
    )


def run(quick: bool = False, http: str = "cli", stores: tuple[str, ...] = ("sqlite", "postgres")) -> str:
    """Run the benchmark and return a Markdown section."""
    from tests.support.postgres import PostgresServer

    n = 2000 if quick else 20000
    ceiling, ceiling_statuses, ceiling_cpu = measure_ceiling(n, http)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-receiver-") as tmp:
        if "sqlite" in stores:
            results.append(measure_receiver("SQLite (WAL, synchronous=FULL)", f"sqlite:///{tmp}/bench.db", n, http))
        if "postgres" in stores:
            postgres = PostgresServer().start()
            try:
                url = postgres.create_database("bench_receiver")
                results.append(measure_receiver("PostgreSQL (fsync=on)", url, n, http, postgres.data))
            finally:
                postgres.destroy()
    server = (
        "uvicorn as `airflow-messaging receiver` runs it (`receiver.server.server_config`: h11, header limits, uvloop)"
        if http == "cli"
        else "plain `uvicorn.run` defaults (httptools, uvloop; not the CLI's server)"
    )

    lines = [
        "## Callback receiver: committed callbacks/s",
        "",
        f"{n} distinct signed Telesign delivery callbacks (doc example, RCS 3056 -> SMS 3000), "
        f"{CONCURRENCY} keep-alive connections from a separate load-generator process; receiver = "
        f"`create_app()` in its own process under {server}; ceiling = same FastAPI route shape and server "
        "whose handler only reads the body. "
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}{' (quick run)' if quick else ''}.",
        "",
        "| store | sent | 2xx | rows committed | lost | committed/s | ceiling req/s | ratio | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        ratio = r.rate / ceiling
        meets = r.rate >= TARGET_RATE and ratio >= TARGET_RATIO and r.lost == 0
        lines.append(
            f"| {r.store} | {r.sent} | {r.ok} | {r.rows} | {r.lost} | {r.rate:,.0f} | {ceiling:,.0f} | {ratio:.2f}x | "
            f"{'met' if meets else 'NOT met'} (>= {TARGET_RATE:,.0f}/s, >= {TARGET_RATIO}x, lost 0) |"
        )
        if set(r.statuses) - {200}:
            lines.append(f"| | statuses: {r.statuses} | | | | | | | |")
    if set(ceiling_statuses) - {200}:
        lines.append(f"\nCeiling statuses: {ceiling_statuses}")
    lines += [
        "",
        "CPU during the timed run, microseconds per callback (wall = elapsed time per callback; "
        "other = every other process on the machine; busy = share of all cores in use):",
        "",
        "| run | wall | receiver | database | load generator | other | busy |",
        "|---|---:|---:|---:|---:|---:|---:|",
        _cpu_row("ceiling (no-op handler)", n, n / ceiling, ceiling_cpu),
    ]
    lines += [_cpu_row(r.store, r.sent, r.seconds, r.cpu) for r in results if r.cpu is not None]
    lines += ["", "Group commits (warm-up included): " + "; ".join(_batch_summary(r) for r in results if r.batches)]
    lost = [r for r in results if r.lost != 0]
    if lost:
        lines.append(f"\n**LOST CALLBACKS**: {[(r.store, r.lost) for r in lost]}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--http", choices=["cli", "uvicorn"], default="cli", help="server of both apps (see above)")
    parser.add_argument("--stores", default="sqlite,postgres", help="stores to measure, comma-separated")
    parser.add_argument("--serve", choices=["receiver", "ceiling"], help=argparse.SUPPRESS)
    parser.add_argument("--store-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--stats-file", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.store_url, args.port, args.http, args.stats_file)
        return
    stores = tuple(s.strip() for s in args.stores.split(",") if s.strip())
    unknown = set(stores) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"--stores: unknown store(s) {', '.join(sorted(unknown))} (sqlite, postgres)")
    print(run(quick=args.quick, http=args.http, stores=stores))


if __name__ == "__main__":
    main()
