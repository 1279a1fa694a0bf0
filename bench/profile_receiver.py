"""Per-stage CPU cost of one delivery callback in the receiver, measured in one process (no HTTP, no contention).

Stages: Telesign HMAC check, JSON decode, pydantic model + event mapping, and the group-commit store
write (``MessageStore.record_deliveries``) at several batch sizes on SQLite and PostgreSQL. Each figure
is the median of several rounds, in microseconds per callback; the store rows give the committer
thread's CPU time, the wall time (which includes the fsync and, on PostgreSQL, the server's work) and,
on PostgreSQL, the CPU time of the server's processes.

    .venv/bin/python bench/profile_receiver.py [--rounds 5] [--no-postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_receiver import API_KEY, CUSTOMER_ID, _callbacks, _postgres_pids, _prepare_store, _process_cpu


def _per_call(fn: Callable[[], object], n: int, rounds: int) -> float:
    """Median over ``rounds`` of the CPU microseconds per call of ``fn`` (run ``n`` times per round)."""
    samples = []
    for _ in range(rounds):
        start = time.thread_time()
        for _ in range(n):
            fn()
        samples.append((time.thread_time() - start) / n * 1e6)
    return statistics.median(samples)


def cpu_stages(rounds: int) -> list[tuple[str, float]]:
    from airflow_provider_messaging.receiver import parsing
    from airflow_provider_messaging.receiver.app import _decode_json_object
    from airflow_provider_messaging.receiver.auth import verify_telesign_signature

    payload = _callbacks(1)[0][1]
    head, body = payload.split(b"\r\n\r\n", 1)
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    data, _text = _decode_json_object(body)
    n = 2000
    return [
        (
            "Telesign HMAC check",
            _per_call(lambda: verify_telesign_signature(body, headers, CUSTOMER_ID, API_KEY), n, rounds),
        ),
        ("JSON decode (+ UTF-8, object check)", _per_call(lambda: _decode_json_object(body), n, rounds)),
        (
            "pydantic model + events (parsing.telesign_delivery)",
            _per_call(lambda: parsing.telesign_delivery(data), n, rounds),
        ),
    ]


def store_stages(
    label: str, url: str, batch_sizes: list[int], rounds: int, database_dir: Path | None = None
) -> list[tuple[str, float, float, float | None]]:
    """(label, CPU us/callback of the calling thread, wall us/callback, database server CPU us/callback or
    None) of record_deliveries per batch size."""
    from airflow_provider_messaging.receiver import parsing
    from airflow_provider_messaging.store import DeliveryRecord, MessageStore

    per_round = max(batch_sizes) * 8
    total = per_round * rounds * len(batch_sizes)
    callbacks = _callbacks(total)
    _prepare_store(url, [mid for mid, _ in callbacks])
    records = []
    for _mid, payload in callbacks:
        body = payload.split(b"\r\n\r\n", 1)[1]
        text = body.decode()
        import json

        update = parsing.telesign_delivery(json.loads(text))
        records.append(DeliveryRecord("telesign", update.message_id, tuple(update.events), text))
    store = MessageStore(url)
    store.record_deliveries(records[:1])  # connect, warm the statement cache (row counted, not timed)
    position = 1
    database_pids = _postgres_pids(database_dir)
    out: list[tuple[str, float, float, float | None]] = []
    for size in batch_sizes:
        cpu, wall, server = [], [], []
        for _ in range(rounds):
            chunk = records[position : position + per_round]
            position += per_round
            c0, w0, s0 = time.thread_time(), time.perf_counter(), _process_cpu(database_pids)
            for i in range(0, len(chunk), size):
                store.record_deliveries(chunk[i : i + size])
            cpu.append((time.thread_time() - c0) / len(chunk) * 1e6)
            wall.append((time.perf_counter() - w0) / len(chunk) * 1e6)
            server.append((_process_cpu(database_pids) - s0) / len(chunk) * 1e6)
        out.append(
            (
                f"{label}: record_deliveries, batch {size}",
                statistics.median(cpu),
                statistics.median(wall),
                statistics.median(server) if database_pids else None,
            )
        )
    store.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--batches", default="1,8,32,128")
    args = parser.parse_args()
    sizes = [int(s) for s in args.batches.split(",")]
    print("| stage | CPU us/callback | wall us/callback | PostgreSQL server CPU us/callback |\n|---|---:|---:|---:|")
    for name, cpu in cpu_stages(args.rounds):
        print(f"| {name} | {cpu:,.0f} | | |")
    with tempfile.TemporaryDirectory(prefix="profile-receiver-") as tmp:
        rows = store_stages("SQLite", f"sqlite:///{tmp}/p.db", sizes, args.rounds)
    if not args.no_postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.support.postgres import PostgresServer

        postgres = PostgresServer().start()
        try:
            url = postgres.create_database("profile_receiver")
            rows += store_stages("PostgreSQL", url, sizes, args.rounds, postgres.data)
        finally:
            postgres.destroy()
    for name, cpu, wall, server in rows:
        print(f"| {name} | {cpu:,.0f} | {wall:,.0f} | {'' if server is None else f'{server:,.0f}'} |")


if __name__ == "__main__":
    main()
