"""The receiver's event loop while the Telesign credentials come from a slow secrets backend.

A real Airflow secrets backend (``tests/support/slow_secrets.py``) takes 3 s per connection lookup. The
first signed Telesign callback needs the API key; while that lookup runs, five concurrent ``/health``
requests are timed. Baseline: the same ``/health`` requests with no lookup in progress, same process.
Before issue 15 the lookup ran on the event loop: the callback took 6.15 s and every ``/health`` 5.84 s.

    .venv/bin/python bench/bench_receiver_loop.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DELAY = 3.0
HEALTH = 5


def _timed(call: Any, *args: Any, **kwargs: Any) -> tuple[float, int]:
    started = time.monotonic()
    response = call(*args, **kwargs)
    return time.monotonic() - started, response.status_code


def run(quick: bool = False) -> str:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-loop-airflow-"))
    import requests

    from airflow_provider_messaging.receiver.auth import telesign_signature
    from airflow_provider_messaging.store import MessageStore
    from tests.support.receiver_process import API_KEY, ReceiverProcess
    from tests.vendor_examples import load

    with tempfile.TemporaryDirectory(prefix="bench-loop-") as tmp:
        root = Path(tmp)
        entered, gate = root / "entered", root / "never-opened"
        env = {
            "AIRFLOW__SECRETS__BACKEND": "tests.support.slow_secrets.GatedSecretsBackend",
            "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps(
                {"entered": str(entered), "gate": str(gate), "max_wait": DELAY}
            ),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        url = f"sqlite:///{root / 'loop.db'}"
        store = MessageStore(url)
        store.upgrade()
        store.dispose()
        body = json.dumps(load("telesign_delivery_callback_rcs_sms")).encode()
        headers = {"Content-Type": "application/json", "X-TS-Authorization": telesign_signature(body, API_KEY)}
        with ReceiverProcess(url, root, env=env) as receiver, ThreadPoolExecutor(HEALTH + 1) as pool:
            health = receiver.url + "/health"
            baseline = [_timed(requests.get, health, timeout=60)[0] for _ in range(20)]
            callback = pool.submit(_timed, requests.post, receiver.url + "/telesign/status", data=body, headers=headers)
            while not entered.exists():
                time.sleep(0.005)
            during = [
                f.result() for f in [pool.submit(_timed, requests.get, health, timeout=60) for _ in range(HEALTH)]
            ]
            callback_s, callback_status = callback.result()
            lookups = entered.read_text().split()
    health_s = [seconds for seconds, _ in during]
    base = statistics.median(baseline)
    return (
        "\n".join(
            [
                "## Receiver event loop: slow secrets backend",
                "",
                f"Secrets backend: {DELAY:g} s per connection lookup (a real `BaseSecretsBackend` configured through "
                "`AIRFLOW__SECRETS__BACKEND`); receiver = `airflow-messaging receiver` as a process. The first signed "
                f"Telesign callback starts the lookup; {HEALTH} concurrent `/health` requests are timed while it runs.",
                "",
                "| | requests | median | max | answers |",
                "|---|---:|---:|---:|---|",
                f"| `/health`, no lookup running (baseline) | {len(baseline)} | {base * 1000:.1f} ms | "
                f"{max(baseline) * 1000:.1f} ms | 200 |",
                f"| `/health` during the {DELAY:g} s lookup | {HEALTH} | {statistics.median(health_s) * 1000:.1f} ms | "
                f"{max(health_s) * 1000:.1f} ms | {sorted({status for _, status in during})} |",
                f"| the Telesign callback that waited for it | 1 | {callback_s:.2f} s | | {callback_status} |",
                "",
                f"Secrets-backend lookups for that callback: {len(lookups)} ({DELAY:g} s); the rest of its time is the "
                "process's first use of Airflow's connection code and of the store (imports, engine, schema check).",
                "",
                f"`/health` during the lookup vs baseline: {statistics.median(health_s) / base:.1f}x median. Before "
                "issue 15 (lookup on the event loop, under a lock): callback 6.15 s, each `/health` 5.84 s. Target: "
                f"`/health` unaffected by the lookup (well under the lookup's {DELAY:g} s): "
                f"**{'met' if max(health_s) < DELAY / 3 else 'NOT met'}**.",
            ]
        )
        + "\n"
    )


if __name__ == "__main__":
    print(run())
