"""Every vendor example parses; request examples round-trip exactly; documented errors are reproduced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import TypeAdapter

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.models import aerialink as al
from airflow_provider_messaging.models import telesign as ts
from airflow_provider_messaging.models.base import to_wire, validate
from tests.vendor_examples import load, names

CHOICE = TypeAdapter(al.Choice)


def _card_choices(data: dict[str, Any]) -> Any:
    return validate(TypeAdapter(al.CardChoices), data["choices"])


PARSERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "telesign_call_button_request": ts.OmnichannelRequest.parse,
    "telesign_link_button_request": ts.OmnichannelRequest.parse,
    "telesign_whatsapp_file_request": ts.OmnichannelRequest.parse,
    "telesign_send_response": ts.OmnichannelResponse.parse,
    "telesign_delivery_callback_rcs_sms": ts.DeliveryCallback.parse,
    "telesign_delivery_callback_whatsapp_sms": ts.DeliveryCallback.parse,
    **{n: ts.InboundMessage.parse for n in names("telesign_inbound_")},
    "aerialink_rcs_text": al.parse_message,
    "aerialink_rcs_media": al.parse_message,
    "aerialink_rcs_card": al.parse_message,
    "aerialink_rcs_carousel": al.parse_message,
    **{n: (lambda d: validate(CHOICE, d)) for n in names("aerialink_choice_")},
    "aerialink_card_choices": _card_choices,
    "aerialink_sms_failover": lambda d: al.SmsFailover.parse(d["smsFailover"]),
    "aerialink_mms_failover": lambda d: al.MmsFailover.parse(d["mmsFailover"]),
    "aerialink_send_response": al.SendResponse.parse,
    **{n: al.ErrorResponse.parse for n in names("aerialink_error_")},
}

REQUESTS = [
    "telesign_call_button_request",
    "telesign_link_button_request",
    "telesign_whatsapp_file_request",
    "aerialink_rcs_text",
    "aerialink_rcs_media",
    "aerialink_rcs_card",
    "aerialink_rcs_carousel",
    *names("aerialink_choice_"),
]


def test_fixture_set_is_complete() -> None:
    assert set(PARSERS) == set(names())
    assert len(names("telesign_inbound_")) == 8
    assert len(names("aerialink_choice_")) == 6


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_example_parses(name: str) -> None:
    assert PARSERS[name](load(name)) is not None


@pytest.mark.parametrize("name", REQUESTS)
def test_request_examples_round_trip_exactly(name: str) -> None:
    data = load(name)
    assert to_wire(PARSERS[name](data)) == data


def test_failover_examples_round_trip() -> None:
    sms = load("aerialink_sms_failover")
    mms = load("aerialink_mms_failover")
    assert {"smsFailover": to_wire(al.SmsFailover.parse(sms["smsFailover"]))} == sms
    assert {"mmsFailover": to_wire(al.MmsFailover.parse(mms["mmsFailover"]))} == mms


def test_card_choices_example_round_trips() -> None:
    data = load("aerialink_card_choices")
    assert [to_wire(c) for c in _card_choices(data)] == data["choices"]


def test_parse_message_returns_the_right_class() -> None:
    assert type(al.parse_message(load("aerialink_rcs_text"))) is al.RcsText
    assert type(al.parse_message(load("aerialink_rcs_media"))) is al.RcsMedia
    assert type(al.parse_message(load("aerialink_rcs_card"))) is al.RcsCard
    assert type(al.parse_message(load("aerialink_rcs_carousel"))) is al.RcsCarousel


def _documented(name: str) -> list[tuple[str, str]]:
    return [(d["field"], d["message"]) for d in load(name)["data"]]


def test_reproduces_documented_choice_errors() -> None:
    data = load("aerialink_rcs_text")
    data["choices"] = [
        {
            "type": "OPEN_URL",
            "title": "Learn More",
            "postbackData": "x",
            "url": "https://e.com/a",
            "application": "BROWSER",
        },
        {"type": "REPLY", "title": "Yes"},
        {"type": "DIAL_PHONE", "title": "Call", "postbackData": "call"},
    ]
    with pytest.raises(PayloadValidationError) as info:
        al.parse_message(data)
    assert [(e.field, e.message) for e in info.value.errors] == _documented("aerialink_error_choices")


def test_reproduces_documented_carousel_errors() -> None:
    data = load("aerialink_rcs_carousel")
    del data["cards"][0]["mediaUrl"]
    # card 2 gets an OPEN_URL choice without its url
    data["cards"][1]["choices"] = [{k: v for k, v in load("aerialink_choice_open_url").items() if k != "url"}]
    third = load("aerialink_rcs_carousel")["cards"][0]
    third["choices"] = [load("aerialink_choice_reply"), load("aerialink_choice_show_location")]
    del third["choices"][1]["latitude"]
    data["cards"].append(third)
    with pytest.raises(PayloadValidationError) as info:
        al.RcsCarousel.parse(data)
    assert [(e.field, e.message) for e in info.value.errors] == _documented("aerialink_error_carousel")


def test_reproduces_documented_simple_error() -> None:
    data = load("aerialink_rcs_text")
    del data["messageText"]
    with pytest.raises(PayloadValidationError) as info:
        al.parse_message(data)
    assert [(e.field, e.message) for e in info.value.errors] == _documented("aerialink_error_simple")


def test_error_response_field_errors() -> None:
    errors = al.ErrorResponse.parse(load("aerialink_error_carousel")).field_errors()
    assert [e.field for e in errors] == ["cards.0.mediaUrl", "cards.1.choices.0.url", "cards.2.choices.1.latitude"]
    assert errors[1].message == "When choice type is OPEN_URL, 'url' is required"
