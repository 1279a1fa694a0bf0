"""Aerialink message rules (one failing case per documented rule), responses and assumed callbacks."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from pydantic import TypeAdapter

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.models import aerialink as al
from airflow_provider_messaging.models.base import to_wire, validate
from tests.vendor_examples import load

CHOICE = TypeAdapter(al.Choice)


def _errors(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(PayloadValidationError) as info:
        al.parse_message(data)
    return {e.field: e.message for e in info.value.errors}


def _choice_errors(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(PayloadValidationError) as info:
        validate(CHOICE, data)
    return {e.field: e.message for e in info.value.errors}


def _reply(i: int = 0) -> dict[str, Any]:
    return {"type": "REPLY", "title": f"Option {i}", "postbackData": f"opt_{i}"}


def test_built_in_python_with_snake_case_names() -> None:
    text = al.RcsText(
        source="CONVEY",
        destination="15559876543",
        message_text="Hello from RCS!",
        choices=[al.ReplyChoice(type="REPLY", title="Yes", postback_data="yes_response")],
        sms_failover=al.SmsFailover(enabled=True, failover_source="15551234567", fallback_text="Fallback"),
    )
    assert to_wire(text) == {
        "messageType": "RCS_TEXT",
        "source": "CONVEY",
        "destination": "15559876543",
        "messageText": "Hello from RCS!",
        "choices": [{"type": "REPLY", "title": "Yes", "postbackData": "yes_response"}],
        "smsFailover": {"enabled": True, "failoverSource": "15551234567", "fallbackText": "Fallback"},
    }


# ---- message-level rules ----------------------------------------------------------------------


def test_unknown_message_type_names_allowed_values() -> None:
    data = load("aerialink_rcs_text") | {"messageType": "SMS"}
    assert _errors(data) == {
        "messageType": "'messageType' must be one of 'RCS_TEXT', 'RCS_MEDIA', 'RCS_CARD', 'RCS_CAROUSEL' (got 'SMS')"
    }


def test_missing_message_type() -> None:
    data = load("aerialink_rcs_text")
    del data["messageType"]
    assert "'RCS_CAROUSEL'" in _errors(data)["messageType"]


def test_source_is_a_sender_id_not_a_phone() -> None:
    assert al.parse_message(load("aerialink_rcs_text") | {"source": "ACME Bank"}).source == "ACME Bank"
    assert _errors(load("aerialink_rcs_text") | {"source": ""}) == {"source": "'source' must not be empty"}


@pytest.mark.parametrize("destination", ["555", "+1 (555) 000-0000-0000-0", "an address", ""])
def test_destination_must_be_a_possible_number_or_an_address(destination: str) -> None:
    assert list(_errors(load("aerialink_rcs_text") | {"destination": destination})) == ["destination"]


def test_destination_may_be_an_address() -> None:
    # "The recipient's address or phone number"
    assert al.parse_message(load("aerialink_rcs_text") | {"destination": "user@rcs.example"}).destination == (
        "user@rcs.example"
    )


def test_source_phone_number_is_rejected() -> None:
    # "RCS is not available for phone numbers."
    assert "not a phone number" in _errors(load("aerialink_rcs_text") | {"source": "+1 555 123 4567"})["source"]


def test_callback_url_must_be_valid() -> None:
    data = load("aerialink_rcs_text") | {"callbackURL": "example.com/cb"}
    assert _errors(data) == {
        "callbackURL": "'callbackURL' must be a fully-qualified URL without spaces (e.g. https://example.com/media.jpg)"
    }
    ok = load("aerialink_rcs_text") | {"callbackURL": "https://hooks.example.com/aerialink/status?token=abc"}
    assert to_wire(al.parse_message(ok))["callbackURL"] == ok["callbackURL"]


@pytest.mark.parametrize("missing", ["mediaUrl", "thumbnailUrl", "filenameOverride"])
def test_media_required_fields(missing: str) -> None:
    data = load("aerialink_rcs_media")
    del data[missing]
    assert _errors(data) == {missing: f"'{missing}' is required"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "t" * 101, "'title' must be at most 100 characters"),
        ("description", "d" * 501, "'description' must be at most 500 characters"),
        ("height", "HUGE", "'height' must be 'SHORT', 'MEDIUM' or 'TALL' (got 'HUGE')"),
        ("description", "", "'description' must not be empty"),
        (
            "mediaUrl",
            "media.jpg",
            "'mediaUrl' must be a fully-qualified URL without spaces (e.g. https://example.com/media.jpg)",
        ),
        (
            "thumbnailUrl",
            "thumb",
            "'thumbnailUrl' must be a fully-qualified URL without spaces (e.g. https://example.com/media.jpg)",
        ),
    ],
)
def test_card_field_rules(field: str, value: str, message: str) -> None:
    assert _errors(load("aerialink_rcs_card") | {field: value}) == {field: message}
    carousel = load("aerialink_rcs_carousel")
    carousel["cards"][1][field] = value
    assert _errors(carousel) == {f"cards.1.{field}": message}


def test_card_allows_four_choices_not_five() -> None:
    assert (
        len(al.RcsCard.parse(load("aerialink_rcs_card") | {"choices": [_reply(i) for i in range(4)]}).choices or [])
        == 4
    )
    data = load("aerialink_rcs_card") | {"choices": [_reply(i) for i in range(5)]}
    assert _errors(data) == {"choices": "'choices' must have at most 4 choices per card (got 5)"}


def test_carousel_card_choice_limit_and_item_errors_together() -> None:
    data = load("aerialink_rcs_carousel")
    data["cards"][0]["choices"] = [_reply(i) for i in range(5)] + [{"type": "REPLY", "title": "x"}]
    assert _errors(data) == {
        "cards.0.choices": "'choices' must have at most 4 choices per card (got 6)",
        "cards.0.choices.5.postbackData": "'postbackData' is required",
    }


def test_text_and_media_choices_have_no_limit() -> None:
    many = [_reply(i) for i in range(12)]
    assert len(al.parse_message(load("aerialink_rcs_text") | {"choices": many}).choices or []) == 12  # type: ignore[union-attr]
    assert len(al.parse_message(load("aerialink_rcs_media") | {"choices": many}).choices or []) == 12  # type: ignore[union-attr]


def test_carousel_card_count() -> None:
    card = load("aerialink_rcs_carousel")["cards"][0]
    assert len(al.RcsCarousel.parse(load("aerialink_rcs_carousel") | {"cards": [card] * 10}).cards) == 10
    assert _errors(load("aerialink_rcs_carousel") | {"cards": [card] * 11}) == {
        "cards": "'cards' must have at most 10 cards per carousel (got 11)"
    }
    assert _errors(load("aerialink_rcs_carousel") | {"cards": []}) == {"cards": "'cards' must have at least 1 card"}


def test_filename_override_limit_is_carousel_only() -> None:
    # "filenameOverride ... (max 100 characters)" is documented for carousel cards only.
    assert al.RcsCard.parse(load("aerialink_rcs_card") | {"filenameOverride": "f" * 101}).filename_override
    carousel = load("aerialink_rcs_carousel")
    carousel["cards"][1]["filenameOverride"] = "f" * 101
    assert _errors(carousel) == {"cards.1.filenameOverride": "'filenameOverride' must be at most 100 characters"}


def test_card_optional_fields() -> None:
    card = load("aerialink_rcs_card")
    for key in ("thumbnailUrl", "filenameOverride", "choices"):
        del card[key]
    assert to_wire(al.RcsCard.parse(card)) == card


def test_carousel_card_fields_required_by_the_safer_reading() -> None:
    card = load("aerialink_rcs_carousel")["cards"][0]
    for key in ("thumbnailUrl", "filenameOverride", "choices"):
        del card[key]
    assert _errors(load("aerialink_rcs_carousel") | {"cards": [card]}) == {
        "cards.0.thumbnailUrl": "'thumbnailUrl' is required",
        "cards.0.filenameOverride": "'filenameOverride' is required",
        "cards.0.choices": "'choices' is required",
    }


def test_failover_only_where_documented() -> None:
    sms = load("aerialink_sms_failover")
    mms = load("aerialink_mms_failover")
    assert _errors(load("aerialink_rcs_card") | sms) == {
        "smsFailover": "'smsFailover' is only supported on RCS_TEXT messages (use 'mmsFailover')"
    }
    assert "not supported on RCS_TEXT" in _errors(load("aerialink_rcs_text") | mms)["mmsFailover"]


def test_sms_failover_rules() -> None:
    assert _errors(load("aerialink_rcs_text") | {"smsFailover": {"enabled": True}}) == {
        "smsFailover.failoverSource": "'failoverSource' is required when failover is enabled",
        "smsFailover.fallbackText": "'fallbackText' is required when failover is enabled",
    }
    data = load("aerialink_rcs_text")
    data["smsFailover"].update(failoverSource="1" * 51, fallbackText="x" * 161)
    assert _errors(data) == {
        "smsFailover.failoverSource": "'failoverSource' must be at most 50 characters",
        "smsFailover.fallbackText": "'fallbackText' must be at most 160 characters",
    }
    disabled = load("aerialink_rcs_text") | {"smsFailover": {"enabled": False}}
    assert to_wire(al.parse_message(disabled))["smsFailover"] == {"enabled": False}


def test_mms_failover_rules() -> None:
    errors = _errors(load("aerialink_rcs_media") | {"mmsFailover": {"enabled": True}})
    assert set(errors) == {f"mmsFailover.{f}" for f in ("failoverSource", "fallbackText", "mediaUrl", "subject")}
    data = load("aerialink_rcs_carousel")
    data["mmsFailover"].update(subject="s" * 101, mediaUrl="nope")
    assert _errors(data) == {
        "mmsFailover.subject": "'subject' must be at most 100 characters",
        "mmsFailover.mediaUrl": "'mediaUrl' must be a fully-qualified URL without spaces (e.g. https://example.com/media.jpg)",
    }


# ---- choices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "missing", "message"),
    [
        ("aerialink_choice_reply", "postbackData", "'postbackData' is required"),
        ("aerialink_choice_reply", "title", "'title' is required"),
        ("aerialink_choice_open_url", "url", "When choice type is OPEN_URL, 'url' is required"),
        ("aerialink_choice_open_url", "application", "When choice type is OPEN_URL, 'application' is required"),
        ("aerialink_choice_dial_phone", "phoneNumber", "When choice type is DIAL_PHONE, 'phoneNumber' is required"),
        ("aerialink_choice_show_location", "longitude", "When choice type is SHOW_LOCATION, 'longitude' is required"),
        (
            "aerialink_choice_create_calendar_event",
            "startTime",
            "When choice type is CREATE_CALENDAR_EVENT, 'startTime' is required",
        ),
        (
            "aerialink_choice_create_calendar_event",
            "eventTitle",
            "When choice type is CREATE_CALENDAR_EVENT, 'eventTitle' is required",
        ),
    ],
)
def test_choice_required_fields(name: str, missing: str, message: str) -> None:
    data = load(name)
    del data[missing]
    assert _choice_errors(data) == {missing: message}


def test_unknown_choice_type_names_allowed_values() -> None:
    errors = _choice_errors(_reply() | {"type": "SHARE"})
    assert errors == {
        "type": "'type' must be one of 'REPLY', 'OPEN_URL', 'DIAL_PHONE', 'SHOW_LOCATION', 'REQUEST_LOCATION', "
        "'CREATE_CALENDAR_EVENT' (got 'SHARE')"
    }


@pytest.mark.parametrize(
    ("name", "field", "value", "message"),
    [
        ("aerialink_choice_reply", "title", "t" * 26, "'title' must be at most 25 characters"),
        ("aerialink_choice_reply", "postbackData", "p" * 2049, "'postbackData' must be at most 2048 characters"),
        ("aerialink_choice_open_url", "url", "https://e.com/" + "a" * 2040, "'url' must be at most 2048 characters"),
        (
            "aerialink_choice_open_url",
            "url",
            "www.example.com",
            "'url' must be a valid absolute URI without spaces (e.g. https://example.com/info or myapp://promo/42)",
        ),
        ("aerialink_choice_open_url", "application", "APP", "'application' must be 'BROWSER' or 'WEBVIEW' (got 'APP')"),
        (
            "aerialink_choice_open_url",
            "webviewViewMode",
            "QUARTER",
            "'webviewViewMode' must be 'FULL', 'HALF' or 'TALL' (got 'QUARTER')",
        ),
        ("aerialink_choice_dial_phone", "phoneNumber", "1" * 21, "'phoneNumber' must be at most 20 characters"),
        ("aerialink_choice_show_location", "latitude", 90.5, "'latitude' must be between -90 and 90"),
        ("aerialink_choice_show_location", "latitude", -91, "'latitude' must be between -90 and 90"),
        ("aerialink_choice_show_location", "longitude", 180.000001, "'longitude' must be between -180 and 180"),
        (
            "aerialink_choice_create_calendar_event",
            "startTime",
            "2030-03-03",
            "'startTime' must be an ISO 8601 date string, e.g. 2030-03-03T15:00:00.000+01:00 or 2030-03-03T15:00:00Z",
        ),
        (
            "aerialink_choice_create_calendar_event",
            "startTime",
            "2030-13-03T15:00:00Z",
            "'startTime' must be an ISO 8601 date string, e.g. 2030-03-03T15:00:00.000+01:00 or 2030-03-03T15:00:00Z",
        ),
        (
            "aerialink_choice_create_calendar_event",
            "eventTitle",
            "e" * 101,
            "'eventTitle' must be at most 100 characters",
        ),
        (
            "aerialink_choice_create_calendar_event",
            "description",
            "d" * 501,
            "'description' must be at most 500 characters",
        ),
    ],
)
def test_choice_field_rules(name: str, field: str, value: Any, message: str) -> None:
    assert _choice_errors(load(name) | {field: value}) == {field: message}


def test_location_boundaries_pass() -> None:
    data = load("aerialink_choice_show_location") | {"latitude": -90, "longitude": 179.123456}
    choice = validate(CHOICE, data)
    assert (choice.latitude, choice.longitude) == (-90, 179.123456)


def test_calendar_times_across_offsets_and_kept_verbatim() -> None:
    data = load("aerialink_choice_create_calendar_event") | {"endTime": "2030-03-03T10:00:00-05:00"}
    assert to_wire(validate(CHOICE, data))["startTime"] == "2030-03-03T15:00:00.000+01:00"


def test_nested_choice_error_path_in_a_card() -> None:
    data = load("aerialink_rcs_card")
    data["choices"][1]["phoneNumber"] = "1" * 25
    assert _errors(data) == {"choices.1.phoneNumber": "'phoneNumber' must be at most 20 characters"}


# ---- responses and callbacks -------------------------------------------------------------------


def test_send_response() -> None:
    response = al.SendResponse.parse(load("aerialink_send_response"))
    assert response.ok and response.guids == ["550e8400-e29b-41d4-a716-446655440000"]
    assert response.data.results[0].destination == "15559876543"


def test_error_response_simple() -> None:
    error = al.ErrorResponse.parse(load("aerialink_error_simple"))
    assert error.status == "error"
    assert [(e.field, e.message) for e in error.field_errors()] == [("messageText", "'messageText' is required")]
    assert error.data[0].description == "Message Text"


@pytest.mark.parametrize("key", al.GUID_KEYS)
def test_delivery_callback_guid_aliases(key: str) -> None:
    callback = al.DeliveryCallback.parse({key: "g-1", "status": " success ", "channel": "sms", "errorCode": 30})
    assert callback.message_guid == "g-1"
    assert (callback.status, callback.channel, callback.error_code) == ("SUCCESS", "SMS", "30")
    assert to_wire(callback)["messageGUID"] == "g-1"


def test_delivery_callback_assumed_shape_is_lenient() -> None:
    body = {
        "messageGUID": "550e8400-e29b-41d4-a716-446655440000",
        "destination": "15559876543",
        "source": "CONVEY",
        "status": "FAIL",
        "channel": "RCS",
        "failover": False,
        "errorCode": "E1",
        "reason": "unavailable",
        "timestamp": "2025-01-01T12:00:00Z",
        "unexpected": [1, 2],
    }
    callback = al.DeliveryCallback.parse(body)
    assert callback.received_at == datetime(2025, 1, 1, 12, tzinfo=timezone.utc)
    assert callback.model_extra == {"unexpected": [1, 2]}


def test_delivery_callback_without_guid_is_an_error() -> None:
    with pytest.raises(PayloadValidationError):
        al.DeliveryCallback.parse({"status": "SUCCESS"})


def test_inbound_assumed_shape() -> None:
    body = {
        "messageGUID": "g",
        "source": "15559876543",
        "destination": "CONVEY",
        "messageType": "RCS_TEXT",
        "messageText": "YES",
        "postbackData": "yes_response",
        "timestamp": "2025-01-01 12:00:00.000",
    }
    message = al.InboundMessage.parse(body)
    assert (message.sender, message.text, message.postback, message.action) == (
        "15559876543",
        "YES",
        "yes_response",
        "generic",
    )
    assert message.received_at is not None
    assert al.InboundMessage.parse(body | {"messageText": " STOP "}).action == "stop"
    assert al.InboundMessage.parse(body | {"messageText": None}).action is None
