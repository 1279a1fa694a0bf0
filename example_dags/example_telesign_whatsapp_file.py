"""WhatsApp file with SMS fallback (Telesign). Sandbox: numbers ending in 4 have no WhatsApp -> SMS delivers."""

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.telesign import TelesignWhatsAppFileOperator
from airflow_provider_messaging.sensors.delivery import MessageDeliverySensor

with DAG(
    dag_id="example_telesign_whatsapp_file",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    params={"phone_number": "15558675304"},
    tags=["example", "telesign", "whatsapp"],
) as dag:
    send = TelesignWhatsAppFileOperator(
        task_id="send_order_history",
        phone_number="{{ params.phone_number }}",
        url="https://s3.amazonaws.com/346542/viatu/customer47325-order-history.xlsx",
        file_name="order history.pdf",
        sms_fallback_text="Your viatu.com order history is ready for download at "
        "https://s3.amazonaws.com/346542/viatu/customer47325-order-history.xlsx.",
        fallback_time=600,
        message_type="MKT",
    )
    wait = MessageDeliverySensor(task_id="wait_for_delivery", message_id=send.output, timeout=120)
    send >> wait
