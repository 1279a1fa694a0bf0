"""Shared HTTP layer of the vendor hooks: connection, pooled session, one request through the retry policy.

Layers: :mod:`.connection` (settings read from the Airflow connection), :mod:`.transport` (the pooled
adapter that sends one attempt; replaceable by any ``requests`` adapter), :mod:`.retry` (whether and
when an attempt is tried again) and :mod:`.errors` (what a failure or an error answer raises).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

import requests
from requests.adapters import BaseAdapter

from airflow_provider_messaging.compat import BaseHook
from airflow_provider_messaging.exceptions import ConfigurationError, FieldError, MessagingError
from airflow_provider_messaging.hooks.connection import (
    ConnectionSettings,
    join_url,
    number_extra,
    read_settings,
)
from airflow_provider_messaging.hooks.errors import (
    ErrorInfo,
    Scrubber,
    answer_error_class,
    default_error_info,
    error_text,
    failed_attempt,
    gateway_error,
    transport_error,
)
from airflow_provider_messaging.hooks.retry import Outcome, RetryPolicy, retry_after_seconds
from airflow_provider_messaging.hooks.transport import (
    DEFAULT_POOL_MAXSIZE,
    DEFAULT_POOL_RECYCLE,
    PooledTransport,
    build_session,
)

log = logging.getLogger(__name__)


class MessagingHttpHook(BaseHook):
    """Base of the vendor hooks: one pooled, authenticated ``requests.Session`` per hook.

    :param conn_id: Airflow connection (Basic auth: login + password; host optional).
    :param pool_maxsize: keep-alive connections kept for concurrent sends from one hook.
    :param pool_recycle: seconds of idleness after which pooled connections are closed before
        the next request (the vendor closes idle connections on its side; Telesign after 499 s).
    :param max_retries: retries of connect errors and of 429/503; default: connection extra
        ``max_retries`` or 3.
    :param backoff_factor: first backoff in seconds, doubled on each retry (plus up to
        ``backoff_jitter`` seconds of jitter, at most ``backoff_max``).
    :param max_retry_after: longest ``Retry-After`` waited on the worker; above it the
        :class:`RateLimitError` is raised at once with ``retry_after`` set.
    :param transport: the ``requests`` adapter that sends each attempt (default: a
        :class:`~airflow_provider_messaging.hooks.transport.PooledTransport`); it must not retry.
    :param sleep: how the hook waits between attempts (default :func:`time.sleep`).
    """

    conn_type: ClassVar[str] = ""
    vendor: ClassVar[str] = "Vendor"
    default_host: ClassVar[str] = ""
    #: ``test_connection`` call: method, path, body; and the statuses that prove the credentials good.
    probe: ClassVar[tuple[str, str, bytes | None, frozenset[int]]] = ("GET", "/", None, frozenset({200}))

    def __init__(
        self,
        conn_id: str,
        *,
        pool_maxsize: int = DEFAULT_POOL_MAXSIZE,
        pool_recycle: float = DEFAULT_POOL_RECYCLE,
        max_retries: int | None = None,
        backoff_factor: float = 0.5,
        backoff_jitter: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 60.0,
        transport: BaseAdapter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        logger_name: str | None = None,
    ) -> None:
        super().__init__(logger_name=logger_name)
        self.conn_id = conn_id
        self.pool_maxsize = pool_maxsize
        self.pool_recycle = pool_recycle
        self._max_retries = max_retries
        self._policy = RetryPolicy(
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_jitter,
            backoff_max=backoff_max,
            max_retry_after=max_retry_after,
        )
        self._transport = transport
        self._sleep = sleep
        self._lock = threading.Lock()
        self._session: requests.Session | None = None

    # ---- connection ------------------------------------------------------------------------

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The connection, read and checked once per hook; password and auth header are masked in logs."""
        settings = read_settings(
            self.get_connection(self.conn_id),
            conn_id=self.conn_id,
            conn_type=self.conn_type,
            default_host=self.default_host,
            max_retries=self._max_retries,
        )
        for secret in settings.secrets:
            _mask(secret)
        return settings

    @cached_property
    def retry_policy(self) -> RetryPolicy:
        """When an attempt is tried again (``max_retries`` from the hook or the connection)."""
        return dataclasses.replace(self._policy, max_retries=self.settings.max_retries)

    def extra(self, key: str, default: Any = None) -> Any:
        """One connection extra (plain or ``extra__<conn_type>__`` key; blank counts as unset)."""
        return self.settings.extras.get(key, default)

    @property
    def rate_limit(self) -> float | None:
        """Client-side cap in messages per second for bulk sends (extra ``rate_limit``); None: no cap."""
        return number_extra(self.settings.extras, "rate_limit", None) or None

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) timeouts in seconds."""
        return (self.settings.connect_timeout, self.settings.read_timeout)

    def url(self, path: str) -> str:
        return join_url(self.settings.base_url, path)

    def get_conn(self) -> requests.Session:
        """The hook's session (built on first use: Basic auth, JSON headers, the transport mounted)."""
        session = self._session
        if session is not None:
            return session
        with self._lock:
            if self._session is None:
                transport = self._transport or PooledTransport(
                    pool_maxsize=self.pool_maxsize, pool_recycle=self.pool_recycle
                )
                self._session = build_session(self.settings, transport)
            return self._session

    def close(self) -> None:
        """Close the pooled connections; the next request opens new ones."""
        with self._lock:
            if self._session is not None:
                self._session.close()
            self._session = None

    # ---- requests --------------------------------------------------------------------------

    def request(self, method: str, path: str, body: bytes | None = None) -> requests.Response:
        """Send one request, attempt after attempt as the retry policy decides; return the last answer.

        HTTP statuses are returned, not raised (:meth:`post_json` raises them).

        :raises VendorUnavailableError: nothing was sent (refused, DNS, connect timeout, TLS).
        :raises SendOutcomeUnknownError: the request may have been read (read timeout, dropped).
        :raises ConfigurationError: the connection's URL cannot be used; nothing was sent.
        """
        session = self.get_conn()
        url = self.url(path)
        policy = self.retry_policy
        history: list[Outcome] = []
        while True:
            try:
                response = session.request(method, url, data=body, timeout=self.timeout, allow_redirects=False)
            except requests.exceptions.RequestException as exc:
                outcome = Outcome(failed_attempt(exc))
                decision = policy.decide(outcome, history)
                if not decision.retry:
                    error = transport_error(
                        exc,
                        vendor=self.vendor,
                        method=method,
                        url=url,
                        read_timeout=self.settings.read_timeout,
                        scrub=self.scrub,
                    )
                    raise error from (None if isinstance(error, ConfigurationError) else exc)
            else:
                outcome = Outcome.answer(response.status_code, response.headers.get("Retry-After"))
                decision = policy.decide(outcome, history)
                if not decision.retry:
                    return response
                response.close()
            log.warning("Vendor %s (%s %s); retrying in %.2fs", outcome.describe(), method, path, decision.wait)
            history.append(outcome)
            self._sleep(decision.wait)

    def post_json(self, path: str, body: bytes) -> requests.Response:
        """POST a JSON body; return a 2xx answer or raise the typed error for any other."""
        response = self.request("POST", path, body)
        if response.status_code >= 300:
            raise self.error_for(response)
        return response

    def error_for(self, response: requests.Response) -> MessagingError:
        """The exception for an error answer (after the retry policy ran out)."""
        gateway = gateway_error(self.vendor, response)
        if gateway is not None:
            return gateway
        info = self._error_info(response)
        return answer_error_class(response.status_code)(
            vendor=self.vendor,
            http_status=response.status_code,
            code=self.scrub_value(info.code),
            description=self.scrub(info.description),
            field_errors=self.scrub_fields(info.field_errors),
            reference_id=self.scrub(info.reference_id),
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )

    def _error_info(self, response: requests.Response) -> ErrorInfo:
        try:
            payload = json.loads(response.content)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            info = self.parse_error(payload)
            if info.code is not None or info.description or info.field_errors:
                return info
        return ErrorInfo(None, error_text(response), [], None)

    def parse_error(self, payload: dict[str, Any]) -> ErrorInfo:
        """Vendor error body -> code, description, field errors, reference id (override per vendor)."""
        return default_error_info(payload)

    # ---- secrets ---------------------------------------------------------------------------

    @cached_property
    def _scrubber(self) -> Scrubber:
        return Scrubber(self.settings.secrets)

    def scrub(self, text: str | None) -> str | None:
        """``text`` with the connection's secrets replaced by ``***`` (vendor texts may echo them).

        Also the forms a secret takes when a vendor echoes it inside a URL (percent-encoded) or a JSON
        string (escaped ``/``, ``"``, ``\\`` and non-ASCII).
        """
        return self._scrubber(text) if text else text

    def scrub_value(self, value: str | int | None) -> str | int | None:
        return self.scrub(value) if isinstance(value, str) else value

    def scrub_fields(self, errors: list[FieldError]) -> list[FieldError]:
        """Field errors with secrets scrubbed from the field names too (a vendor may echo a value there)."""
        return [FieldError(self.scrub(e.field) or "", self.scrub(e.message) or "") for e in errors]

    # ---- connection test -------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """One cheap authenticated call that never sends a message (see ``probe``)."""
        method, path, body, good = self.probe
        try:
            response = self.request(method, path, body)
        except Exception as exc:  # the UI's Test button shows the reason instead of a traceback
            try:
                return False, self.scrub(str(exc)) or type(exc).__name__
            except Exception:  # the settings themselves are unusable: the message says why, without secrets
                return False, str(exc)
        status = response.status_code
        if status in (401, 403):
            return False, f"{self.vendor} refused the credentials (HTTP {status})"
        if status in good:
            return True, f"{self.vendor} accepted the credentials (HTTP {status} from {method} {path})"
        detail = self._error_info(response).description
        return False, f"{self.vendor} answered HTTP {status} to {method} {path}: {self.scrub(detail)}"


def _mask(secret: str) -> None:
    from airflow_provider_messaging.compat import mask_secret

    mask_secret(secret)
