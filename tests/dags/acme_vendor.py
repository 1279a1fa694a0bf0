"""DAGs of the third-vendor test (tests/vendors): send through the test-only Acme, then wait (poke and deferrable)."""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor
from tests.vendors.acme.operator import AcmeSmsOperator

START = pendulum.datetime(2025, 1, 1, tz="UTC")

for mode in ("deferrable", "poke"):
    with DAG(f"acme_wait_{mode}", schedule=None, start_date=START, params={"phone_number": "15558675301"}) as dag:
        send = AcmeSmsOperator(task_id="send", phone_number="{{ params.phone_number }}", text="Your order shipped")
        MessageDeliverySensor(
            task_id="wait",
            message_id=send.output,
            vendor="acme",
            deferrable=mode == "deferrable",
            poll_interval=0.2,
            poke_interval=0.2,
            timeout=30,
        )
    globals()[dag.dag_id] = dag

with DAG("acme_send", schedule=None, start_date=START, params={"phone_number": "15558675301"}) as acme_send:
    AcmeSmsOperator(task_id="send", phone_number="{{ params.phone_number }}", text="Another update")
