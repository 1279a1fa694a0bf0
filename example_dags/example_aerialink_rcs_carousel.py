"""Aerialink RCS carousel of two cards with MMS failover. Sandbox: numbers ending in 3 fail everywhere,
so this example shows a cascade that runs out: the sensor uses ``soft_fail`` and ends *skipped*."""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.aerialink import AerialinkRcsCarouselOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor

with DAG(
    dag_id="example_aerialink_rcs_carousel",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    params={"destination": "15559876543"},
    tags=["example", "aerialink", "rcs"],
) as dag:
    send = AerialinkRcsCarouselOperator(
        task_id="send_carousel",
        destination="{{ params.destination }}",
        cards=[
            {
                "title": "Card 1",
                "description": "First card in the carousel.",
                "height": "MEDIUM",
                "mediaUrl": "https://example.com/media1.jpg",
                "thumbnailUrl": "https://example.com/thumb1.jpg",
                "filenameOverride": "media1.jpg",
                "choices": [
                    {
                        "type": "OPEN_URL",
                        "title": "View",
                        "postbackData": "view_card_1",
                        "url": "https://example.com/details",
                        "application": "WEBVIEW",
                        "webviewViewMode": "TALL",
                    }
                ],
            },
            {
                "title": "Card 2",
                "description": "Second card in the carousel.",
                "height": "SHORT",
                "mediaUrl": "https://example.com/media2.jpg",
                "thumbnailUrl": "https://example.com/thumb2.jpg",
                "filenameOverride": "media2.jpg",
                "choices": [
                    {
                        "type": "DIAL_PHONE",
                        "title": "Call Now",
                        "postbackData": "call_now",
                        "phoneNumber": "15551234567",
                    }
                ],
            },
        ],
        mms_failover={
            "enabled": True,
            "failoverSource": "15551234567",
            "fallbackText": "Fallback message if RCS fails",
            "mediaUrl": "https://example.com/fallback_media.jpg",
            "subject": "Fallback Media Subject",
        },
    )
    wait = MessageDeliverySensor(task_id="wait_for_delivery", message_id=send.output, soft_fail=True, timeout=120)
    send >> wait
