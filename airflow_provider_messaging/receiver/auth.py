"""Authentication of vendor callbacks: Telesign HMAC signatures and a shared secret for every vendor.

Plugin routes are not behind Airflow's login (airflow-notes.md §5), so the receiver checks every
request itself and fails closed: with nothing configured, every callback gets 401.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from airflow_provider_messaging import config

log = logging.getLogger(__name__)

TelesignCredentials = Callable[[], "tuple[str | None, str | None]"]


def telesign_signature(raw_body: bytes, api_key: str) -> str:
    """base64(HMAC-SHA256(base64decode(api_key), body)): Telesign's callback signature (vendor-notes §1.3)."""
    key = base64.b64decode(api_key)
    return base64.b64encode(hmac.new(key, raw_body, hashlib.sha256).digest()).decode("ascii")


def _signature_from_headers(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(customer_id, signature) from ``X-TS-Authorization`` or ``Authorization: TSA {customer_id}:{sig}``."""
    bare = headers.get("x-ts-authorization")
    authorization = headers.get("authorization", "")
    customer_id = None
    if authorization[:4].upper() == "TSA ":
        customer_id, _, signature = authorization[4:].strip().partition(":")
        return customer_id or None, signature or bare
    return customer_id, bare


def verify_telesign_signature(
    raw_body: bytes, headers: Mapping[str, str], customer_id: str | None, api_key: str
) -> bool:
    claimed_customer, signature = _signature_from_headers(headers)
    if not signature:
        return False
    if claimed_customer and customer_id and not hmac.compare_digest(claimed_customer, customer_id):
        return False
    try:
        expected = telesign_signature(raw_body, api_key)
    except (binascii.Error, ValueError):
        log.error("The Telesign API key is not base64: callback signatures cannot be verified")
        return False
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def _basic_credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    authorization = headers.get("authorization", "")
    if authorization[:6].lower() != "basic ":
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:].strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return user, password


def _connection_credentials(conn_id: str) -> tuple[str | None, str | None]:
    from airflow_provider_messaging.compat import Connection

    connection = Connection.get_connection_from_secrets(conn_id)
    return connection.login, connection.password


@dataclass
class CallbackAuth:
    """Which callbacks are accepted. Build it with :meth:`from_config` or directly in tests."""

    token: str = ""
    username: str = ""
    password: str = ""
    disabled: bool = False
    telesign_credentials: TelesignCredentials | None = None
    cache_seconds: float = 60.0
    _cached: tuple[float, tuple[str | None, str | None]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_config(cls) -> CallbackAuth:
        conn_id = config.get_option("telesign_conn_id")
        return cls(
            token=config.get_option("callback_token"),
            username=config.get_option("callback_username"),
            password=config.get_option("callback_password"),
            disabled=config.get_bool("callback_auth_disabled"),
            telesign_credentials=lambda: _connection_credentials(conn_id),
        )

    def _telesign(self) -> tuple[str | None, str | None]:
        if self.telesign_credentials is None:
            return None, None
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > self.cache_seconds:
                try:
                    self._cached = (now, self.telesign_credentials())
                except Exception as exc:  # no such connection: signatures cannot be checked
                    log.warning("Telesign connection unavailable for signature checks: %s", type(exc).__name__)
                    self._cached = (now, (None, None))
            return self._cached[1]

    def shared_secret_ok(self, headers: Mapping[str, str], query_token: str | None) -> bool:
        if self.token and query_token is not None and hmac.compare_digest(query_token.encode(), self.token.encode()):
            return True
        if self.username and self.password:
            credentials = _basic_credentials(headers)
            if credentials is not None:
                user_ok = hmac.compare_digest(credentials[0].encode(), self.username.encode())
                password_ok = hmac.compare_digest(credentials[1].encode(), self.password.encode())
                return user_ok and password_ok
        return False

    def accepts(self, vendor: str, raw_body: bytes, headers: Mapping[str, str], query_token: str | None) -> bool:
        """True when the callback is authenticated (or authentication is explicitly disabled)."""
        if self.disabled:
            return True
        if isinstance(headers, dict):  # a plain dict is case-sensitive; HTTP header names are not
            headers = {name.lower(): value for name, value in headers.items()}
        if self.shared_secret_ok(headers, query_token):
            return True
        if vendor == "telesign":
            customer_id, api_key = self._telesign()
            if api_key:
                return verify_telesign_signature(raw_body, headers, customer_id, api_key)
        return False
