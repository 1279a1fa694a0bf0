"""Each recipient scenario's callback sequence, in the vendors' callback shapes, signed like Telesign."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Any

import pytest

from airflow_provider_messaging.sandbox import SandboxServer
from tests import vendor_examples
from tests.sandbox.sandbox_support import Clients, answered, callbacks_for
from tests.support.http_server import LocalHttpServer, Recorded

STATUS_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}")  # 2020-05-04 22:07:01:226
CHANNEL_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}")  # 2020-05-04 22:05:00.325
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _send_telesign(clients: Clients, last_digit: str, channels: list[str] | None = None) -> str:
    body = vendor_examples.load("telesign_call_button_request")
    body["phone_number"] = f"1555867530{last_digit}"
    if channels is not None:
        body["channels"] = [{"channel": c} for c in channels]
    response = clients.telesign(body)
    assert response.status_code == 200, response.text
    return str(response.json()["reference_id"])


def _telesign_events(receiver: LocalHttpServer, reference_id: str, n: int) -> list[dict[str, Any]]:
    return callbacks_for(receiver, "reference_id", reference_id, n)


def _summary(callback: dict[str, Any]) -> tuple[int, str, list[tuple[str, int]]]:
    channels = [(name, entry["code"]) for item in callback["channel_status"] for name, entry in item.items()]
    return callback["status"]["code"], callback["status"]["last_channel"], channels


@pytest.mark.parametrize(
    ("digit", "expected"),
    [
        ("0", [(3000, "rcs", [("rcs", 3000)])]),
        ("1", [(3000, "rcs", [("rcs", 3000)])]),
        ("2", [(3056, "rcs", [("rcs", 3056)]), (3000, "sms", [("rcs", 3056), ("sms", 3000)])]),
        ("3", [(3003, "rcs", [("rcs", 3003)]), (3003, "sms", [("rcs", 3003), ("sms", 3003)])]),
        ("4", [(3055, "rcs", [("rcs", 3055)]), (3000, "sms", [("rcs", 3055), ("sms", 3000)])]),
        ("5", [(3000, "rcs", [("rcs", 3000)]), (3005, "rcs", [("rcs", 3005)])]),
        (
            "7",
            [
                (3000, "rcs", [("rcs", 3000)]),
                (3002, "rcs", [("rcs", 3002)]),
                (3000, "rcs", [("rcs", 3000)]),
                (3002, "rcs", [("rcs", 3002)]),
            ],
        ),
    ],
)
def test_telesign_scenario_sequences(
    clients: Clients, receiver: LocalHttpServer, sandbox: SandboxServer, digit: str, expected: list[Any]
) -> None:
    reference_id = _send_telesign(clients, digit)
    callbacks = _telesign_events(receiver, reference_id, len(expected))
    assert [_summary(c) for c in callbacks] == expected
    assert sandbox.wait_idle(5)
    assert len(answered(receiver, "reference_id", reference_id)) == len(expected)  # nothing more comes


def test_telesign_out_of_order_timestamps_tell_the_true_order(clients: Clients, receiver: LocalHttpServer) -> None:
    final, earlier, final_again, earlier_again = _telesign_events(receiver, _send_telesign(clients, "7"), 4)
    assert final == final_again and earlier == earlier_again
    assert earlier["status"]["updated_on"] < final["status"]["updated_on"]


def test_telesign_fallback_waits_for_the_scaled_fallback_time(clients: Clients, receiver: LocalHttpServer) -> None:
    started = time.monotonic()
    reference_id = _send_telesign(clients, "2")  # rcs fallback_time 600 s * 0.0001 = 60 ms
    first = receiver.wait_for_requests(1, route="/telesign/status")[0]
    assert first.json()["reference_id"] == reference_id
    assert time.monotonic() - started >= 0.05


def test_telesign_single_channel_scenarios_end_on_that_channel(clients: Clients, receiver: LocalHttpServer) -> None:
    assert [_summary(c) for c in _telesign_events(receiver, _send_telesign(clients, "2", ["rcs"]), 1)] == [
        (3003, "rcs", [("rcs", 3003)])
    ]
    assert [_summary(c) for c in _telesign_events(receiver, _send_telesign(clients, "4", ["sms"]), 1)] == [
        (3055, "sms", [("sms", 3055)])
    ]


def test_telesign_silent_scenario_sends_nothing(
    clients: Clients, receiver: LocalHttpServer, sandbox: SandboxServer
) -> None:
    _send_telesign(clients, "9")
    assert sandbox.wait_idle(2)
    # the API call scheduled its callbacks before answering, and a callback is recorded here before the
    # sandbox sees its answer: once the sandbox is idle, every callback it planned has arrived (none)
    assert sandbox.callbacks() == []
    assert receiver.requests == []


def test_telesign_callback_has_the_doc_shape(clients: Clients, receiver: LocalHttpServer) -> None:
    doc = vendor_examples.load("telesign_delivery_callback_rcs_sms")
    _, final = _telesign_events(receiver, _send_telesign(clients, "2"), 2)
    assert list(final) == list(doc)
    assert final["external_id"] == doc["external_id"] == "null"
    assert final["status"].keys() == doc["status"].keys()
    assert STATUS_TIME.fullmatch(final["status"]["updated_on"])
    assert len(final["channel_status"]) == len(doc["channel_status"])
    for ours, theirs in zip(final["channel_status"], doc["channel_status"], strict=True):
        assert len(ours) == 1 and ours.keys() == theirs.keys()
        entry = next(iter(ours.values()))
        assert entry.keys() == next(iter(theirs.values())).keys()
        assert re.fullmatch(r"[0-9A-F]{32}", entry["reference_id"])
    rcs, sms = (next(iter(item.values())) for item in final["channel_status"])
    assert rcs["reference_id"] != sms["reference_id"] != final["reference_id"]
    # as in the doc example: older entries use the '.325' shape, the entry of this event the ':226' one
    assert CHANNEL_TIME.fullmatch(rcs["updated_on"])
    assert sms["updated_on"] == final["status"]["updated_on"]


def test_telesign_external_id_is_carried_in_callbacks(clients: Clients, receiver: LocalHttpServer) -> None:
    body = vendor_examples.load("telesign_whatsapp_file_request")
    body["phone_number"] = "15558675301"
    body["external_id"] = "order-1"
    reference_id = clients.telesign(body).json()["reference_id"]
    (callback,) = _telesign_events(receiver, reference_id, 1)
    assert callback["external_id"] == "order-1"
    assert list(callback["channel_status"][0]) == ["whatsapp"]


def _verify(received: Recorded, sandbox: SandboxServer) -> None:
    key = base64.b64decode(sandbox.config.telesign_api_key)
    expected = base64.b64encode(hmac.new(key, received.body, hashlib.sha256).digest()).decode()
    assert received.headers["x-ts-authorization"] == expected
    assert received.headers["authorization"] == f"TSA {sandbox.config.telesign_customer_id}:{expected}"


def test_telesign_callbacks_are_signed_over_the_raw_body(
    clients: Clients, receiver: LocalHttpServer, sandbox: SandboxServer
) -> None:
    _send_telesign(clients, "2")
    for received in receiver.wait_for_requests(2, route="/telesign/status"):
        _verify(received, sandbox)
        assert received.method == "POST"
        assert received.headers["content-type"] == "application/json"


def test_per_request_callback_url_wins(clients: Clients, receiver: LocalHttpServer) -> None:
    body = vendor_examples.load("telesign_call_button_request")
    body["phone_number"] = "15558675301"
    body["callback_url"] = f"{receiver.url}/elsewhere?token=t1"
    clients.telesign(body)
    (received,) = receiver.wait_for_requests(1, route="/elsewhere")
    assert received.query == {"token": ["t1"]}


# -- Aerialink ---------------------------------------------------------------------------------
def _send_aerialink(clients: Clients, last_digit: str, failover: bool = True, **extra: Any) -> str:
    body = vendor_examples.load("aerialink_rcs_text")
    body["destination"] = f"1555987654{last_digit}"
    if not failover:
        del body["smsFailover"]
    body.update(extra)
    response = clients.aerialink(body)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["results"][0]["messageGUID"])


def _aerialink_events(receiver: LocalHttpServer, guid: str, n: int) -> list[dict[str, Any]]:
    return callbacks_for(receiver, "messageGUID", guid, n)


@pytest.mark.parametrize(
    ("digit", "failover", "expected"),
    [
        ("1", True, [("SUCCESS", "RCS", False)]),
        ("2", True, [("FAIL", "RCS", False), ("SUCCESS", "SMS", True)]),
        ("2", False, [("FAIL", "RCS", False)]),
        ("3", True, [("FAIL", "RCS", False), ("FAIL", "SMS", True)]),
        ("4", True, [("FAIL", "RCS", False), ("SUCCESS", "SMS", True)]),
        ("5", True, [("SUCCESS", "RCS", False)]),
        ("7", True, [("SUCCESS", "RCS", False), ("PROCESSING", "RCS", False)] * 2),
    ],
)
def test_aerialink_scenario_sequences(
    clients: Clients, receiver: LocalHttpServer, sandbox: SandboxServer, digit: str, failover: bool, expected: Any
) -> None:
    guid = _send_aerialink(clients, digit, failover)
    callbacks = _aerialink_events(receiver, guid, len(expected))
    assert [(c["status"], c["channel"], c["failover"]) for c in callbacks] == expected
    assert sandbox.wait_idle(5)
    assert len(answered(receiver, "messageGUID", guid)) == len(expected)


def test_aerialink_callback_shape_and_query_string(clients: Clients, receiver: LocalHttpServer) -> None:
    guid = _send_aerialink(clients, "2")
    first, second = (r for r in receiver.wait_for_requests(2, route="/aerialink/status"))
    assert first.query == second.query == {"token": ["s3cret"]}
    keys = ["messageGUID", "destination", "source", "status", "channel", "failover", "errorCode", "reason", "timestamp"]
    assert list(first.json()) == keys
    assert first.json()["messageGUID"] == guid
    assert first.json()["source"] == "CONVEY"
    assert second.json()["source"] == "15551234567"  # the failoverSource
    assert first.json()["errorCode"] and second.json()["errorCode"] is None
    assert ISO_Z.fullmatch(first.json()["timestamp"])


def test_aerialink_media_failover_is_mms_and_callback_url_is_kept(clients: Clients, receiver: LocalHttpServer) -> None:
    body = vendor_examples.load("aerialink_rcs_media")
    body["destination"] = "15559876544"
    body["callbackURL"] = f"{receiver.url}/hooks/dlr?token=abc&tenant=7"
    clients.aerialink(body)
    received = receiver.wait_for_requests(2, route="/hooks/dlr")
    assert [r.json()["channel"] for r in received] == ["RCS", "MMS"]
    assert received[0].query == {"token": ["abc"], "tenant": ["7"]}
    assert "authorization" not in received[0].headers


def test_aerialink_silent_scenario_sends_nothing(
    clients: Clients, receiver: LocalHttpServer, sandbox: SandboxServer
) -> None:
    _send_aerialink(clients, "9")
    assert sandbox.wait_idle(2)
    # the API call scheduled its callbacks before answering, and a callback is recorded here before the
    # sandbox sees its answer: once the sandbox is idle, every callback it planned has arrived (none)
    assert sandbox.callbacks() == []
    assert receiver.requests == []
