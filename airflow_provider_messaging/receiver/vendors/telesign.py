"""Telesign's callback adapter: ``/telesign/status`` and ``/telesign/inbound``, signed with the API key.

Telesign signs every callback (``Authorization: TSA {customer_id}:{signature}``); its routes also
answer GET, which Telesign may use for a callback with a body (vendor-notes.md §1.3).
"""

from __future__ import annotations

from collections.abc import Mapping

from airflow_provider_messaging.models import telesign
from airflow_provider_messaging.models.base import validate
from airflow_provider_messaging.models.status import ChannelEvent
from airflow_provider_messaging.models.telesign import telesign_state
from airflow_provider_messaging.receiver.auth import verify_telesign_signature
from airflow_provider_messaging.receiver.parsing import (
    DeliveryUpdate,
    storable_inbound,
    storable_update,
    times_in_range,
)
from airflow_provider_messaging.receiver.vendors import CallbackAdapter, CallbackRoute
from airflow_provider_messaging.store import NewInbound


class TelesignCallbacks(CallbackAdapter):
    """Telesign delivery reports and inbound (MO) messages; the signature opens its routes."""

    vendor = "telesign"
    title = "Telesign"
    routes = (CallbackRoute("status", ("GET", "POST")), CallbackRoute("inbound", ("GET", "POST")))
    signed = True

    def parse_delivery(self, data: object) -> DeliveryUpdate:
        return telesign_delivery(data)

    def parse_inbound(self, data: object) -> NewInbound:
        return telesign_inbound(data)

    def verify_signature(
        self, raw_body: bytes, headers: Mapping[str, str], customer_id: str | None, api_key: str
    ) -> bool:
        return verify_telesign_signature(raw_body, headers, customer_id, api_key)


@times_in_range("DeliveryCallback", "updated_on")
def telesign_delivery(data: object) -> DeliveryUpdate:
    callback = validate(telesign.DeliveryCallback, data)
    events = [
        ChannelEvent(
            channel=channel.lower(),
            state=telesign_state(status.code),
            code=str(status.code),
            description=status.description,
            channel_reference_id=status.reference_id,
            occurred_at=status.updated_at,
        )
        for channel, status in callback.channel_attempts()
    ]
    top = callback.status
    # read every time the callback carries, used or not: one a datetime cannot hold is refused (400)
    _ = (top.updated_at, callback.submitted_at)
    last = (top.last_channel or "").lower()
    if last and last not in {e.channel for e in events}:
        # a callback without channel_status still reports the last channel tried at the top level
        events.append(
            ChannelEvent(last, telesign_state(top.code), str(top.code), top.description, None, top.updated_at)
        )
    return storable_update(DeliveryUpdate(callback.reference_id, events), "DeliveryCallback", "reference_id")


@times_in_range("InboundMessage", "status.updated_on")
def telesign_inbound(data: object) -> NewInbound:
    message = validate(telesign.InboundMessage, data)
    inbound = NewInbound(
        channel=message.channel,
        sender=message.sender or "unknown",
        recipient=message.recipient,
        text=message.text,
        media=tuple(message.media_urls),
        action=message.action,
        keyword=message.keyword,
        postback=message.postback,
        reference_id=message.reference_id,
        received_at=message.received_at,
    )
    return storable_inbound(inbound, "InboundMessage")
