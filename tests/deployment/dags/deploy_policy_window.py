"""A DAG of the deployment test only (not an example): a marketing send outside its local-time window.

The window comes from the run conf (the test opens it a minute after triggering, in the recipient's
zone), so the task defers with a ``DateTimeTrigger`` in the real triggerer and sends when it opens.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_messaging.operators.telesign import TelesignSmsOperator

with DAG("deploy_policy_window", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False):
    TelesignSmsOperator(
        task_id="promo",
        phone_number="{{ dag_run.conf['phone'] }}",
        text="Spring sale: 20% off today only",
        message_type="MKT",
        policy={"windows": {"MKT": "{{ dag_run.conf['window'] }}"}},
    )
