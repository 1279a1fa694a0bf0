"""No duplicate sends, in real DAG runs: idempotency keys across runs and retries, unknown outcomes,
the hook's retry of 503, and vendor rejections. Run on SQLite and PostgreSQL where the guarantee
comes from the database."""

from __future__ import annotations

from tests.operators.ops_support import Env, rows
from tests.support.dag_runner import run_dag, states, ti_of, xcom
from tests.support.http_server import Reply

FILE = "ops_idempotency.py"
PHONE = "15558675301"


def connect(env: Env, **extra: object) -> None:
    env.vendor.connect("ops_idem", "telesign", **extra)
    env.vendor.connect("ops_idem_rcs", "aerialink", **extra)


def send_counts(env: Env) -> tuple[int, int]:
    return len(env.vendor.sends("ops_idem")), len(env.vendor.sends("ops_idem_rcs"))


def test_same_key_in_a_second_run_returns_the_recorded_message(env_any_store: Env) -> None:
    env = env_any_store
    connect(env)
    first = run_dag("ops_idem", FILE, key="order-45390")
    assert states(first) == {"send": ("success", 1), "rcs": ("success", 1)}
    assert send_counts(env) == (1, 1)

    second = run_dag("ops_idem", FILE, key="order-45390")

    assert states(second) == {"send": ("success", 1), "rcs": ("success", 1)}
    assert send_counts(env) == (1, 1), "the second run must not send again"
    for task_id, key in (("send", "order-45390"), ("rcs", "order-45390/rcs")):
        again, before = xcom(second, task_id), xcom(first, task_id)
        assert again["message_id"] == before["message_id"]
        assert again["idempotency_key"] == before["idempotency_key"] == key
        assert [r["send_status"] for r in rows(env.store, idempotency_key=key)] == ["ACCEPTED"]
    # a different key is a different message
    third = run_dag("ops_idem", FILE, key="order-45391")
    assert states(third)["send"] == ("success", 1)
    assert send_counts(env) == (2, 2)


def test_task_retry_after_a_successful_send_does_not_send_again(env: Env) -> None:
    """The worker is lost after the vendor accepted: Airflow's retry (default key) finds the record."""
    connect(env)
    dag_run = run_dag("ops_idem_crash", FILE)

    assert states(dag_run) == {"send": ("success", 2)}
    assert [f["try_number"] for f in env.failures.entries("send")] == []  # try 1 failed, retried, no callback
    assert len(env.vendor.sends("ops_idem")) == 1
    [row] = rows(env.store)
    assert row["send_status"] == "ACCEPTED"
    assert row["idempotency_key"] == f"ops_idem_crash/send/{dag_run.run_id}/-1"
    assert xcom(dag_run, "send")["message_id"] == row["message_id"]


def test_read_timeout_is_an_unknown_outcome_never_resent_blindly(env_any_store: Env) -> None:
    env = env_any_store
    connect(env, timeout=0.4)
    env.vendor.script("ops_idem", Reply(200, {"late": True}, delay=1.2))
    env.vendor.script("ops_idem_rcs", Reply(200, {"late": True}, delay=1.2))

    first = run_dag("ops_idem", FILE, key="k-timeout")

    # AirflowFailException: no Airflow retry although retries=2, exactly one request each
    assert states(first) == {"send": ("failed", 1), "rcs": ("failed", 1)}
    assert send_counts(env) == (1, 1)
    for task_id in ("send", "rcs"):
        [failure] = env.failures.entries(task_id)
        assert failure["type"] == "AirflowFailException"
        assert "unknown" in failure["error"].lower()
    assert [r["send_status"] for r in rows(env.store)] == ["UNKNOWN", "UNKNOWN"]

    # a later run (or retry) under the same key refuses to send again
    second = run_dag("ops_idem", FILE, key="k-timeout")
    assert states(second) == {"send": ("failed", 1), "rcs": ("failed", 1)}
    assert send_counts(env) == (1, 1)
    assert "resend_unknown=True" in env.failures.entries("send")[-1]["error"]
    assert [r["send_status"] for r in rows(env.store)] == ["UNKNOWN", "UNKNOWN"]

    # told to, it sends again (and may duplicate: the operator's choice)
    third = run_dag("ops_idem_resend", FILE, key="k-timeout")
    assert states(third) == {"send": ("success", 1), "rcs": ("success", 1)}
    assert send_counts(env) == (2, 2)
    assert [r["send_status"] for r in rows(env.store)] == ["ACCEPTED", "ACCEPTED"]
    assert xcom(third, "send")["message_id"] == rows(env.store, idempotency_key="k-timeout")[0]["message_id"]


def test_503_then_accepted_through_the_hook_retry(env: Env) -> None:
    connect(env)
    retry_now = {"Retry-After": "0"}
    env.vendor.script("ops_idem", Reply(503, {"status": {"code": 503}}, headers=retry_now))
    env.vendor.script("ops_idem_rcs", Reply(503, {"status": "error", "message": "busy"}, headers=retry_now))

    dag_run = run_dag("ops_idem", FILE)

    assert states(dag_run) == {"send": ("success", 1), "rcs": ("success", 1)}
    assert send_counts(env) == (2, 2)
    bodies = [r.body for r in env.vendor.sends("ops_idem")]
    assert bodies[0] == bodies[1]
    assert [r["send_status"] for r in rows(env.store)] == ["ACCEPTED", "ACCEPTED"]


def test_503_beyond_the_hook_retries_is_retried_by_airflow(env: Env) -> None:
    """Nothing was accepted (REJECTED): the Airflow retry may send, and does, once."""
    connect(env)
    busy = Reply(503, {"status": {"code": 503}}, headers={"Retry-After": "0"})
    env.vendor.script("ops_idem", busy, busy, busy)  # the hook's first try + max_retries=2

    dag_run = run_dag("ops_idem", FILE)

    assert states(dag_run)["send"] == ("success", 2)
    assert len(env.vendor.sends("ops_idem")) == 4
    assert env.failures.entries("send") == [], "on_failure_callback runs only on the final failure"
    [row] = rows(env.store, task_id="send")
    assert row["send_status"] == "ACCEPTED"


def test_vendor_rejection_fails_without_retry_and_the_key_may_send_later(env_any_store: Env) -> None:
    env = env_any_store
    connect(env)
    env.vendor.reject(PHONE, times=2)  # one 400 per vendor

    first = run_dag("ops_idem", FILE, key="k-400")

    assert states(first) == {"send": ("failed", 1), "rcs": ("failed", 1)}
    assert send_counts(env) == (1, 1)
    assert ti_of(first, "send").max_tries == 2
    failures = {f["task_id"]: f for f in env.failures.entries()}
    assert failures["send"]["type"] == failures["rcs"]["type"] == "AirflowFailException"
    assert "3101" in failures["send"]["error"]
    assert "destination" in failures["rcs"]["error"]
    assert [r["send_status"] for r in rows(env.store)] == ["REJECTED", "REJECTED"]

    # the number was fixed at the vendor's side: the same key may now send (nothing was sent before)
    second = run_dag("ops_idem", FILE, key="k-400")
    assert states(second) == {"send": ("success", 1), "rcs": ("success", 1)}
    assert send_counts(env) == (2, 2)
    assert [r["send_status"] for r in rows(env.store)] == ["ACCEPTED", "ACCEPTED"]
