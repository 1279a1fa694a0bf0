"""Secrets never leak through vendor error texts or a badly written host (issue 15.7).

A vendor may echo the API key in any text it returns: a field name of ``errors[]``, a description, a
non-JSON error page, percent-encoded (a URL it quotes) or JSON-escaped (``\\/``). And a connection
host may carry user info whose password has a raw ``/``.
"""

from __future__ import annotations

import base64
import json
import traceback
from urllib.parse import quote, quote_plus

import pytest

from airflow_provider_messaging.exceptions import (
    ConfigurationError,
    MessagingError,
    SendOutcomeUnknownError,
    VendorAPIError,
)
from airflow_provider_messaging.hooks.aerialink import AerialinkHook
from airflow_provider_messaging.hooks.telesign import TelesignHook
from tests.hooks.conftest import CUSTOMER_ID, FAST, ConnFactory
from tests.hooks.scripted import offline
from tests.support.http_server import LocalHttpServer, Reply

# base64 with "+", "/" and "=": every encoded form differs from the raw key
KEY = base64.b64encode(b"\xfb\xff\xfe scrub-test key \xfb\xef\xbe that must never leak?").decode()
AUTH = base64.b64encode(f"{CUSTOMER_ID}:{KEY}".encode()).decode()
SMS = {
    "channels": [{"channel": "sms"}],
    "phone_number": "15558675309",
    "message": {"sms": {"template": "text", "parameters": {"text": "hi"}}},
    "message_type": "ARN",
}


def forms(secret: str) -> set[str]:
    escaped = json.dumps(secret)[1:-1]
    return {secret, quote(secret, safe=""), quote_plus(secret), escaped.replace("/", "\\/")}


def test_the_key_has_distinct_encoded_forms() -> None:
    assert {"+", "/", "="} <= set(KEY) and len(forms(KEY)) == 3  # raw, percent-encoded, JSON-escaped


def _leaks(*texts: str) -> list[str]:
    return [form for form in forms(KEY) | forms(AUTH) for text in texts if form in text]


def _texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(400, {"status": {"code": 11000, "description": "Invalid"}, "errors": [{"code": 11000, "field": KEY}]}),
        Reply(200, {"status": {"code": 11000, "description": "Invalid"}, "errors": [{"field": KEY, "code": 1}]}),
        Reply(
            400, {"status": {"code": 11000, "description": f"see /keys?k={quote(KEY, safe='')}&q={quote_plus(KEY)}"}}
        ),
        Reply(400, {"status": {"code": 11000, "description": "echo " + json.dumps({"key": KEY}).replace("/", "\\/")}}),
        Reply(400, "<pre>" + json.dumps({"api_key": KEY}).replace("/", "\\/") + "</pre>"),
        Reply(400, {"status": {"code": 11000, "description": "x"}, "reference_id": KEY}),
    ],
    ids=["field-of-4xx", "field-of-200", "url-encoded", "json-escaped", "error-page", "reference-id"],
)
def test_telesign_error_echoing_the_key_is_scrubbed(make_conn: ConnFactory, reply: Reply) -> None:
    sent = offline(TelesignHook, make_conn("telesign", "https://telesign.test", CUSTOMER_ID, KEY), default=reply)
    with pytest.raises(VendorAPIError) as caught:
        sent.hook.send_omnichannel(SMS)
    assert len(sent.requests) == 1
    assert _leaks(*_texts(caught.value)) == []
    assert "***" in str(caught.value) or "field" not in str(reply.body)


def test_aerialink_field_errors_are_scrubbed(make_conn: ConnFactory) -> None:
    secret = KEY
    conn_id = make_conn("aerialink", "https://aerialink.test", "acme", secret, extra={"default_source": "CONVEY"})
    reply = Reply(
        400,
        {"status": "error", "message": "Validation failed", "data": [{"field": secret, "description": quote(secret)}]},
    )
    sent = offline(AerialinkHook, conn_id, default=reply)
    with pytest.raises(VendorAPIError) as caught:
        sent.hook.send_message({"messageType": "RCS_TEXT", "destination": "15559876543", "messageText": "hi"})
    assert _leaks(*_texts(caught.value)) == []
    assert "***" in str(caught.value)


@pytest.mark.parametrize("password_in_url", [KEY, "pw/with/slashes"], ids=["api-key", "slashes"])
def test_user_info_with_a_raw_slash_is_dropped_from_the_host(
    server: LocalHttpServer, make_conn: ConnFactory, password_in_url: str
) -> None:
    host = f"{server.url.replace('://', f'://{CUSTOMER_ID}:{password_in_url}@')}"
    server.default = Reply(200, {"status": {"code": 3001, "description": "ok"}, "reference_id": "R" * 32})
    hook = TelesignHook(make_conn("telesign", host, CUSTOMER_ID, KEY), **FAST)
    assert hook.settings.base_url == server.url
    assert password_in_url not in repr(hook.settings)
    assert hook.send_omnichannel(SMS).reference_id == "R" * 32
    assert [r.path for r in server.requests] == ["/v1/omnichannel"]


@pytest.mark.parametrize(
    "host", [f"http://{CUSTOMER_ID}:{KEY}@", f"http://{CUSTOMER_ID}:{KEY}@:notaport/x"], ids=["no-host", "bad-port"]
)
def test_a_host_that_is_no_url_is_a_configuration_error_not_an_unknown_outcome(
    server: LocalHttpServer, make_conn: ConnFactory, host: str
) -> None:
    hook = TelesignHook(make_conn("telesign", host, CUSTOMER_ID, KEY), **FAST)
    with pytest.raises(ConfigurationError) as caught:
        hook.send_omnichannel(SMS)
    assert not isinstance(caught.value, SendOutcomeUnknownError) and isinstance(caught.value, MessagingError)
    assert _leaks(*_texts(caught.value)) == []
    ok, message = TelesignHook(make_conn("telesign", host, CUSTOMER_ID, KEY)).test_connection()
    assert not ok and "not a URL" in message and _leaks(message) == []
    assert server.requests == []  # nothing was sent
