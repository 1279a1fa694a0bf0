"""Vendor callback bodies -> vendor-neutral events for the store. Lenient: unknown fields are ignored."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from airflow_provider_messaging.exceptions import FieldError, PayloadValidationError
from airflow_provider_messaging.models import aerialink, telesign
from airflow_provider_messaging.models._validation import TimestampOutOfRange, validate
from airflow_provider_messaging.models.consent import inbound_action
from airflow_provider_messaging.models.status import ChannelEvent, aerialink_state, telesign_state
from airflow_provider_messaging.store import NewInbound


@dataclass(frozen=True)
class DeliveryUpdate:
    """A parsed delivery callback: whose message, and what happened on which channel."""

    message_id: str
    events: list[ChannelEvent]


# Column widths of the store (store/schema.py). PostgreSQL refuses longer values and NUL characters
# (SQLite takes both), so a callback the store cannot take is refused here, the same on both
# databases: ids that do not fit get 400; free text is cleaned instead, so a real message is never lost.
_ID_LIMITS = {"message_id": 64, "reference_id": 64, "channel": 20}
_TEXT_LIMITS = {"code": 32, "channel_reference_id": 64, "sender": 320, "recipient": 64, "keyword": 64}


def _storable_id(value: str, field: str, model: str, name: str | None = None) -> str:
    if "\x00" in value or len(value) > _ID_LIMITS[field]:
        problem = "contains a NUL character" if "\x00" in value else f"is longer than {_ID_LIMITS[field]} characters"
        name = name or field
        raise PayloadValidationError(model, [FieldError(name, f"'{name}' {problem}")])
    return value


def _storable_text(value: str | None, field: str | None = None) -> str | None:
    if value is None:
        return None
    value = value.replace("\x00", "")
    return value[: _TEXT_LIMITS[field]] if field else value


def _storable_event(event: ChannelEvent, model: str) -> ChannelEvent:
    return dataclasses.replace(
        event,
        channel=_storable_id(event.channel, "channel", model),
        code=_storable_text(event.code, "code"),
        description=_storable_text(event.description),
        channel_reference_id=_storable_text(event.channel_reference_id, "channel_reference_id"),
    )


def _storable_update(update: DeliveryUpdate, model: str, id_name: str) -> DeliveryUpdate:
    return DeliveryUpdate(
        _storable_id(update.message_id, "message_id", model, id_name),
        [_storable_event(e, model) for e in update.events],
    )


def _storable_inbound(inbound: NewInbound, model: str) -> NewInbound:
    reference_id = inbound.reference_id
    return dataclasses.replace(
        inbound,
        channel=_storable_id(inbound.channel, "channel", model),
        sender=_storable_text(inbound.sender, "sender") or "unknown",
        recipient=_storable_text(inbound.recipient, "recipient"),
        text=_storable_text(inbound.text),
        media=tuple(m.replace("\x00", "") for m in inbound.media),
        keyword=_storable_text(inbound.keyword, "keyword"),
        postback=_storable_text(inbound.postback),
        reference_id=None if reference_id is None else _storable_id(reference_id, "reference_id", model),
    )


_T = TypeVar("_T")


def _times_in_range(model: str, field: str) -> Callable[[Callable[[object], _T]], Callable[[object], _T]]:
    """A well-formed time that no UTC datetime can hold is bad input (400), not a store error (503)."""

    def decorate(parse: Callable[[object], _T]) -> Callable[[object], _T]:
        @functools.wraps(parse)
        def wrapper(data: object) -> _T:
            try:
                return parse(data)
            except TimestampOutOfRange as exc:
                raise PayloadValidationError(model, [FieldError(field, str(exc))]) from None

        return wrapper

    return decorate


@_times_in_range("DeliveryCallback", "updated_on")
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
    return _storable_update(DeliveryUpdate(callback.reference_id, events), "DeliveryCallback", "reference_id")


@_times_in_range("InboundMessage", "status.updated_on")
def telesign_inbound(data: object) -> NewInbound:
    message = validate(telesign.InboundMessage, data)
    action, keyword = inbound_action("telesign", message.action, message.keyword, message.text)
    inbound = NewInbound(
        channel=message.channel,
        sender=message.sender or "unknown",
        recipient=message.recipient,
        text=message.text,
        media=tuple(message.media_urls),
        action=action,
        keyword=keyword,
        postback=message.postback,
        reference_id=message.reference_id,
        received_at=message.received_at,
    )
    return _storable_inbound(inbound, "InboundMessage")


@_times_in_range("DeliveryCallback", "timestamp")
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
    return _storable_update(DeliveryUpdate(callback.message_guid, [event]), "DeliveryCallback", "messageGUID")


def aerialink_channel(channel: str | None, failover: bool | None) -> str:
    """Channel of an Aerialink callback; without one, a failover report is taken as SMS (assumed)."""
    if channel:
        return channel.lower()
    return "sms" if failover else "rcs"


@_times_in_range("InboundMessage", "timestamp")
def aerialink_inbound(data: object) -> NewInbound:
    message = validate(aerialink.InboundMessage, data)
    channel = "sms" if (message.message_type or "").upper().startswith("SMS") else "rcs"
    action, keyword = inbound_action("aerialink", message.action, message.keyword, message.text)
    inbound = NewInbound(
        channel=channel,
        sender=message.sender or "unknown",
        recipient=message.destination,
        text=message.text,
        action=action,
        keyword=keyword,
        postback=message.postback,
        reference_id=message.message_guid,
        received_at=message.received_at,
    )
    return _storable_inbound(inbound, "InboundMessage")
