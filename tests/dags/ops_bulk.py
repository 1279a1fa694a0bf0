"""DAGs of the bulk-mode tests (tests/operators/test_ops_bulk.py): ``recipients=[...]`` in one task.

``ops_bulk_strict`` fails when a recipient failed (``fail_on_any_failure=True``, one Airflow retry);
``ops_bulk_lenient`` does not, and takes its recipients from an upstream task's XCom;
``ops_bulk_rate`` sends to many recipients through a connection with a ``rate_limit`` extra.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_messaging.operators.aerialink import AerialinkRcsTextOperator
from airflow_provider_messaging.operators.telesign import TelesignSmsOperator
from tests.support.dag_callbacks import record_failure

START = pendulum.datetime(2025, 1, 1, tz="UTC")
PARAMS = {"recipients": ["15558675301", "15558675311"], "key": ""}


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
