"""The callback receiver as a real process (``airflow-messaging receiver``), killable and restartable.

Credentials come from the environment the way an operator would configure them: the shared secrets in
``[messaging]`` settings, the Telesign API key (the HMAC key of callback signatures) in the connection
``AIRFLOW_CONN_<id>``. Every run of the process appends its stdout and stderr to one log file, which the
secret scan reads afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support.ports import free_port

# Secrets of the suite: none of these may appear in any log (see ``secrets_found``).
CUSTOMER_ID = "RELIABLE-0000-4000-8000-000000000001"
API_KEY = base64.b64encode(b"reliability-suite-telesign-api-key-must-not-leak").decode()
TOKEN = "reliability-callback-token-7f3a9c"
USERNAME = "vendor-reliability"
PASSWORD = "reliability-basic-password-5e1d"
TELESIGN_CONN_ID = "telesign_reliability"
# signs Airflow tokens for the Messages view API (/ui/api) and /report, in the receiver and in the tests
JWT_SECRET = "reliability-airflow-jwt-secret-4b8e2d7a9c1f6e30"
AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
SECRETS = (API_KEY, TOKEN, PASSWORD, base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode(), JWT_SECRET)


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "airflow-messaging"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from airflow_provider_messaging.cli import main; sys.exit(main())"]


def receiver_environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__MESSAGING__", "AIRFLOW_CONN_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__MESSAGING__CALLBACK_TOKEN": TOKEN,
            "AIRFLOW__MESSAGING__CALLBACK_USERNAME": USERNAME,
            "AIRFLOW__MESSAGING__CALLBACK_PASSWORD": PASSWORD,
            "AIRFLOW__MESSAGING__TELESIGN_CONN_ID": TELESIGN_CONN_ID,
            "AIRFLOW__API_AUTH__JWT_SECRET": JWT_SECRET,
            "AIRFLOW__CORE__AUTH_MANAGER": AUTH_MANAGER,
            f"AIRFLOW_CONN_{TELESIGN_CONN_ID.upper()}": json.dumps(
                {"conn_type": "telesign", "login": CUSTOMER_ID, "password": API_KEY}
            ),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class ReceiverProcess:
    """``airflow-messaging --store-url URL receiver`` on a fixed 127.0.0.1 port, in its own process group."""

    def __init__(
        self,
        store_url: str,
        workdir: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.store_url = store_url
        self.extra_env = dict(env or {})
        self.extra_args = args
        self.workdir = workdir
        self.port = port or free_port()
        self.log_path = workdir / f"receiver-{self.port}.log"
        self.home = workdir / "receiver-home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> ReceiverProcess:
        command = [
            *_cli(),
            "--store-url",
            self.store_url,
            "receiver",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "info",
            *self.extra_args,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                env={**receiver_environment(self.home), **self.extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: killed as a whole
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"receiver exited with {self.process.returncode}: {self.log_tail()}")
            try:
                requests.get(self.url + "/health", timeout=5)
                return self
            except requests.RequestException:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"receiver did not start in {timeout}s: {self.log_tail()}") from None
                time.sleep(0.05)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no flush, connections cut mid-request."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.kills += 1

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then SIGKILL; always leaves nothing running."""
        if self.process is None:
            return
        try:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=10)
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        finally:
            self.process.wait(timeout=30)
            self.process = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self) -> ReceiverProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def secrets_found(*texts: str, extra: tuple[str, ...] = ()) -> dict[str, int]:
    """How often each secret of the suite (and ``extra``) occurs in ``texts``: only the ones that do, by number."""
    found: dict[str, int] = {}
    for index, secret in enumerate((*SECRETS, *extra)):
        count = sum(text.count(secret) for text in texts)
        if count:
            found[f"secret#{index}"] = count
    return found


def airflow_token(role: str = "admin") -> str:
    """An Airflow JWT that the receiver process accepts (signed with its secret), issued in this process.

    Signed directly: the auth manager of this process caches its signer with whatever secret it had first.
    """
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.api_fastapi.auth.tokens import JWTGenerator

    claims = SimpleAuthManager().serialize_user(SimpleAuthManagerUser(username=f"fuzz-{role}", role=role))
    generator = JWTGenerator(secret_key=JWT_SECRET, valid_for=3600, audience="apache-airflow", algorithm="HS512")
    return str(generator.generate(claims))
