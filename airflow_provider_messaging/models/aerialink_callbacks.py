"""Aerialink answers and callbacks: send and error responses, (assumed) callbacks, the status table.

Ground truth: ``vendor-docs/aerialink-rcs-messages-api.txt``; the vendor publishes no callback shape,
so those are ASSUMED (docs/CONTRACTS.md). Lenient: unknown fields are kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator

from airflow_provider_messaging.exceptions import FieldError
from airflow_provider_messaging.models.base import LenientModel
from airflow_provider_messaging.models.status import DeliveryState
from airflow_provider_messaging.models.types import try_parse_timestamp

# --------------------------------------------------------------------------------------------
# responses
# --------------------------------------------------------------------------------------------


class SendResult(LenientModel):
    """One accepted message in a send response."""

    message_guid: str = Field(alias="messageGUID")
    destination: str | None = None
    status: str | None = None


class SendData(LenientModel):
    results: list[SendResult] = Field(default_factory=list)


class SendResponse(LenientModel):
    """200 answer: ``status: "success"`` and one ``messageGUID`` per destination."""

    status: str
    message: str | None = None
    data: SendData = Field(default_factory=SendData)

    @property
    def ok(self) -> bool:
        return self.status.lower() == "success"

    @property
    def guids(self) -> list[str]:
        return [r.message_guid for r in self.data.results]


class ErrorDetail(LenientModel):
    """One field error of a 400 answer (``field`` is a dotted path such as ``choices.1.postbackData``)."""

    field: str | None = None
    description: str | None = None
    message: str | None = None


class ErrorResponse(LenientModel):
    """400 answer: ``status: "error"`` with every bad field in ``data``."""

    status: str
    message: str | None = None
    data: list[ErrorDetail] = Field(default_factory=list)

    def field_errors(self) -> list[FieldError]:
        return [FieldError(d.field or "", d.message or d.description or "") for d in self.data]


# --------------------------------------------------------------------------------------------
# callbacks (ASSUMED shapes: the vendor publishes none; see docs/CONTRACTS.md)
# --------------------------------------------------------------------------------------------

#: Where a callback may carry the message GUID; correct this table when real samples arrive.
GUID_KEYS: tuple[str, ...] = ("messageGUID", "messageGuid", "message_guid", "guid")
_GUID = Field(validation_alias=AliasChoices(*GUID_KEYS), serialization_alias="messageGUID", min_length=1)


class _Callback(LenientModel):
    message_guid: str = _GUID
    source: str | None = None
    destination: str | None = None
    timestamp: str | None = None

    @property
    def received_at(self) -> datetime | None:
        return try_parse_timestamp(self.timestamp)


class DeliveryCallback(_Callback):
    """Delivery status POSTed to ``callbackURL`` (assumed shape); ``status`` is upper-cased."""

    status: str | None = None
    channel: str | None = None
    failover: bool | None = None
    error_code: str | None = Field(default=None, validation_alias=AliasChoices("errorCode", "error_code"))
    reason: str | None = None

    @field_validator("status", "channel", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("error_code", mode="before")
    @classmethod
    def _code_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


# Our own keyword list (Aerialink documents none); mirrors Telesign's RCS/WhatsApp keyword handling.
_KEYWORDS: dict[str, Literal["stop", "help", "start"]] = {
    **dict.fromkeys(("arrêt", "arret", "cancel", "end", "quit", "stop", "stopall", "unsubscribe"), "stop"),
    **dict.fromkeys(("aide", "contact", "help", "info"), "help"),
    **dict.fromkeys(("start", "unstop", "subscribe"), "start"),
}


class InboundMessage(_Callback):
    """Mobile-originated message or tapped suggestion (assumed shape)."""

    message_type: str | None = Field(default=None, validation_alias=AliasChoices("messageType", "message_type"))
    message_text: str | None = Field(default=None, validation_alias=AliasChoices("messageText", "message_text"))
    postback_data: str | None = Field(default=None, validation_alias=AliasChoices("postbackData", "postback_data"))

    @property
    def sender(self) -> str | None:
        return self.source

    @property
    def text(self) -> str | None:
        return self.message_text

    @property
    def postback(self) -> str | None:
        return self.postback_data

    @property
    def keyword(self) -> str | None:
        word = (self.message_text or "").strip().lower()
        return word if word in _KEYWORDS else None

    @property
    def action(self) -> Literal["stop", "help", "start", "generic"] | None:
        """Keyword action of the text (stop/help/start), ``generic`` for other text, else ``None``."""
        if self.keyword:
            return _KEYWORDS[self.keyword]
        return "generic" if self.message_text else None


# --- Delivery status words (docs.aerialink.net; callback shape assumed, see docs/CONTRACTS.md) -----
AERIALINK_STATES: dict[str, DeliveryState] = {
    "SUCCESS": DeliveryState.DELIVERED,
    "DELIVERED": DeliveryState.DELIVERED,
    "READ": DeliveryState.READ,
    "FAIL": DeliveryState.FAILED,
    "FAILED": DeliveryState.FAILED,
    "BLOCKED": DeliveryState.FAILED,
    "EXPIRED": DeliveryState.EXPIRED,
    "QUEUED": DeliveryState.QUEUED,
    "PROCESSING": DeliveryState.SENT,
    "SENT": DeliveryState.SENT,
}


def aerialink_state(status: str | None) -> DeliveryState:
    """Map an Aerialink status word to a normalized state; unknown words map to UNKNOWN."""
    return AERIALINK_STATES.get(str(status or "").strip().upper(), DeliveryState.UNKNOWN)
