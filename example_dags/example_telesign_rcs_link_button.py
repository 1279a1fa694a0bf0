"""RCS message with a link button (Telesign), SMS fallback, then wait for delivery (delivered on RCS)."""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.telesign import TelesignRcsLinkButtonOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor

with DAG(
    dag_id="example_telesign_rcs_link_button",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    params={"phone_number": "15558675301"},
    tags=["example", "telesign", "rcs"],
) as dag:
    send = TelesignRcsLinkButtonOperator(
        task_id="send_tracking_link",
        phone_number="{{ params.phone_number }}",
        text="Thanks for your purchase! Track your order status here:",
        url="https://viatushop.com/track/45390",
        url_id="urlid1",
        url_text="Track Order",
        sms_fallback_text="Thanks for your purchase! Track your order at https://viatushop.com/track/45390",
        fallback_time=600,
        message_type="MKT",
    )
    wait = MessageDeliverySensor(task_id="wait_for_delivery", message_id=send.output, timeout=120)
    send >> wait
