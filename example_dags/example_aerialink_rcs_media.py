"""Aerialink RCS media with MMS failover. Sandbox: numbers ending in 2 fail on RCS -> the MMS failover delivers."""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.aerialink import AerialinkRcsMediaOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor

with DAG(
    dag_id="example_aerialink_rcs_media",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    params={"destination": "15559876542"},
    tags=["example", "aerialink", "rcs", "mms"],
) as dag:
    send = AerialinkRcsMediaOperator(
        task_id="send_media",
        destination="{{ params.destination }}",
        media_url="https://example.com/media.jpg",
        thumbnail_url="https://example.com/thumbnail.jpg",
        filename_override="custom_name.jpg",
        choices=[
            {"type": "DIAL_PHONE", "title": "Call Us", "postbackData": "call_action", "phoneNumber": "15551234567"}
        ],
        mms_failover={
            "enabled": True,
            "failoverSource": "15551234567",
            "fallbackText": "Fallback message",
            "mediaUrl": "https://example.com/fallback_media.jpg",
            "subject": "Fallback Media Subject",
        },
    )
    wait = MessageDeliverySensor(task_id="wait_for_delivery", message_id=send.output, timeout=120)
    send >> wait
