"""Dry-run preview of validated payloads: every cascade step with text, SMS segments, media and buttons."""

from __future__ import annotations

import json

import pytest

from airflow_provider_messaging.models import aerialink, telesign
from airflow_provider_messaging.models.preview import preview
from tests.vendor_examples import load


def test_telesign_call_button_with_a_two_part_sms_fallback() -> None:
    result = preview(telesign.OmnichannelRequest.parse(load("telesign_call_button_request")))
    assert (result.vendor, result.recipient, result.message_type) == ("telesign", "15558675309", "MKT")
    rcs, sms = result.steps
    assert (rcs.step, rcs.channel, rcs.content, rcs.fallback_after) == (1, "rcs", "rcs.dial_action", 600)
    assert rcs.buttons == ("call 'Call us' -> 18003334444",)
    assert rcs.text is not None and rcs.text.startswith("We received your refund request")
    assert rcs.segments is None  # RCS is not billed by SMS segment
    assert (sms.step, sms.channel, sms.content, sms.fallback_after) == (2, "sms", "sms.text", None)
    assert sms.segments is not None
    # the vendor-docs SMS text is 165 GSM-7 characters: two parts, 153 + 12
    assert (sms.segments.encoding, sms.segments.units, sms.segments.segments) == ("GSM-7", 165, 2)
    assert sms.warnings == ("2 segments: billed as 2 messages",)
    assert result.sms_segments == 2


def test_telesign_link_button_and_whatsapp_file() -> None:
    link = preview(telesign.OmnichannelRequest.parse(load("telesign_link_button_request")))
    assert link.steps[0].buttons == ("open 'Track Order' -> https://viatushop.com/track/45390",)
    assert link.steps[1].segments is not None and link.steps[1].segments.segments == 1
    assert link.steps[1].warnings == ()
    file = preview(telesign.OmnichannelRequest.parse(load("telesign_whatsapp_file_request")))
    whatsapp = file.steps[0]
    assert (whatsapp.channel, whatsapp.content, whatsapp.text) == ("whatsapp", "whatsapp.file", None)
    assert whatsapp.media == (
        "https://s3.amazonaws.com/346542/viatu/customer47325-order-history.xlsx (order history.pdf)",
    )
    unnamed = load("telesign_whatsapp_file_request")
    del unnamed["message"]["whatsapp"]["parameters"]["file_name"]
    assert preview(telesign.OmnichannelRequest.parse(unnamed)).steps[0].media[0].endswith("(file)")


def test_a_stray_emoji_in_the_sms_fallback_is_flagged() -> None:
    data = load("telesign_link_button_request")
    data["message"]["sms"]["parameters"]["text"] = "Thanks for your purchase \U0001f389 Track your order: " + "x" * 40
    sms = preview(telesign.OmnichannelRequest.parse(data)).steps[1]
    assert sms.segments is not None
    assert (sms.segments.encoding, sms.segments.segments) == ("UCS-2", 2)
    assert sms.warnings[0].startswith("UCS-2 forced by '\U0001f389': 67 characters per segment")
    assert sms.warnings[1] == "2 segments: billed as 2 messages"


def test_aerialink_text_with_sms_failover() -> None:
    result = preview(aerialink.parse_message(load("aerialink_rcs_text")))
    assert (result.vendor, result.recipient, result.message_type) == ("aerialink", "15559876543", None)
    rcs, sms = result.steps
    assert (rcs.channel, rcs.content, rcs.sender, rcs.text) == ("rcs", "RCS_TEXT", "CONVEY", "Hello from RCS!")
    assert rcs.buttons == (
        "reply 'Yes' (postback 'yes_response')",
        "open 'Learn More' -> https://example.com/info (browser)",
    )
    assert (sms.step, sms.channel, sms.content, sms.sender, sms.text) == (
        2,
        "sms",
        "smsFailover",
        "15551234567",
        "Fallback message if RCS fails",
    )
    assert sms.segments is not None and sms.segments.segments == 1


@pytest.mark.parametrize("example", ["aerialink_rcs_media", "aerialink_rcs_card", "aerialink_rcs_carousel"])
def test_aerialink_rich_messages_with_mms_failover(example: str) -> None:
    result = preview(aerialink.parse_message(load(example)))
    rcs, mms = result.steps
    assert rcs.channel == "rcs" and rcs.content == load(example)["messageType"]
    assert (mms.channel, mms.content, mms.subject, mms.media) == (
        "mms",
        "mmsFailover",
        "Fallback Media Subject",
        ("https://example.com/fallback_media.jpg",),
    )
    assert mms.segments is None  # MMS is not split into SMS segments
    assert result.sms_segments == 0
    if example == "aerialink_rcs_media":
        assert rcs.media == (
            "https://example.com/media.jpg (custom_name.jpg)",
            "thumbnail https://example.com/thumbnail.jpg",
        )
        assert rcs.buttons == ("call 'Call Us' -> 15551234567",)
    elif example == "aerialink_rcs_card":
        assert rcs.text == "Welcome!\nThis is a card message with media and choices."
        assert len(rcs.buttons) == 2 and rcs.cards is None
    else:
        assert rcs.cards == 2 and rcs.media == ("https://example.com/media1.jpg", "https://example.com/media2.jpg")
        assert rcs.buttons == (
            "card 1: open 'View' -> https://example.com/details (webview)",
            "card 2: call 'Call Now' -> 15551234567",
        )


def test_a_disabled_failover_is_not_a_step() -> None:
    data = load("aerialink_rcs_text")
    data["smsFailover"] = {"enabled": False}
    assert [s.channel for s in preview(aerialink.parse_message(data)).steps] == ["rcs"]


def test_preview_is_json_and_readable() -> None:
    result = preview(telesign.OmnichannelRequest.parse(load("telesign_call_button_request")))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["sms_segments"] == 2
    assert data["steps"][1]["segments"]["encoding"] == "GSM-7"
    lines = result.lines()
    assert lines[0] == "telesign message to 15558675309 (MKT)"
    assert "  1. rcs rcs.dial_action, next after 600s" in lines
    assert "     sms: 2 segment(s), GSM-7, 165/306" in lines


def test_preview_refuses_other_objects() -> None:
    with pytest.raises(TypeError, match="OmnichannelRequest"):
        preview({"channels": []})  # type: ignore[arg-type]
