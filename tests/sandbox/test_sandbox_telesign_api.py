"""Telesign omnichannel emulation: doc examples accepted, auth, validation codes, status lookup, 429."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
import requests

from airflow_provider_messaging.sandbox import SandboxServer
from tests import vendor_examples
from tests.sandbox.sandbox_support import Clients

REQUEST_EXAMPLES = ["telesign_call_button_request", "telesign_link_button_request", "telesign_whatsapp_file_request"]


def _valid(phone: str = "15558675301") -> dict[str, Any]:
    body = vendor_examples.load("telesign_call_button_request")
    body["phone_number"] = phone
    return body


def _codes(response: requests.Response) -> list[int]:
    return [e["code"] for e in response.json()["errors"]]


@pytest.mark.parametrize("name", REQUEST_EXAMPLES)
def test_every_doc_request_example_is_accepted_with_the_doc_response_shape(clients: Clients, name: str) -> None:
    response = clients.telesign(vendor_examples.load(name))
    assert response.status_code == 200, response.text
    body = response.json()
    doc = vendor_examples.load("telesign_send_response")
    assert body.keys() == doc.keys()
    assert body["status"] == doc["status"] == {"code": 3001, "description": "Message in progress"}
    assert re.fullmatch(r"[0-9A-F]{32}", body["reference_id"])
    assert body["external_id"] is None


def test_external_id_is_echoed(clients: Clients) -> None:
    body = _valid()
    body["external_id"] = "order-45390"
    assert clients.telesign(body).json()["external_id"] == "order-45390"


@pytest.mark.parametrize(
    ("auth_header", "code"),
    [
        (None, 3405),
        ("Basic not-base64!!", 3412),
        ("Basic " + base64.b64encode(b"no-colon").decode(), 3412),
        ("Bearer abc", 3400),
        ("Basic " + base64.b64encode(b"someone-else:c2FuZGJveA==").decode(), 3410),
    ],
)
def test_auth_failures_answer_401_with_telesign_codes(
    sandbox: SandboxServer, auth_header: str | None, code: int
) -> None:
    headers = {"Authorization": auth_header} if auth_header else {}
    response = requests.post(f"{sandbox.url}/v1/omnichannel", json=_valid(), headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json()["status"]["code"] == code
    assert _codes(response) == [code]


def test_wrong_api_key_is_3411(clients: Clients) -> None:
    response = clients.telesign(_valid(), auth=(clients.telesign_auth[0], "d3Jvbmc="))
    assert response.status_code == 401
    assert _codes(response) == [3411]


def _without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        body.pop(key)
    return body


@pytest.mark.parametrize(
    ("mutate", "codes"),
    [
        (lambda b: _without(b, "channels"), [3300]),
        (lambda b: {**b, "channels": []}, [3300]),
        (lambda b: {**b, "channels": [{"fallback_time": 5}]}, [3301]),
        (lambda b: {**b, "channels": [{"channel": "rcs"}, {"channel": "carrier-pigeon"}]}, [3100]),
        (lambda b: {**b, "channels": [{"channel": "rcs"}, {"channel": "rcs"}]}, [3113]),
        (lambda b: _without(b, "phone_number"), [3302]),
        (lambda b: {**b, "phone_number": "+1 555 867 5301"}, [3101]),
        (lambda b: {**b, "phone_number": "5301"}, [3101]),
        (lambda b: _without(b, "message"), [3303]),
        (lambda b: _without(b, "message_type"), [3304]),
        (lambda b: {**b, "message_type": "PROMO"}, [3102]),
        (lambda b: {**b, "external_id": "x" * 101}, [3103]),
        (lambda b: {**b, "message": {"rcs": b["message"]["rcs"]}}, [3306]),  # sms listed, no sms content
        (lambda b: {**b, "message": {**b["message"], "rcs": {"template": "", "parameters": {}}}}, [3112]),
        (lambda b: {**b, "message": {**b["message"], "rcs": {"template": "carousel"}}}, [3305]),
        (
            lambda b: {
                **b,
                "message": {**b["message"], "rcs": {"template": "dial_action", "parameters": {"text": "x"}}},
            },
            [3305],
        ),
        (lambda b: _without(b, "phone_number", "message_type"), [3302, 3304]),
    ],
)
def test_validation_answers_400_with_telesign_codes(clients: Clients, mutate: Any, codes: list[int]) -> None:
    response = clients.telesign(mutate(_valid()))
    assert response.status_code == 400, response.text
    body = response.json()
    assert _codes(response) == codes
    assert body["status"]["code"] == codes[0]
    assert set(body) == {"reference_id", "status", "errors"}
    assert set(body["status"]) == {"code", "description", "updated_on"}


def test_invalid_json_is_3110_and_too_large_is_3116(clients: Clients) -> None:
    assert _codes(clients.telesign(b"{not json", headers={"Content-Type": "application/json"})) == [3110]
    big = _valid()
    big["message"]["sms"]["parameters"]["text"] = "x" * 11_000
    response = clients.telesign(json.dumps(big), headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert _codes(response) == [3116]


def test_scenario_6_is_refused_as_invalid_phone_number(clients: Clients, sandbox: SandboxServer) -> None:
    response = clients.telesign(_valid("15558675306"))
    assert response.status_code == 400
    assert _codes(response) == [3101]
    assert sandbox.requests()[-1]["status_code"] == 400


def test_scenario_8_rate_limits_the_first_attempt_then_accepts(clients: Clients, sandbox: SandboxServer) -> None:
    first = clients.telesign(_valid("15558675308"))
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "1"
    assert _codes(first) == [3204]
    second = clients.telesign(_valid("15558675308"))
    assert second.status_code == 200
    sandbox.wait_for_callbacks(1, message_id=second.json()["reference_id"], timeout=5)
    assert [r["status_code"] for r in sandbox.requests()] == [429, 200]


def test_status_lookup_needs_auth_and_knows_only_its_messages(clients: Clients, sandbox: SandboxServer) -> None:
    reference_id = clients.telesign(_valid("15558675301")).json()["reference_id"]
    url = f"{sandbox.url}/v1/messaging/{reference_id}"
    assert requests.get(url, timeout=5).status_code == 401
    assert clients.session.get(url, auth=clients.telesign_auth, timeout=5).json()["status"]["code"] in (3001, 3000)
    sandbox.wait_for_callbacks(1, message_id=reference_id, timeout=5)
    assert clients.session.get(url, auth=clients.telesign_auth, timeout=5).json()["status"]["code"] == 3000
    unknown = clients.session.get(f"{sandbox.url}/v1/messaging/{'0' * 32}", auth=clients.telesign_auth, timeout=5)
    assert unknown.status_code == 404
    assert set(unknown.json()) == {"reference_id", "status", "errors"}


def test_request_log_records_every_call(clients: Clients, sandbox: SandboxServer) -> None:
    reference_id = clients.telesign(_valid("15558675301")).json()["reference_id"]
    clients.telesign(_valid(), auth=("x", "eA=="))
    log = requests.get(f"{sandbox.url}/sandbox/requests", timeout=5).json()
    assert [(r["vendor"], r["path"], r["status_code"]) for r in log] == [
        ("telesign", "/v1/omnichannel", 200),
        ("telesign", "/v1/omnichannel", 401),
    ]
    assert log[0]["recipient"] == "15558675301"
    assert log[0]["message_id"] == reference_id
    assert log[0]["time"]
