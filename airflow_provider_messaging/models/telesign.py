"""Telesign Messaging (``POST /v1/omnichannel``) payloads: the request here, the rest re-exported.

Ground truth: ``vendor-docs/telesign-*.txt``. Requests are strict (they fail before any HTTP call);
the response, delivery and inbound callbacks and the code table live in :mod:`.telesign_callbacks`
and are importable from here under the same names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
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

from airflow_provider_messaging.models.base import VendorModel, rule_error, rules_error, validate, wire_bytes
from airflow_provider_messaging.models.telesign_callbacks import (
    CallbackStatus,
    ChannelStatus,
    DeliveryCallback,
    InboundChannel,
    InboundMessage,
    InboundStatus,
    KeywordAction,
    NullableStr,
    OmnichannelResponse,
    Status,
    telesign_state,
)
from airflow_provider_messaging.models.types import Number, PhoneNumber, RecipientNumber, UrlStr

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
    """Size in bytes of the body exactly as the hook sends it (:func:`~.base.wire_bytes`)."""
    return len(wire_bytes(model))


@dataclass(frozen=True)
class Step:
    """One channel of a cascade with its content: ``Step("rcs", "dial_action", {...}, fallback_time=600)``.

    ``content`` holds any other key of the channel's content (e.g. its ``extra_fields``).
    """

    channel: str | None
    template: str | None
    parameters: Mapping[str, Any] | None
    fallback_time: int | float | None = None
    content: Mapping[str, Any] = field(default_factory=dict)


def cascade(
    phone_number: str | None,
    steps: Sequence[Step],
    message_type: str,
    *,
    external_id: str | None = None,
    extra_fields: Mapping[str, Any] | None = None,
) -> OmnichannelRequest:
    """THE builder of an :class:`OmnichannelRequest` from its steps, used by the operators and the notifier.

    Validated once as a whole, so an error names its full vendor path (``message.rcs.parameters.url``);
    raises :class:`~airflow_provider_messaging.exceptions.PayloadValidationError`.
    """
    channels: list[dict[str, Any]] = []
    message: dict[str, Any] = {}
    for step in steps:
        channels.append(
            {
                "channel": step.channel,
                **({"fallback_time": step.fallback_time} if step.fallback_time is not None else {}),
            }
        )
        given = {"template": step.template, "parameters": step.parameters}  # a missing one is reported as missing
        message[str(step.channel)] = {**{k: v for k, v in given.items() if v is not None}, **step.content}
    fields: dict[str, Any] = {
        "channels": channels,
        "phone_number": phone_number,
        "message": message,
        "message_type": message_type,
    }
    if external_id:
        fields["external_id"] = external_id
    if extra_fields:
        fields["extra_fields"] = dict(extra_fields)
    return validate(OmnichannelRequest, fields)


__all__ = [
    "CHANNELS",
    "MAX_PAYLOAD_BYTES",
    "CallbackStatus",
    "ChannelEntry",
    "ChannelStatus",
    "DeliveryCallback",
    "DialActionParameters",
    "FileParameters",
    "InboundChannel",
    "InboundMessage",
    "InboundStatus",
    "KeywordAction",
    "MessageContent",
    "NullableStr",
    "OmnichannelRequest",
    "OmnichannelResponse",
    "RcsDialAction",
    "RcsUrlAction",
    "SmsText",
    "Status",
    "Step",
    "TemplateMessage",
    "TextParameters",
    "UrlActionParameters",
    "WhatsAppFile",
    "cascade",
    "payload_size",
    "telesign_state",
]
