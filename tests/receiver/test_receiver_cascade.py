"""The seed cascade over real HTTP: RCS 3056 then SMS 3000 -> delivered via SMS, whatever the arrival order."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from airflow_provider_messaging.models.status import DeliveryState
from tests.receiver.receiver_support import Receiver
from tests.support.store_helpers import complete_send
from tests.vendor_examples import load

MID = "35C8B5D509BC10689196FED2AD551B8A"
KEY = "notify/send_rcs/manual__2025-01-01/-1"


def rcs_expired() -> dict[str, Any]:
    """The first callback of the cascade: RCS timed out (3056), the SMS fallback starts."""
    full = load("telesign_delivery_callback_rcs_sms")
    rcs = full["channel_status"][0]
    return {
        "reference_id": MID,
        "external_id": None,
        "status": {**rcs["rcs"], "last_channel": "rcs"},
        "channel_status": [rcs],
    }


def sms_delivered() -> dict[str, Any]:
    """The second callback: the doc example (RCS 3056, SMS 3000, last channel sms)."""
    return load("telesign_delivery_callback_rcs_sms")


def reserve(receiver: Receiver) -> None:
    assert receiver.store.reserve_send(
        idempotency_key=KEY, vendor="telesign", recipient="15558675309", channels=["rcs", "sms"]
    ).send


def assert_delivered_via_sms(receiver: Receiver, callbacks: int) -> None:
    status = receiver.store.get_status(MID)
    assert status is not None
    assert (status.state, status.complete, status.delivered_channel) == (DeliveryState.DELIVERED, True, "sms")
    assert status.fallback_used
    assert [(a.channel, a.state, a.code) for a in status.attempts] == [
        ("rcs", DeliveryState.EXPIRED, "3056"),
        ("sms", DeliveryState.DELIVERED, "3000"),
    ]
    assert receiver.store.count("attempts") == 2
    assert len(receiver.store.callbacks_for(MID)) == callbacks
    assert receiver.store.get_status(KEY) == status  # also found by idempotency key


def test_cascade_in_order(receiver: Receiver) -> None:
    reserve(receiver)
    complete_send(receiver.store, KEY, MID)

    first = receiver.send("/telesign/status", rcs_expired())
    assert first.status_code == 200
    # RCS failed but SMS is still to come: not complete, not failed
    assert first.json()["state"] == "QUEUED"
    status = receiver.store.get_status(MID)
    assert status is not None and not status.complete and status.state is DeliveryState.QUEUED

    second = receiver.send("/telesign/status", sms_delivered(), method="GET")
    assert second.status_code == 200 and second.json()["state"] == "DELIVERED"
    assert_delivered_via_sms(receiver, callbacks=2)


@pytest.mark.parametrize("order", sorted(set(itertools.permutations(["rcs", "sms", "rcs", "sms"]))))
def test_duplicates_and_any_order(receiver: Receiver, order: tuple[str, ...]) -> None:
    reserve(receiver)
    complete_send(receiver.store, KEY, MID)
    for which in order:
        response = receiver.send("/telesign/status", rcs_expired() if which == "rcs" else sms_delivered())
        assert response.status_code == 200
    assert_delivered_via_sms(receiver, callbacks=4)


def test_reversed_order_never_moves_back(receiver: Receiver) -> None:
    reserve(receiver)
    complete_send(receiver.store, KEY, MID)
    assert receiver.send("/telesign/status", sms_delivered()).json()["state"] == "DELIVERED"
    late = receiver.send("/telesign/status", rcs_expired())
    assert late.status_code == 200 and late.json()["state"] == "DELIVERED"
    # an SMS "sent" (3002) arriving after "delivered" changes nothing either
    stale = copy.deepcopy(sms_delivered())
    stale["channel_status"][1]["sms"].update(code=3002, description="Sent", updated_on="2020-05-04 22:06:00.000")
    stale["status"].update(code=3002, description="Sent")
    assert receiver.send("/telesign/status", stale).json()["state"] == "DELIVERED"
    assert_delivered_via_sms(receiver, callbacks=3)


def test_callbacks_before_the_send_is_recorded_are_kept_and_reconciled(receiver: Receiver) -> None:
    reserve(receiver)  # the HTTP call is in flight: no message id recorded yet
    for payload in (sms_delivered(), rcs_expired()):
        response = receiver.send("/telesign/status", payload)
        assert response.status_code == 200
        assert response.json()["known_message"] is False
    assert receiver.store.get_status(MID) is None
    assert len(receiver.store.callbacks_for(MID)) == 2

    status = complete_send(receiver.store, KEY, MID)
    assert status.delivered_channel == "sms" and status.complete
    assert_delivered_via_sms(receiver, callbacks=2)


def test_all_channels_failed(receiver: Receiver) -> None:
    reserve(receiver)
    complete_send(receiver.store, KEY, MID)
    failed = copy.deepcopy(sms_delivered())
    failed["channel_status"][1]["sms"].update(code=3003, description="Failed to deliver")
    failed["status"].update(code=3003, description="Failed to deliver")
    assert receiver.send("/telesign/status", failed).json()["state"] == "FAILED"
    status = receiver.store.get_status(MID)
    assert status is not None and status.complete and status.delivered_channel is None
