"""Acme's payloads and its code table (models layer: pure, no I/O).

The (invented) Acme API: ``POST /v1/sms`` with ``{"to", "text", "callback_url"}`` answers ``{"id"}``;
it then posts ``{"id", "status", "at"}`` to the callback URL, and inbound texts as
``{"id", "from", "to", "text", "at"}``.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from airflow_provider_messaging.models.base import LenientModel, VendorModel
from airflow_provider_messaging.models.status import DeliveryState

#: Acme's status words -> normalized states (unknown words map to UNKNOWN: stored raw, never final).
ACME_STATES: dict[str, DeliveryState] = {
    "accepted": DeliveryState.QUEUED,
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "undeliverable": DeliveryState.FAILED,
}

STOP_WORDS = frozenset({"stop", "unsubscribe"})


def acme_state(status: str | None) -> DeliveryState:
    return ACME_STATES.get((status or "").strip().lower(), DeliveryState.UNKNOWN)


class SmsRequest(VendorModel):
    """``POST /v1/sms``."""

    to: str = Field(pattern=r"^[1-9]\d{6,14}$", description="digits with country code")
    text: str = Field(min_length=1, max_length=160)
    callback_url: str | None = None


class SmsResponse(LenientModel):
    id: str


class DeliveryCallback(LenientModel):
    id: str = Field(min_length=1)
    status: str
    at: AwareDatetime | None = None


class InboundCallback(LenientModel):
    id: str = Field(min_length=1)
    sender: str = Field(alias="from")
    to: str | None = None
    text: str | None = None
    at: AwareDatetime | None = None
