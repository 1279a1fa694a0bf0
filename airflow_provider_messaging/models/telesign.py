"""Telesign Messaging (``POST /v1/omnichannel``) payloads: request, response, delivery and inbound callbacks.

Ground truth: ``vendor-docs/telesign-*.txt``. Requests are strict (they fail before any HTTP call);
callbacks are lenient (unknown fields are kept, timestamps keep their raw string).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Discriminator,
    Field,
    JsonValue,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Tag,
    field_validator,
    model_serializer,
    model_validator,
)

from airflow_provider_messaging.models._validation import (
    LenientModel,
    Number,
    PhoneNumber,
    RecipientNumber,
    UrlStr,
    VendorModel,
    rule_error,
    rules_error,
    try_parse_timestamp,
    wire_bytes,
)
from airflow_provider_messaging.models.status import DeliveryState

#: Vendor limit on the request body (status 3116 "Allowed payload size is limited to 10KB").
MAX_PAYLOAD_BYTES = 10 * 1024
MAX_EXTERNAL_ID_LENGTH = 100

#: Every Messaging channel the docs name ("six different Messaging channels: SMS, MMS, RCS, Viber,
#: WhatsApp, and email"; "You can use a different backup channel and template if you prefer").
CHANNELS: tuple[str, ...] = ("rcs", "sms", "whatsapp", "mms", "viber", "email")
Channel = Literal["rcs", "sms", "whatsapp", "mms", "viber", "email"]
MessageType = Literal["ARN", "MKT", "OTP"]

NonEmptyStr = Annotated[str, Field(min_length=1)]


def _not_blank(value: str) -> str:
    # Telesign answers 3305 "Missing template specific parameters" for a parameter of only spaces.
    if not value.strip():
        raise rule_error("must not be empty or only spaces")
    return value


#: A required template parameter: text that is not empty or only whitespace.
ParameterText = Annotated[str, AfterValidator(_not_blank)]


def _positive(value: int | float) -> int | float:
    if value <= 0:
        raise rule_error("must be a positive number of seconds")
    return value


# --------------------------------------------------------------------------------------------
# request
# --------------------------------------------------------------------------------------------


class ChannelEntry(VendorModel):
    """One step of the cascade: the channel and how long to wait before falling back to the next one."""

    channel: Channel
    # "A time in seconds": whole or fractional seconds are sent as given. Zero or less is refused (the
    # channel would get no time at all; the sandbox refuses it too).
    fallback_time: Annotated[Number, AfterValidator(_positive)] | None = Field(
        default=None, description="Seconds before the next channel."
    )

    @field_validator("channel", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        # Kept (undocumented) rejection: the docs spell channels in lower case only, and the vendor treats a
        # name it does not know as "unknown channel" (3100) and silently moves on to the next channel.
        if isinstance(value, str) and value != value.lower() and value.lower() in CHANNELS:
            raise rule_error(f"must be lower case as in the vendor docs: '{value.lower()}' (got {value!r})")
        return value


class TextParameters(VendorModel):
    """Parameters of the SMS ``text`` template."""

    text: ParameterText


class DialActionParameters(VendorModel):
    """Parameters of the RCS ``dial_action`` (click-to-call button) template, in the docs' example order."""

    dial_text: ParameterText
    phone_number_to_dial: PhoneNumber  # "A complete phone number (including country code)", sent as given
    dial_payload: ParameterText
    text: ParameterText


class UrlActionParameters(VendorModel):
    """Parameters of the RCS ``url_action`` (link button) template, in the docs' example order."""

    url_text: ParameterText
    text: ParameterText
    url_id: ParameterText
    url: UrlStr  # "A fully-qualified URL."


class FileParameters(VendorModel):
    """Parameters of the WhatsApp ``file`` template.

    Without ``file_name`` the vendor shows the file as "file"; we send only what was given.
    """

    url: UrlStr  # "A fully-qualified URL."
    # Kept (undocumented) rejection of "": the docs want "A filename" and document only leaving the field
    # out (then the name is "file"); what the vendor shows for an empty name is unknown.
    file_name: str | None = Field(default=None, min_length=1)


class RcsDialAction(VendorModel):
    """RCS message with a click-to-call button."""

    template: Literal["dial_action"]
    parameters: DialActionParameters


class RcsUrlAction(VendorModel):
    """RCS message with a link button."""

    template: Literal["url_action"]
    parameters: UrlActionParameters


class WhatsAppFile(VendorModel):
    """WhatsApp message with a file attachment hosted by the sender."""

    template: Literal["file"]
    parameters: FileParameters


class SmsText(VendorModel):
    """Plain SMS text (the docs' backup channel)."""

    template: Literal["text"]
    parameters: TextParameters


class TemplateMessage(VendorModel):
    """Any template the docs do not detail (``rcs``/``whatsapp`` ``text``, Viber, MMS, email, new templates).

    Checked only for shape: a template name and a ``parameters`` object, sent exactly as given; the
    vendor validates the parameters (3112 unknown template, 3305 missing parameters).
    """

    union_tag: ClassVar[str] = "other"

    template: NonEmptyStr
    parameters: dict[str, JsonValue]


def _template_of(strict: frozenset[str]) -> Any:
    def tag(value: Any) -> str:
        template = value.get("template") if isinstance(value, dict) else getattr(value, "template", None)
        return template if isinstance(template, str) and template in strict else TemplateMessage.union_tag

    return Discriminator(tag)


RcsContent = Annotated[
    Annotated[RcsDialAction, Tag("dial_action")]
    | Annotated[RcsUrlAction, Tag("url_action")]
    | Annotated[TemplateMessage, Tag(TemplateMessage.union_tag)],
    _template_of(frozenset({"dial_action", "url_action"})),
]
WhatsAppContent = Annotated[
    Annotated[WhatsAppFile, Tag("file")] | Annotated[TemplateMessage, Tag(TemplateMessage.union_tag)],
    _template_of(frozenset({"file"})),
]
SmsContent = Annotated[
    Annotated[SmsText, Tag("text")] | Annotated[TemplateMessage, Tag(TemplateMessage.union_tag)],
    _template_of(frozenset({"text"})),
]


class MessageContent(VendorModel):
    """``message``: the content for each channel of the cascade (on the wire in the order of ``channels``)."""

    rcs: RcsContent | None = None
    whatsapp: WhatsAppContent | None = None
    viber: TemplateMessage | None = None
    mms: TemplateMessage | None = None
    email: TemplateMessage | None = None
    sms: SmsContent | None = None

    def channels_with_content(self) -> list[str]:
        return [name for name in CHANNELS if getattr(self, name) is not None]


class OmnichannelRequest(VendorModel):
    """Body of ``POST /v1/omnichannel``: channels tried in order, one content per channel."""

    channels: list[ChannelEntry] = Field(min_length=1)
    phone_number: RecipientNumber
    message: MessageContent
    message_type: MessageType
    external_id: str | None = None
    # Per-request callback URL; accounts may have it disabled (code 3203).
    callback_url: UrlStr | None = None

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        # Code 3103: external_id longer than 100 characters or not ASCII.
        if value is not None and (len(value) > MAX_EXTERNAL_ID_LENGTH or not value.isascii()):
            raise rule_error(f"must be ASCII and at most {MAX_EXTERNAL_ID_LENGTH} characters (vendor code 3103)")
        return value

    @model_serializer(mode="wrap")
    def _message_in_cascade_order(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        # Both doc examples list message contents in cascade order ({"rcs", "sms"}, {"whatsapp", "sms"}).
        data = VendorModel._serialize(self, handler, info)
        message = data.get("message") if isinstance(data, dict) else None
        if isinstance(message, dict):
            order = [entry.channel for entry in self.channels]
            data["message"] = {
                **{k: message[k] for k in order if k in message},
                **{k: v for k, v in message.items() if k not in order},
            }
        return data

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
        # Content for a channel that is not in `channels` is accepted (the docs do not forbid it; one message
        # dict can serve several cascades) and simply never used by the vendor.
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
    """Size in bytes of the body exactly as the hook sends it (:func:`~._validation.wire_bytes`)."""
    return len(wire_bytes(model))


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
