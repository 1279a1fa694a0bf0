"""Telesign request rules, callback quirks and inbound derived properties."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.models import telesign as ts
from airflow_provider_messaging.models.base import to_wire
from tests.vendor_examples import load

UTC = timezone.utc


def _errors(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(PayloadValidationError) as info:
        ts.OmnichannelRequest.parse(data)
    return {e.field: e.message for e in info.value.errors}


@pytest.fixture
def call_button() -> dict[str, Any]:
    return load("telesign_call_button_request")


def test_model_built_in_python_dumps_vendor_json(call_button: dict[str, Any]) -> None:
    request = ts.OmnichannelRequest(
        channels=[ts.ChannelEntry(channel="rcs", fallback_time=600), ts.ChannelEntry(channel="sms")],
        phone_number="+1 555 867 5309",
        message=ts.MessageContent(
            rcs=ts.RcsDialAction(
                template="dial_action",
                parameters=ts.DialActionParameters(**call_button["message"]["rcs"]["parameters"]),
            ),
            sms=ts.SmsText(
                template="text", parameters=ts.TextParameters(text=call_button["message"]["sms"]["parameters"]["text"])
            ),
        ),
        message_type="MKT",
    )
    assert to_wire(request) == call_button


def test_whatsapp_file_name_is_not_injected() -> None:
    data = load("telesign_whatsapp_file_request")
    del data["message"]["whatsapp"]["parameters"]["file_name"]
    wire = ts.OmnichannelRequest.parse(data).to_wire()
    assert wire["message"]["whatsapp"]["parameters"] == {"url": data["message"]["whatsapp"]["parameters"]["url"]}


@pytest.mark.parametrize("missing", ["text", "dial_text", "phone_number_to_dial", "dial_payload"])
def test_dial_action_parameters_are_required(call_button: dict[str, Any], missing: str) -> None:
    del call_button["message"]["rcs"]["parameters"][missing]
    assert _errors(call_button) == {
        f"message.rcs.parameters.{missing}": f"When template is dial_action, '{missing}' is required"
    }


@pytest.mark.parametrize("missing", ["text", "url", "url_id", "url_text"])
def test_url_action_parameters_are_required(missing: str) -> None:
    data = load("telesign_link_button_request")
    del data["message"]["rcs"]["parameters"][missing]
    assert list(_errors(data)) == [f"message.rcs.parameters.{missing}"]


def test_url_action_url_must_be_valid() -> None:
    data = load("telesign_link_button_request")
    data["message"]["rcs"]["parameters"]["url"] = "viatushop.com/track"
    assert _errors(data) == {
        "message.rcs.parameters.url": "'url' must be a fully-qualified URL without spaces (e.g. https://example.com/media.jpg)"
    }


def test_whatsapp_file_url_required_and_valid() -> None:
    data = load("telesign_whatsapp_file_request")
    del data["message"]["whatsapp"]["parameters"]["url"]
    assert _errors(data) == {"message.whatsapp.parameters.url": "When template is file, 'url' is required"}


def test_undocumented_template_passes_through_checked_for_shape(call_button: dict[str, Any]) -> None:
    call_button["message"]["rcs"] = {"template": "carousel", "parameters": {"cards": [{"title": "A"}]}}
    assert ts.OmnichannelRequest.parse(call_button).to_wire()["message"]["rcs"] == call_button["message"]["rcs"]
    call_button["message"]["rcs"] = {"template": "carousel"}
    assert _errors(call_button) == {"message.rcs.parameters": "'parameters' is required"}
    call_button["message"]["rcs"] = {"template": "", "parameters": {}}
    assert _errors(call_button) == {"message.rcs.template": "'template' must not be empty"}


def test_sms_other_template_passes_through(call_button: dict[str, Any]) -> None:
    call_button["message"]["sms"] = {"template": "otp", "parameters": {"code": "1234"}}
    assert ts.OmnichannelRequest.parse(call_button).to_wire()["message"]["sms"] == call_button["message"]["sms"]


@pytest.mark.parametrize("number", ["12345", "CONVEY", "1555867530912345678"])
def test_phone_number_shape(call_button: dict[str, Any], number: str) -> None:
    call_button["phone_number"] = number
    assert list(_errors(call_button)) == ["phone_number"]


def test_phone_number_plus_is_stripped(call_button: dict[str, Any]) -> None:
    call_button["phone_number"] = "+15558675309"
    assert ts.OmnichannelRequest.parse(call_button).phone_number == "15558675309"


def test_message_type_enum(call_button: dict[str, Any]) -> None:
    call_button["message_type"] = "PROMO"
    assert _errors(call_button) == {"message_type": "'message_type' must be 'ARN', 'MKT' or 'OTP' (got 'PROMO')"}


def test_duplicate_channel_is_3113(call_button: dict[str, Any]) -> None:
    call_button["channels"].append({"channel": "rcs"})
    assert _errors(call_button) == {"channels.2.channel": "duplicate channel 'rcs' (vendor code 3113)"}


def test_channel_without_content_and_content_without_channel(call_button: dict[str, Any]) -> None:
    call_button["channels"].append({"channel": "whatsapp"})
    assert "no content" in _errors(call_button)["message.whatsapp"]
    data = load("telesign_call_button_request")
    data["channels"] = data["channels"][:1]
    # content no channel uses is not documented as an error: it is sent and the vendor ignores it
    assert ts.OmnichannelRequest.parse(data).to_wire()["message"]["sms"] == data["message"]["sms"]


def test_unknown_channel_and_empty_channels(call_button: dict[str, Any]) -> None:
    call_button["channels"][1]["channel"] = "fax"
    assert list(_errors(call_button)) == ["channels.1.channel"]
    call_button["channels"] = []
    assert "at least 1 channel" in _errors(call_button)["channels"]


@pytest.mark.parametrize("external_id", ["x" * 101, "café"])
def test_external_id_rule_3103(call_button: dict[str, Any], external_id: str) -> None:
    call_button["external_id"] = external_id
    assert "3103" in _errors(call_button)["external_id"]


def test_external_id_ok(call_button: dict[str, Any]) -> None:
    call_button["external_id"] = "order-45390" + "x" * 89
    assert ts.OmnichannelRequest.parse(call_button).to_wire()["external_id"] == call_button["external_id"]


def test_payload_over_10kb_is_3116(call_button: dict[str, Any]) -> None:
    call_button["message"]["rcs"]["parameters"]["text"] = "x" * 10_500
    errors = _errors(call_button)
    assert list(errors) == [""]
    assert "10KB" in errors[""] and "3116" in errors[""]


def test_payload_just_under_10kb_passes(call_button: dict[str, Any]) -> None:
    size = ts.payload_size(ts.OmnichannelRequest.parse(call_button))
    call_button["message"]["sms"]["parameters"]["text"] += "x" * (ts.MAX_PAYLOAD_BYTES - size)
    assert ts.payload_size(ts.OmnichannelRequest.parse(call_button)) == ts.MAX_PAYLOAD_BYTES


def test_unknown_request_field_is_rejected(call_button: dict[str, Any]) -> None:
    call_button["message"]["rcs"]["parameters"]["dial_txt"] = "typo"
    assert _errors(call_button) == {
        "message.rcs.parameters.dial_txt": "unknown field 'dial_txt' "
        "(a field the vendor added after these models: put it in 'extra_fields')"
    }


def test_every_bad_field_is_listed(call_button: dict[str, Any]) -> None:
    call_button["phone_number"] = "1"
    call_button["message_type"] = "X"
    call_button["channels"][0]["fallback_time"] = -1
    del call_button["message"]["sms"]["parameters"]["text"]
    assert set(_errors(call_button)) == {
        "phone_number",
        "message_type",
        "channels.0.fallback_time",
        "message.sms.parameters.text",
    }


# ---- responses and delivery callbacks -------------------------------------------------------


def test_send_response() -> None:
    response = ts.OmnichannelResponse.parse(load("telesign_send_response"))
    assert response.accepted
    assert response.status.code == 3001 and response.external_id is None


def test_delivery_callback_quirks() -> None:
    callback = ts.DeliveryCallback.parse(load("telesign_delivery_callback_rcs_sms"))
    assert callback.external_id is None  # the string "null"
    assert callback.status.updated_on == "2020-05-04 22:07:01:226"  # raw kept
    assert callback.status.updated_at == datetime(2020, 5, 4, 22, 7, 1, 226000, tzinfo=UTC)
    attempts = callback.channel_attempts()
    assert [(c, s.code) for c, s in attempts] == [("rcs", 3056), ("sms", 3000)]
    assert attempts[0][1].reference_id == "65C77D4A6C5C09085694EFB6C554D2BF"
    assert attempts[0][1].updated_at == datetime(2020, 5, 4, 22, 5, 0, 325000, tzinfo=UTC)
    assert callback.status.last_channel == "sms"


def test_delivery_callback_json_null_and_real_external_id() -> None:
    data = load("telesign_delivery_callback_whatsapp_sms")
    data["external_id"] = None
    assert ts.DeliveryCallback.parse(data).external_id is None
    data["external_id"] = "order-1"
    assert ts.DeliveryCallback.parse(data).external_id == "order-1"


def test_delivery_callback_keeps_extra_fields_and_odd_timestamps() -> None:
    data = load("telesign_delivery_callback_rcs_sms")
    data["new_vendor_field"] = {"a": 1}
    data["status"]["extra"] = True
    data["status"]["updated_on"] = "sometime"
    data["submit_timestamp"] = "2023-10-31T14:47:10.154000Z"
    callback = ts.DeliveryCallback.parse(data)
    assert callback.model_extra == {"new_vendor_field": {"a": 1}}
    assert callback.status.updated_at is None and callback.status.updated_on == "sometime"
    assert callback.submitted_at == datetime(2023, 10, 31, 14, 47, 10, 154000, tzinfo=UTC)
    assert to_wire(callback)["new_vendor_field"] == {"a": 1}


def test_delivery_callback_from_raw_get_body() -> None:
    body = b'{"reference_id": "AB", "status": {"code": "3003"}, "channel_status": []}'
    callback = ts.DeliveryCallback.parse(body)
    assert callback.status.code == 3003 and callback.channel_attempts() == []


@pytest.mark.parametrize("path", [("reference_id",), ("status",), ("status", "code")])
def test_delivery_callback_requires_reference_and_code(path: tuple[str, ...]) -> None:
    data = load("telesign_delivery_callback_rcs_sms")
    target = data
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    with pytest.raises(PayloadValidationError) as info:
        ts.DeliveryCallback.parse(data)
    assert info.value.fields == [".".join(path)]


# ---- inbound ---------------------------------------------------------------------------------

INBOUND = {
    # name: (channel, sender, text, action, keyword)
    "telesign_inbound_email_unsubscribe": ("email", "[email protected]", None, "stop", None),
    "telesign_inbound_mms": ("mms", "11234567890", "Thank you", None, None),
    "telesign_inbound_rcs_image": ("rcs", "11234567890", None, None, None),
    "telesign_inbound_sms_keyword": ("sms", "11234567890", "Start", "start", "start"),
    "telesign_inbound_viber": ("viber", "11234567890", "Thank you! 😎", None, None),
    "telesign_inbound_whatsapp_text": ("whatsapp", "11234567890", "Thank you", None, None),
    "telesign_inbound_rcs_stop": ("rcs", "11234567890", "Stop", "stop", "stop"),
    "telesign_inbound_whatsapp_stop": ("whatsapp", "11234567890", "end", "stop", "end"),
}


@pytest.mark.parametrize("name", sorted(INBOUND))
def test_inbound_derived_properties(name: str) -> None:
    message = ts.InboundMessage.parse(load(name))
    channel, sender, text, action, keyword = INBOUND[name]
    assert (message.channel, message.sender, message.text, message.action, message.keyword) == (
        channel,
        sender,
        text,
        action,
        keyword,
    )
    assert message.received_at is not None and message.received_at.tzinfo == UTC
    assert message.postback is None


def test_inbound_media_urls() -> None:
    mms = ts.InboundMessage.parse(load("telesign_inbound_mms"))
    assert len(mms.media_urls) == 1 and mms.media_urls[0].startswith("https://messaging-qa.telesign.com/mms/")
    rcs = ts.InboundMessage.parse(load("telesign_inbound_rcs_image"))
    assert rcs.media_urls == [load("telesign_inbound_rcs_image")["content"]["file"]["payload"]["uri"]]
    assert ts.InboundMessage.parse(load("telesign_inbound_viber")).media_urls == []


def test_inbound_received_at_parses_status_updated_on() -> None:
    message = ts.InboundMessage.parse(load("telesign_inbound_sms_keyword"))
    assert message.received_at == datetime(2023, 10, 31, 14, 47, 10, 490130, tzinfo=UTC)


def test_inbound_is_lenient_and_finds_postbacks() -> None:
    data = copy.deepcopy(load("telesign_inbound_rcs_image"))
    data["content"] = {"suggestion_response": {"postback_data": "yes_response", "text": "Yes"}}
    data["brand_new"] = 1
    message = ts.InboundMessage.parse(data)
    assert message.postback == "yes_response"
    assert message.model_extra == {"brand_new": 1}


def test_inbound_other_actions_are_generic() -> None:
    data = load("telesign_inbound_rcs_stop")
    data["content"]["end_user_action"]["action"] = "GENERIC"
    assert ts.InboundMessage.parse(data).action == "generic"
    data["content"]["end_user_action"]["action"] = "help"
    assert ts.InboundMessage.parse(data).action == "help"
