"""``airflow-messaging demo``: every example DAG end to end against the local sandbox.

A throwaway AIRFLOW_HOME with the embedded SQLite store, the sandbox and the receiver on free local
ports, real Airflow runs (``dag.test()``, deferrable sensors run their triggers inline), and a summary
of what was sent and how each message ended. Exits non-zero when an example ends differently from its
scenario. Leaves no process running.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Installed from a wheel, the examples ship inside the package (setup.py copies them there); in a
# clone they are read from the repository root, their source of truth.
_PACKAGED_EXAMPLES = Path(__file__).resolve().parent / "example_dags"
EXAMPLES_DIR = _PACKAGED_EXAMPLES if _PACKAGED_EXAMPLES.is_dir() else _PACKAGED_EXAMPLES.parent.parent / "example_dags"


@dataclass(frozen=True)
class Expected:
    """How an example must end: the DAG run state and the (state, delivered channel) of every message."""

    dag_state: str
    outcomes: tuple[tuple[str, str | None], ...]


EXPECTED: dict[str, Expected] = {
    "example_telesign_rcs_call_button": Expected("success", (("DELIVERED", "sms"),)),
    "example_telesign_rcs_link_button": Expected("success", (("DELIVERED", "rcs"),)),
    "example_telesign_whatsapp_file": Expected("success", (("DELIVERED", "sms"),)),
    "example_aerialink_rcs_text": Expected("success", (("DELIVERED", "rcs"),)),
    "example_aerialink_rcs_media": Expected("success", (("DELIVERED", "mms"),)),
    "example_aerialink_rcs_card": Expected("success", (("DELIVERED", "rcs"),)),
    "example_aerialink_rcs_carousel": Expected("success", (("FAILED", None),)),
    "example_bulk_notifications": Expected("success", (("DELIVERED", "sms"),) * 5 + (("FAILED", None),)),
}


def _prepare_environment(home: Path, dags: Path) -> None:
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW__MESSAGING__STORE_URL": f"sqlite:///{home / 'messaging.db'}",
        }
    )


def _load_dag(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"messaging_demo_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def _outcome_rows(store: Any, dag_id: str) -> list[Any]:
    return sorted(store.list_messages(dag_id=dag_id, limit=1000), key=lambda s: (s.task_id or "", s.recipient or ""))


def _format(status: Any) -> str:
    took = ""
    if status.completed_at and status.created_at:
        took = f"{(status.completed_at - status.created_at).total_seconds():5.2f}s"
    cascade = " -> ".join(status.channels)
    ended = status.state.value + (f" via {status.delivered_channel}" if status.delivered_channel else "")
    return f"    {status.vendor:9} {status.recipient:13} {cascade:16} {ended:22} {took}"


def run_demo(
    *,
    keep_home: bool = False,
    only: list[str] | None = None,
    examples: Path = EXAMPLES_DIR,
    report_chart: str | None = None,
) -> int:
    """Run the examples; return 0 when each ended as its scenario says. With ``report_chart``, print the
    delivery report of the run and write its chart there (``.png`` or ``.svg``)."""
    if not examples.is_dir():
        print(f"example DAGs not found at {examples} (a broken installation? reinstall the package)", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="messaging-demo-"))
    _prepare_environment(home, examples)
    from airflow_provider_messaging._stdout import airflow_logs_to_stderr

    airflow_logs_to_stderr()  # stdout: the summary below
    print(f"AIRFLOW_HOME={home}  store=sqlite:///{home / 'messaging.db'}")
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, env=os.environ.copy()
    )
    if migrate.returncode != 0:
        print(migrate.stdout[-2000:], migrate.stderr[-4000:], file=sys.stderr)
        return 2

    from airflow_provider_messaging.localstack import LocalStack
    from airflow_provider_messaging.store import MessageStore

    store = MessageStore(os.environ["AIRFLOW__MESSAGING__STORE_URL"])
    store.upgrade()
    failures: list[str] = []
    stack = LocalStack(store)
    try:
        stack.start()
        stack.apply_environment()
        print(f"sandbox {stack.sandbox.url if stack.sandbox else '?'}  receiver {stack.receiver.url}\n")
        for path in sorted(examples.glob("example_*.py")):
            dag = _load_dag(path)
            if only and dag.dag_id not in only:
                continue
            started = time.monotonic()
            run = dag.test()
            elapsed = time.monotonic() - started
            dag_state = str(getattr(run.state, "value", run.state))
            rows = _outcome_rows(store, dag.dag_id)
            print(f"{dag.dag_id}: run {dag_state} in {elapsed:.1f}s, {len(rows)} message(s)")
            for status in rows:
                print(_format(status))
            expected = EXPECTED.get(dag.dag_id)
            got = Counter((s.state.value, s.delivered_channel) for s in rows)
            if expected is None:
                failures.append(f"{dag.dag_id}: no expected outcome recorded in demo.EXPECTED")
            elif dag_state != expected.dag_state or got != Counter(expected.outcomes):
                failures.append(
                    f"{dag.dag_id}: expected run {expected.dag_state} with {sorted(Counter(expected.outcomes).items())}, "
                    f"got run {dag_state} with {sorted(got.items())}"
                )
        if report_chart:
            from airflow_provider_messaging.analytics import report as analytics

            result = analytics.from_store(store, None, None)
            print("\n" + analytics.format_table(result))
            print(f"chart written to {analytics.render_chart(result, report_chart)}")
    finally:
        stack.stop()
        store.dispose()
        if not keep_home:
            shutil.rmtree(home, ignore_errors=True)
    print()
    if failures:
        print("DEMO FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"Demo OK: every example ended as its scenario says ({len(EXPECTED) if not only else len(only)} DAGs).")
    return 0
