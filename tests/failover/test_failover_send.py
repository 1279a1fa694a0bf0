"""Cross-vendor failover in real DAG runs: Telesign first, Aerialink when Telesign is down, rate-limited
past its retry budget, or refuses the message. Requests are counted at real local HTTP servers."""

from __future__ import annotations

import json

import pytest

from airflow_provider_messaging import cli
from tests.operators.ops_support import TELESIGN_INVALID_PHONE, Env, rows
from tests.support.dag_runner import Run, load_dags, states
from tests.support.http_server import Reply
from tests.support.ports import free_port

PHONE = "15558675301"
RATE_LIMITED = {"status": {"code": 3204, "description": "Too many requests"}}


def connect(env: Env, monkeypatch: pytest.MonkeyPatch, *, telesign_down: bool = False) -> None:
    env.vendor.connect("fo_telesign", "telesign", max_retries=2)
    env.vendor.connect("fo_aerialink", "aerialink")
    if telesign_down:  # nothing listens on this port: connection refused
        conn = {"conn_type": "telesign", "host": f"http://127.0.0.1:{free_port()}", "login": "c", "password": "k"}
        conn["extra"] = {"max_retries": 1}
        monkeypatch.setenv("AIRFLOW_CONN_FO_TELESIGN", json.dumps(conn))


def counts(env: Env) -> tuple[int, int]:
    return len(env.vendor.sends("fo_telesign")), len(env.vendor.sends("fo_aerialink"))


def run(dag_id: str, **params: str) -> Run:
    return Run(getattr(load_dags("fo_failover.py"), dag_id), {"phone": PHONE, **params})


def assert_one_logical_message(env: Env, record: dict, key: str, first_error: str) -> None:
    assert record["logical_id"] == key and record["vendor"] == "aerialink"
    history = env.store.logical_history(key)
    assert [(a["attempt"], a["vendor"], a["send_status"]) for a in history] == [
        (0, "telesign", "REJECTED"),
        (1, "aerialink", "ACCEPTED"),
    ]
    assert first_error in history[0]["error"]
    assert [a["idempotency_key"] for a in history] == [f"{key}#0:telesign", f"{key}#1:aerialink"]
    assert history[1]["message_id"] == record["message_id"]
    assert [a["vendor"] for a in record["attempts"]] == ["telesign", "aerialink"]
    assert [r["logical_key"] for r in rows(env.store)] == [key, key]


def test_first_vendor_down_second_vendor_used(env: Env, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    connect(env, monkeypatch, telesign_down=True)
    result = run("fo_send", key="order-1")
    assert states(result.dagrun) == {"send": ("success", 1)}
    assert counts(env) == (0, 1)
    assert_one_logical_message(env, result.xcom("send"), "order-1", "VendorUnavailableError")
    [sent] = env.vendor.sends("fo_aerialink")
    assert sent.json()["smsFailover"]["enabled"] is True  # the second step keeps its own SMS failover
    # the logical key shows every attempt in the CLI
    assert cli.main(["--store-url", env.store.url, "status", "order-1"]) == 0
    out = capsys.readouterr().out
    assert "failover send order-1: 2 vendor attempt(s)" in out and "VendorUnavailableError" in out


def test_rate_limited_past_the_retry_budget_fails_over(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    connect(env, monkeypatch)
    # the hook retries 429 twice (max_retries=2), then gives up with RateLimitError
    env.vendor.script("fo_telesign", *[Reply(429, RATE_LIMITED, headers={"Retry-After": "0"})] * 3)
    result = run("fo_send", key="order-2")
    assert states(result.dagrun) == {"send": ("success", 1)}
    assert counts(env) == (3, 1)
    assert_one_logical_message(env, result.xcom("send"), "order-2", "RateLimitError")


def test_refused_with_4xx_fails_over(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    connect(env, monkeypatch)
    env.vendor.script("fo_telesign", Reply(400, TELESIGN_INVALID_PHONE))
    result = run("fo_send", key="order-3")
    assert states(result.dagrun) == {"send": ("success", 1)}
    assert counts(env) == (1, 1)
    assert_one_logical_message(env, result.xcom("send"), "order-3", "3101")


def test_first_vendor_accepts_no_failover(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    connect(env, monkeypatch)
    result = run("fo_send", key="order-4")
    assert counts(env) == (1, 0)
    record = result.xcom("send")
    assert record["vendor"] == "telesign" and record["logical_id"] == "order-4"
    assert [a["send_status"] for a in env.store.logical_history("order-4")] == ["ACCEPTED"]


def test_task_retry_never_resends_to_the_vendor_that_accepted(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Telesign down, Aerialink accepts, then the worker dies: the retry returns Aerialink's message."""
    connect(env, monkeypatch, telesign_down=True)
    result = run("fo_crash")
    assert states(result.dagrun) == {"send": ("success", 2)}
    assert counts(env) == (0, 1)
    key = f"fo_crash/send/{result.dagrun.run_id}/-1"
    record = result.xcom("send")
    assert record["logical_id"] == key and record["vendor"] == "aerialink"
    assert [a["send_status"] for a in env.store.logical_history(key)] == ["REJECTED", "ACCEPTED"]
    # and a second run under the same key sends nothing either
    again = run("fo_send", key=key)
    assert again.xcom("send")["message_id"] == record["message_id"]
    assert counts(env) == (0, 1)


def test_every_vendor_down_retries_then_sends_once(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Try 1: both vendors answer 503 after their retries (transient: Airflow retries the task). Try 2:
    Telesign is back and takes it; nothing was sent twice."""
    connect(env, monkeypatch)
    busy = Reply(503, {"status": {"code": 3500, "description": "System unavailable, please resubmit"}})
    env.vendor.script("fo_telesign", *[busy] * 3)
    env.vendor.script("fo_aerialink", *[Reply(503, {"status": "error", "message": "unavailable"})] * 3)
    result = run("fo_send", key="order-5")
    assert states(result.dagrun) == {"send": ("success", 2)}
    assert counts(env) == (4, 3)  # 3 + 3 refused on try 1, one accepted on try 2
    assert result.xcom("send")["vendor"] == "telesign"
    assert [(a["vendor"], a["send_status"]) for a in env.store.logical_history("order-5")] == [
        ("telesign", "ACCEPTED"),
        ("aerialink", "REJECTED"),
    ]
