"""The one serializer (key order, bytes) and the ``extra_fields`` escape hatch for new vendor fields."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import TypeAdapter

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.models import aerialink as al
from airflow_provider_messaging.models import telesign as ts
from airflow_provider_messaging.models.base import to_wire, validate, wire_bytes
from tests.vendor_examples import load, names


def _compact(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize("name", names("aerialink_choice_"))
def test_choice_examples_are_byte_identical(name: str) -> None:
    assert wire_bytes(validate(TypeAdapter(al.Choice), load(name))) == _compact(load(name))


def test_card_choices_fragment_is_byte_identical() -> None:
    choices = validate(TypeAdapter(al.CardChoices), load("aerialink_card_choices")["choices"])
    assert _compact([to_wire(c) for c in choices]) == _compact(load("aerialink_card_choices")["choices"])


def test_message_contents_follow_the_cascade_order() -> None:
    data = load("telesign_whatsapp_file_request")
    data["message"] = {"sms": data["message"]["sms"], "whatsapp": data["message"]["whatsapp"]}
    assert list(ts.OmnichannelRequest.parse(data).to_wire()["message"]) == ["whatsapp", "sms"]


def test_extra_fields_merge_at_their_level() -> None:
    data = load("aerialink_rcs_card")
    data["extra_fields"] = {"expiry": "2030-01-01T00:00:00Z"}
    data["choices"][0]["extra_fields"] = {"icon": "info"}
    wire = al.parse_message(data).to_wire()
    assert wire["expiry"] == "2030-01-01T00:00:00Z"
    assert wire["choices"][0]["icon"] == "info"
    assert list(wire)[-1] == "expiry"  # documented keys first, in the docs' order
    assert "extra_fields" not in json.dumps(wire)


def test_extra_fields_cannot_shadow_a_documented_field() -> None:
    data = load("aerialink_rcs_text") | {"extra_fields": {"messageText": "bypass", "source": "x"}}
    with pytest.raises(PayloadValidationError) as info:
        al.parse_message(data)
    assert info.value.fields == ["extra_fields.messageText", "extra_fields.source"]
    assert "documented field" in info.value.errors[0].message


def test_extra_fields_must_be_json() -> None:
    data = load("telesign_call_button_request") | {"extra_fields": {"when": object()}}
    with pytest.raises(PayloadValidationError) as info:
        ts.OmnichannelRequest.parse(data)
    assert info.value.fields[0].startswith("extra_fields")


def test_extra_fields_survive_a_python_round_trip() -> None:
    # operators turn a model back into a dict before validating it again
    data = load("telesign_call_button_request") | {"extra_fields": {"priority": "high"}}
    model = ts.OmnichannelRequest.parse(data)
    again = ts.OmnichannelRequest.parse(model.model_dump(by_alias=True, exclude_none=True))
    assert again.to_wire() == model.to_wire()
    assert model.to_wire()["priority"] == "high"


def test_unknown_field_error_points_to_extra_fields() -> None:
    with pytest.raises(PayloadValidationError) as info:
        al.parse_message(load("aerialink_rcs_text") | {"expiry": "soon"})
    assert info.value.fields == ["expiry"]
    assert "extra_fields" in info.value.errors[0].message


def test_inbound_sms_short_code_is_the_recipient() -> None:
    assert ts.InboundMessage.parse(load("telesign_inbound_sms_keyword")).recipient == "4442"
    assert ts.InboundMessage.parse(load("telesign_inbound_whatsapp_text")).recipient == "11234567891"
    assert ts.InboundMessage.parse(load("telesign_inbound_rcs_image")).recipient == "rcs_sender_example"
    assert ts.InboundMessage.parse(load("telesign_inbound_viber")).recipient is None
