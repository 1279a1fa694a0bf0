"""Pure helpers of the hook base: URLs, extras, and connection checks."""

from __future__ import annotations

import pytest

from airflow_provider_messaging.exceptions import MessagingError
from airflow_provider_messaging.hooks.connection import base_url, connection_extras, join_url
from airflow_provider_messaging.hooks.telesign import TelesignHook
from tests.hooks.conftest import ConnFactory

DEFAULT = "https://rest-ww.telesign.com"


@pytest.mark.parametrize(
    ("host", "schema", "port", "expected"),
    [
        (None, None, None, DEFAULT),
        ("", None, None, DEFAULT),
        ("rest-ww.telesign.com", None, None, "https://rest-ww.telesign.com"),
        ("127.0.0.1", "http", 8080, "http://127.0.0.1:8080"),
        ("http://127.0.0.1:9000/", None, 1234, "http://127.0.0.1:9000"),
        ("https://user:pw@api.example.com/base/", None, None, "https://api.example.com/base"),
    ],
)
def test_base_url(host: str | None, schema: str | None, port: int | None, expected: str) -> None:
    assert base_url(host, schema=schema, port=port, default=DEFAULT) == expected


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://apix5.aerialink.net", "https://apix5.aerialink.net/v5/messages"),
        ("https://apix5.aerialink.net/v5", "https://apix5.aerialink.net/v5/messages"),
        ("https://proxy.example.com/aerialink", "https://proxy.example.com/aerialink/v5/messages"),
    ],
)
def test_join_url(base: str, expected: str) -> None:
    assert join_url(base, "/v5/messages") == expected


def test_connection_extras_strip_ui_prefix_and_blanks() -> None:
    extra = {"extra__aerialink__default_source": "CONVEY", "timeout": "", "rate_limit": 5, "extra__x__y": 1}
    assert connection_extras(extra, "aerialink") == {"default_source": "CONVEY", "rate_limit": 5, "extra__x__y": 1}
    assert connection_extras({"extra__aerialink__timeout": 1, "timeout": 2}, "aerialink") == {"timeout": 2}


def test_missing_credentials_listed(make_conn: ConnFactory) -> None:
    conn_id = make_conn("telesign", None, "", "")
    with pytest.raises(MessagingError, match="no login and no password"):
        TelesignHook(conn_id).settings  # noqa: B018
    ok, message = TelesignHook(conn_id).test_connection()
    assert not ok
    assert "no login" in message


def test_bad_numeric_extra(make_conn: ConnFactory) -> None:
    conn_id = make_conn("telesign", None, "cid", "key-12345", extra={"timeout": "fast"})
    with pytest.raises(MessagingError, match="'timeout' must be a number"):
        TelesignHook(conn_id).settings  # noqa: B018
