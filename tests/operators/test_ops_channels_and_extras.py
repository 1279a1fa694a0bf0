"""Operators build every documented channel, any backup channel, and carry ``extra_fields`` to the wire."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.operators.aerialink import AerialinkRcsCardOperator
from airflow_provider_messaging.operators.telesign import (
    TelesignRcsCallButtonOperator,
    TelesignSendOperator,
    TelesignWhatsAppFileOperator,
)
from tests.vendor_examples import load

CALL = load("telesign_call_button_request")
PARAMS = CALL["message"]["rcs"]["parameters"]
VIBER = {"channel": "viber", "template": "text", "parameters": {"text": "Please call us"}}


def _call_button(**kwargs: Any) -> TelesignRcsCallButtonOperator:
    return TelesignRcsCallButtonOperator(
        task_id="call", phone_number=CALL["phone_number"], message_type="MKT", fallback_time=600, **PARAMS, **kwargs
    )


def test_rich_operator_takes_any_backup_channel() -> None:
    payload = _call_button(backup=VIBER).build_payload()
    wire = payload.to_wire()
    assert wire["channels"] == [{"channel": "rcs", "fallback_time": 600}, {"channel": "viber"}]
    assert wire["message"]["viber"] == {"template": "text", "parameters": {"text": "Please call us"}}
    assert list(wire["message"]) == ["rcs", "viber"]


def test_sms_fallback_text_still_builds_the_docs_example() -> None:
    sms_text = CALL["message"]["sms"]["parameters"]["text"]
    assert _call_button(sms_fallback_text=sms_text).build_payload().wire_bytes() == (
        TelesignSendOperator(task_id="s", request=CALL).build_payload().wire_bytes()
    )


def test_backup_and_sms_fallback_text_are_exclusive() -> None:
    with pytest.raises(ValueError, match="either sms_fallback_text or backup"):
        _call_button(sms_fallback_text="x", backup=VIBER)


@pytest.mark.parametrize("channel", ["mms", "viber", "email", "whatsapp"])
def test_send_operator_accepts_every_documented_channel(channel: str) -> None:
    operator = TelesignSendOperator(
        task_id="send",
        phone_number="15558675301",
        channels=[{"channel": "rcs", "fallback_time": 60}, channel],
        message={
            "rcs": CALL["message"]["rcs"],
            channel: {"template": "text", "parameters": {"text": "Hello"}},
        },
    )
    payload = operator.build_payload()
    assert operator.cascade_of(payload) == ["rcs", channel]


def test_whatsapp_operator_backup() -> None:
    operator = TelesignWhatsAppFileOperator(
        task_id="file", phone_number="15558675301", url="https://example.com/f.pdf", backup=VIBER
    )
    assert operator.cascade_of(operator.build_payload()) == ["whatsapp", "viber"]


def test_extra_fields_on_both_vendors() -> None:
    telesign = TelesignSendOperator(task_id="s", request=CALL, extra_fields={"priority": "high"})
    assert telesign.build_payload().to_wire()["priority"] == "high"
    card = load("aerialink_rcs_card")
    aerialink = AerialinkRcsCardOperator(
        task_id="card",
        destination=card["destination"],
        source=card["source"],
        callback_url="http://127.0.0.1:9/cb",
        title=card["title"],
        description=card["description"],
        height=card["height"],
        media_url=card["mediaUrl"],
        extra_fields={"expiry": "2030-01-01T00:00:00Z"},
    )
    assert aerialink.build_payload().to_wire()["expiry"] == "2030-01-01T00:00:00Z"


def test_backup_content_keeps_its_extra_keys_and_a_missing_template_is_named() -> None:
    extra = {**VIBER, "extra_fields": {"ttl": 5}}
    wire = _call_button(backup=extra).build_payload().to_wire()
    assert wire["message"]["viber"] == {"template": "text", "parameters": {"text": "Please call us"}, "ttl": 5}

    no_template = {"channel": "viber", "parameters": {"text": "Please call us"}}
    with pytest.raises(PayloadValidationError) as err:
        _call_button(backup=no_template).build_payload()
    assert err.value.fields == ["message.viber.template"]
    assert "'template' is required" in str(err.value)


def test_aerialink_operator_reads_no_connection_when_source_and_callback_are_given() -> None:
    # The hook fills only the defaults a message lacks: with both given, no connection is looked up.
    card = load("aerialink_rcs_card")
    operator = AerialinkRcsCardOperator(
        task_id="card",
        destination=card["destination"],
        source="ACME",
        callback_url="https://cb.example.com/x",
        title=card["title"],
        description=card["description"],
        media_url=card["mediaUrl"],
    )
    wire = operator.build_payload().to_wire()
    assert (wire["source"], wire["callbackURL"]) == ("ACME", "https://cb.example.com/x")
