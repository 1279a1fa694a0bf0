"""What a hook reads from its Airflow connection: base URL, credentials, timeouts, extras."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from airflow_provider_messaging.exceptions import ConfigurationError, MessagingError

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3


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

    @property
    def secrets(self) -> tuple[str, ...]:
        """The password and the Basic token: masked in logs, scrubbed from vendor texts."""
        return tuple(s for s in (self.password, self.authorization.split(" ", 1)[1]) if s)


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


def number_extra(extras: Mapping[str, Any], key: str, default: float | None) -> float | None:
    """A numeric extra (``default`` when unset); a non-number or a negative raises naming the key."""
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


def read_settings(
    conn: Any, *, conn_id: str, conn_type: str, default_host: str, max_retries: int | None
) -> ConnectionSettings:
    """:class:`ConnectionSettings` of an Airflow ``Connection``; missing credentials raise naming both."""
    missing = [name for name, value in (("login", conn.login), ("password", conn.password)) if not value]
    if missing:
        raise MessagingError(f"Connection {conn_id!r} has no {' and no '.join(missing)} (Basic auth)")
    extras = connection_extras(conn.extra_dejson, conn_type)
    if max_retries is None:
        max_retries = int(number_extra(extras, "max_retries", DEFAULT_MAX_RETRIES) or 0)
    return ConnectionSettings(
        base_url=base_url(conn.host, schema=conn.schema, port=conn.port, default=default_host),
        login=conn.login or "",
        password=conn.password or "",
        connect_timeout=number_extra(extras, "connect_timeout", DEFAULT_CONNECT_TIMEOUT) or DEFAULT_CONNECT_TIMEOUT,
        read_timeout=number_extra(extras, "timeout", DEFAULT_READ_TIMEOUT) or DEFAULT_READ_TIMEOUT,
        max_retries=max_retries,
        extras=extras,
    )


class BasicAuth(requests.auth.AuthBase):
    """Sets a prebuilt ``Authorization`` header; as ``session.auth`` it also stops requests' netrc lookup."""

    def __init__(self, header: str) -> None:
        self._header = header

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._header
        return r

    def __repr__(self) -> str:
        return "<BasicAuth ***>"
