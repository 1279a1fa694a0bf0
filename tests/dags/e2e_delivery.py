"""DAGs for the end-to-end sensor tests: send through the sandbox, then wait (deferrable and poke mode)."""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.aerialink import AerialinkRcsTextOperator
from airflow_provider_messaging.operators.telesign import TelesignRcsCallButtonOperator, TelesignSmsOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor
from airflow_provider_messaging.sensors.inbound import InboundMessageSensor

START = pendulum.datetime(2025, 1, 1, tz="UTC")

for mode in ("deferrable", "poke"):
    deferrable = mode == "deferrable"
    with DAG(f"e2e_wait_{mode}", schedule=None, start_date=START, params={"phone_number": "15558675301"}) as dag:
        send = TelesignRcsCallButtonOperator(
            task_id="send",
            phone_number="{{ params.phone_number }}",
            text="Your refund is ready. Call us to finish.",
            dial_text="Call us",
            phone_number_to_dial="18003334444",
            dial_payload="dialid1",
            sms_fallback_text="Your refund is ready. Call 1.800.333.4444 to finish.",
            fallback_time=600,
        )
        MessageDeliverySensor(
            task_id="wait",
            message_id=send.output,
            deferrable=deferrable,
            poll_interval=0.3,
            poke_interval=0.3,
            timeout=15,
        )
    globals()[dag.dag_id] = dag

    with DAG(f"e2e_timeout_{mode}", schedule=None, start_date=START, params={"phone_number": "15558675309"}) as dag:
        send = TelesignSmsOperator(task_id="send", phone_number="{{ params.phone_number }}", text="never reported")
        MessageDeliverySensor(
            task_id="wait",
            message_id=send.output,
            deferrable=deferrable,
            poll_interval=0.3,
            poke_interval=0.3,
            timeout=3,
        )
    globals()[dag.dag_id] = dag

    with DAG(f"e2e_mapped_{mode}", schedule=None, start_date=START) as dag:
        mapped = TelesignSmsOperator.partial(task_id="send", text="mapped hello").expand(
            phone_number=["15558675301", "15558675311", "15558675305"]
        )
        MessageDeliverySensor(
            task_id="wait",
            message_id=mapped.output,
            deferrable=deferrable,
            poll_interval=0.3,
            poke_interval=0.3,
            timeout=15,
        )
    globals()[dag.dag_id] = dag

    with DAG(
        f"e2e_reply_{mode}",
        schedule=None,
        start_date=START,
        params={"phone_number": "15559876541", "action": None, "postback": None},
    ) as dag:
        send = AerialinkRcsTextOperator(
            task_id="send",
            destination="{{ params.phone_number }}",
            message_text="Reply YES to confirm",
            choices=[{"type": "REPLY", "title": "Yes", "postbackData": "yes_response"}],
        )
        InboundMessageSensor(
            task_id="wait_reply",
            phone_number="{{ params.phone_number }}",
            vendor="aerialink",
            postback="{{ params.postback or '' }}",
            action="{{ params.action or '' }}",
            after_message_id=send.output,
            deferrable=deferrable,
            poll_interval=0.3,
            poke_interval=0.3,
            timeout=20,
        )
    globals()[dag.dag_id] = dag
