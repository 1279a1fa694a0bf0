"""Vendor callback bodies -> vendor-neutral events for the store. Lenient: unknown fields are ignored."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_messaging.models import aerialink, telesign
from airflow_provider_messaging.models._validation import validate
from airflow_provider_messaging.models.status import ChannelEvent, aerialink_state, telesign_state
from airflow_provider_messaging.store import NewInbound


@dataclass(frozen=True)
class DeliveryUpdate:
    """A parsed delivery callback: whose message, and what happened on which channel."""

    message_id: str
    events: list[ChannelEvent]


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
    last = (top.last_channel or "").lower()
    if last and last not in {e.channel for e in events}:
        # a callback without channel_status still reports the last channel tried at the top level
        events.append(
            ChannelEvent(last, telesign_state(top.code), str(top.code), top.description, None, top.updated_at)
        )
    return DeliveryUpdate(callback.reference_id, events)


def telesign_inbound(data: object) -> NewInbound:
    message = validate(telesign.InboundMessage, data)
    return NewInbound(
        channel=message.channel,
        sender=message.sender or "unknown",
        recipient=message.waba_phone_number or message.rcs_sender_id or None,
        text=message.text,
        media=tuple(message.media_urls),
        action=message.action,
        keyword=message.keyword,
        postback=message.postback,
        reference_id=message.reference_id,
        received_at=message.received_at,
    )


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
    return DeliveryUpdate(callback.message_guid, [event])


def aerialink_channel(channel: str | None, failover: bool | None) -> str:
    """Channel of an Aerialink callback; without one, a failover report is taken as SMS (assumed)."""
    if channel:
        return channel.lower()
    return "sms" if failover else "rcs"


def aerialink_inbound(data: object) -> NewInbound:
    message = validate(aerialink.InboundMessage, data)
    channel = "sms" if (message.message_type or "").upper().startswith("SMS") else "rcs"
    return NewInbound(
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
