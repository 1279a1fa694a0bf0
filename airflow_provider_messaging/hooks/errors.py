"""Typed errors of the hooks: what a transport failure or an error answer becomes, with secrets scrubbed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple
from urllib.parse import quote, quote_plus

import requests
from urllib3.exceptions import ClosedPoolError, ConnectTimeoutError, MaxRetryError, ProxyError

from airflow_provider_messaging.exceptions import (
    AuthenticationError,
    ConfigurationError,
    FieldError,
    MessagingError,
    RateLimitError,
    SendOutcomeUnknownError,
    VendorAPIError,
    VendorServerError,
    VendorUnavailableError,
)
from airflow_provider_messaging.hooks.retry import UNKNOWN_OUTCOME_STATUSES, Sent

_MAX_TEXT = 300
_URL_ERRORS = requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema | requests.exceptions.MissingSchema


class ErrorInfo(NamedTuple):
    code: str | int | None
    description: str | None
    field_errors: list[FieldError]
    reference_id: str | None


def default_error_info(payload: dict[str, Any]) -> ErrorInfo:
    """A generic error body: ``message``, ``description`` or ``error``."""
    description = payload.get("message") or payload.get("description") or payload.get("error")
    return ErrorInfo(None, str(description) if description else None, [], None)


def answer_error_class(status: int) -> type[VendorAPIError]:
    """The exception class of an error answer that is no gateway's 502/504."""
    if status in (401, 403):
        return AuthenticationError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return VendorServerError
    return VendorAPIError


def gateway_error(vendor: str, response: requests.Response) -> SendOutcomeUnknownError | None:
    """502/504: a gateway answered; the vendor behind it may have accepted the message."""
    if response.status_code not in UNKNOWN_OUTCOME_STATUSES:
        return None
    return SendOutcomeUnknownError(
        f"{vendor}: gateway answered HTTP {response.status_code} to {response.request.method} "
        f"{response.url}; the vendor may have accepted it. Not re-sent."
    )


def error_text(response: requests.Response) -> str:
    """The start of a non-JSON error answer (or its reason phrase)."""
    return response.text.strip()[:_MAX_TEXT] or response.reason or ""


def failed_attempt(exc: requests.exceptions.RequestException) -> Sent:
    """How far an attempt that raised got: ``NOTHING`` (a connect error), ``NO_ANSWER`` (the request may have
    been read) or ``UNSENDABLE`` (a bad URL, TLS, a closed pool: nothing sent, and a retry would fail alike).
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Sent.NOTHING
    if isinstance(exc, _URL_ERRORS | requests.exceptions.SSLError):
        return Sent.UNSENDABLE
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = _reason_of(exc)
        if isinstance(reason, ConnectTimeoutError):
            return Sent.NOTHING
        if isinstance(reason, ClosedPoolError):
            return Sent.UNSENDABLE
    return Sent.NO_ANSWER


def transport_error(
    exc: requests.exceptions.RequestException,
    *,
    vendor: str,
    method: str,
    url: str,
    read_timeout: float,
    scrub: Callable[[str | None], str | None],
) -> MessagingError:
    """The typed error of a request that raised (the message names no secret: ``url`` has no user info).

    :class:`VendorUnavailableError`: nothing was sent (refused, DNS, connect timeout, TLS);
    :class:`SendOutcomeUnknownError`: the request may have been read (read timeout, dropped);
    :class:`ConfigurationError`: the URL cannot be used.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return VendorUnavailableError(f"{vendor}: no connection to {url} within the connect timeout")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return SendOutcomeUnknownError(
            f"{vendor}: {method} {url} sent, but no answer within {read_timeout:g}s; "
            "the vendor may have accepted it. Not re-sent."
        )
    if isinstance(exc, _URL_ERRORS):  # refused before anything was sent: a configuration error, never "outcome unknown"
        return ConfigurationError(
            f"{vendor}: the connection's URL cannot be used ({type(exc).__name__}); nothing was sent"
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return VendorUnavailableError(f"{vendor}: TLS handshake with {url} failed: {exc}")
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = _reason_of(exc)
        if isinstance(reason, ConnectTimeoutError | ClosedPoolError):
            return VendorUnavailableError(f"{vendor}: cannot connect to {url}: {reason}")
        return SendOutcomeUnknownError(
            f"{vendor}: connection to {url} dropped after {method} was sent ({reason}); "
            "the vendor may have accepted it. Not re-sent."
        )
    return SendOutcomeUnknownError(f"{vendor}: {method} {url} failed after sending: {scrub(str(exc))}")


def _reason_of(exc: requests.exceptions.ConnectionError) -> Any:
    """What urllib3 says went wrong; a proxy that could not be reached counts as a connect error.

    ``NewConnectionError`` and ``NameResolutionError`` are ``ConnectTimeoutError`` subclasses in urllib3 2.
    """
    reason = exc.args[0] if exc.args else exc
    if isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    if isinstance(reason, ProxyError) and isinstance(reason.original_error, ConnectTimeoutError):
        reason = reason.original_error
    return reason


class Scrubber:
    """Replaces secrets in texts with ``***``, also in the forms a vendor may echo them.

    Those are percent-encoded (a URL it quotes) and JSON-escaped (``/``, ``"``, ``\\`` and non-ASCII).
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            forms.update({secret, quote(secret, safe=""), quote_plus(secret), quote(secret)})
            for ascii_only in (True, False):
                escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
                forms.update({escaped, escaped.replace("/", "\\/")})
        self._forms = sorted(forms, key=len, reverse=True)  # longest first: no form is left half-replaced

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        for form in self._forms:
            text = text.replace(form, "***")
        return text

    def __repr__(self) -> str:
        return "<Scrubber ***>"
