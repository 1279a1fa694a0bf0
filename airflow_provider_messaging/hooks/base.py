"""Shared HTTP layer of the vendor hooks: connection, auth, pooled session, timeouts, retries, errors.

Retry policy (urllib3 :class:`~urllib3.util.retry.Retry` mounted on the session's adapter):

* connect errors (connection refused, connect timeout, DNS) are retried: nothing was sent;
* 429 and 503 are retried with exponential backoff and jitter, honouring ``Retry-After``;
* nothing else is retried: other 4xx are final, and a read timeout or a connection dropped after
  the request was written raises :class:`SendOutcomeUnknownError` (so do 502 and 504), because
  a second POST could text the customer twice.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, NamedTuple
from urllib.parse import quote, quote_plus, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ClosedPoolError, ConnectTimeoutError, MaxRetryError

from airflow_provider_messaging import __version__
from airflow_provider_messaging.compat import BaseHook
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
from airflow_provider_messaging.hooks.retry import SendRetry, retry_after_seconds

log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
#: Telesign drops keep-alive connections idle for 499 s; recycle the pool well before that.
DEFAULT_POOL_RECYCLE = 480.0
DEFAULT_POOL_MAXSIZE = 32

#: Gateway answers: the vendor behind the gateway may have accepted the message.
UNKNOWN_OUTCOME_STATUSES = frozenset({502, 504})
_MAX_TEXT = 300


# --------------------------------------------------------------------------------------------
# connection settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionSettings:
    """What a hook needs from its Airflow connection, read once."""

    base_url: str
    login: str
    password: str = field(repr=False)
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    extras: Mapping[str, Any] = field(default_factory=dict)

    @property
    def authorization(self) -> str:
        token = base64.b64encode(f"{self.login}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


def connection_extras(extra: Mapping[str, Any], conn_type: str) -> dict[str, Any]:
    """Extras with blanks dropped and the UI's ``extra__<conn_type>__`` prefix removed (plain keys win)."""
    prefix = f"extra__{conn_type}__"
    plain: dict[str, Any] = {}
    prefixed: dict[str, Any] = {}
    for key, value in extra.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if key.startswith(prefix):
            prefixed[key[len(prefix) :]] = value
        else:
            plain[key] = value
    return {**prefixed, **plain}


def base_url(host: str | None, *, schema: str | None, port: int | None, default: str) -> str:
    """``scheme://host[:port][/prefix]`` from a connection host that is a full URL or a bare host.

    User info in the host is dropped, so no credential ever ends up in a URL or an error text; that
    includes user info with a raw ``/`` in the password (``http://u:ab/cd@host``), which a URL parser
    would read as a path. A host that is still no URL raises :class:`ConfigurationError`.
    """
    host = (host or "").strip()
    if not host:
        return default.rstrip("/")
    scheme, separator, rest = host.partition("://")
    if not separator:
        scheme, rest = (schema if schema in ("http", "https") else "https"), host
    rest = rest.rpartition("@")[2]  # everything up to the last "@" is user info
    parts = urlsplit(f"{scheme}://{rest}")
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a port that is no number
        valid = False
    if not valid:
        raise ConfigurationError(
            "The connection's host is not a URL (expected https://host[:port][/path]); nothing was sent"
        )
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def join_url(base: str, path: str) -> str:
    """``base`` + ``path``, without doubling a version prefix (``.../v5`` + ``/v5/messages``)."""
    parts = urlsplit(base)
    prefix = parts.path.rstrip("/")
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        prefix = ""
    return f"{parts.scheme}://{parts.netloc}{prefix}{path}"


def _number(extras: Mapping[str, Any], key: str, default: float | None) -> float | None:
    value = extras.get(key)
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MessagingError(f"Connection extra {key!r} must be a number, got {value!r}") from None
    if number < 0:
        raise MessagingError(f"Connection extra {key!r} must not be negative, got {value!r}")
    return number


class ErrorInfo(NamedTuple):
    code: str | int | None
    description: str | None
    field_errors: list[FieldError]
    reference_id: str | None


class _BasicAuth(requests.auth.AuthBase):
    """Sets a prebuilt ``Authorization`` header; as ``session.auth`` it also stops requests' netrc lookup."""

    def __init__(self, header: str) -> None:
        self._header = header

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._header
        return r

    def __repr__(self) -> str:
        return "<BasicAuth ***>"


# --------------------------------------------------------------------------------------------
# the hook
# --------------------------------------------------------------------------------------------


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
        logger_name: str | None = None,
    ) -> None:
        super().__init__(logger_name=logger_name)
        self.conn_id = conn_id
        self.pool_maxsize = pool_maxsize
        self.pool_recycle = pool_recycle
        self._max_retries = max_retries
        self._backoff = {
            "backoff_factor": backoff_factor,
            "backoff_jitter": backoff_jitter,
            "backoff_max": backoff_max,
            "max_retry_after": max_retry_after,
        }
        self._lock = threading.Lock()
        self._session: requests.Session | None = None
        self._adapter: HTTPAdapter | None = None
        self._last_used = time.monotonic()

    # ---- connection ------------------------------------------------------------------------

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The connection, read and checked once per hook; password and auth header are masked in logs."""
        conn = self.get_connection(self.conn_id)
        missing = [name for name, value in (("login", conn.login), ("password", conn.password)) if not value]
        if missing:
            raise MessagingError(f"Connection {self.conn_id!r} has no {' and no '.join(missing)} (Basic auth)")
        extras = connection_extras(conn.extra_dejson, self.conn_type)
        retries = self._max_retries
        if retries is None:
            retries = int(_number(extras, "max_retries", DEFAULT_MAX_RETRIES) or 0)
        settings = ConnectionSettings(
            base_url=base_url(conn.host, schema=conn.schema, port=conn.port, default=self.default_host),
            login=conn.login or "",
            password=conn.password or "",
            connect_timeout=_number(extras, "connect_timeout", DEFAULT_CONNECT_TIMEOUT) or DEFAULT_CONNECT_TIMEOUT,
            read_timeout=_number(extras, "timeout", DEFAULT_READ_TIMEOUT) or DEFAULT_READ_TIMEOUT,
            max_retries=retries,
            extras=extras,
        )
        _mask(settings.password)
        _mask(settings.authorization.split(" ", 1)[1])
        return settings

    def extra(self, key: str, default: Any = None) -> Any:
        """One connection extra (plain or ``extra__<conn_type>__`` key; blank counts as unset)."""
        return self.settings.extras.get(key, default)

    @property
    def rate_limit(self) -> float | None:
        """Client-side cap in messages per second for bulk sends (extra ``rate_limit``); None: no cap."""
        return _number(self.settings.extras, "rate_limit", None) or None

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) timeouts in seconds."""
        return (self.settings.connect_timeout, self.settings.read_timeout)

    def url(self, path: str) -> str:
        return join_url(self.settings.base_url, path)

    def get_conn(self) -> requests.Session:
        """The hook's pooled session (built on first use; Basic auth, JSON headers, retry policy)."""
        session = self._session
        if session is not None:
            return session
        with self._lock:
            if self._session is None:
                settings = self.settings
                retry = SendRetry.for_sends(settings.max_retries, **self._backoff)
                adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.pool_maxsize, max_retries=retry)
                session = requests.Session()
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.auth = _BasicAuth(settings.authorization)
                session.headers.update(
                    {
                        "Content-Type": "application/json",
                        "Accept": "application/json",
                        "User-Agent": f"airflow-provider-messaging/{__version__}",
                    }
                )
                # Proxies, NO_PROXY and CA bundle come from the environment, read once for the
                # vendor host: requests re-reads all of os.environ on every send otherwise
                # (about a quarter of a local send's time).
                env = session.merge_environment_settings(settings.base_url, {}, None, None, None)
                session.proxies.update(env["proxies"])
                session.verify, session.cert = env["verify"], env["cert"]
                session.trust_env = False
                self._adapter, self._session = adapter, session
            return self._session

    def close(self) -> None:
        """Close the pooled connections; the next request opens new ones."""
        with self._lock:
            if self._session is not None:
                self._session.close()
            self._session = self._adapter = None

    def _recycle_if_idle(self) -> None:
        # Close every pooled connection (not just the session object, and before this request
        # picks one) once the pool sat idle long enough that the vendor may drop it mid-request.
        if time.monotonic() - self._last_used <= self.pool_recycle or self._adapter is None:
            return
        with self._lock:
            if self._adapter is not None and time.monotonic() - self._last_used > self.pool_recycle:
                self.log.debug("Pool idle for more than %ss: closing keep-alive connections", self.pool_recycle)
                self._adapter.poolmanager.clear()
                self._last_used = time.monotonic()  # concurrent callers must not clear the fresh pool again

    # ---- requests --------------------------------------------------------------------------

    def request(self, method: str, path: str, body: bytes | None = None) -> requests.Response:
        """Send one request through the retry policy; map transport failures, not HTTP statuses.

        :raises VendorUnavailableError: nothing was sent (refused, DNS, connect timeout).
        :raises SendOutcomeUnknownError: the request may have been read (read timeout, dropped).
        """
        session = self.get_conn()
        self._recycle_if_idle()
        url = self.url(path)
        try:
            return session.request(method, url, data=body, timeout=self.timeout, allow_redirects=False)
        except requests.exceptions.ConnectTimeout as exc:
            raise VendorUnavailableError(f"{self.vendor}: no connection to {url} within the connect timeout") from exc
        except requests.exceptions.ReadTimeout as exc:
            raise SendOutcomeUnknownError(
                f"{self.vendor}: {method} {url} sent, but no answer within {self.settings.read_timeout:g}s; "
                "the vendor may have accepted it. Not re-sent."
            ) from exc
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema,
        ) as exc:  # refused before anything was sent: a configuration error, never "outcome unknown"
            raise ConfigurationError(
                f"{self.vendor}: the connection's URL cannot be used ({type(exc).__name__}); nothing was sent"
            ) from None
        except requests.exceptions.SSLError as exc:
            raise VendorUnavailableError(f"{self.vendor}: TLS handshake with {url} failed: {exc}") from exc
        except requests.exceptions.ConnectionError as exc:
            if _nothing_sent(exc):
                raise VendorUnavailableError(f"{self.vendor}: cannot connect to {url}: {_reason(exc)}") from exc
            raise SendOutcomeUnknownError(
                f"{self.vendor}: connection to {url} dropped after {method} was sent ({_reason(exc)}); "
                "the vendor may have accepted it. Not re-sent."
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise SendOutcomeUnknownError(
                f"{self.vendor}: {method} {url} failed after sending: {self.scrub(str(exc))}"
            ) from exc
        finally:
            self._last_used = time.monotonic()

    def post_json(self, path: str, body: bytes) -> requests.Response:
        """POST a JSON body; return a 2xx answer or raise the typed error for any other."""
        response = self.request("POST", path, body)
        if response.status_code >= 300:
            raise self.error_for(response)
        return response

    def error_for(self, response: requests.Response) -> MessagingError:
        """The exception for an error answer (after the retry policy ran out)."""
        status = response.status_code
        if status in UNKNOWN_OUTCOME_STATUSES:
            return SendOutcomeUnknownError(
                f"{self.vendor}: gateway answered HTTP {status} to {response.request.method} "
                f"{response.url}; the vendor may have accepted it. Not re-sent."
            )
        info = self._error_info(response)
        if status in (401, 403):
            cls: type[VendorAPIError] = AuthenticationError
        elif status == 429:
            cls = RateLimitError
        elif status >= 500:
            cls = VendorServerError
        else:
            cls = VendorAPIError
        return cls(
            vendor=self.vendor,
            http_status=status,
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
        text = response.text.strip()[:_MAX_TEXT] or response.reason
        return ErrorInfo(None, text, [], None)

    def parse_error(self, payload: dict[str, Any]) -> ErrorInfo:
        """Vendor error body -> code, description, field errors, reference id (override per vendor)."""
        description = payload.get("message") or payload.get("description") or payload.get("error")
        return ErrorInfo(None, str(description) if description else None, [], None)

    def scrub(self, text: str | None) -> str | None:
        """``text`` with the connection's secrets replaced by ``***`` (vendor texts may echo them).

        Also the forms a secret takes when a vendor echoes it inside a URL (percent-encoded) or a JSON
        string (escaped ``/``, ``"``, ``\\`` and non-ASCII).
        """
        if not text:
            return text
        for form in self._secret_forms():
            text = text.replace(form, "***")
        return text

    def _secret_forms(self) -> list[str]:
        settings = self.settings
        forms: set[str] = set()
        for secret in (settings.password, settings.authorization.split(" ", 1)[1]):
            if not secret:
                continue
            forms.update({secret, quote(secret, safe=""), quote_plus(secret), quote(secret)})
            for ascii_only in (True, False):
                escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
                forms.update({escaped, escaped.replace("/", "\\/")})
        return sorted(forms, key=len, reverse=True)  # longest first: no form is left half-replaced

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
    if not secret:
        return
    from airflow_provider_messaging.compat import mask_secret

    mask_secret(secret)


def _nothing_sent(exc: requests.exceptions.ConnectionError) -> bool:
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # NewConnectionError and NameResolutionError are ConnectTimeoutError subclasses in urllib3 2.
    return isinstance(reason, ConnectTimeoutError | ClosedPoolError)


def _reason(exc: requests.exceptions.ConnectionError) -> str:
    reason = exc.args[0] if exc.args else exc
    if isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    return str(reason)
