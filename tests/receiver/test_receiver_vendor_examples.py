"""Every callback example of the vendor docs, sent over real HTTP to a running receiver and read back
from the store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from airflow_provider_messaging.models.status import DeliveryState
from tests.receiver.receiver_support import Receiver, body_of, counts
from tests.support.store_helpers import complete_send
from tests.vendor_examples import load

REFERENCE_ID = "35C8B5D509BC10689196FED2AD551B8A"
SENDER = "11234567890"


def record_send(receiver: Receiver, message_id: str, channels: list[str], vendor: str = "telesign") -> None:
    key = f"dag/task/run-{message_id}/-1"
    assert receiver.store.reserve_send(idempotency_key=key, vendor=vendor, recipient=SENDER, channels=channels).send
    complete_send(receiver.store, key, message_id)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("example", "first_channel"),
    [("telesign_delivery_callback_rcs_sms", "rcs"), ("telesign_delivery_callback_whatsapp_sms", "whatsapp")],
)
def test_telesign_delivery_example(receiver: Receiver, example: str, first_channel: str, method: str) -> None:
    record_send(receiver, REFERENCE_ID, [first_channel, "sms"])
    body = body_of(load(example))

    response = receiver.send("/telesign/status", body, method=method)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "message_id": REFERENCE_ID,
        "state": "DELIVERED",
        "known_message": True,
    }
    status = receiver.store.get_status(REFERENCE_ID)
    assert status is not None
    assert (status.state, status.complete, status.delivered_channel) == (DeliveryState.DELIVERED, True, "sms")
    assert status.fallback_used
    assert [(a.channel, a.state, a.code, a.channel_reference_id) for a in status.attempts] == [
        (first_channel, DeliveryState.EXPIRED, "3056", "65C77D4A6C5C09085694EFB6C554D2BF"),
        ("sms", DeliveryState.DELIVERED, "3000", "65C77D4A6C5C09085694EFB6C558B4C7"),
    ]
    assert status.attempts[1].updated_on is not None
    assert status.attempts[1].updated_on.isoformat() == "2020-05-04T22:07:01.226000+00:00"
    stored = receiver.store.callbacks_for(REFERENCE_ID)
    assert [c["body"] for c in stored] == [body.decode()]  # the raw body, byte for byte


def test_delivery_example_with_json_null_external_id(receiver: Receiver) -> None:
    payload = load("telesign_delivery_callback_rcs_sms")
    payload["external_id"] = None
    record_send(receiver, REFERENCE_ID, ["rcs", "sms"])
    assert receiver.send("/telesign/status", payload).status_code == 200
    status = receiver.store.get_status(REFERENCE_ID)
    assert status is not None and status.delivered_channel == "sms"


# example -> (channel, sender, recipient, text, media count, action, keyword)
INBOUND: dict[str, tuple[str, str, str | None, str | None, int, str | None, str | None]] = {
    "telesign_inbound_email_unsubscribe": ("email", "[email protected]", None, None, 0, "stop", None),
    "telesign_inbound_mms": ("mms", SENDER, None, "Thank you", 1, None, None),
    "telesign_inbound_rcs_image": ("rcs", SENDER, "rcs_sender_example", None, 1, None, None),
    "telesign_inbound_sms_keyword": ("sms", SENDER, "4442", "Start", 0, "start", "start"),  # short code
    "telesign_inbound_viber": ("viber", SENDER, None, "Thank you! 😎", 0, None, None),
    "telesign_inbound_whatsapp_text": ("whatsapp", SENDER, "11234567891", "Thank you", 0, None, None),
    "telesign_inbound_rcs_stop": ("rcs", SENDER, None, "Stop", 0, "stop", "stop"),
    "telesign_inbound_whatsapp_stop": ("whatsapp", SENDER, "11234567891", "end", 0, "stop", "end"),
}


@pytest.mark.parametrize("example", sorted(INBOUND))
def test_telesign_inbound_example(receiver: Receiver, example: str) -> None:
    channel, sender, recipient, text, media, action, keyword = INBOUND[example]
    body = body_of(load(example))

    response = receiver.send("/telesign/inbound", body)

    assert response.status_code == 200, response.text
    assert response.json()["duplicate"] is False
    assert response.json()["action"] == action
    [record] = receiver.store.find_inbound()
    assert record.vendor == "telesign"
    assert (record.channel, record.sender, record.recipient, record.text) == (channel, sender, recipient, text)
    assert (len(record.media), record.action, record.keyword) == (media, action, keyword)
    assert record.reference_id == "0123456789ABCDEF0123456789ABCDEF"
    assert record.received_at.year == 2023
    assert [c["body"] for c in receiver.store.callbacks_for(record.reference_id)] == [body.decode()]
    assert receiver.store.is_opted_out("telesign", sender) is (action == "stop")

    # the vendor retrying the same body is recognised: 200, nothing stored twice
    before = counts(receiver.store)
    again = receiver.send("/telesign/inbound", body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert counts(receiver.store) == before


def test_inbound_media_urls_are_kept(receiver: Receiver) -> None:
    assert receiver.send("/telesign/inbound", load("telesign_inbound_rcs_image")).status_code == 200
    assert receiver.send("/telesign/inbound", load("telesign_inbound_mms")).status_code == 200
    rcs, mms = receiver.store.find_inbound()
    assert rcs.media == [load("telesign_inbound_rcs_image")["content"]["file"]["payload"]["uri"]]
    assert mms.media == [load("telesign_inbound_mms")["content"]["url_image_1"]]


def _start_from_stop(example: str, keyword: str = "start", text: str = "Start") -> dict[str, Any]:
    """The docs list "start" as an RCS/WhatsApp keyword but show only the STOP bodies: derive one."""
    payload = copy.deepcopy(load(example))
    payload["content"]["end_user_action"].update(action="start", keyword=keyword, text=text)
    payload["status"]["updated_on"] = "2023-12-14T10:00:00.000000Z"
    return payload


@pytest.mark.parametrize("example", ["telesign_inbound_rcs_stop", "telesign_inbound_whatsapp_stop"])
def test_stop_then_start_keywords_change_the_opt_out_list(receiver: Receiver, example: str) -> None:
    store = receiver.store
    assert not store.is_opted_out("telesign", SENDER)

    assert receiver.send("/telesign/inbound", load(example)).status_code == 200
    assert store.is_opted_out("telesign", SENDER)
    assert store.is_opted_out("telesign", "+1 123-456-7890")  # numbers are normalized
    [row] = store.list_opt_outs("telesign")
    assert (row["recipient"], row["source"]) == (SENDER, "keyword")

    # a second STOP (another keyword) keeps one entry
    again = copy.deepcopy(load(example))
    again["content"]["end_user_action"].update(keyword="unsubscribe", text="Unsubscribe")
    assert receiver.send("/telesign/inbound", again).status_code == 200
    assert store.count("opt_outs") == 1

    response = receiver.send("/telesign/inbound", _start_from_stop(example))
    assert response.status_code == 200 and response.json()["action"] == "start"
    assert not store.is_opted_out("telesign", SENDER)
    assert store.count("opt_outs") == 0
    assert [r.action for r in store.find_inbound(sender=SENDER)] == ["stop", "stop", "start"]


def test_sms_start_keyword_removes_an_opt_out(receiver: Receiver) -> None:
    receiver.store.add_opt_out("telesign", SENDER)
    assert receiver.send("/telesign/inbound", load("telesign_inbound_sms_keyword")).status_code == 200
    assert not receiver.store.is_opted_out("telesign", SENDER)


def test_help_keyword_does_not_touch_opt_outs(receiver: Receiver) -> None:
    payload = copy.deepcopy(load("telesign_inbound_rcs_stop"))
    payload["content"]["end_user_action"].update(action="help", keyword="help", text="Help")
    receiver.store.add_opt_out("telesign", SENDER)
    response = receiver.send("/telesign/inbound", payload)
    assert response.status_code == 200 and response.json()["action"] == "help"
    assert receiver.store.is_opted_out("telesign", SENDER)


# --- Aerialink: the vendor publishes no callback shape; these follow the assumed one (docs/CONTRACTS.md) ---
def aerialink_status(guid: str, status: str, channel: str, failover: bool, at: str) -> dict[str, Any]:
    return {
        "messageGUID": guid,
        "destination": "15559876543",
        "source": "CONVEY",
        "status": status,
        "channel": channel,
        "failover": failover,
        "errorCode": "" if status == "SUCCESS" else "RCS_UNAVAILABLE",
        "reason": "" if status == "SUCCESS" else "device not RCS capable",
        "timestamp": at,
    }


def test_aerialink_status_rcs_fail_then_sms_failover(receiver: Receiver) -> None:
    guid = "9f0c4b1e-8d43-4f0e-a0e5-3a2b1c0d9e8f"
    record_send(receiver, guid, ["rcs", "sms"], vendor="aerialink")

    first = receiver.send("/aerialink/status", aerialink_status(guid, "FAIL", "RCS", False, "2025-01-01T12:00:00Z"))
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "QUEUED"  # the failover still runs
    second = receiver.send("/aerialink/status", aerialink_status(guid, "SUCCESS", "SMS", True, "2025-01-01T12:00:05Z"))
    assert second.status_code == 200 and second.json()["state"] == "DELIVERED"

    status = receiver.store.get_status(guid, vendor="aerialink")
    assert status is not None
    assert (status.complete, status.delivered_channel, status.fallback_used) == (True, "sms", True)
    assert [(a.channel, a.state) for a in status.attempts] == [
        ("rcs", DeliveryState.FAILED),
        ("sms", DeliveryState.DELIVERED),
    ]
    assert len(receiver.store.callbacks_for(guid)) == 2


@pytest.mark.parametrize("guid_key", ["messageGUID", "messageGuid", "message_guid", "guid"])
def test_aerialink_status_guid_spellings(receiver: Receiver, guid_key: str) -> None:
    payload = aerialink_status("g-1", "SUCCESS", "RCS", False, "2025-01-01T12:00:00Z")
    payload[guid_key] = payload.pop("messageGUID")
    response = receiver.send("/aerialink/status", payload)
    assert response.status_code == 200, response.text
    assert response.json()["known_message"] is False  # kept until the send is recorded
    assert len(receiver.store.callbacks_for("g-1")) == 1


def test_aerialink_inbound(receiver: Receiver) -> None:
    payload = {
        "messageGUID": "in-1",
        "source": "15559876543",
        "destination": "CONVEY",
        "messageType": "RCS_TEXT",
        "messageText": "YES",
        "postbackData": "yes_response",
        "timestamp": "2025-01-01T12:00:00Z",
    }
    response = receiver.send("/aerialink/inbound", payload)
    assert response.status_code == 200, response.text
    [record] = receiver.store.find_inbound(vendor="aerialink")
    assert (record.channel, record.sender, record.recipient) == ("rcs", "15559876543", "CONVEY")
    assert (record.text, record.postback, record.reference_id) == ("YES", "yes_response", "in-1")
    assert record.received_at.isoformat() == "2025-01-01T12:00:00+00:00"
    assert receiver.store.find_inbound(sender="+1 (555) 987-6543", postback="yes_response") == [record]


def test_aerialink_stop_keyword_opts_out(receiver: Receiver) -> None:
    payload = {"messageGUID": "in-2", "source": "15559876543", "messageType": "RCS_TEXT", "messageText": "STOP"}
    response = receiver.send("/aerialink/inbound", payload)
    assert response.status_code == 200, response.text
    # Aerialink's docs name no keyword handling: the industry STOP keyword in the text is what opts out
    assert response.json()["action"] == "stop"
    assert receiver.store.is_opted_out("aerialink", "15559876543")


def test_health_and_methods(receiver: Receiver) -> None:
    assert receiver.session.get(receiver.url + "/health", timeout=10).json() == {"status": "ok"}
    assert receiver.session.get(receiver.url + "/aerialink/status", timeout=10).status_code == 405
    assert receiver.session.put(receiver.url + "/telesign/status", timeout=10).status_code == 405
