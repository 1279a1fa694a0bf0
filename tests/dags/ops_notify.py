"""DAG of the notifier tests (tests/notifications): a failing task whose on_failure_callback texts the on-call.

Each notifier is listed twice, as if Airflow called the callback twice for the same failure
(apache/airflow#33855): the second call must not send again.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task
from airflow.sdk.exceptions import AirflowException

from airflow_provider_messaging.notifications.messaging import AerialinkNotifier, TelesignNotifier


def notifiers() -> list[object]:
    return [
        TelesignNotifier(
            phone_number="{{ params.on_call }}", text="{{ ti.task_id }} failed", telesign_conn_id="ops_notify"
        ),
        AerialinkNotifier(
            destination="{{ params.on_call }}",
            text="{{ ti.task_id }} failed in {{ dag.dag_id }}",
            sms_failover_source="15551234567",
            aerialink_conn_id="ops_notify_rcs",
        ),
    ]


with DAG(
    "ops_notify",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    params={"on_call": "15558675301", "fail": True},
) as dag:

    @task(on_failure_callback=notifiers() + notifiers(), on_success_callback=[])
    def nightly_load(**context: object) -> str:
        if context["params"]["fail"]:  # type: ignore[index]
            raise AirflowException("upstream file missing")
        return "loaded"

    nightly_load()
