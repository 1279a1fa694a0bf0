"""Fixtures of the UI tests: a real ``airflow api-server`` with the plugin, the local stack, headless Chromium.

The API server runs in the run's shared AIRFLOW_HOME (tests/conftest.py) with the SimpleAuthManager,
users with known passwords (``[core] simple_auth_manager_users`` + a passwords file of our own),
``[core] test_connection = Enabled`` and the message store of the local stack, so what the stack's
receiver writes is what the Messages view shows.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_messaging.localstack import LocalStack
from airflow_provider_messaging.store import MessageStore
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("MESSAGING_TEST_CHROMIUM", "/usr/bin/chromium"))
# Flags this machine needs (no GPU, no sandbox as root, no calls home that the closed network refuses).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USERS = {"admin": ("admin", "admin-pw-for-ui-tests"), "viewer": ("viewer", "viewer-pw-for-ui-tests")}


@dataclass
class AirflowServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def token(self, user: str = "admin") -> str:
        username, password = USERS[user]
        response = requests.post(
            f"{self.url}/auth/token", json={"username": username, "password": password}, timeout=10
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@pytest.fixture(scope="module")
def ui_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MessageStore]:
    store = MessageStore(f"sqlite:///{tmp_path_factory.mktemp('ui-store') / 'messaging.db'}")
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def ui_stack(ui_store: MessageStore) -> Iterator[LocalStack]:
    """Sandbox + receiver writing to the store the API server's Messages view reads."""
    stack = LocalStack(ui_store).start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def airflow_server(
    airflow_db: Path, ui_store: MessageStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AirflowServer]:
    """``airflow api-server`` on a free port (about 9 s to start); SIGTERM, then SIGKILL of its group."""
    work = tmp_path_factory.mktemp("api-server")
    passwords = work / "passwords.json"
    passwords.write_text(json.dumps({name: pw for name, pw in USERS.values()}))
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__MESSAGING__STORE_URL": ui_store.url,
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
    log = work / "api-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "airflow"), "api-server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: killed as a whole below
        )
    server = AirflowServer(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"airflow api-server exited with {process.returncode}:\n{server.log_tail()}")
            try:
                if requests.get(f"{server.url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"airflow api-server did not answer in 90 s:\n{server.log_tail()}")
            time.sleep(0.3)
        yield server
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
    with contextlib.suppress(ProcessLookupError):  # workers or children left behind: the whole group goes
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; no browser is ever downloaded."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: run scripts/setup.sh --with-test-deps (Debian chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
