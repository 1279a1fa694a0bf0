"""The hooks' error mapping and retry decisions, in-process through a scripted transport: no socket, no sleep.

Every attempt is counted at the transport, so "never sent twice" is an exact count, and every wait
the hook asked for is recorded instead of slept.
"""

from __future__ import annotations

import base64
import logging
import traceback

import pytest
import requests

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
from airflow_provider_messaging.hooks.aerialink import SEND_PATH as AERIALINK_PATH
from airflow_provider_messaging.hooks.aerialink import AerialinkHook
from airflow_provider_messaging.hooks.telesign import SEND_PATH, TelesignHook
from tests.hooks.conftest import (
    AERIALINK_ACCEPTED,
    AERIALINK_SECRET,
    AERIALINK_USER,
    API_KEY,
    CUSTOMER_ID,
    TELESIGN_ACCEPTED,
    ConnFactory,
)
from tests.hooks.scripted import Offline, connect_refused, dropped, offline, read_timeout
from tests.support.http_server import Reply
from tests.vendor_examples import load

pytestmark = pytest.mark.usefixtures("no_sockets")

SMS_ONLY = {
    "channels": [{"channel": "sms"}],
    "phone_number": "15558675309",
    "message": {"sms": {"template": "text", "parameters": {"text": "Your order shipped"}}},
    "message_type": "ARN",
}
TEXT = {"messageType": "RCS_TEXT", "destination": "15559876543", "messageText": "Hello"}
GUID = AERIALINK_ACCEPTED["data"]["results"][0]["messageGUID"]  # type: ignore[index]
TOKEN = base64.b64encode(f"{CUSTOMER_ID}:{API_KEY}".encode()).decode()
ACCEPTED = Reply(200, TELESIGN_ACCEPTED)
NO_JITTER = {"backoff_factor": 0.2, "backoff_jitter": 0}


@pytest.fixture
def telesign_id(make_conn: ConnFactory) -> str:
    return make_conn("telesign", "https://telesign.test", CUSTOMER_ID, API_KEY, extra={"timeout": 2, "max_retries": 2})


@pytest.fixture
def aerialink_id(make_conn: ConnFactory) -> str:
    extra = {"timeout": 2, "max_retries": 2, "default_source": "CONVEY"}
    return make_conn("aerialink", "https://aerialink.test", AERIALINK_USER, AERIALINK_SECRET, extra=extra)


def telesign(
    conn_id: str, *steps: Reply | object, default: Reply = ACCEPTED, **kwargs: object
) -> Offline[TelesignHook]:
    return offline(TelesignHook, conn_id, *steps, default=default, **kwargs)  # type: ignore[arg-type]


# ---- the seam itself ----------------------------------------------------------------------


def test_the_session_sends_through_the_transport(telesign_id: str) -> None:
    sent = telesign(telesign_id)
    assert sent.hook.send_omnichannel(SMS_ONLY).reference_id == TELESIGN_ACCEPTED["reference_id"]

    [request] = sent.requests
    assert (request.method, request.url) == ("POST", f"https://telesign.test{SEND_PATH}")
    assert request.headers["Authorization"] == f"Basic {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert sent.transport.timeouts == [(5.0, 2.0)]  # (connect, read) from the connection's extras
    assert sent.sleeps == []


def test_invalid_dict_fails_before_any_attempt(telesign_id: str) -> None:
    sent = telesign(telesign_id)
    with pytest.raises(PayloadValidationError):
        sent.hook.send_omnichannel({**SMS_ONLY, "message_type": "NOPE"})
    assert sent.requests == []


# ---- answers that are final ---------------------------------------------------------------


def test_vendor_400_with_codes_is_not_retried(telesign_id: str) -> None:
    body = {
        "reference_id": "0123456789ABCDEF0123456789ABCDEF",
        "status": {"code": 3101, "description": "Invalid phone_number"},
        "errors": [{"code": 3101, "description": "Invalid phone_number"}, {"code": 3104, "description": "x"}],
    }
    sent = telesign(telesign_id, Reply(400, body))

    with pytest.raises(VendorAPIError) as err:
        sent.hook.send_omnichannel(SMS_ONLY)

    exc = err.value
    assert type(exc) is VendorAPIError
    assert (exc.http_status, exc.code, exc.description) == (400, 3101, "Invalid phone_number")
    assert exc.reference_id == "0123456789ABCDEF0123456789ABCDEF"
    assert [e.message for e in exc.field_errors] == ["3101 Invalid phone_number", "3104 x"]
    assert (len(sent.requests), sent.sleeps) == (1, [])


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials(telesign_id: str, status: int) -> None:
    sent = telesign(telesign_id, Reply(status, {"status": {"code": 3400, "description": "Not authorized"}}))

    with pytest.raises(AuthenticationError) as err:
        sent.hook.send_omnichannel(SMS_ONLY)

    assert (err.value.http_status, err.value.code) == (status, 3400)
    assert len(sent.requests) == 1


@pytest.mark.parametrize(
    ("status", "expected"), [(500, VendorServerError), (502, SendOutcomeUnknownError), (504, SendOutcomeUnknownError)]
)
def test_other_5xx_are_not_retried(telesign_id: str, status: int, expected: type[Exception]) -> None:
    sent = telesign(telesign_id, Reply(status, "upstream trouble"))

    with pytest.raises(expected) as err:
        sent.hook.send_omnichannel(SMS_ONLY)

    assert type(err.value) is expected
    assert (len(sent.requests), sent.sleeps) == (1, [])
    if status == 500:
        assert err.value.description == "upstream trouble"  # type: ignore[attr-defined]
    else:
        assert f"gateway answered HTTP {status}" in str(err.value)


def test_2xx_that_is_not_an_acceptance(telesign_id: str) -> None:
    sent = telesign(
        telesign_id,
        Reply(200, {"status": {"code": 3006, "description": "No channel enabled"}}),
        Reply(200, "<html>proxy</html>"),
    )
    with pytest.raises(VendorAPIError) as err:
        sent.hook.send_omnichannel(SMS_ONLY)
    assert err.value.code == 3006

    with pytest.raises(SendOutcomeUnknownError):
        sent.hook.send_omnichannel(SMS_ONLY)
    assert len(sent.requests) == 2


# ---- answers that are retried -------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(telesign_id: str) -> None:
    limited = Reply(429, {"status": {"code": 3204, "description": "Rate limit"}}, headers={"Retry-After": "1"})
    sent = telesign(telesign_id, limited)

    assert sent.hook.send_omnichannel(SMS_ONLY).accepted

    assert sent.sleeps == [1.0]  # as told, not the backoff
    first, second = sent.requests
    assert first.body == second.body


def test_503_is_retried_with_backoff(telesign_id: str) -> None:
    sent = telesign(
        telesign_id, Reply(503, {"status": {"code": 3500, "description": "System unavailable"}}), **NO_JITTER
    )

    assert sent.hook.send_omnichannel(SMS_ONLY).accepted

    assert len(sent.requests) == 2
    assert sent.sleeps == [0.2]  # the first retry already backs off


def test_backoff_doubles_between_retries(telesign_id: str) -> None:
    busy = Reply(503, {"status": {"code": 3500}})
    sent = telesign(telesign_id, busy, busy, busy, max_retries=3, **NO_JITTER)

    assert sent.hook.send_omnichannel(SMS_ONLY).accepted

    assert sent.sleeps == [0.2, 0.4, 0.8]
    assert len(sent.requests) == 4


def test_429_after_retries_run_out(telesign_id: str) -> None:
    sent = telesign(telesign_id, default=Reply(429, {"status": {"code": 3204, "description": "Rate limit exceeded"}}))

    with pytest.raises(RateLimitError) as err:
        sent.hook.send_omnichannel(SMS_ONLY)

    assert (err.value.code, err.value.http_status) == (3204, 429)
    assert len(sent.requests) == 3  # max_retries=2 from the connection
    assert len(sent.sleeps) == 2


def test_long_retry_after_is_not_slept_on_the_worker(telesign_id: str) -> None:
    sent = telesign(telesign_id, default=Reply(429, {"status": {"code": 3204}}, headers={"Retry-After": "3600"}))

    with pytest.raises(RateLimitError) as err:
        sent.hook.send_omnichannel(SMS_ONLY)

    assert err.value.retry_after == 3600
    assert (len(sent.requests), sent.sleeps) == (1, [])


def test_503_with_retry_after_waits_as_told(telesign_id: str) -> None:
    sent = telesign(telesign_id, Reply(503, {"status": {"code": 3500}}, headers={"Retry-After": "3"}), **NO_JITTER)
    assert sent.hook.send_omnichannel(SMS_ONLY).accepted
    assert sent.sleeps == [3.0]


def test_the_hooks_backoff_settings_reach_the_policy(telesign_id: str) -> None:
    busy = Reply(503, {"status": {"code": 3500}})
    sent = telesign(telesign_id, busy, busy, busy, max_retries=3, backoff_factor=1, backoff_jitter=0, backoff_max=1.5)
    assert sent.hook.send_omnichannel(SMS_ONLY).accepted
    assert sent.sleeps == [1.0, 1.5, 1.5]

    limited = Reply(429, {"status": {"code": 3204}}, headers={"Retry-After": "7"})
    sent = telesign(telesign_id, default=limited, max_retry_after=5)
    with pytest.raises(RateLimitError) as err:
        sent.hook.send_omnichannel(SMS_ONLY)
    assert (err.value.retry_after, len(sent.requests), sent.sleeps) == (7, 1, [])


def test_503_after_retries_run_out(telesign_id: str) -> None:
    sent = telesign(telesign_id, default=Reply(503, {"status": {"code": 3041, "description": "Provider failed"}}))

    with pytest.raises(VendorServerError) as err:
        TelesignHook(telesign_id, max_retries=1, transport=sent.transport, sleep=sent.sleeps.append).send_omnichannel(
            SMS_ONLY
        )

    assert err.value.code == 3041
    assert len(sent.requests) == 2


# ---- transport failures -------------------------------------------------------------------


def test_connection_refused_is_retried_then_unavailable(telesign_id: str) -> None:
    sent = telesign(telesign_id, default=connect_refused, **NO_JITTER)

    with pytest.raises(VendorUnavailableError) as err:
        sent.hook.send_omnichannel(SMS_ONLY)

    assert "cannot connect" in str(err.value)
    assert "Connection refused" in str(err.value)
    assert len(sent.requests) == 3  # nothing was sent: retried max_retries times
    assert sent.sleeps == [0.2, 0.4]


def test_connection_refused_then_accepted(telesign_id: str) -> None:
    sent = telesign(telesign_id, connect_refused)
    assert sent.hook.send_omnichannel(SMS_ONLY).accepted
    assert len(sent.requests) == 2


def test_connect_timeout_is_retried_then_unavailable(telesign_id: str) -> None:
    def connect_timeout(request: requests.PreparedRequest) -> None:
        raise requests.exceptions.ConnectTimeout("timed out", request=request)

    sent = telesign(telesign_id, default=connect_timeout)
    with pytest.raises(VendorUnavailableError, match="within the connect timeout"):
        sent.hook.send_omnichannel(SMS_ONLY)
    assert len(sent.requests) == 3


def test_tls_failure_is_unavailable_and_not_retried(telesign_id: str) -> None:
    def tls(request: requests.PreparedRequest) -> None:
        raise requests.exceptions.SSLError("certificate verify failed", request=request)

    sent = telesign(telesign_id, default=tls)
    with pytest.raises(VendorUnavailableError, match="TLS handshake"):
        sent.hook.send_omnichannel(SMS_ONLY)
    assert len(sent.requests) == 1


@pytest.mark.parametrize("failure", [read_timeout, dropped], ids=["read-timeout", "dropped"])
def test_sent_without_answer_is_unknown_outcome_and_never_resent(telesign_id: str, failure: object) -> None:
    sent = telesign(telesign_id, failure, max_retries=3)  # the next attempt would be accepted

    with pytest.raises(SendOutcomeUnknownError) as err:
        sent.hook.send_omnichannel(SMS_ONLY)

    assert "may have accepted it. Not re-sent." in str(err.value)
    assert (len(sent.requests), sent.sleeps) == (1, [])


def test_read_timeout_names_the_timeout(telesign_id: str) -> None:
    sent = telesign(telesign_id, read_timeout)
    with pytest.raises(SendOutcomeUnknownError, match="no answer within 2s"):
        sent.hook.send_omnichannel(SMS_ONLY)


# ---- secrets, connection test -------------------------------------------------------------


def test_secrets_never_in_logs_or_errors(telesign_id: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sent = telesign(
        telesign_id,
        Reply(429, {"status": {"code": 3204}}),
        Reply(401, {"status": {"code": 3400, "description": f"Invalid API key {API_KEY}"}}),
        dropped,
        max_retries=1,
    )
    hook = sent.hook
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


def test_test_connection_never_posts(telesign_id: str) -> None:
    sent = telesign(telesign_id, Reply(404, {"status": {"code": 3200, "description": "not found"}}))
    ok, message = sent.hook.test_connection()
    assert ok, message

    sent.transport.enqueue(Reply(401, {"status": {"code": 3400, "description": "Not authorized"}}))
    ok, message = sent.hook.test_connection()
    assert not ok
    assert "refused" in message

    assert {r.method for r in sent.requests} == {"GET"}
    assert all((r.path_url or "").startswith("/v1/messaging/") for r in sent.requests)
    assert all(r.headers["Authorization"] == f"Basic {TOKEN}" for r in sent.requests)


def test_test_connection_reports_other_answers(telesign_id: str) -> None:
    sent = telesign(telesign_id, default=Reply(500, {"status": {"code": 3500, "description": "Down for maintenance"}}))
    ok, message = sent.hook.test_connection()
    assert not ok
    assert "HTTP 500" in message and "Down for maintenance" in message


def test_test_connection_unreachable(telesign_id: str) -> None:
    ok, message = telesign(telesign_id, default=connect_refused, max_retries=0).hook.test_connection()
    assert not ok
    assert "cannot connect" in message


# ---- Aerialink ----------------------------------------------------------------------------


def aerialink(conn_id: str, *steps: Reply | object, **kwargs: object) -> Offline[AerialinkHook]:
    return offline(AerialinkHook, conn_id, *steps, default=Reply(200, AERIALINK_ACCEPTED), **kwargs)  # type: ignore[arg-type]


def test_aerialink_400_lists_every_field(aerialink_id: str) -> None:
    sent = aerialink(aerialink_id, Reply(400, load("aerialink_error_choices")))

    with pytest.raises(VendorAPIError) as err:
        sent.hook.send_message(load("aerialink_rcs_text"))

    exc = err.value
    assert exc.http_status == 400
    assert exc.description == "Missing or invalid parameters in body"
    assert [e.field for e in exc.field_errors] == [
        "choices.0.webviewViewMode",
        "choices.1.postbackData",
        "choices.2.phoneNumber",
    ]
    assert "When choice type is DIAL_PHONE, 'phoneNumber' is required" in str(exc)
    assert len(sent.requests) == 1


def test_aerialink_401(aerialink_id: str) -> None:
    sent = aerialink(aerialink_id, Reply(401, {"status": "error", "message": "Unauthorized"}))

    with pytest.raises(AuthenticationError) as err:
        sent.hook.send_message(TEXT)

    assert err.value.description == "Unauthorized"
    assert AERIALINK_SECRET not in str(err.value)


def test_aerialink_429_then_success(aerialink_id: str) -> None:
    limited = Reply(429, {"status": "error", "message": "Too many requests"}, headers={"Retry-After": "1"})
    sent = aerialink(aerialink_id, limited)

    assert sent.hook.send_message(TEXT).guids == [GUID]

    assert sent.sleeps == [1.0]
    assert [r.path_url for r in sent.requests] == [AERIALINK_PATH] * 2


def test_aerialink_success_without_guid_is_unknown_outcome(aerialink_id: str) -> None:
    sent = aerialink(aerialink_id, Reply(200, {"status": "success", "data": {"results": []}}))
    with pytest.raises(SendOutcomeUnknownError):
        sent.hook.send_message(TEXT)
    assert len(sent.requests) == 1
