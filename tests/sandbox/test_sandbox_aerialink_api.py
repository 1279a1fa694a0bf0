"""Aerialink v5 emulation: every doc example accepted, every doc error reproduced, auth, 429."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from airflow_provider_messaging.sandbox import SandboxServer
from tests import vendor_examples
from tests.sandbox.sandbox_support import Clients

MESSAGE_EXAMPLES = ["aerialink_rcs_text", "aerialink_rcs_media", "aerialink_rcs_card", "aerialink_rcs_carousel"]
CHOICE_EXAMPLES = [
    "aerialink_choice_reply",
    "aerialink_choice_open_url",
    "aerialink_choice_dial_phone",
    "aerialink_choice_show_location",
    "aerialink_choice_request_location",
    "aerialink_choice_create_calendar_event",
]


def _text(destination: str = "15559876541", **extra: Any) -> dict[str, Any]:
    body = vendor_examples.load("aerialink_rcs_text")
    body["destination"] = destination
    body.update(extra)
    return body


def _errors(response: requests.Response) -> list[dict[str, str]]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["message"] == "Missing or invalid parameters in body"
    return list(body["data"])


def _assert_success(response: requests.Response, destination: str) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    doc = vendor_examples.load("aerialink_send_response")
    assert body.keys() == doc.keys()
    assert (body["status"], body["message"]) == (doc["status"], doc["message"])
    (result,) = body["data"]["results"]
    assert result.keys() == doc["data"]["results"][0].keys()
    assert uuid.UUID(result["messageGUID"]).version == 4
    assert result["destination"] == destination
    assert result["status"] == "success"


@pytest.mark.parametrize("name", MESSAGE_EXAMPLES)
def test_every_doc_message_example_is_accepted(clients: Clients, name: str) -> None:
    body = vendor_examples.load(name)
    _assert_success(clients.aerialink(body), body["destination"])


@pytest.mark.parametrize("name", CHOICE_EXAMPLES)
def test_every_doc_choice_example_is_accepted_in_text_and_card(clients: Clients, name: str) -> None:
    choice = vendor_examples.load(name)
    _assert_success(clients.aerialink(_text(choices=[choice])), "15559876541")
    card = vendor_examples.load("aerialink_rcs_card")
    card["choices"] = [choice]
    _assert_success(clients.aerialink(card), card["destination"])


def test_doc_card_choices_and_failover_fragments_are_accepted(clients: Clients) -> None:
    card = vendor_examples.load("aerialink_rcs_card")
    card.update(vendor_examples.load("aerialink_card_choices"))
    card.update(vendor_examples.load("aerialink_mms_failover"))
    _assert_success(clients.aerialink(card), card["destination"])
    _assert_success(clients.aerialink(_text(**vendor_examples.load("aerialink_sms_failover"))), "15559876541")


def test_doc_simple_error_is_reproduced(clients: Clients) -> None:
    body = _text()
    del body["messageText"]
    assert _errors(clients.aerialink(body)) == vendor_examples.load("aerialink_error_simple")["data"]


def test_doc_choices_error_is_reproduced(clients: Clients) -> None:
    body = _text(
        choices=[
            {"type": "OPEN_URL", "title": "Learn More", "postbackData": "learn_more", "url": "https://example.com/info",
             "application": "BROWSER"},
            {"type": "REPLY", "title": "Yes"},
            {"type": "DIAL_PHONE", "title": "Call Us", "postbackData": "call_action"},
        ]
    )  # fmt: skip
    assert _errors(clients.aerialink(body)) == vendor_examples.load("aerialink_error_choices")["data"]


def test_doc_carousel_error_is_reproduced(clients: Clients) -> None:
    body = vendor_examples.load("aerialink_rcs_carousel")
    first, second = body["cards"]
    del first["mediaUrl"]
    del second["choices"][0]["phoneNumber"]
    second["choices"] = [{"type": "OPEN_URL", "title": "Open", "postbackData": "open", "application": "BROWSER",
                          "webviewViewMode": "FULL"}]  # fmt: skip
    third = dict(vendor_examples.load("aerialink_rcs_carousel")["cards"][1])
    third["choices"] = [
        vendor_examples.load("aerialink_choice_reply"),
        {"type": "SHOW_LOCATION", "title": "Where", "postbackData": "where", "longitude": -122.4194},
    ]
    body["cards"].append(third)
    assert _errors(clients.aerialink(body)) == vendor_examples.load("aerialink_error_carousel")["data"]


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"messageType": "SMS"}, "messageType", "must be one of"),
        ({"source": "15551234567"}, "source", "not a phone number"),
        ({"destination": "call me"}, "destination", "valid address or phone number"),
        ({"destination": "555 12"}, "destination", "valid phone number"),
        ({"choices": [{"type": "REPLY", "title": "x" * 26, "postbackData": "p"}]}, "choices.0.title", "25"),
        ({"choices": [{"type": "REPLY", "title": "t", "postbackData": "p" * 2049}]}, "choices.0.postbackData", "2048"),
        ({"choices": [{"type": "HUG", "title": "t", "postbackData": "p"}]}, "choices.0.type", "must be one of"),
        (
            {"choices": [{"type": "SHOW_LOCATION", "title": "t", "postbackData": "p", "latitude": 91, "longitude": 0}]},
            "choices.0.latitude",
            "between",
        ),
        (
            {"choices": [{"type": "DIAL_PHONE", "title": "t", "postbackData": "p", "phoneNumber": "1" * 21}]},
            "choices.0.phoneNumber",
            "20",
        ),
        (
            {
                "choices": [
                    {
                        "type": "CREATE_CALENDAR_EVENT",
                        "title": "t",
                        "postbackData": "p",
                        "startTime": "tomorrow",
                        "endTime": "2030-03-03T16:00:00Z",
                        "eventTitle": "Meeting",
                    }
                ]
            },
            "choices.0.startTime",
            "ISO 8601",
        ),
        ({"callbackURL": "not a url"}, "callbackURL", "valid url"),
        ({"smsFailover": {"enabled": True, "failoverSource": "15551234567"}}, "smsFailover.fallbackText", "required"),
        (
            {"smsFailover": {"enabled": True, "failoverSource": "1", "fallbackText": "x" * 161}},
            "smsFailover.fallbackText",
            "160",
        ),
        ({"mmsFailover": vendor_examples.load("aerialink_mms_failover")["mmsFailover"]}, "mmsFailover", "not allowed"),
    ],
)
def test_text_rules(clients: Clients, change: dict[str, Any], field: str, fragment: str) -> None:
    errors = _errors(clients.aerialink(_text(**change)))
    assert [e["field"] for e in errors] == [field]
    assert fragment in errors[0]["message"]


def test_card_and_carousel_limits(clients: Clients) -> None:
    card = vendor_examples.load("aerialink_rcs_card")
    card["choices"] = [vendor_examples.load("aerialink_choice_reply")] * 5
    card["height"] = "HUGE"
    card["title"] = "t" * 101
    assert [e["field"] for e in _errors(clients.aerialink(card))] == ["title", "height", "choices"]

    carousel = vendor_examples.load("aerialink_rcs_carousel")
    carousel["cards"] = carousel["cards"] * 6
    carousel["cards"][11] = {**carousel["cards"][11], "description": "d" * 501}
    errors = _errors(clients.aerialink(carousel))
    assert [e["field"] for e in errors] == ["cards", "cards.11.description"]
    assert "10" in errors[0]["message"]


def test_every_error_is_listed_at_once(clients: Clients) -> None:
    errors = _errors(clients.aerialink({"choices": [{}]}))
    assert [e["field"] for e in errors] == ["messageType", "source", "destination"]
    assert [e["description"] for e in errors] == ["Message Type", "Source", "Destination"]


def test_auth_failures_answer_401(sandbox: SandboxServer, clients: Clients) -> None:
    no_auth = requests.post(f"{sandbox.url}/v5/messages", json=_text(), timeout=5)
    assert no_auth.status_code == 401
    assert no_auth.json()["status"] == "error"
    wrong = clients.aerialink(_text(), auth=("sandbox", "wrong"))
    assert wrong.status_code == 401
    assert not sandbox.callbacks()


def test_scenario_6_is_a_destination_error(clients: Clients) -> None:
    errors = _errors(clients.aerialink(_text("15559876546")))
    assert [e["field"] for e in errors] == ["destination"]


def test_scenario_8_rate_limits_then_accepts(clients: Clients) -> None:
    first = clients.aerialink(_text("15559876548"))
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "1"
    _assert_success(clients.aerialink(_text("15559876548")), "15559876548")
