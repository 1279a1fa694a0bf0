"""RCS message with a click-to-call button and SMS fallback (Telesign), then wait for delivery.

Sandbox scenario: numbers ending in 2 let RCS time out after ``fallback_time``; SMS then delivers.
"""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.telesign import TelesignRcsCallButtonOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor

with DAG(
    dag_id="example_telesign_rcs_call_button",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    params={"phone_number": "15558675302", "order": "45390"},
    tags=["example", "telesign", "rcs"],
) as dag:
    send = TelesignRcsCallButtonOperator(
        task_id="send_refund_call_button",
        phone_number="{{ params.phone_number }}",
        text="We received your refund request for order #{{ params.order }} from viatushop.com. "
        "Please call our customer support team so we can finish servicing this request.",
        dial_text="Call us",
        phone_number_to_dial="18003334444",
        dial_payload="dialid1",
        sms_fallback_text="We received your refund request for order #{{ params.order }} from viatushop.com. "
        "Please call our customer support team at 1.800.333.4444 so we can finish servicing this request.",
        fallback_time=600,
        message_type="MKT",
    )
    wait = MessageDeliverySensor(task_id="wait_for_delivery", message_id=send.output, timeout=120)
    send >> wait
