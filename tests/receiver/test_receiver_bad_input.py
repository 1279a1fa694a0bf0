"""Bad input over real HTTP: 400 / 413 / 415 with a reason, and nothing written to the store."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from airflow_provider_messaging.receiver.app import create_app
from airflow_provider_messaging.store import MessageStore
from tests.receiver.receiver_support import Receiver, counts, make_auth, signed_headers
from tests.support.uvicorn_server import serve_app
from tests.vendor_examples import load

LIMIT = 4096


def delivery(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(load("telesign_delivery_callback_rcs_sms"))
    payload.update(changes)
    return payload


def _code_as_object() -> dict[str, Any]:
    payload = delivery()
    payload["status"]["code"] = {"value": 3000}
    return payload


def _channel_code_as_list() -> dict[str, Any]:
    payload = delivery()
    payload["channel_status"][1]["sms"]["code"] = [3000]
    return payload


def _without(key: str) -> dict[str, Any]:
    payload = delivery()
    del payload[key]
    return payload


HUGE_INT = b"9" * 5000  # past Python's 4,300-digit int/str limit
# well-formed times whose UTC time no datetime can hold (year 10000 / year 0)
OUT_OF_RANGE_TIMES = ("9999-12-31T23:59:59-23:00", "0001-01-01 00:00:00+05:00")


def _huge_status_code() -> bytes:
    return json.dumps(delivery()).replace('"code": 3000', '"code": CODE', 1).encode().replace(b"CODE", HUGE_INT)


def _telesign_channel_time(stamp: str) -> dict[str, Any]:
    payload = delivery()
    payload["channel_status"][1]["sms"]["updated_on"] = stamp
    return payload


def _telesign_top_time(stamp: str) -> dict[str, Any]:
    payload = delivery()
    del payload["channel_status"]
    payload["status"]["updated_on"] = stamp
    return payload


def _telesign_inbound_time(stamp: str) -> dict[str, Any]:
    payload = copy.deepcopy(load("telesign_inbound_rcs_stop"))
    payload["status"]["updated_on"] = stamp
    return payload


def _out_of_range_cases() -> dict[str, tuple[str, dict[str, Any]]]:
    cases: dict[str, tuple[str, dict[str, Any]]] = {}
    for index, stamp in enumerate(OUT_OF_RANGE_TIMES):
        cases[f"time-out-of-range-{index}-telesign-channel"] = ("/telesign/status", _telesign_channel_time(stamp))
        cases[f"time-out-of-range-{index}-telesign-status"] = ("/telesign/status", _telesign_top_time(stamp))
        cases[f"time-out-of-range-{index}-telesign-inbound"] = ("/telesign/inbound", _telesign_inbound_time(stamp))
        cases[f"time-out-of-range-{index}-aerialink-status"] = (
            "/aerialink/status",
            {"messageGUID": "g-t", "status": "SUCCESS", "channel": "RCS", "timestamp": stamp},
        )
        cases[f"time-out-of-range-{index}-aerialink-inbound"] = (
            "/aerialink/inbound",
            {"messageGUID": "mo-t", "source": "15559876543", "messageText": "STOP", "timestamp": stamp},
        )
    return cases


BAD_BODIES: dict[str, tuple[str, bytes | dict[str, Any] | list[Any]]] = {
    **_out_of_range_cases(),
    "malformed-json": ("/telesign/status", b'{"reference_id": "35C8B5D509BC10689196FED2AD551B8A", '),
    "empty-body": ("/telesign/status", b""),
    "not-utf8": ("/telesign/status", b'{"reference_id": "\xff\xfe"}'),
    "json-array": ("/telesign/status", [delivery()]),
    "json-string": ("/telesign/inbound", b'"stop"'),
    "json-null": ("/telesign/inbound", b"null"),
    "deeply-nested": ("/telesign/status", b"[" * 2000 + b"]" * 2000),
    "status-code-as-object": ("/telesign/status", _code_as_object()),
    "channel-code-as-list": ("/telesign/status", _channel_code_as_list()),
    "missing-reference-id": ("/telesign/status", _without("reference_id")),
    "reference-id-as-number": ("/telesign/status", delivery(reference_id=12345)),
    "missing-status": ("/telesign/status", _without("status")),
    "channel-status-not-a-list": ("/telesign/status", delivery(channel_status={"sms": {"code": 3000}})),
    "inbound-array": ("/telesign/inbound", [load("telesign_inbound_rcs_stop")]),
    "aerialink-status-without-guid": ("/aerialink/status", {"status": "SUCCESS", "channel": "RCS"}),
    "aerialink-status-array": ("/aerialink/status", [{"messageGUID": "g", "status": "SUCCESS"}]),
    "aerialink-inbound-not-json": ("/aerialink/inbound", b"STOP"),
    # a lone UTF-16 surrogate escape parses as JSON but cannot be stored as text (found by the fuzz suite)
    "lone-surrogate-escape": (
        "/aerialink/status",
        b'{"messageGUID": "g-1", "status": "SUCCESS", "channel": "\\ud800"}',
    ),
}


@pytest.fixture
def small_receiver(store: MessageStore) -> Iterator[Receiver]:
    with serve_app(create_app(store, make_auth(), max_body_bytes=LIMIT)) as url, requests.Session() as session:
        yield Receiver(url, store, session)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/telesign/status", _huge_status_code()),
        ("/aerialink/status", b'{"messageGUID": "g", "status": "SUCCESS", "n": -' + HUGE_INT + b"}"),
    ],
    ids=["status-code", "any-field"],
)
def test_huge_integer_is_400_not_503(receiver: Receiver, path: str, body: bytes) -> None:
    """5,000 digits exceed Python's int limit: bad input the vendor must not retry forever."""
    before = counts(receiver.store)
    response = receiver.send(path, body)
    assert response.status_code == 400, response.text
    assert counts(receiver.store) == before


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_body_is_400_and_writes_nothing(small_receiver: Receiver, case: str) -> None:
    path, payload = BAD_BODIES[case]
    before = counts(small_receiver.store)
    response = small_receiver.send(path, payload)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == "error" and body["reason"]
    assert counts(small_receiver.store) == before


def test_validation_reason_names_the_field(sqlite_receiver: Receiver) -> None:
    response = sqlite_receiver.send("/telesign/status", _without("reference_id"))
    assert response.status_code == 400
    assert "reference_id" in response.json()["reason"]
    response = sqlite_receiver.send(
        "/aerialink/status", _out_of_range_cases()["time-out-of-range-0-aerialink-status"][1]
    )
    assert response.status_code == 400
    assert "timestamp" in response.json()["reason"] and "out of range" in response.json()["reason"]
    response = sqlite_receiver.send("/telesign/status", _huge_status_code())
    assert response.status_code == 400 and "number" in response.json()["reason"]


def test_oversized_body_with_content_length_is_413(small_receiver: Receiver) -> None:
    payload = delivery(padding="x" * LIMIT)
    before = counts(small_receiver.store)
    response = small_receiver.send("/telesign/status", payload)
    assert response.status_code == 413
    assert str(LIMIT) in response.json()["reason"]
    assert counts(small_receiver.store) == before
    # exactly at the limit is fine (with a valid token, no signature needed)
    body = b'{"messageGUID": "g-limit", "status": "SUCCESS", "pad": "' + b"x" * LIMIT
    body = body[: LIMIT - 2] + b'"}'
    assert len(body) == LIMIT
    assert small_receiver.with_token("/aerialink/status", body).status_code == 200


def _raw_http(url: str, request: bytes) -> tuple[int, bytes]:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line = data.split(b"\r\n", 1)[0] or b"HTTP/1.1 0"
    return int(status_line.split()[1]), data


def test_oversized_chunked_body_without_content_length_is_413(small_receiver: Receiver) -> None:
    before = counts(small_receiver.store)
    chunk = b"x" * 1024
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(LIMIT // 1024 + 2)) + b"0\r\n\r\n"
    request = (
        b"POST /aerialink/status?token=s3cret-callback-token HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body
    )
    status, raw = _raw_http(small_receiver.url, request)
    assert status == 413, raw[:300]
    assert counts(small_receiver.store) == before

    # a small chunked body is read and stored normally
    ok = b'{"messageGUID": "g-chunked", "status": "SUCCESS"}'
    request = (
        b"POST /aerialink/status?token=s3cret-callback-token HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + (b"%x\r\n%s\r\n0\r\n\r\n" % (len(ok), ok))
    )
    status, raw = _raw_http(small_receiver.url, request)
    assert status == 200, raw
    assert len(small_receiver.store.callbacks_for("g-chunked")) == 1


def test_oversized_chunked_body_from_requests_generator(small_receiver: Receiver) -> None:
    before = counts(small_receiver.store)

    def chunks() -> Iterator[bytes]:
        for _ in range(8):
            yield b" " * 1024

    try:
        response = small_receiver.session.post(
            small_receiver.url + "/aerialink/status",
            data=chunks(),
            params={"token": "s3cret-callback-token"},
            timeout=10,
        )
        assert response.status_code == 413
    except requests.ConnectionError:
        pass  # the server may close the connection while the client is still sending: also a refusal
    assert counts(small_receiver.store) == before


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "Application/X-WWW-Form-Urlencoded"],
)
def test_form_content_type_is_415(receiver: Receiver, content_type: str) -> None:
    before = counts(receiver.store)
    for path in ("/telesign/status", "/aerialink/inbound"):
        response = receiver.send(path, delivery(), headers={"Content-Type": content_type})
        assert response.status_code == 415, response.text
    assert counts(receiver.store) == before


def test_json_content_type_variants_are_accepted(sqlite_receiver: Receiver) -> None:
    for content_type in ("application/json; charset=utf-8", "text/plain", ""):
        payload = delivery(reference_id=f"REF-{len(content_type)}")
        response = sqlite_receiver.send("/telesign/status", payload, headers={"Content-Type": content_type})
        assert response.status_code == 200, (content_type, response.text)
    assert sqlite_receiver.store.count("callbacks") == 3


def test_unknown_fields_and_codes_are_accepted_leniently(sqlite_receiver: Receiver) -> None:
    payload = delivery(surprise={"nested": [1, 2]}, submit_timestamp="2020-05-04T22:07:01Z", errors=[])
    payload["status"].update(code=9999, description="Something new")
    payload["channel_status"].append({"carrier_pigeon": {"code": 4242, "description": "?", "updated_on": "x"}})
    response = sqlite_receiver.send("/telesign/status", payload)
    assert response.status_code == 200, response.text


def test_unauthenticated_bad_body_is_401_not_400(sqlite_receiver: Receiver) -> None:
    """Authentication is checked before parsing: a stranger learns nothing about our schema."""
    response = sqlite_receiver.session.post(sqlite_receiver.url + "/telesign/status", data=b"not json", timeout=10)
    assert response.status_code == 401
    signed = signed_headers(b"not json")
    response = sqlite_receiver.session.post(sqlite_receiver.url + "/telesign/status", data=b"not json", headers=signed)
    assert response.status_code == 400
