"""Real DAG runs: send through the sandbox, callbacks arrive at the receiver while the sensor waits.

Each scenario runs with the sensor deferrable (trigger run inline by dag.test) and in poke mode, on
SQLite and on PostgreSQL (the ``store`` fixture behind ``local_stack``).
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.dag_runner import Run, load_dags
from tests.support.waiting import wait_for

MODES = ["deferrable", "poke"]


def dags():
    return load_dags("e2e_delivery.py")


@pytest.mark.parametrize("mode", MODES)
def test_rcs_delivered_on_first_channel(local_stack, mode):
    run = Run(getattr(dags(), f"e2e_wait_{mode}"), {"phone_number": "15558675301"})
    assert run.state == "success"
    result = run.xcom("wait")
    assert result["state"] == "DELIVERED" and result["delivered_channel"] == "rcs"
    assert result["fallback_used"] is False
    assert run.xcom("send")["message_id"] == result["message_id"]


@pytest.mark.parametrize("mode", MODES)
def test_rcs_times_out_then_sms_delivers(local_stack, mode):
    """The vendor-docs cascade: rcs 3056 at fallback_time, then sms 3000."""
    run = Run(getattr(dags(), f"e2e_wait_{mode}"), {"phone_number": "15558675302"})
    assert run.state == "success"
    result = run.xcom("wait")
    assert result["delivered_channel"] == "sms" and result["fallback_used"] is True
    attempts = {a["channel"]: (a["state"], a["code"]) for a in result["attempts"]}
    assert attempts == {"rcs": ("EXPIRED", "3056"), "sms": ("DELIVERED", "3000")}
    stored = local_stack.store.callbacks_for(result["message_id"])
    assert len(stored) >= 2  # the intermediate and the final callback are both kept raw


@pytest.mark.parametrize("mode", MODES)
def test_every_channel_failed_fails_the_sensor(local_stack, mode):
    run = Run(getattr(dags(), f"e2e_wait_{mode}"), {"phone_number": "15558675303"})
    assert run.state == "failed"
    assert run.task_states() == {"send": "success", "wait": "failed"}
    status = local_stack.store.get_status(run.xcom("send")["message_id"])
    assert status.complete and status.state.value == "FAILED"
    assert {a.channel for a in status.attempts} == {"rcs", "sms"}


@pytest.mark.parametrize("mode", MODES)
def test_duplicate_and_out_of_order_callbacks(local_stack, mode):
    run = Run(getattr(dags(), f"e2e_wait_{mode}"), {"phone_number": "15558675307"})
    assert run.state == "success"
    message_id = run.xcom("send")["message_id"]
    local_stack.sandbox.wait_for_callbacks(3, timeout=10)
    # the late, stale callbacks land after the sensor finished: wait until the sandbox sent them all (each one is
    # stored before the receiver answers it)
    assert local_stack.sandbox.wait_idle(10)
    status = local_stack.store.get_status(message_id)
    assert status.state.value == "DELIVERED"
    assert len(local_stack.store.callbacks_for(message_id)) >= 3


@pytest.mark.parametrize("mode", MODES)
def test_timeout_fails_with_last_known_state(local_stack, mode):
    started = time.monotonic()
    run = Run(getattr(dags(), f"e2e_timeout_{mode}"), {"phone_number": "15558675309"})
    assert run.state == "failed"
    assert run.task_states()["wait"] == "failed"
    assert time.monotonic() - started < 60  # the trigger enforced its own timeout under dag.test()


@pytest.mark.parametrize("mode", MODES)
def test_mapped_send_then_sensor_over_the_list(local_stack, mode):
    run = Run(getattr(dags(), f"e2e_mapped_{mode}"))
    assert run.state == "success"
    results = run.xcom("wait")
    assert len(results) == 3
    assert sorted(r["recipient"] for r in results) == ["15558675301", "15558675305", "15558675311"]
    assert {r["recipient"]: r["state"] for r in results}["15558675305"] in ("DELIVERED", "READ")
    assert all(r["delivered"] for r in results)


def _inject_after_send(stack, **payload):
    """Inject an inbound message once the DAG's send is recorded in the store with its message id (the DAG is
    blocked in dag.test), so that the reply comes after the message it answers."""

    def worker() -> None:
        wait_for(stack.sandbox.requests, 30, "the DAG's send to reach the sandbox", interval=0.1)
        wait_for(
            lambda: any(m.message_id for m in stack.store.list_messages(limit=5)),
            30,
            "the send's message id to be stored",
            interval=0.1,
        )
        stack.inject_inbound(**payload)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("mode", MODES)
def test_reply_sensor_completes_on_postback(local_stack, mode):
    thread = _inject_after_send(
        local_stack, vendor="aerialink", channel="rcs", phone_number="15559876541", postback="yes_response"
    )
    run = Run(getattr(dags(), f"e2e_reply_{mode}"), {"phone_number": "15559876541", "postback": "yes_response"})
    thread.join()
    assert run.state == "success"
    assert run.xcom("wait_reply")["postback"] == "yes_response"


@pytest.mark.parametrize("mode", MODES)
def test_reply_sensor_completes_on_stop_and_opts_out(local_stack, mode):
    thread = _inject_after_send(local_stack, vendor="aerialink", channel="rcs", phone_number="15559876541", text="STOP")
    run = Run(getattr(dags(), f"e2e_reply_{mode}"), {"phone_number": "15559876541", "action": "stop"})
    thread.join()
    assert run.state == "success"
    reply = run.xcom("wait_reply")
    assert reply["action"] == "stop"
    assert local_stack.store.is_opted_out("aerialink", "15559876541")
