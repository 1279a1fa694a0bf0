"""Aerialink's callback adapter: ``POST /aerialink/status`` and ``/aerialink/inbound`` (shared secret).

Aerialink does not sign callbacks: its routes take the shared secret that travels in the
``callbackURL`` (``?token=``) or Basic credentials (callback shape assumed, see docs/CONTRACTS.md).
"""

from __future__ import annotations

from airflow_provider_messaging.models import aerialink
from airflow_provider_messaging.models.aerialink import aerialink_state
from airflow_provider_messaging.models.base import validate
from airflow_provider_messaging.models.status import ChannelEvent
from airflow_provider_messaging.receiver.parsing import (
    DeliveryUpdate,
    storable_inbound,
    storable_update,
    times_in_range,
)
from airflow_provider_messaging.receiver.vendors import CallbackAdapter
from airflow_provider_messaging.store import NewInbound


class AerialinkCallbacks(CallbackAdapter):
    """Aerialink delivery reports and inbound messages (POST only)."""

    vendor = "aerialink"
    title = "Aerialink"

    def parse_delivery(self, data: object) -> DeliveryUpdate:
        return aerialink_delivery(data)

    def parse_inbound(self, data: object) -> NewInbound:
        return aerialink_inbound(data)


@times_in_range("DeliveryCallback", "timestamp")
def aerialink_delivery(data: object) -> DeliveryUpdate:
    callback = validate(aerialink.DeliveryCallback, data)
    event = ChannelEvent(
        channel=aerialink_channel(callback.channel, callback.failover),
        state=aerialink_state(callback.status),
        code=callback.error_code or callback.status,
        description=callback.reason,
        channel_reference_id=None,
        occurred_at=callback.received_at,
    )
    return storable_update(DeliveryUpdate(callback.message_guid, [event]), "DeliveryCallback", "messageGUID")


def aerialink_channel(channel: str | None, failover: bool | None) -> str:
    """Channel of an Aerialink callback; without one, a failover report is taken as SMS (assumed)."""
    if channel:
        return channel.lower()
    return "sms" if failover else "rcs"


@times_in_range("InboundMessage", "timestamp")
def aerialink_inbound(data: object) -> NewInbound:
    message = validate(aerialink.InboundMessage, data)
    channel = "sms" if (message.message_type or "").upper().startswith("SMS") else "rcs"
    inbound = NewInbound(
        channel=channel,
        sender=message.sender or "unknown",
        recipient=message.destination,
        text=message.text,
        action=message.action,
        keyword=message.keyword,
        postback=message.postback,
        reference_id=message.message_guid,
        received_at=message.received_at,
    )
    return storable_inbound(inbound, "InboundMessage")
