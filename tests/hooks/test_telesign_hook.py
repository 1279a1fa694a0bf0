"""TelesignHook against a real local HTTP server: sends, errors, retries, timeouts, secrets, pooling."""

from __future__ import annotations

import base64
import logging
import time
import traceback

import pytest

from airflow_provider_messaging.exceptions import (
    AuthenticationError,
    MessagingError,
    PayloadValidationError,
    RateLimitError,
    SendOutcomeUnknownError,
    VendorAPIError,
    VendorServerError,
    VendorUnavailableError,
)
from airflow_provider_messaging.hooks.telesign import SEND_PATH, TelesignHook
from airflow_provider_messaging.models.telesign import OmnichannelRequest
from tests.hooks.conftest import API_KEY, CUSTOMER_ID, FAST, TELESIGN_ACCEPTED, ConnFactory
from tests.support.http_server import LocalHttpServer, Recorded, Reply
from tests.support.ports import free_port
from tests.vendor_examples import load

SMS_ONLY = {
    "channels": [{"channel": "sms"}],
    "phone_number": "15558675309",
    "message": {"sms": {"template": "text", "parameters": {"text": "Your order shipped"}}},
    "message_type": "ARN",
}
REQUESTS = {
    "rcs_call_button": lambda: load("telesign_call_button_request"),
    "rcs_link_button": lambda: load("telesign_link_button_request"),
    "whatsapp_file": lambda: load("telesign_whatsapp_file_request"),
    "sms": lambda: dict(SMS_ONLY),
}
TOKEN = base64.b64encode(f"{CUSTOMER_ID}:{API_KEY}".encode()).decode()


def posts(server: LocalHttpServer) -> list[Recorded]:
    return server.requests_to(SEND_PATH, "POST")


@pytest.mark.parametrize("as_model", [False, True], ids=["dict", "model"])
@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_send_every_message_type(server: LocalHttpServer, telesign_conn: str, name: str, as_model: bool) -> None:
    payload = REQUESTS[name]()
    request = OmnichannelRequest.parse(payload) if as_model else payload

    answer = TelesignHook(telesign_conn).send_omnichannel(request)

    assert answer.reference_id == TELESIGN_ACCEPTED["reference_id"]
    assert answer.status.code == 3001
    [sent] = posts(server)
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == OmnichannelRequest.parse(payload).to_wire()


def test_authorization_header_is_basic_base64_of_customer_id_and_key(
    server: LocalHttpServer, telesign_conn: str
) -> None:
    TelesignHook(telesign_conn).send_omnichannel(SMS_ONLY)

    assert posts(server)[0].headers["authorization"] == f"Basic {TOKEN}"


def test_invalid_dict_fails_before_any_http_call(server: LocalHttpServer, telesign_conn: str) -> None:
    bad = {**SMS_ONLY, "channels": [{"channel": "sms"}, {"channel": "sms"}], "message_type": "NOPE"}

    with pytest.raises(PayloadValidationError) as err:
        TelesignHook(telesign_conn).send_omnichannel(bad)

    assert "message_type" in err.value.fields
    assert server.requests == []


def test_vendor_400_with_codes_is_not_retried(server: LocalHttpServer, telesign_conn: str) -> None:
    server.enqueue(
        Reply(
            400,
            {
                "reference_id": "0123456789ABCDEF0123456789ABCDEF",
                "status": {"code": 3101, "description": "Invalid phone_number"},
                "errors": [{"code": 3101, "description": "Invalid phone_number"}, {"code": 3104, "description": "x"}],
            },
        )
    )

    with pytest.raises(VendorAPIError) as err:
        TelesignHook(telesign_conn, **FAST).send_omnichannel(SMS_ONLY)

    exc = err.value
    assert type(exc) is VendorAPIError
    assert (exc.http_status, exc.code, exc.description) == (400, 3101, "Invalid phone_number")
    assert exc.reference_id == "0123456789ABCDEF0123456789ABCDEF"
    assert [e.message for e in exc.field_errors] == ["3101 Invalid phone_number", "3104 x"]
    assert len(posts(server)) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials(server: LocalHttpServer, telesign_conn: str, status: int) -> None:
    server.enqueue(Reply(status, {"status": {"code": 3400, "description": "Not authorized"}}))

    with pytest.raises(AuthenticationError) as err:
        TelesignHook(telesign_conn, **FAST).send_omnichannel(SMS_ONLY)

    assert (err.value.http_status, err.value.code) == (status, 3400)
    assert len(posts(server)) == 1


def test_429_waits_for_retry_after_then_succeeds(server: LocalHttpServer, telesign_conn: str) -> None:
    server.enqueue(Reply(429, {"status": {"code": 3204, "description": "Rate limit"}}, headers={"Retry-After": "1"}))
    started = time.monotonic()

    answer = TelesignHook(telesign_conn, **FAST).send_omnichannel(SMS_ONLY)

    assert answer.accepted
    first, second = posts(server)
    assert time.monotonic() - started >= 1.0
    assert second.received_at - first.received_at >= 0.95
    assert first.body == second.body


def test_503_is_retried_with_backoff(server: LocalHttpServer, telesign_conn: str) -> None:
    server.enqueue(Reply(503, {"status": {"code": 3500, "description": "System unavailable"}}))

    answer = TelesignHook(telesign_conn, backoff_factor=0.2, backoff_jitter=0).send_omnichannel(SMS_ONLY)

    assert answer.accepted
    first, second = posts(server)
    assert second.received_at - first.received_at >= 0.19  # the first retry already backs off


def test_429_after_retries_run_out(server: LocalHttpServer, telesign_conn: str) -> None:
    server.default = Reply(429, {"status": {"code": 3204, "description": "Rate limit exceeded"}})

    with pytest.raises(RateLimitError) as err:
        TelesignHook(telesign_conn, max_retries=2, **FAST).send_omnichannel(SMS_ONLY)

    assert (err.value.code, err.value.http_status) == (3204, 429)
    assert len(posts(server)) == 3


def test_long_retry_after_is_not_slept_on_the_worker(server: LocalHttpServer, telesign_conn: str) -> None:
    server.default = Reply(429, {"status": {"code": 3204}}, headers={"Retry-After": "3600"})
    started = time.monotonic()

    with pytest.raises(RateLimitError) as err:
        TelesignHook(telesign_conn, **FAST).send_omnichannel(SMS_ONLY)

    assert err.value.retry_after == 3600
    assert time.monotonic() - started < 2
    assert len(posts(server)) == 1


def test_503_after_retries_run_out(server: LocalHttpServer, telesign_conn: str) -> None:
    server.default = Reply(503, {"status": {"code": 3041, "description": "Provider failed to respond"}})

    with pytest.raises(VendorServerError) as err:
        TelesignHook(telesign_conn, max_retries=1, **FAST).send_omnichannel(SMS_ONLY)

    assert err.value.code == 3041
    assert len(posts(server)) == 2


@pytest.mark.parametrize("status", [500, 502, 504])
def test_other_5xx_are_not_retried(server: LocalHttpServer, telesign_conn: str, status: int) -> None:
    server.enqueue(Reply(status, "upstream trouble"))
    expected = VendorServerError if status == 500 else SendOutcomeUnknownError

    with pytest.raises(expected):
        TelesignHook(telesign_conn, **FAST).send_omnichannel(SMS_ONLY)

    assert len(posts(server)) == 1


def test_connection_refused(make_conn: ConnFactory) -> None:
    conn_id = make_conn("telesign", f"http://127.0.0.1:{free_port()}", CUSTOMER_ID, API_KEY)

    with pytest.raises(VendorUnavailableError) as err:
        TelesignHook(conn_id, **FAST).send_omnichannel(SMS_ONLY)

    assert "cannot connect" in str(err.value)


def test_read_timeout_is_unknown_outcome_and_never_resent(server: LocalHttpServer, make_conn: ConnFactory) -> None:
    conn_id = make_conn("telesign", server.url, CUSTOMER_ID, API_KEY, extra={"timeout": 0.3, "max_retries": 3})
    server.default = Reply(200, TELESIGN_ACCEPTED, delay=1.0)

    with pytest.raises(SendOutcomeUnknownError):
        TelesignHook(conn_id, **FAST).send_omnichannel(SMS_ONLY)

    time.sleep(1.0)  # a retry, if any, would have arrived by now
    assert len(posts(server)) == 1


def test_connection_dropped_after_send_is_unknown_outcome(server: LocalHttpServer, telesign_conn: str) -> None:
    server.default = Reply(drop=True)

    with pytest.raises(SendOutcomeUnknownError):
        TelesignHook(telesign_conn, **FAST).send_omnichannel(SMS_ONLY)

    time.sleep(0.3)
    assert len(posts(server)) == 1


def test_2xx_that_is_not_an_acceptance(server: LocalHttpServer, telesign_conn: str) -> None:
    hook = TelesignHook(telesign_conn)
    server.enqueue(Reply(200, {"status": {"code": 3006, "description": "No channel enabled"}}))
    with pytest.raises(VendorAPIError) as err:
        hook.send_omnichannel(SMS_ONLY)
    assert err.value.code == 3006

    server.enqueue(Reply(200, "<html>proxy</html>"))
    with pytest.raises(SendOutcomeUnknownError):
        hook.send_omnichannel(SMS_ONLY)


def test_secrets_never_in_logs_or_errors(
    server: LocalHttpServer, telesign_conn: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hook = TelesignHook(telesign_conn, max_retries=1, **FAST)
    server.enqueue(
        Reply(429, {"status": {"code": 3204}}),
        Reply(401, {"status": {"code": 3400, "description": f"Invalid API key {API_KEY}"}}),
        Reply(drop=True),
    )
    errors = []
    for _ in range(2):
        with pytest.raises(MessagingError) as err:
            hook.send_omnichannel(SMS_ONLY)
        errors.append(err.value)

    assert isinstance(errors[0], AuthenticationError)
    assert isinstance(errors[1], SendOutcomeUnknownError)
    assert "retrying" in caplog.text  # the retry was logged: the check below looked at real log lines
    texts = [caplog.text, repr(hook), repr(hook.settings), repr(hook.get_conn().auth)]
    texts += ["".join(traceback.format_exception(e)) for e in errors]
    for text in texts:
        assert API_KEY not in text
        assert TOKEN not in text
    assert "Invalid API key ***" in str(errors[0])


def test_test_connection_never_posts(server: LocalHttpServer, telesign_conn: str) -> None:
    server.default = lambda r: Reply(404, {"status": {"code": 3200, "description": "not found"}})
    ok, message = TelesignHook(telesign_conn).test_connection()
    assert ok, message

    server.default = Reply(401, {"status": {"code": 3400, "description": "Not authorized"}})
    ok, message = TelesignHook(telesign_conn).test_connection()
    assert not ok
    assert "refused" in message

    assert {r.method for r in server.requests} == {"GET"}
    assert all(r.path.startswith("/v1/messaging/") for r in server.requests)
    assert all(r.headers["authorization"] == f"Basic {TOKEN}" for r in server.requests)


def test_test_connection_unreachable(make_conn: ConnFactory) -> None:
    conn_id = make_conn("telesign", f"http://127.0.0.1:{free_port()}", CUSTOMER_ID, API_KEY, extra={"max_retries": 0})
    ok, message = TelesignHook(conn_id).test_connection()
    assert not ok
    assert "cannot connect" in message


def test_keep_alive_connection_is_reused(server: LocalHttpServer, telesign_conn: str) -> None:
    hook = TelesignHook(telesign_conn)
    for _ in range(3):
        hook.send_omnichannel(SMS_ONLY)
    assert {r.connection for r in posts(server)} == {1}


def test_pool_recycled_after_idle(server: LocalHttpServer, telesign_conn: str) -> None:
    hook = TelesignHook(telesign_conn, pool_recycle=0.3)
    hook.send_omnichannel(SMS_ONLY)
    hook.send_omnichannel(SMS_ONLY)
    time.sleep(0.5)
    hook.send_omnichannel(SMS_ONLY)

    first, second, third = (r.connection for r in posts(server))
    assert first == second
    assert third != second
    assert server.connections_opened == 2


def test_accessors_and_extras(make_conn: ConnFactory) -> None:
    conn_id = make_conn(
        "telesign",
        "",
        CUSTOMER_ID,
        API_KEY,
        extra={"extra__telesign__rate_limit": "25", "connect_timeout": 2, "timeout": ""},
    )
    hook = TelesignHook(conn_id)

    assert (hook.customer_id, hook.api_key) == (CUSTOMER_ID, API_KEY)
    assert hook.rate_limit == 25.0
    assert hook.timeout == (2.0, 30.0)
    assert hook.url(SEND_PATH) == "https://rest-ww.telesign.com/v1/omnichannel"


def test_rate_limit_unset(telesign_conn: str) -> None:
    assert TelesignHook(telesign_conn).rate_limit is None


def test_default_conn_id() -> None:
    hook = TelesignHook()
    assert hook.telesign_conn_id == hook.conn_id == "telesign_default"
    assert (TelesignHook.conn_name_attr, TelesignHook.conn_type) == ("telesign_conn_id", "telesign")


def test_proxy_from_environment_is_used(
    server: LocalHttpServer, make_conn: ConnFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    server.default = Reply(200, TELESIGN_ACCEPTED)
    conn_id = make_conn("telesign", "http://telesign.invalid", CUSTOMER_ID, API_KEY)

    TelesignHook(conn_id).send_omnichannel(SMS_ONLY)

    [sent] = server.requests
    assert sent.path == "http://telesign.invalid/v1/omnichannel"  # absolute URL: the server acted as the proxy
