"""Cost of the send ledger: a ledger send vs a bare hook send, on SQLite and PostgreSQL; and the race
test's rounds at a larger scale.

Same server (``bench_hooks``: asyncio keep-alive in a separate process, fixed Telesign 3001 answer),
same hook and request. Bare = ``TelesignHook.send_omnichannel``; ledger = ``SendLedger.send`` of the
same call under a fresh key (opt-out read, locked reservation commit, HTTP, completion commit);
bulk = ``SendLedger.send_many`` of the same calls, 8 threads, chunked reservations and batched
completions. Rounds are interleaved and medians compared (a ratio: the machine is noisy).

Run: ``python bench/bench_ledger.py [--quick]``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_hooks import API_KEY, CUSTOMER_ID, REQUEST, _serve

ROOT = Path(__file__).resolve().parent.parent


def _postgres() -> tuple[Any, str] | None:
    sys.path.insert(0, str(ROOT))
    try:
        from tests.support.postgres import PostgresServer

        server = PostgresServer().start()
        return server, server.create_database("bench_ledger")
    except Exception as exc:  # no PostgreSQL here: report SQLite only
        print(f"PostgreSQL unavailable: {exc}", file=sys.stderr)
        return None


def _rounds(store_url: str, url: str, n: int, rounds: int) -> dict[str, list[float]]:
    from airflow_provider_messaging.hooks.telesign import TelesignHook
    from airflow_provider_messaging.models.telesign import OmnichannelRequest
    from airflow_provider_messaging.sending import SendLedger, SendRequest
    from airflow_provider_messaging.store import MessageStore

    conn = {"conn_type": "telesign", "host": url, "login": CUSTOMER_ID, "password": API_KEY}
    os.environ["AIRFLOW_CONN_BENCH_LEDGER"] = json.dumps(conn)
    store = MessageStore(store_url)
    store.upgrade()
    hook = TelesignHook(telesign_conn_id="bench_ledger")
    request = OmnichannelRequest.model_validate(REQUEST)
    ledger = SendLedger(store, lease_seconds=900)

    def bare() -> None:
        hook.send_omnichannel(request)

    def send() -> str:
        # the bench server answers one fixed reference_id; the store needs each vendor id once
        return f"{hook.send_omnichannel(request).reference_id}-{uuid.uuid4().hex[:16]}"

    def through_ledger() -> None:
        ledger.send(
            SendRequest(uuid.uuid4().hex, "telesign", f"1555{uuid.uuid4().int % 10**7:07d}", ("rcs", "sms"), send)
        )

    def bulk_batch(count: int) -> float:
        requests = (
            SendRequest(uuid.uuid4().hex, "telesign", f"1555{i:07d}", ("rcs", "sms"), send) for i in range(count)
        )
        start = time.perf_counter()
        for _ in ledger.send_many(requests, concurrency=8):
            pass
        return count / (time.perf_counter() - start)

    def rate(function: Callable[[], Any]) -> float:
        function()
        start = time.perf_counter()
        for _ in range(n):
            function()
        return n / (time.perf_counter() - start)

    results: dict[str, list[float]] = {"bare hook": [], "ledger": [], "ledger bulk (8 threads)": []}
    for _ in range(rounds):
        results["bare hook"].append(rate(bare))
        results["ledger"].append(rate(through_ledger))
        results["ledger bulk (8 threads)"].append(bulk_batch(n * 2))
    store.dispose()
    return results


def _race(scale: int) -> str:
    """The race tests at ``scale`` times their CI rounds (separate pytest process)."""
    env = {**os.environ, "LEDGER_RACE_SCALE": str(scale)}
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "tests/ledger/test_ledger_race.py",
            "-k",
            "racing",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    lines = [
        line for line in done.stdout.splitlines() if " rounds x " in line and line.startswith(("sqlite", "postgresql"))
    ]
    summary = "\n".join(f"- `{line.split(': ', 1)[0]}`: {line.split(': ', 1)[1].split(':', 1)[0]}" for line in lines)
    verdict = "passed (exactly one vendor request per key in every round)" if done.returncode == 0 else "FAILED"
    return f"Race test at {scale}x the CI rounds, 8 processes: **{verdict}** in {time.monotonic() - started:.0f} s.\n{summary}"


def run(quick: bool = False) -> str:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    ports: Any = multiprocessing.get_context("spawn").Queue()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ports.get(timeout=30)}"
    n, rounds = (150, 3) if quick else (500, 5)
    stores = {"SQLite (WAL, synchronous=FULL)": f"sqlite:///{tempfile.mkdtemp(prefix='bench-ledger-')}/ledger.db"}
    postgres = _postgres()
    if postgres:
        stores["PostgreSQL (same machine)"] = postgres[1]
    rows = []
    try:
        for label, store_url in stores.items():
            results = _rounds(store_url, url, n, rounds)
            base = statistics.median(results["bare hook"])
            for name, rates in results.items():
                median = statistics.median(rates)
                per_send_ms = 1000 / median - 1000 / base
                rows.append(
                    f"| {label} | {name} | {median:,.0f} | {median / base:.2f}x | "
                    f"{'-' if name == 'bare hook' else f'{per_send_ms:+.2f}'} |"
                )
    finally:
        server.kill()
        if postgres:
            postgres[0].destroy()
    race = _race(1 if quick else 5)
    return (
        "## Send ledger: cost per send and the race test\n\n"
        f"{__doc__.split(chr(10) + chr(10))[1]}\n\n"
        f"{rounds} interleaved rounds of {n} sends (bulk: {2 * n}); medians.\n\n"
        "| store | client | msg/s | vs bare hook | ms added per send |\n| --- | --- | ---: | ---: | ---: |\n"
        + "\n".join(rows)
        + "\n\n"
        + race
        + "\n"
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
