"""Callback delivery (retries, auth, records), inbound injection, control routes, lifecycle, CLI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import time

import pytest
import requests

from airflow_provider_messaging.sandbox import SandboxConfig, SandboxServer, main, serve
from airflow_provider_messaging.sandbox.server import config_from_args
from tests import vendor_examples
from tests.sandbox.sandbox_support import Clients, make_config
from tests.support.http_server import LocalHttpServer, Recorded, Reply
from tests.support.ports import free_port
from tests.support.waiting import wait_for


def _deliver_one(clients: Clients) -> str:
    body = vendor_examples.load("telesign_call_button_request")
    body["phone_number"] = "15558675301"
    return str(clients.telesign(body).json()["reference_id"])


def test_callback_is_retried_after_500_then_delivered(
    clients: Clients, receiver: LocalHttpServer, sandbox: SandboxServer
) -> None:
    receiver.enqueue(Reply(500, {}), Reply(503, {}))
    reference_id = _deliver_one(clients)
    attempts = sandbox.wait_for_callbacks(3, message_id=reference_id)
    assert [(a["attempt"], a["status_code"], a["delivered"]) for a in attempts] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert len({a["raw_body"] for a in attempts}) == 1  # the same bytes each time
    assert [r.status for r in receiver.requests] == [500, 503, 200]


def test_callback_gives_up_after_four_attempts(
    clients: Clients, receiver: LocalHttpServer, sandbox: SandboxServer
) -> None:
    receiver.enqueue(Reply(500, {}), Reply(500, {}), Reply(500, {}), Reply(500, {}), Reply(500, {}))
    reference_id = _deliver_one(clients)
    assert sandbox.wait_idle(5)
    attempts = [a for a in sandbox.callbacks() if a["message_id"] == reference_id]
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4]
    assert not any(a["delivered"] for a in attempts)


def test_connection_errors_are_recorded_and_retried(receiver: LocalHttpServer) -> None:
    dead_port = free_port()
    config = make_config(receiver, telesign_status_url=f"http://127.0.0.1:{dead_port}/telesign/status")
    with SandboxServer(config) as server:
        client = Clients(server)
        reference_id = _deliver_one(client)
        attempts = server.wait_for_callbacks(4, message_id=reference_id, timeout=10)
        assert all(a["status_code"] is None and "ConnectionError" in a["error"] for a in attempts)
        client.session.close()


def test_callbacks_route_lists_attempts(clients: Clients, sandbox: SandboxServer) -> None:
    reference_id = _deliver_one(clients)
    sandbox.wait_for_callbacks(1, message_id=reference_id)
    (record,) = requests.get(f"{sandbox.url}/sandbox/callbacks", timeout=5).json()
    assert record["url"].endswith("/telesign/status")
    assert record["status_code"] == 200
    assert record["body"]["reference_id"] == reference_id
    assert record["event"] == "3000"


def test_aerialink_callbacks_carry_basic_auth_and_extra_headers(receiver: LocalHttpServer) -> None:
    config = make_config(receiver, callback_username="hook", callback_password="pw", callback_headers={"X-Env": "demo"})
    with SandboxServer(config) as server:
        client = Clients(server)
        body = vendor_examples.load("aerialink_rcs_text")
        body["destination"] = "15559876541"
        client.aerialink(body)
        (received,) = receiver.wait_for_requests(1, route="/aerialink/status")
        assert received.headers["authorization"] == "Basic " + base64.b64encode(b"hook:pw").decode()
        assert received.headers["x-env"] == "demo"
        assert server.wait_for_callbacks(1)[0]["headers"]["Authorization"] == "Basic <redacted>"
        client.session.close()


def test_telesign_callbacks_can_be_sent_as_get_with_a_body(receiver: LocalHttpServer) -> None:
    with SandboxServer(make_config(receiver, telesign_callback_method="GET")) as server:
        client = Clients(server)
        reference_id = _deliver_one(client)
        (received,) = receiver.wait_for_requests(1, route="/telesign/status")
        assert received.method == "GET"
        assert received.json()["reference_id"] == reference_id
        client.session.close()


# -- inbound injection -------------------------------------------------------------------------
def _inject(sandbox: SandboxServer, **spec: str) -> dict:
    response = requests.post(f"{sandbox.url}/sandbox/inbound", json=spec, timeout=5)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _signed(received: Recorded, sandbox: SandboxServer) -> bool:
    key = base64.b64decode(sandbox.config.telesign_api_key)
    expected = base64.b64encode(hmac.new(key, received.body, hashlib.sha256).digest()).decode()
    return bool(received.headers["x-ts-authorization"] == expected)


def test_inbound_rcs_stop_has_the_doc_shape(sandbox: SandboxServer, receiver: LocalHttpServer) -> None:
    sent = _inject(sandbox, vendor="telesign", channel="rcs", phone_number="15558675301", action="stop")
    (received,) = receiver.wait_for_requests(1, route="/telesign/inbound")
    assert received.json() == sent["body"]
    assert _signed(received, sandbox)
    doc = vendor_examples.load("telesign_inbound_rcs_stop")
    assert set(received.json()) == set(doc)
    assert received.json()["content"]["end_user_action"].keys() == doc["content"]["end_user_action"].keys()
    assert received.json()["content"]["end_user_action"]["action"] == "stop"
    assert received.json()["status"]["code"] == 1500
    assert received.json()["sub_resource"] == "mo_rcs"


def test_inbound_keyword_is_detected_from_text(sandbox: SandboxServer) -> None:
    sent = _inject(sandbox, vendor="telesign", channel="whatsapp", phone_number="15558675301", text="Unsubscribe")
    action = sent["body"]["content"]["end_user_action"]
    assert (action["action"], action["keyword"], action["text"]) == ("stop", "unsubscribe", "Unsubscribe")
    assert set(sent["body"]) == set(vendor_examples.load("telesign_inbound_whatsapp_stop"))


def test_inbound_whatsapp_text_has_the_doc_shape(sandbox: SandboxServer) -> None:
    sent = _inject(sandbox, vendor="telesign", channel="whatsapp", phone_number="15558675301", text="Thank you")
    doc = vendor_examples.load("telesign_inbound_whatsapp_text")
    assert set(sent["body"]) == set(doc)
    assert sent["body"]["content"] == doc["content"]


def test_inbound_sms_has_the_doc_shape(sandbox: SandboxServer) -> None:
    sent = _inject(sandbox, vendor="telesign", channel="sms", phone_number="15558675301", text="Start")
    doc = vendor_examples.load("telesign_inbound_sms_keyword")
    assert set(sent["body"]) == set(doc)
    assert sent["body"]["user_response"].keys() == doc["user_response"].keys()
    assert (sent["body"]["user_response"]["action"], sent["body"]["user_response"]["mo_message"]) == ("start", "Start")


def test_inbound_rcs_postback_and_aerialink_mo(sandbox: SandboxServer, receiver: LocalHttpServer) -> None:
    rcs = _inject(
        sandbox, vendor="telesign", channel="rcs", phone_number="15558675301", postback="yes_response", text="Yes"
    )
    assert rcs["body"]["content"] == {"suggestion_response": {"postback_data": "yes_response", "text": "Yes"}}
    sent = _inject(
        sandbox, vendor="aerialink", channel="rcs", phone_number="15559876543", text="YES", postback="yes_response"
    )
    (received,) = receiver.wait_for_requests(1, route="/aerialink/inbound")
    assert received.query == {"token": ["s3cret"]}
    assert list(received.json()) == [
        "messageGUID", "source", "destination", "messageType", "messageText", "postbackData", "timestamp"
    ]  # fmt: skip
    assert received.json() == sent["body"]
    assert (received.json()["source"], received.json()["destination"]) == ("15559876543", "CONVEY")


def test_inbound_rejects_bad_requests(sandbox: SandboxServer) -> None:
    url = f"{sandbox.url}/sandbox/inbound"
    assert requests.post(url, json={"vendor": "acme", "phone_number": "1"}, timeout=5).status_code == 400
    assert (
        requests.post(url, json={"vendor": "telesign", "channel": "fax", "phone_number": "1"}, timeout=5).status_code
        == 400
    )
    assert requests.post(url, json={"vendor": "telesign", "channel": "rcs"}, timeout=5).status_code == 400
    assert (
        requests.post(url, json={"vendor": "telesign", "phone_number": "1", "action": "x"}, timeout=5).status_code
        == 400
    )


def test_inbound_without_a_url_is_409() -> None:
    with SandboxServer(SandboxConfig()) as server:
        response = requests.post(
            f"{server.url}/sandbox/inbound", json={"vendor": "telesign", "phone_number": "15551234567"}, timeout=5
        )
        assert response.status_code == 409


# -- control routes and lifecycle ---------------------------------------------------------------
def test_reset_and_health(clients: Clients, sandbox: SandboxServer) -> None:
    _deliver_one(clients)
    sandbox.wait_for_callbacks(1)
    health = requests.get(f"{sandbox.url}/sandbox/health", timeout=5).json()
    assert health["status"] == "ok" and len(health["scenarios"]) == 10
    assert requests.post(f"{sandbox.url}/sandbox/reset", timeout=5).status_code == 200
    assert sandbox.requests() == [] and sandbox.callbacks() == []


def test_reset_forgets_the_rate_limit_memory(clients: Clients, sandbox: SandboxServer) -> None:
    body = vendor_examples.load("telesign_call_button_request")
    body["phone_number"] = "15558675308"
    assert clients.telesign(body).status_code == 429
    sandbox.reset()
    assert clients.telesign(body).status_code == 429


def test_stop_leaves_no_thread_running(receiver: LocalHttpServer) -> None:
    before = set(threading.enumerate())
    server = SandboxServer(make_config(receiver, base_delay_s=5.0)).start()
    client = Clients(server)
    _deliver_one(client)  # leaves a callback pending
    client.session.close()
    server.stop()
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/sandbox/health", timeout=2)


def test_a_stopped_server_can_start_again(receiver: LocalHttpServer) -> None:
    server = SandboxServer(make_config(receiver))
    server.start().stop()
    with server:
        client = Clients(server)
        reference_id = _deliver_one(client)
        server.wait_for_callbacks(1, message_id=reference_id, delivered=True)
        client.session.close()


def test_start_is_quick_and_two_servers_get_two_ports() -> None:
    started = time.monotonic()
    with SandboxServer() as a, SandboxServer() as b:
        assert time.monotonic() - started < 5
        assert a.port != b.port
        assert requests.get(f"{a.url}/sandbox/health", timeout=5).json()["status"] == "ok"


def test_cli_arguments_build_the_config() -> None:
    config = config_from_args(
        ["--port", "0", "--time-scale", "0.01", "--receiver-url", "http://127.0.0.1:9000/messaging",
         "--callback-token", "t k", "--aerialink-status-url", "http://x/y", "--callback-header", "X-A: 1"]
    )  # fmt: skip
    assert config.port == 0 and config.time_scale == 0.01
    assert config.telesign_status_url == "http://127.0.0.1:9000/messaging/telesign/status?token=t%20k"
    assert config.aerialink_inbound_url == "http://127.0.0.1:9000/messaging/aerialink/inbound?token=t%20k"
    assert config.aerialink_status_url == "http://x/y"
    assert config.callback_headers == {"X-A": "1"}
    with pytest.raises(SystemExit):
        main(["--telesign-api-key", "not base64!"])


def test_serve_runs_until_told_to_stop(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="airflow_provider_messaging.sandbox.server")
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(serve(SandboxConfig(port=0), stop)))
    thread.start()
    try:
        wait_for(lambda: "listening on" in caplog.text, 5, "the sandbox's banner")
    finally:
        stop.set()
    thread.join(5)
    assert "Messaging sandbox listening on http://127.0.0.1:" in caplog.text
    assert "api key" in caplog.text and "sandbox-secret" not in caplog.text  # the banner never shows secrets
    assert result == [0]
    assert not thread.is_alive()
