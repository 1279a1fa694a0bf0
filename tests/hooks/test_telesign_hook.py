"""TelesignHook against a real local HTTP server: every message type on the wire, auth, accessors.

Errors and retries: ``test_error_mapping`` (in-process); pooling and real failures: ``test_http_layer``.
"""

from __future__ import annotations

import base64

import pytest

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.hooks.telesign import SEND_PATH, TelesignHook
from airflow_provider_messaging.models.telesign import OmnichannelRequest
from tests.hooks.conftest import API_KEY, CUSTOMER_ID, TELESIGN_ACCEPTED, ConnFactory
from tests.support.http_server import LocalHttpServer, Recorded
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
