"""A notification pipeline (daily in production): one SMS template to many recipients.

Two ways to fan out: dynamic task mapping (one task per recipient) and bulk mode (one task, bounded
concurrency, client-side rate limit from the connection's ``rate_limit`` extra). The sensor waits on all
records and accepts the run when at least 75% were delivered. Sandbox: 15558675303 fails on every channel.

Runs when triggered (``schedule=None``, so unpausing it sends nothing); for a daily pipeline set
``schedule="@daily"``. The texts name the run's date in both cases: the logical date of a scheduled run,
the time a manual run was triggered (manual runs have no logical date in Airflow 3:
``{{ ds }}`` is undefined there).
"""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.telesign import TelesignSmsOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor

RECIPIENTS = ["15558675301", "15558675311", "15558675321", "15558675303"]
RUN_DATE = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"

with DAG(
    dag_id="example_bulk_notifications",
    schedule=None,  # "@daily" for a daily pipeline
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    tags=["example", "telesign", "sms", "bulk"],
) as dag:
    mapped = TelesignSmsOperator.partial(
        task_id="send_mapped",
        text=f"Your statement for {RUN_DATE} is ready.",
        message_type="ARN",
    ).expand(phone_number=RECIPIENTS[:2])
    bulk = TelesignSmsOperator(
        task_id="send_bulk",
        recipients=RECIPIENTS,
        text=f"Service notice for {RUN_DATE}: maintenance tonight 01:00-02:00 UTC.",
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
