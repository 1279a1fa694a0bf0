"""Helpers of the receiver tests: test credentials, Telesign signing, a client for a running receiver."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import requests

from airflow_provider_messaging.receiver.auth import CallbackAuth, telesign_signature
from airflow_provider_messaging.store import MessageStore

CUSTOMER_ID = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890"
API_KEY = base64.b64encode(b"receiver-tests-secret-api-key-0123456789").decode()
TOKEN = "s3cret-callback-token"
USERNAME = "vendor"
PASSWORD = "vendor-password"
TABLES = ("messages", "attempts", "callbacks", "inbound", "opt_outs")


def make_auth() -> CallbackAuth:
    """Telesign signatures with the test key, plus a token and Basic credentials."""
    return CallbackAuth(
        token=TOKEN,
        username=USERNAME,
        password=PASSWORD,
        telesign_credentials=lambda: (CUSTOMER_ID, API_KEY),
    )


def body_of(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload, indent=2).encode("utf-8")


def signed_headers(
    body: bytes, *, form: str = "x-ts", key: str = API_KEY, customer: str = CUSTOMER_ID
) -> dict[str, str]:
    """Headers Telesign sends: ``X-TS-Authorization`` (bare signature) or ``Authorization: TSA cid:sig``."""
    signature = telesign_signature(body, key)
    headers = {"Content-Type": "application/json"}
    if form in ("x-ts", "both"):
        headers["X-TS-Authorization"] = signature
    if form in ("tsa", "both"):
        headers["Authorization"] = f"TSA {customer}:{signature}"
    return headers


def counts(store: MessageStore) -> dict[str, int]:
    return {table: store.count(table) for table in TABLES}


@dataclass
class Receiver:
    """A running receiver and the store behind it."""

    url: str
    store: MessageStore
    session: requests.Session

    def send(self, path: str, payload: Any, *, method: str = "POST", **kwargs: Any) -> requests.Response:
        """Send a callback authenticated the vendor's way: Telesign signs the body, Aerialink gets the token."""
        body = body_of(payload)
        headers = {"Content-Type": "application/json"}
        if path.startswith("/telesign"):
            headers.update(signed_headers(body))
        else:
            kwargs.setdefault("params", {"token": TOKEN})
        headers.update(kwargs.pop("headers", {}))
        return self.session.request(method, self.url + path, data=body, headers=headers, timeout=30, **kwargs)

    def with_token(self, path: str, payload: Any, **kwargs: Any) -> requests.Response:
        return self.session.post(
            self.url + path,
            data=body_of(payload),
            params={"token": TOKEN},
            headers={"Content-Type": "application/json"},
            timeout=30,
            **kwargs,
        )
