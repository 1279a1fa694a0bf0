"""DAGs of the operator tests (tests/operators): every operator, templating, validation, opt-outs, mapping.

Connections ``ops_<task>`` are created by the tests (``AIRFLOW_CONN_*``) and point at a local HTTP
server. Parameter defaults are the values of the vendor-doc examples, so the request bodies must equal them.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_messaging.operators.aerialink import (
    AerialinkRcsCardOperator,
    AerialinkRcsCarouselOperator,
    AerialinkRcsMediaOperator,
    AerialinkRcsTextOperator,
)
from airflow_provider_messaging.operators.telesign import (
    TelesignRcsCallButtonOperator,
    TelesignRcsLinkButtonOperator,
    TelesignSendOperator,
    TelesignSmsOperator,
    TelesignWhatsAppFileOperator,
)
from tests.support.dag_callbacks import record_failure

START = pendulum.datetime(2025, 1, 1, tz="UTC")
REFUND = "We received your refund request for order #{order} from viatushop.com. "
TRACK = "Thanks for your purchase on! Track your order status here:"
XLSX = "https://s3.amazonaws.com/346542/viatu/customer47325-order-history.xlsx"
MMS = {
    "enabled": True,
    "failoverSource": "15551234567",
    "fallbackText": "Fallback message if RCS fails",
    "mediaUrl": "https://example.com/fallback_media.jpg",
    "subject": "Fallback Media Subject",
}


FAIL_FAST = {"retries": 2, "retry_delay": timedelta(seconds=0), "on_failure_callback": record_failure}

# ---- one task per operator; bodies must equal the vendor examples -----------------------------------
with DAG(
    "ops_operators",
    schedule=None,
    start_date=START,
    params={
        "phone": "15558675309",
        "destination": "15559876543",
        "track_url": "https://viatushop.com/track/45390",
        "file_name": "order history.pdf",
        "card_title": "Welcome!",
    },
    default_args=FAIL_FAST,
) as operators_dag:

    @task
    def lookup() -> dict[str, str]:
        """An upstream task whose XCom feeds templated fields."""
        return {"order": "45390", "dial": "18003334444", "source": "CONVEY"}

    order = "{{ ti.xcom_pull(task_ids='lookup')['order'] }}"
    sent = [
        TelesignRcsCallButtonOperator(
            task_id="call_button",
            telesign_conn_id="ops_call_button",
            phone_number="{{ params.phone }}",
            text=REFUND.format(order=order)
            + "Please call our customer support team so we can finish servicing this request.",
            dial_text="Call us",
            phone_number_to_dial="{{ ti.xcom_pull(task_ids='lookup')['dial'] }}",
            dial_payload="dialid1",
            sms_fallback_text=REFUND.format(order=order)
            + "Please call our customer support team at 1.800.333.4444 so we can finish servicing this request.",
            fallback_time=600,
            message_type="MKT",
        ),
        TelesignRcsLinkButtonOperator(
            task_id="link_button",
            telesign_conn_id="ops_link_button",
            phone_number="{{ params.phone }}",
            text=TRACK,
            url="{{ params.track_url }}",
            url_id="urlid1",
            url_text="Track Order",
            sms_fallback_text=TRACK,
            fallback_time=600,
            message_type="MKT",
        ),
        TelesignWhatsAppFileOperator(
            task_id="whatsapp_file",
            telesign_conn_id="ops_whatsapp_file",
            phone_number="{{ params.phone }}",
            url=XLSX,
            file_name="{{ params.file_name }}",
            sms_fallback_text=f"Your viatu.com order history is ready for download at {XLSX}.",
            fallback_time=600,
            message_type="MKT",
        ),
        TelesignSmsOperator(
            task_id="sms",
            telesign_conn_id="ops_sms",
            phone_number="{{ params.phone }}",
            text="Order #" + order + " shipped.",
        ),
        TelesignSendOperator(
            task_id="send",
            telesign_conn_id="ops_send",
            phone_number="{{ params.phone }}",
            channels=[{"channel": "rcs", "fallback_time": 600}, "sms"],
            message={
                "rcs": {
                    "template": "url_action",
                    "parameters": {
                        "url_text": "Track Order",
                        "text": TRACK,
                        "url_id": "urlid1",
                        "url": "{{ params.track_url }}",
                    },
                },
                "sms": {"template": "text", "parameters": {"text": TRACK}},
            },
            message_type="MKT",
        ),
        AerialinkRcsTextOperator(
            task_id="rcs_text",
            aerialink_conn_id="ops_rcs_text",
            destination="{{ params.destination }}",
            message_text="Hello from RCS!",
            choices=[
                {"type": "REPLY", "title": "Yes", "postbackData": "yes_response"},
                {
                    "type": "OPEN_URL",
                    "title": "Learn More",
                    "postbackData": "learn_more",
                    "url": "https://example.com/info",
                    "application": "BROWSER",
                    "webviewViewMode": "FULL",
                },
            ],
            sms_failover={
                "enabled": True,
                "failoverSource": "15551234567",
                "fallbackText": "Fallback message if RCS fails",
            },
        ),
        AerialinkRcsMediaOperator(
            task_id="rcs_media",
            aerialink_conn_id="ops_rcs_media",
            destination="{{ params.destination }}",
            source="{{ ti.xcom_pull(task_ids='lookup')['source'] }}",
            media_url="https://example.com/media.jpg",
            thumbnail_url="https://example.com/thumbnail.jpg",
            filename_override="custom_name.jpg",
            choices=[
                {"type": "DIAL_PHONE", "title": "Call Us", "postbackData": "call_action", "phoneNumber": "15551234567"}
            ],
            mms_failover={**MMS, "fallbackText": "Fallback message"},
        ),
        AerialinkRcsCardOperator(
            task_id="rcs_card",
            aerialink_conn_id="ops_rcs_card",
            destination="{{ params.destination }}",
            title="{{ params.card_title }}",
            description="This is a card message with media and choices.",
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
                {
                    "type": "DIAL_PHONE",
                    "title": "Contact Us",
                    "postbackData": "contact_us",
                    "phoneNumber": "15551234567",
                },
            ],
            mms_failover=MMS,
        ),
        AerialinkRcsCarouselOperator(
            task_id="rcs_carousel",
            aerialink_conn_id="ops_rcs_carousel",
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
            mms_failover=MMS,
        ),
    ]
    lookup() >> sent

# ---- invalid rendered input: fails before any request, without retries (retries=2 above) -----------
with DAG(
    "ops_invalid",
    schedule=None,
    start_date=START,
    params={"choice_title": "Learn More", "url": "https://viatushop.com/track/1", "phone": "15558675301"},
    default_args=FAIL_FAST,
) as invalid_dag:
    AerialinkRcsCardOperator(
        task_id="card",
        aerialink_conn_id="ops_invalid",
        destination="15559876543",
        title="Welcome!",
        description="A card",
        media_url="https://example.com/media.jpg",
        choices=[
            {"type": "REPLY", "title": "Yes", "postbackData": "yes"},
            {"type": "REPLY", "title": "{{ params.choice_title }}", "postbackData": "more"},
        ],
    )
    TelesignRcsLinkButtonOperator(
        task_id="link",
        telesign_conn_id="ops_invalid",
        phone_number="15558675301",
        text="Track your order",
        url="{{ params.url }}",
        url_id="urlid1",
        url_text="Track",
    )
    TelesignSmsOperator(task_id="sms", telesign_conn_id="ops_invalid", phone_number="{{ params.phone }}", text="hi")

# ---- opt-outs --------------------------------------------------------------------------------------
with DAG("ops_optout", schedule=None, start_date=START, params={"phone": "15558675301"}) as optout_dag:
    TelesignSmsOperator(
        task_id="send", telesign_conn_id="ops_optout", phone_number="{{ params.phone }}", text="Your code is ready"
    )
    TelesignSmsOperator(
        task_id="send_anyway",
        telesign_conn_id="ops_optout",
        phone_number="{{ params.phone }}",
        text="Account security notice",
        respect_opt_out=False,
    )
    AerialinkRcsTextOperator(
        task_id="rcs", aerialink_conn_id="ops_optout_rcs", destination="{{ params.phone }}", message_text="Hi there"
    )

# ---- dynamic task mapping --------------------------------------------------------------------------
MAPPED_NUMBERS = ["15558675301", "15558675311", "15558675321", "15558675331"]
with DAG("ops_mapped", schedule=None, start_date=START) as mapped_dag:
    TelesignSmsOperator.partial(
        task_id="send", telesign_conn_id="ops_mapped", text="Statement for {{ ds }} is ready"
    ).expand(phone_number=MAPPED_NUMBERS)
