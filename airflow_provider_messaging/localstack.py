"""The whole system on localhost: the vendor sandbox and the callback receiver, wired together.

Used by ``airflow-messaging demo`` and by the end-to-end tests. The sandbox signs Telesign callbacks
with the API key of the ``telesign_default`` connection (the receiver verifies the signature) and
posts Aerialink callbacks to a URL carrying the shared ``?token=``, exactly as in production.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from typing import Any

import uvicorn

from airflow_provider_messaging.receiver.app import create_app
from airflow_provider_messaging.receiver.auth import CallbackAuth
from airflow_provider_messaging.sandbox.config import SandboxConfig
from airflow_provider_messaging.sandbox.server import SandboxServer
from airflow_provider_messaging.store import MessageStore


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class ReceiverThread:
    """The receiver app served by uvicorn on a background thread (free port)."""

    def __init__(self, app: Any):
        self._socket = _free_socket()
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> ReceiverThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("receiver did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


class LocalStack:
    """Sandbox + receiver + the environment (connections, ``[messaging]`` settings) that points Airflow at them."""

    def __init__(self, store: MessageStore, *, time_scale: float = 0.002, base_delay_s: float = 0.3):
        self.store = store
        self.token = secrets.token_urlsafe(16)
        self.receiver = ReceiverThread(
            create_app(store=store, auth=CallbackAuth(token=self.token, telesign_credentials=self._telesign))
        )
        self.sandbox_config = SandboxConfig(time_scale=time_scale, base_delay_s=base_delay_s)
        self.sandbox: SandboxServer | None = None

    def _telesign(self) -> tuple[str | None, str | None]:
        return self.sandbox_config.telesign_customer_id, self.sandbox_config.telesign_api_key

    def start(self) -> LocalStack:
        self.receiver.start()
        base = self.receiver.url
        self.sandbox_config.telesign_status_url = f"{base}/telesign/status"
        self.sandbox_config.telesign_inbound_url = f"{base}/telesign/inbound"
        self.sandbox_config.aerialink_status_url = f"{base}/aerialink/status?token={self.token}"
        self.sandbox_config.aerialink_inbound_url = f"{base}/aerialink/inbound?token={self.token}"
        self.sandbox = SandboxServer(self.sandbox_config)
        self.sandbox.start()
        return self

    def stop(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
        self.receiver.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """Airflow connections and ``[messaging]`` settings for DAGs that use this stack."""
        assert self.sandbox is not None
        config = self.sandbox_config
        telesign = {
            "conn_type": "telesign",
            "host": self.sandbox.url,
            "login": config.telesign_customer_id,
            "password": config.telesign_api_key,
            "extra": {"max_retries": 2},
        }
        aerialink = {
            "conn_type": "aerialink",
            "host": self.sandbox.url,
            "login": config.aerialink_username,
            "password": config.aerialink_password,
            "extra": {
                "default_source": "CONVEY",
                "callback_url": f"{self.receiver.url}/aerialink/status?token={self.token}",
                "max_retries": 2,
            },
        }
        return {
            "AIRFLOW_CONN_TELESIGN_DEFAULT": json.dumps(telesign),
            "AIRFLOW_CONN_AERIALINK_DEFAULT": json.dumps(aerialink),
            "AIRFLOW__MESSAGING__STORE_URL": self.store.url,
            "AIRFLOW__MESSAGING__CALLBACK_TOKEN": self.token,
            "AIRFLOW__MESSAGING__POLL_INTERVAL": "0.5",
        }

    def apply_environment(self) -> None:
        os.environ.update(self.environment())

    def inject_inbound(self, **payload: Any) -> dict[str, Any]:
        """Make the sandbox send an inbound (MO) callback, e.g. a STOP or a postback."""
        import requests

        assert self.sandbox is not None
        response = requests.post(f"{self.sandbox.url}/sandbox/inbound", json=payload, timeout=10)
        response.raise_for_status()
        return dict(response.json())
