"""Telesign answers and callbacks: the send response, delivery and inbound (MO) callbacks, the code table.

Ground truth: ``vendor-docs/telesign-*.txt`` and ``vendor-notes.md`` (codes). Callbacks are lenient:
unknown fields are kept and timestamps keep their raw string.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from airflow_provider_messaging.models.base import LenientModel
from airflow_provider_messaging.models.status import DeliveryState
from airflow_provider_messaging.models.types import try_parse_timestamp

NonEmptyStr = Annotated[str, Field(min_length=1)]


# --------------------------------------------------------------------------------------------
# responses and delivery callbacks
# --------------------------------------------------------------------------------------------


def _null_to_none(value: Any) -> Any:
    # The vendor docs show external_id both as JSON null and as the string "null".
    return None if value == "null" or value == "" else value


NullableStr = Annotated[str | None, BeforeValidator(_null_to_none)]


class Status(LenientModel):
    """``status`` object of a response."""

    code: int
    description: str | None = None


class OmnichannelResponse(LenientModel):
    """Answer to ``POST /v1/omnichannel``; 3001 "Message in progress" means accepted."""

    status: Status
    reference_id: str | None = None
    external_id: NullableStr = None
    errors: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.status.code == 3001 and bool(self.reference_id)


class _Timestamped(LenientModel):
    updated_on: str | None = None

    @property
    def updated_at(self) -> datetime | None:
        """``updated_on`` parsed to UTC, or ``None`` when missing or in an unknown shape."""
        return try_parse_timestamp(self.updated_on)


class ChannelStatus(_Timestamped):
    """Outcome of one channel attempt; it has its own ``reference_id``."""

    code: int
    description: str | None = None
    reference_id: str | None = None


class CallbackStatus(_Timestamped):
    """Top-level status of a delivery callback; ``last_channel`` is the last channel tried."""

    code: int
    description: str | None = None
    last_channel: str | None = None


class DeliveryCallback(LenientModel):
    """Delivery-status callback (the vendor shows it as ``GET`` with a JSON body; POST is used too)."""

    reference_id: NonEmptyStr
    external_id: NullableStr = None
    status: CallbackStatus
    channel_status: list[dict[str, ChannelStatus]] = Field(default_factory=list)
    submit_timestamp: str | None = None
    errors: list[Any] = Field(default_factory=list)

    def channel_attempts(self) -> list[tuple[str, ChannelStatus]]:
        """``[(channel, ChannelStatus)]`` in cascade order, flattened from the one-key objects."""
        return [(channel, status) for item in self.channel_status for channel, status in item.items()]

    @property
    def submitted_at(self) -> datetime | None:
        return try_parse_timestamp(self.submit_timestamp)


# --------------------------------------------------------------------------------------------
# inbound (MO) callbacks
# --------------------------------------------------------------------------------------------

InboundChannel = Literal["email", "mms", "rcs", "sms", "viber", "whatsapp"]
KeywordAction = Literal["stop", "help", "start", "generic"]

_ACTION_SYNONYMS: dict[str, KeywordAction] = {
    "stop": "stop",
    "unsubscribe": "stop",  # email end_user_action.event
    "opt_out": "stop",
    "optout": "stop",
    "help": "help",
    "info": "help",
    "start": "start",
    "subscribe": "start",
    "opt_in": "start",
    "optin": "start",
    "generic": "generic",
}


class InboundStatus(_Timestamped):
    """``status`` of an MO callback (code 1500 "Delivered to customer")."""

    code: int | None = None
    description: str | None = None


class InboundMessage(LenientModel):
    """A mobile-originated message of any channel (email, MMS, RCS, SMS, Viber, WhatsApp).

    The shapes differ per channel, so ``content`` and ``user_response`` are kept as raw dicts and the
    useful parts are exposed as properties.
    """

    reference_id: NonEmptyStr
    status: InboundStatus | None = None
    sub_resource: str | None = None
    phone_number: str | None = None
    email: str | None = None
    rcs_sender_id: str | None = None
    waba_phone_number: str | None = None
    content: dict[str, Any] = Field(default_factory=dict)
    user_response: dict[str, Any] | None = None
    errors: list[Any] = Field(default_factory=list)
    submit_timestamp: str | None = None

    @property
    def channel(self) -> InboundChannel:
        """From ``sub_resource`` (``mo_rcs`` -> ``rcs``); WhatsApp and Viber callbacks have none."""
        if self.sub_resource:
            name = self.sub_resource.lower().removeprefix("mo_")
            if name in ("email", "mms", "rcs", "sms", "viber", "whatsapp"):
                return name  # type: ignore[return-value]
        if self.waba_phone_number:
            return "whatsapp"
        if "rcs_sender_id" in self.model_fields_set:
            return "rcs"
        if self.email:
            return "email"
        if self.user_response:
            return "sms"
        return "viber"

    @property
    def sender(self) -> str | None:
        """The end user: phone number (digits) or e-mail address."""
        if self.phone_number:
            return self.phone_number
        if self.email:
            return self.email
        number = (self.user_response or {}).get("phone_number")
        return str(number) if number else None

    @property
    def recipient(self) -> str | None:
        """Our side: the WhatsApp business number, the RCS sender id or the SMS short code (``sender_id``)."""
        if self.waba_phone_number:
            return self.waba_phone_number
        if self.rcs_sender_id:
            return self.rcs_sender_id
        short_code = (self.user_response or {}).get("sender_id")
        return str(short_code) if short_code not in (None, "") else None

    @property
    def _action_block(self) -> dict[str, Any]:
        block = self.content.get("end_user_action")
        if isinstance(block, dict):
            return block
        return self.user_response or {}

    @property
    def text(self) -> str | None:
        """The message text, wherever the channel puts it (MMS ``text_N`` parts are joined by newlines)."""
        inner = self.content.get("content")
        if isinstance(inner, dict) and isinstance(inner.get("body"), str):
            return str(inner["body"])
        if isinstance(self.content.get("text"), str):
            return str(self.content["text"])
        parts = [str(v) for k, v in sorted(self.content.items()) if k.startswith("text_") and isinstance(v, str) and v]
        if parts:
            return "\n".join(parts)
        block = self._action_block
        for key in ("text", "mo_message"):
            if isinstance(block.get(key), str):
                return str(block[key])
        return None

    @property
    def media_urls(self) -> list[str]:
        """URLs of images/files: MMS ``url_*`` parts, RCS ``file.payload.uri``, WhatsApp media links."""
        urls = [str(v) for k, v in sorted(self.content.items()) if k.startswith("url_") and isinstance(v, str)]
        file = self.content.get("file")
        payload = file.get("payload") if isinstance(file, dict) else None
        if isinstance(payload, dict) and isinstance(payload.get("uri"), str):
            urls.append(payload["uri"])
        inner = self.content.get("content")
        if isinstance(inner, dict):
            urls.extend(str(inner[k]) for k in ("link", "url") if isinstance(inner.get(k), str))
        return urls

    @property
    def action(self) -> KeywordAction | None:
        """Keyword action: stop/help/start/generic; an e-mail ``unsubscribe`` event counts as stop."""
        block = self._action_block
        raw = block.get("action") or block.get("event")
        if not isinstance(raw, str) or not raw:
            return None
        return _ACTION_SYNONYMS.get(raw.strip().lower(), "generic")

    @property
    def keyword(self) -> str | None:
        value = self._action_block.get("keyword")
        return str(value) if value else None

    @property
    def postback(self) -> str | None:
        """Postback data of a tapped suggestion, if the callback carries one (shape not documented)."""
        candidates: list[Any] = [self.content]
        for key in ("suggestion_response", "suggestion", "postback", "reply", "button"):
            if isinstance(self.content.get(key), dict):
                candidates.append(self.content[key])
        for block in candidates:
            for key in ("postback_data", "postbackData", "postback", "payload"):
                value = block.get(key)
                if isinstance(value, str) and value:
                    return value
        return None

    @property
    def received_at(self) -> datetime | None:
        return self.status.updated_at if self.status else None


# --- Delivery status codes (vendor-notes.md §2): the vendor's code table -------------------------
_TELESIGN_EXPLICIT: dict[int, DeliveryState] = {
    3000: DeliveryState.DELIVERED,
    3001: DeliveryState.QUEUED,
    3002: DeliveryState.SENT,
    3004: DeliveryState.SENT,  # sent, no handset confirmation in this region
    3005: DeliveryState.READ,
    201: DeliveryState.READ,
    3040: DeliveryState.QUEUED,
    3056: DeliveryState.EXPIRED,  # fallback_time passed on this channel: the next channel is tried
    3060: DeliveryState.UNKNOWN,  # "channel supported" is a capability answer, not a delivery state
}
# Final failures on a channel: delivery errors, phone errors, content/param/account/auth errors.
_TELESIGN_FAILURE_RANGES: tuple[tuple[int, int], ...] = (
    (3003, 3003),
    (3006, 3006),
    (3011, 3012),
    (3030, 3039),
    (3041, 3055),
    (3057, 3062),
    (3071, 3073),
    (3100, 3116),
    (3200, 3207),
    (3300, 3306),
    (3400, 3413),
    (3500, 3500),
)


def telesign_state(code: int | str | None) -> DeliveryState:
    """Map a Telesign status code to a normalized state; unknown codes map to UNKNOWN."""
    try:
        number = int(str(code).strip())
    except (TypeError, ValueError):
        return DeliveryState.UNKNOWN
    if number in _TELESIGN_EXPLICIT:
        return _TELESIGN_EXPLICIT[number]
    if any(low <= number <= high for low, high in _TELESIGN_FAILURE_RANGES):
        return DeliveryState.FAILED
    return DeliveryState.UNKNOWN
