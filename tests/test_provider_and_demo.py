"""The provider as a real Airflow sees it (the demo runs from the installed wheel: tests/deployment/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _airflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "airflow"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_airflow_lists_the_provider_hooks_and_connection_types(airflow_db: Path) -> None:
    listed = _airflow("providers", "list", "--output", "json")
    assert listed.returncode == 0, listed.stderr
    packages = {p["package_name"]: p for p in json.loads(listed.stdout)}
    assert "airflow-provider-messaging" in packages

    hooks = _airflow("providers", "hooks", "--output", "json")
    by_type = {h["connection_type"]: h for h in json.loads(hooks.stdout)}
    assert by_type["telesign"]["class"] == "airflow_provider_messaging.hooks.telesign.TelesignHook"
    assert by_type["aerialink"]["class"] == "airflow_provider_messaging.hooks.aerialink.AerialinkHook"

    behaviours = _airflow("providers", "behaviours", "--output", "json")
    assert "telesign" in behaviours.stdout and "aerialink" in behaviours.stdout


def test_connection_from_env_var_resolves_to_the_hook(airflow_db: Path) -> None:
    """`airflow connections get` reads an AIRFLOW_CONN_ env var; the hook class reads the same connection."""
    conn = {"conn_type": "telesign", "login": "CUST-1", "password": "c2VjcmV0LWtleQ==", "extra": {"timeout": 7}}
    env = {"AIRFLOW_CONN_MY_TELESIGN": json.dumps(conn)}
    got = _airflow("connections", "get", "my_telesign", "--output", "json", env=env)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)[0]["conn_type"] == "telesign"

    os.environ.update(env)
    try:
        from airflow_provider_messaging.hooks.telesign import TelesignHook

        hook = TelesignHook(telesign_conn_id="my_telesign")
        assert hook.customer_id == "CUST-1"
        assert hook.timeout[1] == 7
        assert hook.url("/v1/omnichannel") == "https://rest-ww.telesign.com/v1/omnichannel"
    finally:
        os.environ.pop("AIRFLOW_CONN_MY_TELESIGN")
