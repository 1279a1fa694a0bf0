"""Campaigns: a 100,000-recipient campaign (1,000,000 with ``BENCH_PROFILE=long``) from a CSV file in one
task, against the keep-alive server of ``bench_bulk`` (20 ms per answer, separate process).

Reported against the ceiling measured in the same run: min(concurrency / latency, the bare hook's own
msg/s with the same number of threads and no store). Also: peak RSS of the task process, XCom bytes of
the handle, store rows, and the time of the sensor's aggregate read over the whole campaign (what
bounds the delay from the last callback to the sensor's completion, besides the poll interval).

Run: ``python bench/bench_campaign.py [--quick]``.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench_bulk import API_KEY, CUSTOMER_ID, LATENCY_S, _serve

HERE = Path(__file__).resolve().parent
CONCURRENCY = 16


def _write_csv(path: Path, n: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["recipient", "name"])
        for i in range(n):
            writer.writerow([f"1555{i:07d}", f"Customer {i}"])


def _bare_hook_rate(n: int) -> float:
    from airflow_provider_messaging.hooks.telesign import TelesignHook
    from airflow_provider_messaging.models.telesign import OmnichannelRequest

    hook = TelesignHook(telesign_conn_id="bench_campaign")
    request = OmnichannelRequest.model_validate(
        {
            "channels": [{"channel": "sms"}],
            "phone_number": "15550000000",
            "message": {"sms": {"template": "text", "parameters": {"text": "Hi, maintenance tonight."}}},
            "message_type": "ARN",
        }
    )
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(lambda _: hook.send_omnichannel(request), range(CONCURRENCY)))  # warm the pool
        started = time.perf_counter()
        list(pool.map(lambda _: hook.send_omnichannel(request), range(n)))
    return n / (time.perf_counter() - started)


def run(quick: bool = False) -> str:
    long = os.environ.get("BENCH_PROFILE") == "long"
    n = 10_000 if quick else (1_000_000 if long else 100_000)
    home = Path(tempfile.mkdtemp(prefix="bench-campaign-"))
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    store_url = f"sqlite:///{home}/campaign.db"
    os.environ["AIRFLOW__MESSAGING__STORE_URL"] = store_url
    ports: Any = multiprocessing.get_context("spawn").Queue()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ports.get(timeout=30)}"
    conn = {
        "conn_type": "telesign",
        "host": url,
        "login": CUSTOMER_ID,
        "password": API_KEY,
        "extra": {"pool_maxsize": 32},
    }
    os.environ["AIRFLOW_CONN_BENCH_CAMPAIGN"] = json.dumps(conn)
    try:
        bare = _bare_hook_rate(2_000 if quick else 5_000)
        file = home / "recipients.csv"
        _write_csv(file, n)
        done = subprocess.run(
            [sys.executable, str(HERE / "campaign_task.py"), str(file), "bench", str(CONCURRENCY)],
            capture_output=True,
            text=True,
            timeout=7200,
        )
        if done.returncode != 0:
            return f"## Campaigns\n\nFAILED:\n```\n{done.stderr[-3000:]}\n```\n"
        result = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        server.kill()

    from airflow_provider_messaging.store import MessageStore

    store = MessageStore(store_url)
    rows = store.campaign_sends("bench")
    reads = []
    for _ in range(5):
        started = time.perf_counter()
        store.campaign_counts(["bench"])
        reads.append(time.perf_counter() - started)
    store.dispose()

    rate = n / result["seconds"]
    ceiling = min(CONCURRENCY / LATENCY_S, bare)
    ratio = rate / ceiling
    return (
        "## Campaigns: one task, a CSV file of recipients\n\n"
        f"{__doc__.split(chr(10) + chr(10))[1]}\n\n"
        f"{n:,} recipients, `max_concurrency={CONCURRENCY}`, SQLite store (WAL, synchronous=FULL), "
        f"server latency {LATENCY_S * 1000:.0f} ms.\n\n"
        "| figure | value | target |\n| --- | ---: | --- |\n"
        f"| campaign msg/s | {rate:,.0f} | |\n"
        f"| bare hook msg/s ({CONCURRENCY} threads, no store) | {bare:,.0f} | |\n"
        f"| ceiling min({CONCURRENCY}/{LATENCY_S:g} s, bare) | {ceiling:,.0f} | |\n"
        f"| ratio to the ceiling | {ratio:.2f} | >= 0.9: **{'met' if ratio >= 0.9 else 'NOT met'}** |\n"
        f"| peak RSS of the task process | {result['peak_rss_mb']:,.0f} MB | <= 500 MB at 1M |\n"
        f"| XCom (the handle) | {result['xcom_bytes']:,} bytes | <= 64 KB: **{'met' if result['xcom_bytes'] <= 65536 else 'NOT met'}** |\n"
        f"| store rows (by send status) | {rows} | one per recipient |\n"
        f"| sensor's aggregate read over the campaign | {statistics.median(reads) * 1000:,.1f} ms (median of 5) | |\n"
        f"| handle counts | {result['handle']['counts']} | |\n"
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
