"""The delivery sensor on a failover send: Telesign is down, Aerialink (the sandbox) takes the message
and its callbacks complete the logical message. Deferrable (trigger inline) and poke mode."""

from __future__ import annotations

import json

import pytest

from tests.support.dag_runner import Run, load_dags
from tests.support.ports import free_port

MODES = ["deferrable", "poke"]


def telesign_down(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "telesign", "host": f"http://127.0.0.1:{free_port()}", "login": "c", "password": "k"}
    conn["extra"] = {"max_retries": 0}
    monkeypatch.setenv("AIRFLOW_CONN_FO_TELESIGN", json.dumps(conn))


def run(mode: str, phone: str) -> Run:
    dag = getattr(load_dags("fo_failover.py"), f"fo_wait_{mode}")
    return Run(dag, {"phone": phone, "telesign_conn": "fo_telesign", "aerialink_conn": "aerialink_default"})


@pytest.mark.parametrize("mode", MODES)
def test_sensor_completes_on_the_second_vendors_delivery(local_stack, monkeypatch, mode):
    telesign_down(monkeypatch)
    result = run(mode, "15559876541")
    assert result.state == "success"
    sent, waited = result.xcom("send"), result.xcom("wait")
    assert sent["vendor"] == "aerialink"
    assert waited["vendor"] == "aerialink" and waited["message_id"] == sent["message_id"]
    assert waited["state"] == "DELIVERED" and waited["delivered_channel"] == "rcs"
    assert [a["vendor"] for a in local_stack.store.logical_history(sent["logical_id"])] == ["telesign", "aerialink"]


@pytest.mark.parametrize("mode", MODES)
def test_second_vendors_own_sms_failover_delivers(local_stack, monkeypatch, mode):
    """Aerialink RCS fails on the handset, its SMS failover delivers (sandbox digit 2)."""
    telesign_down(monkeypatch)
    result = run(mode, "15559876542")
    assert result.state == "success"
    waited = result.xcom("wait")
    assert waited["vendor"] == "aerialink" and waited["delivered_channel"] == "sms" and waited["fallback_used"]
