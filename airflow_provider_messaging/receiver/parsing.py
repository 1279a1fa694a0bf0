"""What every vendor's callback parser shares: the parsed shapes and the store's limits.

The parsers themselves live in each vendor's callback adapter (``receiver/vendors/{vendor}.py``),
which turns a body into a :class:`DeliveryUpdate` or a ``NewInbound`` and passes it through
:func:`storable_update` / :func:`storable_inbound` (every inbound goes through the latter).
Lenient: unknown fields are ignored.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow_provider_messaging.exceptions import FieldError, PayloadValidationError
from airflow_provider_messaging.models.status import ChannelEvent
from airflow_provider_messaging.models.types import TimestampOutOfRange
from airflow_provider_messaging.store import NewInbound
from airflow_provider_messaging.store.schema import (
    callbacks,
    channel_attempts,
    consent_events,
    inbound_messages,
    max_length,
    messages,
    opt_outs,
)


@dataclass(frozen=True)
class DeliveryUpdate:
    """A parsed delivery callback: whose message, and what happened on which channel."""

    message_id: str
    events: list[ChannelEvent]


# Column widths of the store (``store.schema``: each field names every column it is written to).
# PostgreSQL refuses longer values and NUL characters (SQLite takes both), so a callback the store
# cannot take is refused here, the same on both databases: ids that do not fit get 400; free text is
# cleaned instead, so a real message is never lost.
_ID_LIMITS = {
    "message_id": max_length(callbacks.c.message_id, channel_attempts.c.message_id, messages.c.message_id),
    "reference_id": max_length(inbound_messages.c.reference_id, callbacks.c.message_id),
    "channel": max_length(channel_attempts.c.channel, inbound_messages.c.channel),
}
_TEXT_LIMITS = {
    "code": max_length(channel_attempts.c.code),
    "channel_reference_id": max_length(channel_attempts.c.channel_reference_id),
    "sender": max_length(inbound_messages.c.sender, opt_outs.c.recipient, consent_events.c.recipient),
    "recipient": max_length(inbound_messages.c.recipient),
    "keyword": max_length(inbound_messages.c.keyword, opt_outs.c.keyword, consent_events.c.keyword),
}


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


def storable_update(update: DeliveryUpdate, model: str, id_name: str) -> DeliveryUpdate:
    return DeliveryUpdate(
        _storable_id(update.message_id, "message_id", model, id_name),
        [_storable_event(e, model) for e in update.events],
    )


def storable_inbound(inbound: NewInbound, model: str) -> NewInbound:
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


def times_in_range(model: str, field: str) -> Callable[[Callable[[object], _T]], Callable[[object], _T]]:
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


# The parsers' former home: kept importable (``parsing.telesign_delivery``), resolved on first use.
_MOVED = {
    "telesign_delivery": "airflow_provider_messaging.receiver.vendors.telesign",
    "telesign_inbound": "airflow_provider_messaging.receiver.vendors.telesign",
    "aerialink_delivery": "airflow_provider_messaging.receiver.vendors.aerialink",
    "aerialink_inbound": "airflow_provider_messaging.receiver.vendors.aerialink",
    "aerialink_channel": "airflow_provider_messaging.receiver.vendors.aerialink",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
