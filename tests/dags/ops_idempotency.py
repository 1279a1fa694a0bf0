"""DAGs of the no-duplicate-send tests (tests/operators/test_ops_idempotency.py).

``ops_idem`` retries twice; ``ops_idem_resend`` is the same send with ``resend_unknown=True``;
``ops_idem_crash`` loses its worker right after a successful send on the first try (the retry must
find the recorded message under the default key instead of texting the customer again).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowException

from airflow_provider_messaging.operators.aerialink import AerialinkRcsTextOperator
from airflow_provider_messaging.operators.telesign import TelesignSmsOperator
from tests.support.dag_callbacks import record_failure

START = pendulum.datetime(2025, 1, 1, tz="UTC")
PARAMS = {"phone": "15558675301", "key": "", "text": "Your order shipped"}


class CrashAfterSendOperator(TelesignSmsOperator):
    """Sends, then dies on the first try as if the worker was lost before the result was saved."""

    def execute(self, context: Any) -> Any:
        record = super().execute(context)
        if context["ti"].try_number == 1:
            raise AirflowException("simulated worker loss after the send")
        return record


for resend_unknown in (False, True):
    with DAG(
        "ops_idem_resend" if resend_unknown else "ops_idem",
        schedule=None,
        start_date=START,
        params=PARAMS,
        default_args={"retries": 2, "retry_delay": timedelta(0), "on_failure_callback": record_failure},
    ) as dag:
        TelesignSmsOperator(
            task_id="send",
            telesign_conn_id="ops_idem",
            phone_number="{{ params.phone }}",
            text="{{ params.text }}",
            idempotency_key="{{ params.key }}",
            resend_unknown=resend_unknown,
        )
        AerialinkRcsTextOperator(
            task_id="rcs",
            aerialink_conn_id="ops_idem_rcs",
            destination="{{ params.phone }}",
            message_text="{{ params.text }}",
            idempotency_key="{{ params.key }}{{ '/rcs' if params.key else '' }}",
            resend_unknown=resend_unknown,
        )
    globals()[dag.dag_id] = dag

with DAG(
    "ops_idem_crash",
    schedule=None,
    start_date=START,
    params=PARAMS,
    default_args={"retries": 1, "retry_delay": timedelta(0), "on_failure_callback": record_failure},
) as crash_dag:
    CrashAfterSendOperator(task_id="send", telesign_conn_id="ops_idem", phone_number="{{ params.phone }}", text="Hi")
