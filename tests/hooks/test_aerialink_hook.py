"""AerialinkHook against a real local HTTP server: every message type, defaults, auth, connection test.

Field errors, 401, 429 and unknown outcomes: ``test_error_mapping`` (in-process, through a scripted transport).
"""

from __future__ import annotations

import base64

import pytest

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.hooks.aerialink import SEND_PATH, AerialinkHook
from airflow_provider_messaging.models.aerialink import parse_message
from tests.hooks.conftest import AERIALINK_ACCEPTED, AERIALINK_SECRET, AERIALINK_USER, ConnFactory
from tests.support.http_server import LocalHttpServer, Reply
from tests.vendor_examples import load

MESSAGES = ["aerialink_rcs_text", "aerialink_rcs_media", "aerialink_rcs_card", "aerialink_rcs_carousel"]
GUID = AERIALINK_ACCEPTED["data"]["results"][0]["messageGUID"]  # type: ignore[index]
TEXT = {"messageType": "RCS_TEXT", "destination": "15559876543", "messageText": "Hello"}


@pytest.mark.parametrize("as_model", [False, True], ids=["dict", "model"])
@pytest.mark.parametrize("name", MESSAGES)
def test_send_every_message_type(server: LocalHttpServer, aerialink_conn: str, name: str, as_model: bool) -> None:
    payload = load(name)
    message = parse_message(payload) if as_model else payload

    answer = AerialinkHook(aerialink_conn).send_message(message)

    assert answer.guids == [GUID]
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", SEND_PATH)
    assert sent.json() == parse_message(payload).to_wire()
    token = base64.b64encode(f"{AERIALINK_USER}:{AERIALINK_SECRET}".encode()).decode()
    assert sent.headers["authorization"] == f"Basic {token}"


def test_source_and_callback_url_from_connection(
    server: LocalHttpServer, make_conn: ConnFactory, aerialink_conn: str
) -> None:
    conn_id = make_conn(
        "aerialink",
        server.url,
        AERIALINK_USER,
        AERIALINK_SECRET,
        extra={"default_source": "CONVEY", "callback_url": "https://airflow.example.com/messaging/aerialink/status"},
    )
    hook = AerialinkHook(conn_id)
    assert hook.default_source == "CONVEY"

    hook.send_message(TEXT)
    hook.send_message({**TEXT, "source": "OTHER", "callbackURL": "https://cb.example.com/x"})
    hook.send_message(parse_message({**TEXT, "source": "MODEL"}))

    first, second, third = (r.json() for r in server.requests)
    assert (first["source"], first["callbackURL"]) == ("CONVEY", hook.callback_url)
    assert (second["source"], second["callbackURL"]) == ("OTHER", "https://cb.example.com/x")
    assert (third["source"], third["callbackURL"]) == ("MODEL", hook.callback_url)


def test_without_defaults_source_is_required(server: LocalHttpServer, make_conn: ConnFactory) -> None:
    conn_id = make_conn("aerialink", server.url, AERIALINK_USER, AERIALINK_SECRET)
    hook = AerialinkHook(conn_id)
    assert (hook.default_source, hook.callback_url) == (None, None)

    with pytest.raises(PayloadValidationError) as err:
        hook.send_message(TEXT)

    assert "source" in err.value.fields
    assert server.requests == []


def test_test_connection(server: LocalHttpServer, aerialink_conn: str) -> None:
    server.default = Reply(400, load("aerialink_error_simple"))
    ok, message = AerialinkHook(aerialink_conn).test_connection()
    assert ok, message

    server.default = Reply(401, {"status": "error", "message": "Unauthorized"})
    ok, message = AerialinkHook(aerialink_conn).test_connection()
    assert not ok
    assert "refused" in message

    # The only request is the empty body, which the vendor cannot turn into a message.
    assert [(r.method, r.path, r.body) for r in server.requests] == [("POST", SEND_PATH, b"{}")] * 2


def test_versioned_host_is_not_doubled(server: LocalHttpServer, make_conn: ConnFactory) -> None:
    conn_id = make_conn("aerialink", f"{server.url}/v5/", AERIALINK_USER, AERIALINK_SECRET)
    server.default = Reply(200, AERIALINK_ACCEPTED)

    AerialinkHook(conn_id).send_message({**TEXT, "source": "CONVEY"})

    assert server.requests[0].path == "/v5/messages"


def test_default_host(make_conn: ConnFactory) -> None:
    hook = AerialinkHook(make_conn("aerialink", None, AERIALINK_USER, AERIALINK_SECRET))
    assert hook.url(SEND_PATH) == "https://apix5.aerialink.net/v5/messages"
    assert AerialinkHook().aerialink_conn_id == "aerialink_default"
