"""Authentication of vendor callbacks: Telesign HMAC signatures, and a shared secret where configured.

Plugin routes are not behind Airflow's login (airflow-notes.md §5), so the receiver checks every
request itself and fails closed: with nothing configured, every callback gets 401. The check runs as
a FastAPI dependency declared in each callback route's signature (:mod:`.dependencies`).

Each vendor's routes accept only what that vendor sends. Telesign signs every callback with the
account's API key, so its routes take the signature (its adapter is ``signed``: see
:mod:`airflow_provider_messaging.receiver.vendors`); the shared secret (``?token=`` or Basic) travels
in callback URLs (Aerialink's ``callbackURL``), so it opens only the vendors listed in
``[messaging] callback_secret_vendors`` (default ``aerialink``). Whoever learns that secret cannot
forge a Telesign inbound START that would clear an opt-out.

The Telesign API key comes from an Airflow connection, i.e. possibly from a slow secrets backend. It
is looked up in a thread, never on the event loop, and refreshed in the background: while a refresh
is slow, the last good credentials keep serving (:class:`CredentialCache`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_messaging import config

if TYPE_CHECKING:
    from airflow_provider_messaging.receiver.vendors import CallbackAdapter

log = logging.getLogger(__name__)

Credentials = tuple["str | None", "str | None"]
TelesignCredentials = Callable[[], Credentials]
#: Vendors whose routes accept the shared secret when ``[messaging] callback_secret_vendors`` is not set.
DEFAULT_SECRET_VENDORS = ("aerialink",)


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
    # bytes, not str: compare_digest refuses non-ASCII strings (a header such as ``TSA ü:x``)
    if claimed_customer and customer_id and not hmac.compare_digest(_utf8(claimed_customer), _utf8(customer_id)):
        return False
    try:
        expected = telesign_signature(raw_body, api_key)
    except (binascii.Error, ValueError):
        log.error("The Telesign API key is not base64: callback signatures cannot be verified")
        return False
    return hmac.compare_digest(expected.encode(), _utf8(signature.strip()))


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _basic_credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    authorization = headers.get("authorization", "")
    if authorization[:6].lower() != "basic ":
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:].strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return user, password


def _connection_credentials(conn_id: str) -> Credentials:
    from airflow_provider_messaging.compat import Connection

    connection = Connection.get_connection_from_secrets(conn_id)
    return connection.login, connection.password


class CredentialsPending(Exception):
    """The first lookup of the Telesign credentials has not finished in time (answer 503: retry later)."""


class CredentialCache:
    """``(customer_id, api_key)`` looked up in a thread, cached for ``ttl`` seconds, refreshed in the background.

    Only the first lookup is waited for (up to ``wait`` seconds, off the event loop); afterwards a
    stale value is served at once while one background thread refreshes it, and a failed refresh
    keeps the last good credentials. Only a lookup that never succeeded yields ``(None, None)``
    (signatures cannot be checked: Telesign callbacks get 401), retried after ``ttl`` seconds.
    """

    def __init__(self, lookup: TelesignCredentials, ttl: float = 60.0, wait: float = 10.0) -> None:
        self._lookup = lookup
        self.ttl = ttl
        self.wait = wait
        self.lookups = 0
        self._value: Credentials | None = None
        self._good = False
        self._fetched_at = 0.0
        self._pending: Future[Credentials] | None = None
        self._lock = threading.Lock()  # held for bookkeeping only, never during a lookup

    def _refresh(self) -> Future[Credentials]:
        with self._lock:
            if self._pending is None:
                self._pending = Future()
                threading.Thread(
                    target=self._run, args=(self._pending,), name="messaging-credentials", daemon=True
                ).start()
            return self._pending

    def _run(self, future: Future[Credentials]) -> None:
        try:
            value: Credentials | None = self._lookup()
        except Exception as exc:  # no such connection, backend down: keep what we had
            log.warning("Telesign connection unavailable for signature checks: %s", type(exc).__name__)
            value = None
        with self._lock:
            self.lookups += 1
            if value is not None:
                self._value, self._good = value, True
            elif not self._good:
                self._value = (None, None)
            self._fetched_at = time.monotonic()
            self._pending = None
            result = self._value
        assert result is not None
        future.set_result(result)

    def _cached(self) -> Credentials | None:
        """The cached value (starting a background refresh when it is stale), or None before the first lookup."""
        with self._lock:
            value, fetched_at = self._value, self._fetched_at
        if value is not None and time.monotonic() - fetched_at > self.ttl:
            self._refresh()
        return value

    async def get(self) -> Credentials:
        """The credentials, without blocking the event loop; raises :class:`CredentialsPending` after ``wait`` s."""
        value = self._cached()
        if value is not None:
            return value
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self._refresh())), self.wait)
        except TimeoutError:
            raise CredentialsPending("Telesign credentials are still being looked up") from None

    def get_blocking(self) -> Credentials:
        """The same for synchronous callers (never call this on an event loop)."""
        value = self._cached()
        if value is not None:
            return value
        try:
            return self._refresh().result(timeout=self.wait)
        except TimeoutError:
            raise CredentialsPending("Telesign credentials are still being looked up") from None


@dataclass
class CallbackAuth:
    """Which callbacks are accepted. Build it with :meth:`from_config` or directly in tests.

    :param secret_vendors: vendors whose routes accept the shared secret (token / Basic); Telesign
        routes always accept a valid Telesign signature.
    """

    token: str = ""
    username: str = ""
    password: str = ""
    disabled: bool = False
    telesign_credentials: TelesignCredentials | None = None
    cache_seconds: float = 60.0
    secret_vendors: tuple[str, ...] = DEFAULT_SECRET_VENDORS
    _cache: CredentialCache | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.telesign_credentials is not None:
            self._cache = CredentialCache(self.telesign_credentials, ttl=self.cache_seconds)

    @classmethod
    def from_config(cls) -> CallbackAuth:
        conn_id = config.get_option("telesign_conn_id")
        return cls(
            token=config.get_option("callback_token"),
            username=config.get_option("callback_username"),
            password=config.get_option("callback_password"),
            disabled=config.get_bool("callback_auth_disabled"),
            telesign_credentials=lambda: _connection_credentials(conn_id),
            secret_vendors=secret_vendors(config.get_option("callback_secret_vendors")),
        )

    @property
    def credentials(self) -> CredentialCache | None:
        """The Telesign credential cache (None when no Telesign connection is configured)."""
        return self._cache

    def shared_secret_ok(self, headers: Mapping[str, str], query_token: str | None) -> bool:
        if self.token and query_token is not None and hmac.compare_digest(_utf8(query_token), self.token.encode()):
            return True
        if self.username and self.password:
            credentials = _basic_credentials(headers)
            if credentials is not None:
                user_ok = hmac.compare_digest(_utf8(credentials[0]), self.username.encode())
                password_ok = hmac.compare_digest(_utf8(credentials[1]), self.password.encode())
                return user_ok and password_ok
        return False

    def _decide(
        self,
        vendor: str,
        adapter: CallbackAdapter | None,
        raw_body: bytes,
        headers: Mapping[str, str],
        query_token: str | None,
        telesign: Callable[[], Credentials] | None,
    ) -> bool | None:
        """True/False when decided without the signing credentials; None when they are needed."""
        if self.disabled:
            return True
        if vendor in self.secret_vendors and self.shared_secret_ok(headers, query_token):
            return True
        if adapter is None or not adapter.signed or self._cache is None:
            return False
        if telesign is None:
            return None
        customer_id, api_key = telesign()
        return bool(api_key) and adapter.verify_signature(raw_body, headers, customer_id, api_key or "")

    @staticmethod
    def _lower(headers: Mapping[str, str]) -> Mapping[str, str]:
        if isinstance(headers, dict):  # a plain dict is case-sensitive; HTTP header names are not
            return {name.lower(): value for name, value in headers.items()}
        return headers

    def accepts(self, vendor: str, raw_body: bytes, headers: Mapping[str, str], query_token: str | None) -> bool:
        """True when a callback to ``vendor``'s routes is authenticated (or authentication is explicitly disabled).

        Synchronous: it may wait for the first credential lookup. The receiver's routes use :meth:`verify`
        (through the dependency of :mod:`airflow_provider_messaging.receiver.dependencies`).
        """
        cache = self._cache
        blocking = cache.get_blocking if cache is not None else None
        return bool(self._decide(vendor, _adapter_of(vendor), raw_body, self._lower(headers), query_token, blocking))

    async def verify(
        self, adapter: CallbackAdapter, raw_body: bytes, headers: Mapping[str, str], query_token: str | None
    ) -> bool:
        """:meth:`accepts` for the event loop, for the routes of ``adapter``: the credential lookup never runs
        on the loop (raises :class:`CredentialsPending` while the first lookup is still running)."""
        headers = self._lower(headers)
        vendor = adapter.vendor
        decided = self._decide(vendor, adapter, raw_body, headers, query_token, None)
        if decided is not None:
            return decided
        assert self._cache is not None
        credentials = await self._cache.get()
        return bool(self._decide(vendor, adapter, raw_body, headers, query_token, lambda: credentials))


def _adapter_of(vendor: str) -> CallbackAdapter | None:
    """The callback adapter of a registered vendor, or None."""
    from airflow_provider_messaging.vendors import find_vendor

    spec = find_vendor(vendor)
    return spec.load_adapter() if spec is not None else None


def secret_vendors(value: str | None) -> tuple[str, ...]:
    """``[messaging] callback_secret_vendors``: comma-separated vendor names; empty means the default."""
    names = tuple(sorted({part.strip().lower() for part in (value or "").split(",") if part.strip()}))
    if names == ("none",):
        return ()
    return names or DEFAULT_SECRET_VENDORS
