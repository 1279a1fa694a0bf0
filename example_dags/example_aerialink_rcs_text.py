"""Aerialink RCS text with reply and link choices and SMS failover, then wait for delivery.

Without a triggerer, pass ``deferrable=False`` (and ``mode="reschedule"`` to free the worker slot between checks).
"""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.aerialink import AerialinkRcsTextOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor

with DAG(
    dag_id="example_aerialink_rcs_text",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    params={"destination": "15559876541"},
    tags=["example", "aerialink", "rcs"],
) as dag:
    send = AerialinkRcsTextOperator(
        task_id="send_text_with_choices",
        destination="{{ params.destination }}",
        message_text="Your appointment is tomorrow at 10:00. Can you make it?",
        choices=[
            {"type": "REPLY", "title": "Yes", "postbackData": "yes_response"},
            {
                "type": "OPEN_URL",
                "title": "Reschedule",
                "postbackData": "reschedule",
                "url": "https://example.com/reschedule",
                "application": "BROWSER",
                "webviewViewMode": "FULL",
            },
        ],
        sms_failover={
            "enabled": True,
            "failoverSource": "15551234567",
            "fallbackText": "Your appointment is tomorrow at 10:00. Reply YES to confirm.",
        },
    )
    wait = MessageDeliverySensor(task_id="wait_for_delivery", message_id=send.output, timeout=120)
    send >> wait
