"""Aerialink RCS card with link and dial choices and MMS failover, then wait for delivery."""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.aerialink import AerialinkRcsCardOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor

with DAG(
    dag_id="example_aerialink_rcs_card",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    params={"destination": "15559876545"},
    tags=["example", "aerialink", "rcs"],
) as dag:
    send = AerialinkRcsCardOperator(
        task_id="send_card",
        destination="{{ params.destination }}",
        title="Welcome!",
        description="This is a card message with media and choices.",
        height="MEDIUM",
        media_url="https://example.com/media.jpg",
        thumbnail_url="https://example.com/thumbnail.jpg",
        filename_override="custom_name.jpg",
        choices=[
            {
                "type": "OPEN_URL",
                "title": "Learn More",
                "postbackData": "learn_more",
                "url": "https://example.com/info",
                "application": "WEBVIEW",
                "webviewViewMode": "FULL",
            },
            {"type": "DIAL_PHONE", "title": "Contact Us", "postbackData": "contact_us", "phoneNumber": "15551234567"},
        ],
        mms_failover={
            "enabled": True,
            "failoverSource": "15551234567",
            "fallbackText": "Fallback message if RCS fails",
            "mediaUrl": "https://example.com/fallback_media.jpg",
            "subject": "Fallback Media Subject",
        },
    )
    wait = MessageDeliverySensor(task_id="wait_for_delivery", message_id=send.output, timeout=120)
    send >> wait
