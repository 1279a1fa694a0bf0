"""DAGs of the campaign tests: a streamed campaign from a file, then one aggregate delivery wait."""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.campaign import campaign_chunks
from airflow_provider_messaging.operators.telesign import TelesignSmsOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor

START = pendulum.datetime(2025, 1, 1, tz="UTC")
PARAMS = {"file": "", "campaign": "spring", "ratio": 1.0}

for mode in ("deferrable", "poke"):
    with DAG(f"campaign_wait_{mode}", schedule=None, start_date=START, params=PARAMS) as dag:
        send = TelesignSmsOperator(
            task_id="send",
            recipients_file="{{ params.file }}",
            campaign_id="{{ params.campaign }}",
            text="Hi {name}, order {order} shipped",
            max_concurrency=8,
        )
        MessageDeliverySensor(
            task_id="wait",
            message_id=send.output,
            min_delivered_ratio=0.8,
            deferrable=mode == "deferrable",
            poll_interval=0.3,
            poke_interval=0.3,
            timeout=60,
        )
    globals()[dag.dag_id] = dag

with DAG("campaign_chunked", schedule=None, start_date=START, params=PARAMS) as dag:
    chunks = TelesignSmsOperator.partial(
        task_id="send",
        recipients_file="{{ params.file }}",
        campaign_id="{{ params.campaign }}",
        text="Hi {name}",
        max_concurrency=4,
    ).expand(chunk=campaign_chunks(3))
    MessageDeliverySensor(
        task_id="wait",
        message_id=chunks.output,
        min_delivered_ratio=0.8,
        deferrable=True,
        poll_interval=0.3,
        timeout=60,
    )
globals()[dag.dag_id] = dag
