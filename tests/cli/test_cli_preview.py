"""``airflow-messaging preview DAG TASK`` as a real subprocess: the dry run of a DAG's task, no run created."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from airflow_provider_messaging.store import MessageStore

CLI = str(Path(sys.executable).with_name("airflow-messaging"))
DAGS = Path(__file__).resolve().parent.parent / "dags"


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        # tests/dags holds the test-only third vendor's DAG, which imports from the ``tests`` package (at the checkout root)
        "PYTHONPATH": os.pathsep.join([str(DAGS.parent.parent), os.environ.get("PYTHONPATH", "")]),
        "AIRFLOW__MESSAGING__STORE_URL": f"sqlite:///{tmp_path / 'preview.db'}",
        # never reached: a preview sends nothing (port 9 is discard)
        "AIRFLOW_CONN_POL_DRY": json.dumps(
            {"conn_type": "telesign", "host": "http://127.0.0.1:9", "login": "cid", "password": "key-12345"}
        ),
    }
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=180, env=env)


def test_preview_of_a_dag_task(tmp_path: Path) -> None:
    result = run(tmp_path, "preview", "pol_dry_run", "link", "--conf", '{"phone": "+61 2 9374 4000"}', "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # stdout is the JSON alone; Airflow's logs went to stderr
    assert (data["vendor"], data["recipient"], data["message_type"]) == ("telesign", "61293744000", "MKT")
    assert data["decision"]["decision"] in ("send_now", "wait")
    assert "Australia/Sydney" in data["decision"].get("reason", "Australia/Sydney")
    sms = data["steps"][1]
    assert sms["segments"]["encoding"] == "UCS-2" and sms["segments"]["segments"] == 2
    assert data["idempotency_key"].startswith("pol_dry_run/link/preview__")
    store = MessageStore(f"sqlite:///{tmp_path / 'preview.db'}")
    try:
        assert store.count("messages") == 0  # nothing reserved
    finally:
        store.dispose()

    readable = run(tmp_path, "preview", "pol_dry_run", "link", "--conf", '{"phone": "12025550123"}')
    assert readable.returncode == 0, readable.stderr
    assert readable.stdout.startswith("telesign to 12025550123: send ")
    assert "2 SMS segment(s), UCS-2" in readable.stdout


def test_preview_names_what_is_wrong(tmp_path: Path) -> None:
    missing = run(tmp_path, "preview", "pol_dry_run", "nope")
    assert missing.returncode == 2 and "has no task 'nope'" in missing.stderr and "link" in missing.stderr
    invalid = run(tmp_path, "preview", "pol_dry_run", "link", "--conf", '{"phone": "12345"}')
    assert invalid.returncode != 0 and "phone_number" in invalid.stderr
    assert "Traceback" not in invalid.stderr
