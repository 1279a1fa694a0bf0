"""DAGs of the bulk-mode tests (tests/operators/test_ops_bulk.py): ``recipients=[...]`` in one task.

``ops_bulk_strict`` fails when a recipient failed (``fail_on_any_failure=True``, one Airflow retry);
``ops_bulk_lenient`` does not, and takes its recipients from an upstream task's XCom;
``ops_bulk_rate`` sends to many recipients through a connection with a ``rate_limit`` extra.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_messaging.operators.aerialink import AerialinkRcsTextOperator
from airflow_provider_messaging.operators.telesign import TelesignSmsOperator

START = pendulum.datetime(2025, 1, 1, tz="UTC")
PARAMS = {"recipients": ["15558675301", "15558675311"], "key": ""}


def record_failure(context: Any) -> None:
    """on_failure_callback: append the task's exception to $OPS_FAILURE_LOG (the tests read it)."""
    path = os.environ.get("OPS_FAILURE_LOG")
    if not path:
        return
    ti, exc = context["ti"], context.get("exception")
    entry = {"dag_id": ti.dag_id, "task_id": ti.task_id, "map_index": ti.map_index, "try_number": ti.try_number}
    entry |= {"type": type(exc).__name__, "error": str(exc)}
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


with DAG(
    "ops_bulk_strict",
    schedule=None,
    start_date=START,
    params=PARAMS,
    default_args={"retries": 1, "retry_delay": timedelta(0), "on_failure_callback": record_failure},
) as strict_dag:
    TelesignSmsOperator(
        task_id="send",
        telesign_conn_id="ops_bulk",
        recipients="{{ params.recipients }}",  # renders to a string: the operator reads it as a list
        text="Service notice for {{ ds }}",
        idempotency_key="{{ params.key }}",
        fail_on_any_failure=True,
        max_concurrency=4,
    )

with DAG(
    "ops_bulk_lenient",
    schedule=None,
    start_date=START,
    params=PARAMS,
    default_args={"on_failure_callback": record_failure},
) as lenient_dag:

    @task
    def audience(**context: Any) -> list[str]:
        return list(context["params"]["recipients"])

    numbers = audience()
    TelesignSmsOperator(
        task_id="send",
        telesign_conn_id="ops_bulk",
        recipients=numbers,
        text="Service notice",
        idempotency_key="{{ params.key }}",
        fail_on_any_failure=False,
        max_concurrency=4,
    )
    AerialinkRcsTextOperator(
        task_id="rcs",
        aerialink_conn_id="ops_bulk_rcs",
        recipients=numbers,
        message_text="Service notice",
        idempotency_key="{{ params.key }}{{ '/rcs' if params.key else '' }}",
        fail_on_any_failure=False,
        max_concurrency=4,
    )

with DAG(
    "ops_bulk_rate",
    schedule=None,
    start_date=START,
    params={"recipients": [f"155586753{i:02d}" for i in range(30)]},
) as rate_dag:
    TelesignSmsOperator(
        task_id="send",
        telesign_conn_id="ops_bulk_rate",
        recipients="{{ params.recipients }}",
        text="Rate-limited notice",
        fail_on_any_failure=False,
        max_concurrency=8,
    )
