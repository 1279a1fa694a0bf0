"""Notifiers in a real DAG run: ``dag.test()`` runs task callbacks in-process (Airflow 3.3), so the
failing task's ``on_failure_callback`` really texts the local server."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_messaging.notifications.messaging import TelesignNotifier
from tests.operators.ops_support import AERIALINK_AUTH, TELESIGN_AUTH, Env, rows
from tests.support.dag_runner import load_dag, run_dag, states
from tests.support.http_server import Reply

ON_CALL = "15558675301"


@pytest.fixture
def env(env: Env) -> Env:
    """The shared ``env`` (tests/conftest.py) with the notifier DAG's two connections."""
    env.vendor.connect("ops_notify", "telesign")
    env.vendor.connect("ops_notify_rcs", "aerialink")
    return env


def test_failure_callback_sends_one_message_per_notifier(env: Env) -> None:
    dag_run = run_dag("ops_notify", "ops_notify.py")

    assert states(dag_run) == {"nightly_load": ("failed", 1)}
    [sms] = env.vendor.sends("ops_notify")  # two identical notifiers, one SMS
    assert sms.headers["authorization"] == TELESIGN_AUTH
    assert sms.json() == {
        "channels": [{"channel": "sms"}],
        "phone_number": ON_CALL,
        "message": {"sms": {"template": "text", "parameters": {"text": "nightly_load failed"}}},
        "message_type": "ARN",
    }
    [rcs] = env.vendor.sends("ops_notify_rcs")
    assert rcs.headers["authorization"] == AERIALINK_AUTH
    text = "nightly_load failed in ops_notify"
    assert rcs.json() == {
        "messageType": "RCS_TEXT",
        "source": "CONVEY",
        "destination": ON_CALL,
        "messageText": text,
        "smsFailover": {"enabled": True, "failoverSource": "15551234567", "fallbackText": text},
    }
    keys = sorted(r["idempotency_key"] for r in rows(env.store))
    assert keys == [
        f"notify:AerialinkNotifier/ops_notify/{dag_run.run_id}/nightly_load/-1/1/{ON_CALL}",
        f"notify:TelesignNotifier/ops_notify/{dag_run.run_id}/nightly_load/-1/1/{ON_CALL}",
    ]
    assert {r["send_status"] for r in rows(env.store)} == {"ACCEPTED"}

    # another failure (another run) is another event: one more message each
    run_dag("ops_notify", "ops_notify.py")
    assert (len(env.vendor.sends("ops_notify")), len(env.vendor.sends("ops_notify_rcs"))) == (2, 2)


def test_success_sends_nothing(env: Env) -> None:
    dag_run = run_dag("ops_notify", "ops_notify.py", fail=False)
    assert states(dag_run) == {"nightly_load": ("success", 1)}
    assert env.vendor.sends() == []


def context(try_number: int = 1) -> dict[str, object]:
    """The parts of an Airflow callback context the notifier reads (called directly, as Airflow would)."""
    dag = load_dag("ops_notify", "ops_notify.py")  # a real DAG: the notifier renders with its Jinja environment
    ti = SimpleNamespace(
        dag_id=dag.dag_id, task_id="nightly_load", run_id="scheduled__2025-01-01", try_number=try_number, map_index=-1
    )
    return {"ti": ti, "task_instance": ti, "run_id": ti.run_id, "dag": dag, "params": {}}


def test_repeated_call_after_an_unknown_outcome_does_not_send_again(env: Env) -> None:
    """A read timeout may have reached the vendor: a repeated callback for that event must not re-send."""
    env.vendor.connect("ops_notify", "telesign", timeout=0.3)
    env.vendor.script("ops_notify", Reply(200, {"late": True}, delay=0.8))
    notifier = TelesignNotifier(phone_number=ON_CALL, text="{{ ti.task_id }} failed", telesign_conn_id="ops_notify")

    with pytest.raises(Exception, match="may have accepted"):
        notifier(context())
    notifier(context())  # same event again: not sent, no error

    [sent] = env.vendor.sends("ops_notify")
    assert sent.json()["message"]["sms"]["parameters"]["text"] == "nightly_load failed"
    assert [r["send_status"] for r in rows(env.store)] == ["UNKNOWN"]
    # the next try's failure is a new event
    notifier(context(try_number=2))
    assert len(env.vendor.sends("ops_notify")) == 2


def test_repeated_call_after_a_refusal_may_send(env: Env) -> None:
    """A 400 means nothing was sent: a repeated callback for the same event may try again."""
    env.vendor.reject(ON_CALL, times=1)
    notifier = TelesignNotifier(phone_number=ON_CALL, text="load failed", telesign_conn_id="ops_notify")

    with pytest.raises(Exception, match="3101"):
        notifier(context())
    notifier(context())
    notifier(context())

    assert len(env.vendor.sends("ops_notify")) == 2
    assert [r["send_status"] for r in rows(env.store)] == ["ACCEPTED"]
