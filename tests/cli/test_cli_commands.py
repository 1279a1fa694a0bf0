"""``airflow-messaging`` run as a real subprocess against a temporary SQLite store: output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_messaging.receiver import parsing
from airflow_provider_messaging.store import MessageStore
from tests.support.store_helpers import complete_send, record_delivery
from tests.vendor_examples import load

CLI = str(Path(sys.executable).with_name("airflow-messaging"))
MID = "35C8B5D509BC10689196FED2AD551B8A"
KEY = "notify/send_rcs/manual__2025-01-01/-1"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, env=env or os.environ.copy())


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_console_script_is_installed() -> None:
    assert Path(CLI).exists(), "pip install -e . creates the airflow-messaging console script"
    result = run("--help")
    assert result.returncode == 0
    for command in ("receiver", "db", "status", "optouts"):
        assert command in result.stdout


def test_db_upgrade_creates_the_schema_and_is_idempotent(store_url: str) -> None:
    for _ in range(2):
        result = run("--store-url", store_url, "db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert "newest schema" in result.stdout
        assert store_url in result.stdout
    store = MessageStore(store_url)
    assert store.schema_is_current()
    store.dispose()


def test_db_upgrade_reads_the_store_url_from_airflow_config(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    env = {**os.environ, "AIRFLOW__MESSAGING__STORE_URL": url}
    result = run("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.db").exists()


def _delivered_via_sms(store_url: str) -> None:
    store = MessageStore(store_url)
    store.upgrade()
    store.reserve_send(idempotency_key=KEY, vendor="telesign", recipient="15558675309", channels=["rcs", "sms"])
    complete_send(store, KEY, MID)
    raw = json.dumps(load("telesign_delivery_callback_rcs_sms"))
    update = parsing.telesign_delivery(json.loads(raw))
    record_delivery(store, vendor="telesign", message_id=update.message_id, events=update.events, raw_body=raw)
    store.dispose()


def test_status_text(store_url: str) -> None:
    _delivered_via_sms(store_url)
    result = run("--store-url", store_url, "status", MID)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"telesign message {MID} to 15558675309" in out
    assert "state: DELIVERED (complete)" in out
    assert "cascade: rcs -> sms" in out
    assert "delivered on: sms (fallback)" in out
    assert "channel rcs: EXPIRED (3056 Message failed to deliver in specified fallback time)" in out
    assert "channel sms: DELIVERED (3000 Delivered)" in out
    assert "callbacks: 1" in out


def test_status_json_and_lookup_by_idempotency_key(store_url: str) -> None:
    _delivered_via_sms(store_url)
    for ident in (MID, KEY):
        result = run("--store-url", store_url, "status", ident, "--json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["message_id"] == MID
        assert (data["state"], data["complete"], data["delivered_channel"], data["fallback_used"]) == (
            "DELIVERED",
            True,
            "sms",
            True,
        )
        assert [(a["channel"], a["state"], a["code"]) for a in data["attempts"]] == [
            ("rcs", "EXPIRED", "3056"),
            ("sms", "DELIVERED", "3000"),
        ]
        assert len(data["callbacks"]) == 1
        assert json.loads(data["callbacks"][0]["body"])["reference_id"] == MID


def test_status_of_an_unknown_message_exits_1(store_url: str) -> None:
    run("--store-url", store_url, "db", "upgrade")
    result = run("--store-url", store_url, "status", "NOPE", "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no message 'NOPE'" in result.stderr


def test_optouts_list_add_remove(store_url: str) -> None:
    def optouts(*args: str) -> subprocess.CompletedProcess[str]:
        return run("--store-url", store_url, "optouts", *args)

    listed = optouts("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []

    added = optouts("add", "+1 555-867-5309", "--vendor", "telesign")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added ")
    again = optouts("add", "15558675309", "--vendor", "telesign")
    assert again.returncode == 0 and again.stdout.startswith("already opted out")
    assert optouts("add", "15558675309", "--vendor", "aerialink").returncode == 0

    text = optouts("list")
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:3] == ["telesign", "15558675309", "cli"]
    rows = json.loads(optouts("list", "--vendor", "telesign", "--json").stdout)
    assert [(r["vendor"], r["recipient"], r["source"]) for r in rows] == [("telesign", "15558675309", "cli")]

    removed = optouts("remove", "(555) 867-5309".replace("(", "+1 ("), "--vendor", "telesign")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert removed.stdout.startswith("removed ")
    missing = optouts("remove", "15558675309", "--vendor", "telesign")
    assert missing.returncode == 1
    assert "not on the list" in missing.stdout
    assert [r["vendor"] for r in json.loads(optouts("list", "--json").stdout)] == ["aerialink"]

    store = MessageStore(store_url)
    assert store.is_opted_out("aerialink", "15558675309") and not store.is_opted_out("telesign", "15558675309")
    store.dispose()


def test_optouts_add_needs_recipient_and_vendor(store_url: str) -> None:
    for args in (("optouts", "add", "15558675309"), ("optouts", "remove"), ("optouts", "add", "--vendor", "telesign")):
        result = run("--store-url", store_url, *args)
        assert result.returncode == 2, args
        assert "need RECIPIENT and --vendor" in result.stderr


def test_unreachable_store_is_one_line_and_exit_1() -> None:
    result = run("--store-url", "postgresql://nobody@127.0.0.1:1/none", "status", MID)
    assert result.returncode == 1
    assert "message store unavailable" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2() -> None:
    assert run().returncode == 2
    assert run("optouts", "purge").returncode == 2
    assert run("db").returncode == 2


def test_status_of_a_policy_skip_says_why(store_url: str) -> None:
    from airflow_provider_messaging.store import SendIntent

    store = MessageStore(store_url)
    store.upgrade()
    intent = SendIntent("promo/send/manual__1/-1", "telesign", "15550000042", ("sms",), message_type="MKT")
    store.record_skip(intent, code="frequency_cap", reason="frequency cap reached: 1 sent, cap 1 per 1d")
    store.dispose()
    result = run("--store-url", store_url, "status", "promo/send/manual__1/-1")
    assert result.returncode == 0, result.stderr
    assert "send: SKIPPED - the sending policy skipped it" in result.stdout
    assert "error: frequency_cap: frequency cap reached: 1 sent, cap 1 per 1d" in result.stdout
