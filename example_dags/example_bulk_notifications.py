"""A scheduled notification pipeline: one SMS template to many recipients.

Two ways to fan out: dynamic task mapping (one task per recipient) and bulk mode (one task, bounded
concurrency, client-side rate limit from the connection's ``rate_limit`` extra). The sensor waits on all
records and accepts the run when at least 75% were delivered. Sandbox: 15558675303 fails on every channel.
"""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.telesign import TelesignSmsOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor

RECIPIENTS = ["15558675301", "15558675311", "15558675321", "15558675303"]

with DAG(
    dag_id="example_bulk_notifications",
    schedule="@daily",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "telesign", "sms", "bulk"],
) as dag:
    mapped = TelesignSmsOperator.partial(
        task_id="send_mapped",
        text="Your statement for {{ ds }} is ready.",
        message_type="ARN",
    ).expand(phone_number=RECIPIENTS[:2])
    bulk = TelesignSmsOperator(
        task_id="send_bulk",
        recipients=RECIPIENTS,
        text="Service notice for {{ ds }}: maintenance tonight 01:00-02:00 UTC.",
        message_type="ARN",
        fail_on_any_failure=False,
        max_concurrency=4,
    )
    wait_mapped = MessageDeliverySensor(task_id="wait_mapped", message_id=mapped.output, timeout=120)
    wait_bulk = MessageDeliverySensor(
        task_id="wait_bulk", message_id=bulk.output, min_delivered_ratio=0.75, timeout=120
    )
    mapped >> wait_mapped
    bulk >> wait_bulk
