"""DAG files import our operators, sensors, notifiers and triggers at every parse: those imports must not
load the store, SQLAlchemy models, Alembic, FastAPI, the hooks (requests/urllib3) or phonenumbers.

Checked by what a fresh interpreter has in ``sys.modules`` (a fact, not a timing); ``bench/bench_parse.py``
measures the milliseconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys

DAG_FACING = [
    "operators.telesign",
    "operators.aerialink",
    "operators.failover",
    "operators.campaign",
    "sensors.delivery",
    "sensors.inbound",
    "notifications.messaging",
    "triggers.delivery",
    "triggers.inbound",
    "triggers.inbound_events",
]
HEAVY = ["alembic", "fastapi", "requests", "urllib3", "phonenumbers"]
OURS_HEAVY = ["store", "hooks", "models.telesign", "models.aerialink", "receiver"]

PROBE = """
import json, sys
import airflow.sdk
before = set(sys.modules)
for name in {modules!r}:
    __import__("airflow_provider_messaging." + name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_dag_facing_modules_import_nothing_heavy() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=DAG_FACING)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert {f"airflow_provider_messaging.{m}" for m in DAG_FACING} <= loaded
    heavy = {m for m in loaded if m.split(".")[0] in HEAVY}
    ours = {
        m
        for m in loaded
        for h in OURS_HEAVY
        if m == f"airflow_provider_messaging.{h}" or m.startswith(f"airflow_provider_messaging.{h}.")
    }
    assert not heavy, f"imported at DAG parse time: {sorted(heavy)[:10]}"
    assert not ours, f"imported at DAG parse time: {sorted(ours)}"
