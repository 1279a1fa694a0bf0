"""Telesign Messaging (``POST /v1/omnichannel``) payloads: request, response, delivery and inbound callbacks.

Ground truth: ``vendor-docs/telesign-*.txt``. Requests are strict (they fail before any HTTP call);
callbacks are lenient (unknown fields are kept, timestamps keep their raw string).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator

from airflow_provider_messaging.models._validation import (
    HttpUrlStr,
    LenientModel,
    PhoneNumber,
    RecipientNumber,
    VendorModel,
    rule_error,
    rules_error,
    to_wire,
    try_parse_timestamp,
)

#: Vendor limit on the request body (status 3116 "Allowed payload size is limited to 10KB").
MAX_PAYLOAD_BYTES = 10 * 1024
MAX_EXTERNAL_ID_LENGTH = 100

# Only the channels whose request templates the vendor docs describe; extend together with a template model.
Channel = Literal["rcs", "sms", "whatsapp"]
MessageType = Literal["ARN", "MKT", "OTP"]

NonEmptyStr = Annotated[str, Field(min_length=1)]


# --------------------------------------------------------------------------------------------
# request
# --------------------------------------------------------------------------------------------


class ChannelEntry(VendorModel):
    """One step of the cascade: the channel and how long to wait before falling back to the next one."""

    channel: Channel
    fallback_time: int | None = Field(default=None, ge=0, description="Seconds before the next channel.")


class TextParameters(VendorModel):
    """Parameters of the ``text`` template (RCS, SMS, WhatsApp)."""

    text: NonEmptyStr


class DialActionParameters(VendorModel):
    """Parameters of the RCS ``dial_action`` (click-to-call button) template."""

    text: NonEmptyStr
    dial_text: NonEmptyStr
    phone_number_to_dial: PhoneNumber
    dial_payload: NonEmptyStr


class UrlActionParameters(VendorModel):
    """Parameters of the RCS ``url_action`` (link button) template."""

    text: NonEmptyStr
    url: HttpUrlStr
    url_id: NonEmptyStr
    url_text: NonEmptyStr


class FileParameters(VendorModel):
    """Parameters of the WhatsApp ``file`` template.

    Without ``file_name`` the vendor shows the file as "file"; we send only what was given.
    """

    url: HttpUrlStr
    file_name: str | None = Field(default=None, min_length=1)


class RcsDialAction(VendorModel):
    """RCS message with a click-to-call button."""

    template: Literal["dial_action"]
    parameters: DialActionParameters


class RcsUrlAction(VendorModel):
    """RCS message with a link button."""

    template: Literal["url_action"]
    parameters: UrlActionParameters


class RcsTextTemplate(VendorModel):
    """Plain RCS text."""

    template: Literal["text"]
    parameters: TextParameters


class WhatsAppFile(VendorModel):
    """WhatsApp message with a file attachment hosted by the sender."""

    template: Literal["file"]
    parameters: FileParameters


class WhatsAppTextTemplate(VendorModel):
    """Plain WhatsApp text."""

    template: Literal["text"]
    parameters: TextParameters


class SmsText(VendorModel):
    """Plain SMS text (usually the fallback channel)."""

    template: Literal["text"]
    parameters: TextParameters


RcsContent = Annotated[RcsDialAction | RcsUrlAction | RcsTextTemplate, Field(discriminator="template")]
WhatsAppContent = Annotated[WhatsAppFile | WhatsAppTextTemplate, Field(discriminator="template")]


class MessageContent(VendorModel):
    """``message``: the content for each channel listed in ``channels``."""

    rcs: RcsContent | None = None
    sms: SmsText | None = None
    whatsapp: WhatsAppContent | None = None

    def channels_with_content(self) -> list[str]:
        return [name for name in ("rcs", "sms", "whatsapp") if getattr(self, name) is not None]


class OmnichannelRequest(VendorModel):
    """Body of ``POST /v1/omnichannel``: channels tried in order, one content per channel."""

    channels: list[ChannelEntry] = Field(min_length=1)
    phone_number: RecipientNumber
    message: MessageContent
    message_type: MessageType
    external_id: str | None = None
    # Per-request callback URL; accounts may have it disabled (code 3203).
    callback_url: HttpUrlStr | None = None

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        # Code 3105: external_id longer than 100 characters or not ASCII.
        if value is not None and (len(value) > MAX_EXTERNAL_ID_LENGTH or not value.isascii()):
            raise rule_error(f"must be ASCII and at most {MAX_EXTERNAL_ID_LENGTH} characters (vendor code 3105)")
        return value

    @model_validator(mode="after")
    def _cross_rules(self) -> OmnichannelRequest:
        problems: list[tuple[str, str]] = []
        seen: set[str] = set()
        for i, entry in enumerate(self.channels):
            if entry.channel in seen:
                problems.append((f"channels.{i}.channel", f"duplicate channel '{entry.channel}' (vendor code 3113)"))
            seen.add(entry.channel)
        content = set(self.message.channels_with_content())
        for name in sorted(seen - content):
            problems.append((f"message.{name}", f"channel '{name}' is listed in 'channels' but has no content"))
        for name in sorted(content - seen):
            problems.append((f"message.{name}", f"content for '{name}' is given but '{name}' is not in 'channels'"))
        if not problems:
            size = payload_size(self)
            if size > MAX_PAYLOAD_BYTES:
                problems.append(
                    ("", f"payload is {size} bytes; the vendor allows at most 10KB (10240 bytes, code 3116)")
                )
        if problems:
            raise rules_error(problems)
        return self


def payload_size(model: BaseModel) -> int:
    """Size in bytes of the JSON body as an HTTP client sends it (``json.dumps`` defaults)."""
    return len(json.dumps(to_wire(model)).encode("utf-8"))


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
