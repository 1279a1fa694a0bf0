"""Consent keywords on every inbound channel of both vendors, over real HTTP to a running receiver."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.receiver.receiver_support import Receiver
from tests.vendor_examples import load

SENDER = "11234567890"


def telesign_sms(text: str) -> dict[str, Any]:
    """An inbound SMS whose keyword Telesign did not map (action ``generic``): only our list decides."""
    payload = copy.deepcopy(load("telesign_inbound_sms_keyword"))
    payload["user_response"].update(action="generic", keyword=None, mo_message=text)
    payload["reference_id"] = f"SMS-{text}".replace(" ", "_")
    return payload


def telesign_whatsapp(text: str) -> dict[str, Any]:
    """A plain WhatsApp text (no keyword handling on the account): no action field at all."""
    payload = copy.deepcopy(load("telesign_inbound_whatsapp_text"))
    payload["content"]["content"]["body"] = text
    payload["reference_id"] = f"WA-{text}".replace(" ", "_")
    return payload


def telesign_viber(text: str) -> dict[str, Any]:
    payload = copy.deepcopy(load("telesign_inbound_viber"))
    payload["content"]["text"] = text
    payload["reference_id"] = f"VB-{text}".replace(" ", "_")
    return payload


def aerialink(text: str, message_type: str) -> dict[str, Any]:
    return {
        "messageGUID": f"in-{message_type}-{text}",
        "source": SENDER,
        "destination": "CONVEY",
        "messageType": message_type,
        "messageText": text,
        "timestamp": "2025-01-01T12:00:00Z",
    }


CHANNELS = [
    ("telesign", "sms", telesign_sms),
    ("telesign", "whatsapp", telesign_whatsapp),
    ("telesign", "viber", telesign_viber),
    ("aerialink", "sms", lambda text: aerialink(text, "SMS")),
    ("aerialink", "rcs", lambda text: aerialink(text, "RCS_TEXT")),
]


@pytest.mark.parametrize(("vendor", "channel", "make"), CHANNELS, ids=[f"{v}-{c}" for v, c, _ in CHANNELS])
def test_stop_and_start_keywords_on_every_channel(receiver: Receiver, vendor: str, channel: str, make: Any) -> None:
    store = receiver.store
    response = receiver.send(f"/{vendor}/inbound", make("Opt-Out"))
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "stop"
    assert store.is_opted_out(vendor, SENDER)
    [record] = store.find_inbound(vendor=vendor)
    assert (record.channel, record.action, record.keyword) == (channel, "stop", "optout")

    # a sentence that merely contains the word is not a keyword
    response = receiver.send(f"/{vendor}/inbound", make("please stop by the shop"))
    assert response.status_code == 200 and response.json()["action"] in ("generic", None)

    assert receiver.send(f"/{vendor}/inbound", make("UNSTOP")).json()["action"] == "start"
    assert not store.is_opted_out(vendor, SENDER)
    assert receiver.send(f"/{vendor}/inbound", make("Info")).json()["action"] == "help"

    history = store.consent_history(vendor, SENDER)
    assert [(h["action"], h["method"], h["keyword"]) for h in history] == [
        ("opt_out", "keyword", "optout"),
        ("opt_in", "keyword", "unstop"),
    ]
    assert history[0]["inbound_id"] == record.id


def test_the_vendor_action_field_still_decides(receiver: Receiver) -> None:
    # Telesign's RCS keyword handling: action "stop" with its own keyword "stop" (vendor-docs example)
    assert receiver.send("/telesign/inbound", load("telesign_inbound_rcs_stop")).json()["action"] == "stop"
    assert receiver.store.is_opted_out("telesign", SENDER)
    [entry] = receiver.store.consent_history("telesign")
    assert (entry["method"], entry["keyword"]) == ("keyword", "stop")
