"""DAGs of the sending-policy tests (tests/policies): windows that defer, caps that skip, dry runs.

Connections ``pol_<name>`` are created by the tests and point at a local HTTP server; the windows come
from the run conf so that a test can open one a few seconds after the run starts.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.aerialink import AerialinkRcsTextOperator
from airflow_provider_messaging.operators.failover import FailoverSendOperator, failover_step
from airflow_provider_messaging.operators.telesign import TelesignRcsLinkButtonOperator, TelesignSmsOperator

START = pendulum.datetime(2025, 1, 1, tz="UTC")
WINDOW = {"windows": {"MKT": "{{ dag_run.conf['window'] }}"}}
ONE_A_DAY = {"caps": [{"limit": 1, "period": "1d"}]}

with DAG("pol_window", schedule=None, start_date=START, catchup=False):
    TelesignSmsOperator(
        task_id="promo",
        telesign_conn_id="pol_window",
        phone_number="{{ dag_run.conf['phone'] }}",
        text="Spring sale: 20% off today only",
        message_type="MKT",
        policy=WINDOW,
    )

with DAG("pol_bulk_window", schedule=None, start_date=START, catchup=False):
    TelesignSmsOperator(
        task_id="promo",
        telesign_conn_id="pol_bulk",
        phone_number="{{ dag_run.conf['recipients'][0] }}",
        recipients="{{ dag_run.conf['recipients'] }}",
        text="Spring sale: 20% off today only",
        message_type="MKT",
        policy=WINDOW,
    )

with DAG("pol_cap", schedule=None, start_date=START, catchup=False):
    first = TelesignSmsOperator(
        task_id="first",
        telesign_conn_id="pol_cap",
        phone_number="{{ dag_run.conf['phone'] }}",
        text="Your order shipped",
        message_type="ARN",
        policy=ONE_A_DAY,
    )
    second = TelesignSmsOperator(
        task_id="second",
        telesign_conn_id="pol_cap",
        phone_number="{{ dag_run.conf['phone'] }}",
        text="Rate your delivery",
        message_type="ARN",
        policy=ONE_A_DAY,
    )
    code = TelesignSmsOperator(
        task_id="code",
        telesign_conn_id="pol_cap",
        phone_number="{{ dag_run.conf['phone'] }}",
        text="Your code is 123456",
        message_type="OTP",
        policy=ONE_A_DAY,
        trigger_rule="none_failed",  # runs after the capped (skipped) send
    )
    first >> second >> code

with DAG("pol_dry_run", schedule=None, start_date=START, catchup=False):
    TelesignRcsLinkButtonOperator(
        task_id="link",
        telesign_conn_id="pol_dry",
        phone_number="{{ dag_run.conf['phone'] }}",
        text="Thanks for your purchase! Track your order here:",
        url_text="Track Order",
        url="https://viatushop.com/track/45390",
        url_id="urlid1",
        sms_fallback_text="Thanks for your purchase \U0001f389 Track it at https://viatushop.com/track/45390",
        fallback_time=300,
        message_type="MKT",
        dry_run=True,
        policy={"windows": {"MKT": "08:00-21:00"}},
    )
    AerialinkRcsTextOperator(
        task_id="bulk",
        aerialink_conn_id="pol_dry_rcs",
        destination="15559876543",
        recipients=["15559876543", "15559876544"],
        message_text="Hello from RCS!",
        choices=[{"type": "REPLY", "title": "Yes", "postbackData": "yes"}],
        sms_failover={"enabled": True, "failoverSource": "15551234567", "fallbackText": "Hello from SMS"},
        dry_run=True,
    )

with DAG("pol_campaign_window", schedule=None, start_date=START, catchup=False):
    TelesignSmsOperator(
        task_id="promo",
        telesign_conn_id="pol_campaign",
        phone_number="{{ dag_run.conf['recipients'][0] }}",
        recipients="{{ dag_run.conf['recipients'] }}",
        campaign_id="spring-{{ run_id }}",
        text="Spring sale: 20% off today only",
        message_type="MKT",
        policy=WINDOW,
    )

with DAG("pol_failover", schedule=None, start_date=START, catchup=False):
    # one logical message through two vendors, under a window and a cap of one a day: the first waits for
    # the window and sends; the second is capped (the logical message counted once) and skipped
    FAILOVER_STEPS = [
        failover_step(
            TelesignSmsOperator,
            telesign_conn_id="pol_fo_telesign",
            phone_number="{{ dag_run.conf['phone'] }}",
            text="Spring sale: 20% off today only",
        ),
        failover_step(
            AerialinkRcsTextOperator,
            aerialink_conn_id="pol_fo_aerialink",
            destination="{{ dag_run.conf['phone'] }}",
            message_text="Spring sale: 20% off today only",
        ),
    ]
    FAILOVER_POLICY = {**WINDOW, **ONE_A_DAY}
    first_promo = FailoverSendOperator(
        task_id="promo", steps=FAILOVER_STEPS, policy=FAILOVER_POLICY, message_category="MKT"
    )
    second_promo = FailoverSendOperator(
        task_id="again", steps=FAILOVER_STEPS, policy=FAILOVER_POLICY, message_category="MKT"
    )
    first_promo >> second_promo
