"""Bulk mode (``recipients=[...]``) in real DAG runs: partial failures, retries that re-send only the
failed recipients, validation of every recipient before any send, opt-outs and the rate limit."""

from __future__ import annotations

from tests.operators.ops_support import Env, rows
from tests.support.dag_runner import run_dag, states, xcom

FILE = "ops_bulk.py"
OK = ["15558675301", "15558675311", "15558675321"]
BAD = ["15558675306", "15558675316"]


def connect(env: Env, **extra: object) -> None:
    env.vendor.connect("ops_bulk", "telesign", **extra)
    env.vendor.connect("ops_bulk_rcs", "aerialink", **extra)


def by_recipient(records: list[dict]) -> dict[str, dict]:
    return {r["recipient"]: r for r in records}


def test_rejected_recipients_do_not_stop_the_others(env: Env) -> None:
    connect(env)
    for number in BAD:
        env.vendor.reject(number, times=2)  # rejected once by each vendor
    recipients = [OK[0], BAD[0], OK[1], BAD[1], OK[2]]

    first = run_dag("ops_bulk_lenient", FILE, recipients=recipients, key="notice-1")

    # fail_on_any_failure=False: the task succeeds and reports every recipient
    assert states(first) == {"audience": ("success", 1), "send": ("success", 1), "rcs": ("success", 1)}
    for task_id, conn_id in (("send", "ops_bulk"), ("rcs", "ops_bulk_rcs")):
        assert env.vendor.per_recipient(conn_id) == dict.fromkeys(recipients, 1)
        records = xcom(first, task_id)
        assert [r["recipient"] for r in records] == recipients
        for number, record in by_recipient(records).items():
            if number in BAD:
                assert record["status"] == "FAILED" and record["message_id"] is None
                assert "rejected" in record["error"]
            else:
                assert record["status"] == "QUEUED" and record["message_id"] and record["error"] is None
            assert record["idempotency_key"].endswith(f"/{number}")
    statuses = {(r["task_id"], r["recipient"]): r["send_status"] for r in rows(env.store)}
    assert statuses == {
        (task, number): "REJECTED" if number in BAD else "ACCEPTED" for task in ("send", "rcs") for number in recipients
    }

    # a second run under the same key re-sends only the failed recipients (they are accepted now)
    second = run_dag("ops_bulk_lenient", FILE, recipients=recipients, key="notice-1")
    assert states(second)["send"] == ("success", 1)
    for task_id, conn_id in (("send", "ops_bulk"), ("rcs", "ops_bulk_rcs")):
        assert env.vendor.per_recipient(conn_id) == {n: 2 if n in BAD else 1 for n in recipients}
        again = by_recipient(xcom(second, task_id))
        assert {r["status"] for r in again.values()} == {"QUEUED"}
        before = by_recipient(xcom(first, task_id))
        for number in OK:
            assert again[number]["message_id"] == before[number]["message_id"]
    assert {r["send_status"] for r in rows(env.store)} == {"ACCEPTED"}


def test_fail_on_any_failure_retry_resends_only_the_failed(env: Env) -> None:
    connect(env)
    # the vendor is unavailable for one number through the hook's own retries (1 + max_retries=2), then accepts
    env.vendor.reject(BAD[0], times=3, transient=True)
    recipients = [*OK, BAD[0]]

    dag_run = run_dag("ops_bulk_strict", FILE, recipients=recipients)

    # try 1 sends to everyone and fails (one recipient not taken); the Airflow retry sends only that one
    assert states(dag_run) == {"send": ("success", 2)}
    assert env.vendor.per_recipient("ops_bulk") == {**dict.fromkeys(OK, 1), BAD[0]: 4}
    records = xcom(dag_run, "send")
    assert {r["status"] for r in records} == {"QUEUED"}
    assert len({r["message_id"] for r in records}) == len(recipients)
    assert {r["send_status"] for r in rows(env.store)} == {"ACCEPTED"}


def test_fail_on_any_failure_fails_the_task_after_sending_to_the_others(env: Env) -> None:
    """A vendor 400 will not change on retry: the task fails at once (no retry), after sending to the others."""
    connect(env)
    env.vendor.reject(BAD[0])
    recipients = [OK[0], BAD[0], OK[1]]

    dag_run = run_dag("ops_bulk_strict", FILE, recipients=recipients)

    assert states(dag_run) == {"send": ("failed", 1)}
    assert env.vendor.per_recipient("ops_bulk") == {OK[0]: 1, OK[1]: 1, BAD[0]: 1}
    [failure] = env.failures.entries("send")
    assert failure["type"] == "AirflowFailException"
    assert "1 of 3 recipients failed" in failure["error"] and BAD[0] in failure["error"]
    records = by_recipient(xcom(dag_run, "send", key="records"))
    assert records[BAD[0]]["status"] == "FAILED"
    assert records[OK[0]]["status"] == records[OK[1]]["status"] == "QUEUED"
    statuses = {r["recipient"]: r["send_status"] for r in rows(env.store)}
    assert statuses == {OK[0]: "ACCEPTED", OK[1]: "ACCEPTED", BAD[0]: "REJECTED"}


def test_every_recipient_is_validated_before_any_send(env: Env) -> None:
    connect(env)
    dag_run = run_dag("ops_bulk_strict", FILE, recipients=[OK[0], OK[1], "12345", "not-a-number"])

    assert states(dag_run) == {"send": ("failed", 1)}  # AirflowFailException: no retry
    assert env.vendor.server.requests == []
    assert rows(env.store) == []
    [failure] = env.failures.entries("send")
    assert failure["type"] == "AirflowFailException"
    assert "recipients.2 (12345)" in failure["error"] and "recipients.3 (not-a-number)" in failure["error"]
    assert "phone_number" in failure["error"]


def test_a_number_listed_twice_gets_one_message(env: Env) -> None:
    connect(env)
    dag_run = run_dag("ops_bulk_strict", FILE, recipients=[OK[0], OK[1], OK[0], OK[1], OK[2]])

    assert states(dag_run) == {"send": ("success", 1)}
    assert env.vendor.per_recipient("ops_bulk") == dict.fromkeys(OK, 1)
    assert [r["recipient"] for r in xcom(dag_run, "send")] == OK


def test_opted_out_recipients_are_skipped(env: Env) -> None:
    connect(env)
    env.store.add_opt_out("telesign", OK[1])
    env.store.add_opt_out("aerialink", OK[2])

    dag_run = run_dag("ops_bulk_lenient", FILE, recipients=OK)

    assert env.vendor.per_recipient("ops_bulk") == {OK[0]: 1, OK[2]: 1}
    assert env.vendor.per_recipient("ops_bulk_rcs") == {OK[0]: 1, OK[1]: 1}
    telesign = by_recipient(xcom(dag_run, "send"))
    assert telesign[OK[1]]["status"] == "SKIPPED_OPT_OUT" and telesign[OK[1]]["message_id"] is None
    assert by_recipient(xcom(dag_run, "rcs"))[OK[2]]["status"] == "SKIPPED_OPT_OUT"
    [skipped] = rows(env.store, recipient=OK[1], task_id="send")  # recorded with the chunk's skips
    assert skipped["send_status"] == "SKIPPED" and skipped["error"].startswith("opted_out: ")
    assert [r["send_status"] for r in rows(env.store, recipient=OK[2], task_id="rcs")] == ["SKIPPED"]


def test_rate_limit_extra_caps_sends_per_second(env: Env) -> None:
    rate = 20
    env.vendor.connect("ops_bulk_rate", "telesign", rate_limit=rate)

    dag_run = run_dag("ops_bulk_rate", FILE)

    sends = env.vendor.sends("ops_bulk_rate")
    assert states(dag_run) == {"send": ("success", 1)}
    assert len(sends) == 30 and len({r.json()["phone_number"] for r in sends}) == 30
    times = sorted(r.received_at for r in sends)  # measured at the server
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= rate + 1, f"{busiest} requests within one second (limit {rate}/s)"
    assert times[-1] - times[0] >= (len(times) - 1) / rate * 0.85
