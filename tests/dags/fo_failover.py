"""DAGs of the cross-vendor failover tests (tests/failover): Telesign RCS -> SMS, then Aerialink RCS with SMS failover.

Connection ids are params, so one DAG serves every scenario (vendor down, rate-limited, refused).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowException

from airflow_provider_messaging.operators.aerialink import AerialinkRcsTextOperator
from airflow_provider_messaging.operators.failover import FailoverSendOperator, failover_step
from airflow_provider_messaging.operators.telesign import TelesignRcsCallButtonOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor

START = pendulum.datetime(2025, 1, 1, tz="UTC")
PARAMS = {"phone": "15558675301", "key": "", "telesign_conn": "fo_telesign", "aerialink_conn": "fo_aerialink"}
STEPS = [
    failover_step(
        TelesignRcsCallButtonOperator,
        telesign_conn_id="{{ params.telesign_conn }}",
        phone_number="{{ params.phone }}",
        text="Your refund is ready. Call us to finish.",
        dial_text="Call us",
        phone_number_to_dial="18003334444",
        dial_payload="dialid1",
        sms_fallback_text="Your refund is ready. Call 1.800.333.4444 to finish.",
        fallback_time=600,
    ),
    failover_step(
        AerialinkRcsTextOperator,
        aerialink_conn_id="{{ params.aerialink_conn }}",
        destination="{{ params.phone }}",
        message_text="Your refund is ready. Call us to finish.",
        sms_failover={"enabled": True, "failoverSource": "18005550100", "fallbackText": "Your refund is ready."},
    ),
]
RETRIES = {"retries": 2, "retry_delay": timedelta(0)}


class CrashAfterSendFailover(FailoverSendOperator):
    """Sends, then dies on the first try as if the worker was lost before the result was saved."""

    def execute(self, context: Any) -> Any:
        record = super().execute(context)
        if context["ti"].try_number == 1:
            raise AirflowException("simulated worker loss after the send")
        return record


with DAG("fo_send", schedule=None, start_date=START, params=PARAMS, default_args=RETRIES) as fo_send:
    FailoverSendOperator(task_id="send", steps=STEPS, idempotency_key="{{ params.key }}")

with DAG("fo_crash", schedule=None, start_date=START, params=PARAMS, default_args=RETRIES) as fo_crash:
    CrashAfterSendFailover(task_id="send", steps=STEPS)

for mode in ("deferrable", "poke"):
    with DAG(f"fo_wait_{mode}", schedule=None, start_date=START, params=PARAMS) as dag:
        send = FailoverSendOperator(task_id="send", steps=STEPS)
        MessageDeliverySensor(
            task_id="wait",
            message_id=send.output,
            deferrable=mode == "deferrable",
            poll_interval=0.3,
            poke_interval=0.3,
            timeout=20,
        )
    globals()[dag.dag_id] = dag
