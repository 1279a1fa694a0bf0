"""What ``airflow-messaging`` writes where: ``--json`` on stdout alone (logs go to stderr, also when Airflow's
configuration and the store's migrations are involved), sends that never got through, the sandbox's CLI."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_messaging.store import MessageStore
from tests.support.store_helpers import complete_send, fail_send

CLI = str(Path(sys.executable).with_name("airflow-messaging"))
REJECTED_KEY = "notify/send/manual__1/-1"
UNKNOWN_KEY = "notify/send/manual__2/-1"
DELIVERED_KEY = "notify/send/manual__3/-1"
VENDOR_ERROR = "400 Bad Request: 11000 Invalid value for parameter phone_number"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture
def home_env(tmp_path: Path) -> dict[str, str]:
    """A fresh AIRFLOW_HOME whose default store (SQLite in it) holds a rejected, an unknown and a sent message.

    No ``--store-url`` and no ``AIRFLOW__MESSAGING__STORE_URL``: the CLI reads Airflow's configuration, and
    the store's schema check makes Alembic log (what used to land on stdout before the JSON)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__MESSAGING__")}
    env["AIRFLOW_HOME"] = str(tmp_path / "home")
    store = MessageStore(f"sqlite:///{tmp_path / 'home' / 'messaging.db'}")
    (tmp_path / "home").mkdir()
    store.upgrade()
    for key in (REJECTED_KEY, UNKNOWN_KEY, DELIVERED_KEY):
        store.reserve_send(idempotency_key=key, vendor="telesign", recipient="15558675306", channels=["sms"])
    fail_send(store, REJECTED_KEY, VENDOR_ERROR, outcome_unknown=False)
    fail_send(store, UNKNOWN_KEY, "ReadTimeout: no answer within 30 s", outcome_unknown=True)
    complete_send(store, DELIVERED_KEY, "MID-SENT-1")
    store.dispose()
    return env


@pytest.mark.parametrize(
    "args",
    [
        ("status", "MID-SENT-1", "--json"),
        ("status", REJECTED_KEY, "--json"),
        ("report", "--since", "1d", "--json"),
        ("optouts", "list", "--json"),
    ],
)
def test_json_output_is_stdout_alone(home_env: dict[str, str], args: tuple[str, ...]) -> None:
    result = run(*args, env=home_env)
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # nothing but the JSON document
    assert "Context impl" not in result.stdout


def test_a_rejected_send_reads_as_rejected_with_the_vendor_error(home_env: dict[str, str]) -> None:
    data = json.loads(run("status", REJECTED_KEY, "--json", env=home_env).stdout)
    assert (data["send_status"], data["error"], data["message_id"]) == ("REJECTED", VENDOR_ERROR, "")

    text = run("status", REJECTED_KEY, env=home_env).stdout
    assert "send: REJECTED - the vendor refused it" in text
    assert f"error: {VENDOR_ERROR}" in text
    assert "QUEUED" not in text and "state:" not in text
    assert "(none: not accepted)" in text


def test_an_unknown_outcome_reads_as_unknown(home_env: dict[str, str]) -> None:
    text = run("status", UNKNOWN_KEY, env=home_env).stdout
    assert "send: UNKNOWN - the request may have reached the vendor" in text
    assert "error: ReadTimeout: no answer within 30 s" in text
    assert "QUEUED" not in text


def test_sandbox_help_describes_every_option_and_its_default() -> None:
    result = subprocess.run([CLI, "sandbox", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    from airflow_provider_messaging.sandbox.server import build_parser

    for action in build_parser()._actions:
        if action.dest == "help":
            continue
        assert action.help, f"{action.option_strings} has no help text"
        if action.default not in (False, []):
            assert f"{action.option_strings[-1]}" in result.stdout
    text = " ".join(result.stdout.split())
    assert "(default: 8765)" in text and "(default: sandbox)" in text and "(default: not set)" in text


def test_sandbox_print_env_matches_the_options() -> None:
    options = ["--port", "18765", "--receiver-url", "http://localhost:8080/messaging", "--callback-token", "t0k"]
    result = subprocess.run([CLI, "sandbox", *options, "--print-env"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    exported = dict(shlex.split(line)[1].split("=", 1) for line in result.stdout.splitlines())
    telesign = json.loads(exported["AIRFLOW_CONN_TELESIGN_DEFAULT"])
    aerialink = json.loads(exported["AIRFLOW_CONN_AERIALINK_DEFAULT"])
    assert telesign["host"] == aerialink["host"] == "http://127.0.0.1:18765"
    assert (telesign["conn_type"], aerialink["conn_type"]) == ("telesign", "aerialink")
    assert aerialink["extra"]["callback_url"] == "http://localhost:8080/messaging/aerialink/status?token=t0k"
    assert exported["AIRFLOW__MESSAGING__CALLBACK_TOKEN"] == "t0k"

    from airflow_provider_messaging.sandbox.config import SandboxConfig

    defaults = SandboxConfig()
    assert (telesign["login"], telesign["password"]) == (defaults.telesign_customer_id, defaults.telesign_api_key)
    assert (aerialink["login"], aerialink["password"]) == (defaults.aerialink_username, defaults.aerialink_password)

    no_port = subprocess.run([CLI, "sandbox", "--port", "0", "--print-env"], capture_output=True, text=True)
    assert no_port.returncode == 2 and "--print-env needs the --port" in no_port.stderr
