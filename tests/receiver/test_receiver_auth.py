"""Callback authentication over real HTTP: Telesign HMAC signatures, shared token, Basic credentials, fail closed."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_messaging.receiver.app import create_app
from airflow_provider_messaging.receiver.auth import CallbackAuth, telesign_signature
from airflow_provider_messaging.store import MessageStore
from tests.receiver.receiver_support import (
    API_KEY,
    CUSTOMER_ID,
    PASSWORD,
    TOKEN,
    USERNAME,
    Receiver,
    body_of,
    counts,
    signed_headers,
)
from tests.support.uvicorn_server import serve_app
from tests.vendor_examples import load

ROUTES = ["/telesign/status", "/telesign/inbound", "/aerialink/status", "/aerialink/inbound"]
DELIVERY = body_of(load("telesign_delivery_callback_rcs_sms"))
AERIALINK = body_of({"messageGUID": "g-1", "status": "SUCCESS", "channel": "RCS"})


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def post(receiver: Receiver, path: str, body: bytes, headers: dict[str, str], **kwargs: Any) -> requests.Response:
    return receiver.session.post(
        receiver.url + path, data=body, headers={"Content-Type": "application/json", **headers}, timeout=30, **kwargs
    )


@pytest.mark.parametrize("form", ["x-ts", "tsa", "both"])
def test_valid_telesign_signature(receiver: Receiver, form: str) -> None:
    response = post(receiver, "/telesign/status", DELIVERY, signed_headers(DELIVERY, form=form))
    assert response.status_code == 200, response.text
    assert receiver.store.count("callbacks") == 1


def test_signature_header_variants(sqlite_receiver: Receiver) -> None:
    signature = telesign_signature(DELIVERY, API_KEY)
    for headers in (
        {"x-ts-authorization": signature},
        {"Authorization": f"tsa {CUSTOMER_ID}:{signature}"},
        {"Authorization": f"TSA {CUSTOMER_ID}: {signature} "},
        {"X-TS-Authorization": f"{signature} "},
    ):
        assert post(sqlite_receiver, "/telesign/status", DELIVERY, headers).status_code == 200, headers


def _rejected(receiver: Receiver, path: str, body: bytes, headers: dict[str, str], **kwargs: Any) -> None:
    before = counts(receiver.store)
    response = post(receiver, path, body, headers, **kwargs)
    assert response.status_code == 401, (headers, response.text)
    assert response.json() == {"status": "error", "reason": "callback not authenticated"}
    assert counts(receiver.store) == before


OTHER_KEY = base64.b64encode(b"another-customer-key").decode()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing-headers"),
        pytest.param({"X-TS-Authorization": ""}, id="empty-signature"),
        pytest.param({"X-TS-Authorization": base64.b64encode(b"x" * 32).decode()}, id="wrong-signature"),
        pytest.param(
            {"X-TS-Authorization": telesign_signature(b'{"reference_id": "other"}', API_KEY)}, id="other-body"
        ),
        pytest.param({"X-TS-Authorization": telesign_signature(DELIVERY, OTHER_KEY)}, id="other-key"),
        pytest.param(signed_headers(DELIVERY, form="tsa", customer="00000000-WRONG"), id="wrong-customer-id"),
        pytest.param({"Authorization": f"TSA {CUSTOMER_ID}:"}, id="tsa-without-signature"),
        pytest.param({"Authorization": f"Bearer {telesign_signature(DELIVERY, API_KEY)}"}, id="bearer"),
        pytest.param({"Authorization": basic(USERNAME, "wrong")}, id="wrong-basic-password"),
        pytest.param({"Authorization": basic("intruder", PASSWORD)}, id="wrong-basic-user"),
        pytest.param({"Authorization": "Basic %%%not-base64"}, id="garbled-basic"),
    ],
)
def test_bad_telesign_credentials_are_rejected_and_write_nothing(receiver: Receiver, headers: dict[str, str]) -> None:
    _rejected(receiver, "/telesign/status", DELIVERY, headers)
    _rejected(receiver, "/telesign/inbound", body_of(load("telesign_inbound_rcs_stop")), headers)
    assert not receiver.store.is_opted_out("telesign", "11234567890")


def test_a_signature_is_bound_to_its_body(sqlite_receiver: Receiver) -> None:
    headers = signed_headers(DELIVERY)
    tampered = DELIVERY.replace(b'"code": 3000', b'"code": 3003')
    assert tampered != DELIVERY
    _rejected(sqlite_receiver, "/telesign/status", tampered, headers)
    # re-serialised JSON (same data, other bytes) does not match either
    _rejected(sqlite_receiver, "/telesign/status", json.dumps(json.loads(DELIVERY)).encode(), headers)


def test_shared_token_and_basic_credentials_open_aerialink_only(receiver: Receiver) -> None:
    assert post(receiver, "/aerialink/status", AERIALINK, {}, params={"token": TOKEN}).status_code == 200
    assert (
        post(receiver, "/aerialink/status", AERIALINK, {"Authorization": basic(USERNAME, PASSWORD)}).status_code == 200
    )
    assert receiver.store.count("callbacks") == 2
    # the shared secret travels in Aerialink's callbackURL: it must not forge a Telesign callback,
    # least of all an inbound START that clears an opt-out
    receiver.store.add_opt_out("telesign", "11234567890")
    start = body_of(load("telesign_inbound_rcs_stop")).replace(b'"STOP"', b'"START"').replace(b'"stop"', b'"start"')
    for path, body in (("/telesign/status", DELIVERY), ("/telesign/inbound", start)):
        _rejected(receiver, path, body, {}, params={"token": TOKEN})
        _rejected(receiver, path, body, {"Authorization": basic(USERNAME, PASSWORD)})
    assert receiver.store.is_opted_out("telesign", "11234567890")
    # the genuine (signed) START does clear it: the refusal above was the credential, not the body
    assert post(receiver, "/telesign/inbound", start, signed_headers(start)).status_code == 200
    assert not receiver.store.is_opted_out("telesign", "11234567890")


@pytest.mark.parametrize(
    "served",
    [CallbackAuth(token=TOKEN, username=USERNAME, password=PASSWORD, secret_vendors=("aerialink", "telesign"))],
    indirect=True,
    ids=["secret-for-telesign-too"],
)
def test_shared_secret_on_telesign_only_when_configured(served: Receiver) -> None:
    assert post(served, "/telesign/status", DELIVERY, {}, params={"token": TOKEN}).status_code == 200
    assert post(served, "/telesign/status", DELIVERY, {"Authorization": basic(USERNAME, PASSWORD)}).status_code == 200


def test_secret_vendors_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__MESSAGING__CALLBACK_SECRET_VENDORS", raising=False)
    assert CallbackAuth.from_config().secret_vendors == ("aerialink",)
    monkeypatch.setenv("AIRFLOW__MESSAGING__CALLBACK_SECRET_VENDORS", " Telesign, aerialink ")
    assert CallbackAuth.from_config().secret_vendors == ("aerialink", "telesign")
    monkeypatch.setenv("AIRFLOW__MESSAGING__CALLBACK_SECRET_VENDORS", "none")
    assert CallbackAuth.from_config().secret_vendors == ()


def _raw_post(url: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
    """POST with header bytes exactly as given (requests would re-encode a non-ASCII value)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        sock.sendall(
            b"POST "
            + path.encode()
            + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n".encode()
            + head
            + b"\r\n"
            + body
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


@pytest.mark.parametrize(
    "authorization",
    ["TSA ü:x".encode(), "TSA ü:x".encode("latin-1"), b"TSA \xff\xfe:\xc3\xa9", "Basic ü".encode()],
    ids=["utf8-customer", "latin1-customer", "garbage-bytes", "basic-non-ascii"],
)
def test_non_ascii_credentials_get_401_without_a_traceback(
    sqlite_receiver: Receiver, authorization: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    for path in ("/telesign/status", "/aerialink/status"):
        status, answer = _raw_post(
            sqlite_receiver.url,
            path,
            [(b"Authorization", authorization), (b"Content-Type", b"application/json")],
            DELIVERY,
        )
        assert status == 401, answer
        assert b"callback not authenticated" in answer
    assert counts(sqlite_receiver.store)["callbacks"] == 0
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        pytest.param({}, {}, id="nothing"),
        pytest.param({}, {"token": "wrong"}, id="wrong-token"),
        pytest.param({}, {"token": ""}, id="empty-token"),
        pytest.param({}, {"Token": TOKEN}, id="token-name-is-case-sensitive"),
        pytest.param({"Authorization": basic(USERNAME, "nope")}, {}, id="wrong-basic"),
        pytest.param(signed_headers(AERIALINK), {}, id="telesign-signature-on-aerialink"),
    ],
)
def test_aerialink_without_valid_secret_is_rejected(
    sqlite_receiver: Receiver, headers: dict[str, str], params: dict[str, str]
) -> None:
    _rejected(sqlite_receiver, "/aerialink/status", AERIALINK, headers, params=params)
    _rejected(sqlite_receiver, "/aerialink/inbound", AERIALINK, headers, params=params)


@pytest.fixture
def served(sqlite_store: MessageStore, request: pytest.FixtureRequest) -> Iterator[Receiver]:
    with serve_app(create_app(sqlite_store, request.param)) as url, requests.Session() as session:
        yield Receiver(url, sqlite_store, session)


@pytest.mark.parametrize("served", [CallbackAuth()], indirect=True, ids=["nothing-configured"])
def test_fail_closed_when_nothing_is_configured(served: Receiver) -> None:
    for path in ROUTES:
        _rejected(served, path, DELIVERY, signed_headers(DELIVERY, form="both"), params={"token": ""})
        _rejected(served, path, DELIVERY, {"Authorization": basic("", "")})


@pytest.mark.parametrize(
    "served",
    [
        CallbackAuth(telesign_credentials=lambda: (CUSTOMER_ID, None)),
        CallbackAuth(telesign_credentials=lambda: (_ for _ in ()).throw(LookupError("no connection"))),
        CallbackAuth(telesign_credentials=lambda: (CUSTOMER_ID, "not base64!")),
        CallbackAuth(username=USERNAME, password=""),  # half-configured Basic credentials accept nothing
    ],
    indirect=True,
    ids=["connection-without-api-key", "connection-missing", "api-key-not-base64", "basic-without-password"],
)
def test_unusable_configuration_fails_closed(served: Receiver) -> None:
    _rejected(served, "/telesign/status", DELIVERY, signed_headers(DELIVERY, form="both"))
    _rejected(served, "/telesign/status", DELIVERY, {"Authorization": basic(USERNAME, "")})


@pytest.mark.parametrize("served", [CallbackAuth(disabled=True)], indirect=True, ids=["disabled"])
def test_disabled_auth_accepts_everything(served: Receiver) -> None:
    for path in ROUTES:
        body = AERIALINK if path.startswith("/aerialink") else DELIVERY
        if path.endswith("inbound"):
            body = (
                body_of(load("telesign_inbound_viber"))
                if path.startswith("/telesign")
                else body_of({"messageGUID": "in-1", "source": "15559876543", "messageText": "hi"})
            )
        assert post(served, path, body, {}).status_code == 200, path


# --- configuration: the API key comes from the Telesign connection, secrets from [messaging] -----------------
@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, sqlite_store: MessageStore) -> Iterator[Receiver]:
    for key in (
        "CALLBACK_TOKEN",
        "CALLBACK_USERNAME",
        "CALLBACK_PASSWORD",
        "CALLBACK_AUTH_DISABLED",
        "TELESIGN_CONN_ID",
    ):
        monkeypatch.delenv(f"AIRFLOW__MESSAGING__{key}", raising=False)
    monkeypatch.setenv(
        "AIRFLOW_CONN_TELESIGN_DEFAULT",
        json.dumps(
            {"conn_type": "telesign", "login": CUSTOMER_ID, "password": API_KEY, "host": "https://rest-ww.telesign.com"}
        ),
    )
    yield sqlite_store  # type: ignore[misc]


def _serve_from_config(store: MessageStore) -> Iterator[Receiver]:
    with serve_app(create_app(store)) as url, requests.Session() as session:  # auth=None: read from config
        yield Receiver(url, store, session)


def test_from_config_reads_the_telesign_connection(configured: MessageStore) -> None:
    auth = CallbackAuth.from_config()
    assert (auth.token, auth.username, auth.password, auth.disabled) == ("", "", "", False)
    assert auth.accepts("telesign", DELIVERY, signed_headers(DELIVERY, form="both"), None)
    assert not auth.accepts("telesign", DELIVERY, signed_headers(DELIVERY, key=OTHER_KEY), None)
    assert not auth.accepts("aerialink", AERIALINK, signed_headers(AERIALINK), None)
    assert "password" not in repr(auth) or API_KEY not in repr(auth)

    for receiver in _serve_from_config(configured):
        assert post(receiver, "/telesign/status", DELIVERY, signed_headers(DELIVERY, form="tsa")).status_code == 200
        _rejected(receiver, "/telesign/status", DELIVERY, signed_headers(DELIVERY, form="tsa", customer="OTHER"))
        _rejected(receiver, "/aerialink/status", AERIALINK, {}, params={"token": TOKEN})


def test_from_config_shared_secrets_and_other_connection(
    configured: MessageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__MESSAGING__CALLBACK_TOKEN", "env-token")
    monkeypatch.setenv("AIRFLOW__MESSAGING__CALLBACK_USERNAME", "env-user")
    monkeypatch.setenv("AIRFLOW__MESSAGING__CALLBACK_PASSWORD", "env-password")
    monkeypatch.setenv("AIRFLOW__MESSAGING__TELESIGN_CONN_ID", "telesign_eu")
    monkeypatch.setenv(
        "AIRFLOW_CONN_TELESIGN_EU", json.dumps({"conn_type": "telesign", "login": "EU-CUSTOMER", "password": OTHER_KEY})
    )
    for receiver in _serve_from_config(configured):
        assert post(receiver, "/aerialink/status", AERIALINK, {}, params={"token": "env-token"}).status_code == 200
        assert (
            post(
                receiver, "/aerialink/inbound", AERIALINK, {"Authorization": basic("env-user", "env-password")}
            ).status_code
            == 200
        )
        eu = signed_headers(DELIVERY, form="both", key=OTHER_KEY, customer="EU-CUSTOMER")
        assert post(receiver, "/telesign/status", DELIVERY, eu).status_code == 200
        # the default connection's key is not the one configured any more
        _rejected(receiver, "/telesign/status", DELIVERY, signed_headers(DELIVERY, form="both"))


def test_from_config_auth_disabled(configured: MessageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__MESSAGING__CALLBACK_AUTH_DISABLED", "True")
    assert CallbackAuth.from_config().disabled
    for receiver in _serve_from_config(configured):
        assert post(receiver, "/aerialink/status", AERIALINK, {}).status_code == 200


def test_from_config_without_connection_fails_closed(configured: MessageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_TELESIGN_DEFAULT")
    monkeypatch.setenv("AIRFLOW__MESSAGING__TELESIGN_CONN_ID", "no_such_connection_here")
    for receiver in _serve_from_config(configured):
        _rejected(receiver, "/telesign/status", DELIVERY, signed_headers(DELIVERY, form="both"))
