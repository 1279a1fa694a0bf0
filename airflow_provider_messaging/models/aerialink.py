"""Aerialink / Convey v5 RCS payloads (``POST /v5/messages``), responses and (assumed) callbacks.

Ground truth: ``vendor-docs/aerialink-rcs-messages-api.txt``. Python names are snake_case with the
vendor's camelCase as alias; :func:`~._validation.to_wire` gives the exact vendor JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, Field, TypeAdapter, field_validator, model_validator

from airflow_provider_messaging.exceptions import FieldError
from airflow_provider_messaging.models._validation import (
    HttpUrlStr,
    LenientModel,
    RecipientNumber,
    VendorModel,
    http_url,
    max_items,
    parse_vendor_timestamp,
    rule_error,
    rules_error,
    try_parse_timestamp,
    validate,
)

NonEmptyStr = Annotated[str, Field(min_length=1)]
ChoiceTitle = Annotated[str, Field(min_length=1, max_length=25)]
PostbackData = Annotated[str, Field(min_length=1, max_length=2048)]
LongUrl = Annotated[str, Field(max_length=2048), AfterValidator(http_url)]
CardHeight = Literal["SHORT", "MEDIUM", "TALL"]

# The docs say "10 max" in the RCS_CARD table but "maximum 4 choices per card" twice (choice notes and
# carousel-card table): we enforce 4.
MAX_CARD_CHOICES = 4
MAX_CAROUSEL_CARDS = 10
MAX_COORDINATE_DECIMALS = 6


# --------------------------------------------------------------------------------------------
# choices
# --------------------------------------------------------------------------------------------


class _Choice(VendorModel):
    title: ChoiceTitle
    postback_data: PostbackData = Field(alias="postbackData")


class ReplyChoice(_Choice):
    """Suggested reply button."""

    type: Literal["REPLY"]


class OpenUrlChoice(_Choice):
    """Button that opens a URL in the browser or a webview."""

    type: Literal["OPEN_URL"]
    url: LongUrl
    application: Literal["BROWSER", "WEBVIEW"]
    webview_view_mode: Literal["FULL", "HALF", "TALL"] = Field(alias="webviewViewMode")


class DialPhoneChoice(_Choice):
    """Button that starts a phone call."""

    type: Literal["DIAL_PHONE"]
    phone_number: str = Field(alias="phoneNumber", min_length=1, max_length=20)


def _coordinate(limit: int) -> Callable[[float], float]:
    def check(value: float) -> float:
        if not -limit <= value <= limit:
            raise rule_error(f"must be between -{limit} and {limit}")
        exponent = Decimal(str(value)).as_tuple().exponent
        if isinstance(exponent, int) and -exponent > MAX_COORDINATE_DECIMALS:
            raise rule_error(f"must have at most {MAX_COORDINATE_DECIMALS} decimals")
        return value

    return check


class ShowLocationChoice(_Choice):
    """Button that shows a location on a map."""

    type: Literal["SHOW_LOCATION"]
    latitude: Annotated[float, AfterValidator(_coordinate(90))]
    longitude: Annotated[float, AfterValidator(_coordinate(180))]
    label: str | None = None


class RequestLocationChoice(_Choice):
    """Button that asks the user to share their location."""

    type: Literal["REQUEST_LOCATION"]


def _iso_datetime(value: str) -> str:
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None or "T" not in value:
        raise rule_error("must be an ISO-8601 date-time with a timezone, e.g. 2030-03-03T15:00:00Z")
    return value  # kept as given: re-serialising would drop ".000"


IsoDateTime = Annotated[str, AfterValidator(_iso_datetime)]


class CreateCalendarEventChoice(_Choice):
    """Button that adds an event to the user's calendar."""

    type: Literal["CREATE_CALENDAR_EVENT"]
    start_time: IsoDateTime = Field(alias="startTime")
    end_time: IsoDateTime = Field(alias="endTime")
    event_title: str = Field(alias="eventTitle", min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _end_after_start(self) -> CreateCalendarEventChoice:
        if parse_vendor_timestamp(self.end_time) <= parse_vendor_timestamp(self.start_time):
            raise rules_error([("endTime", "'endTime' must be after 'startTime'")])
        return self


Choice = Annotated[
    ReplyChoice
    | OpenUrlChoice
    | DialPhoneChoice
    | ShowLocationChoice
    | RequestLocationChoice
    | CreateCalendarEventChoice,
    Field(discriminator="type"),
]
CardChoices = Annotated[list[Choice], max_items(MAX_CARD_CHOICES, "choices per card")]


# --------------------------------------------------------------------------------------------
# failovers
# --------------------------------------------------------------------------------------------


def _required_if_enabled(model: VendorModel, fields: dict[str, str]) -> None:
    missing = [alias for name, alias in fields.items() if getattr(model, name) in (None, "")]
    if missing:
        raise rules_error([(a, f"'{a}' is required when failover is enabled") for a in missing])


class SmsFailover(VendorModel):
    """SMS sent instead when RCS delivery fails (RCS_TEXT only). ``failoverSource`` must share the connection."""

    enabled: bool
    failover_source: str | None = Field(default=None, alias="failoverSource", max_length=50)
    fallback_text: str | None = Field(default=None, alias="fallbackText", max_length=160)

    @model_validator(mode="after")
    def _if_enabled(self) -> SmsFailover:
        if self.enabled:
            _required_if_enabled(self, {"failover_source": "failoverSource", "fallback_text": "fallbackText"})
        return self


class MmsFailover(VendorModel):
    """MMS sent instead when RCS delivery fails (media, card and carousel messages)."""

    enabled: bool
    failover_source: str | None = Field(default=None, alias="failoverSource", max_length=50)
    fallback_text: str | None = Field(default=None, alias="fallbackText", max_length=160)
    media_url: HttpUrlStr | None = Field(default=None, alias="mediaUrl")
    subject: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _if_enabled(self) -> MmsFailover:
        if self.enabled:
            _required_if_enabled(
                self,
                {
                    "failover_source": "failoverSource",
                    "fallback_text": "fallbackText",
                    "media_url": "mediaUrl",
                    "subject": "subject",
                },
            )
        return self


# --------------------------------------------------------------------------------------------
# messages
# --------------------------------------------------------------------------------------------


class _RcsMessage(VendorModel):
    # ``source`` is an RCS sender id such as "CONVEY", not a phone number: only non-empty is checked.
    source: NonEmptyStr
    destination: RecipientNumber
    callback_url: HttpUrlStr | None = Field(default=None, alias="callbackURL")


class RcsText(_RcsMessage):
    """RCS_TEXT: text with optional choices (no count limit) and SMS failover."""

    message_type: Literal["RCS_TEXT"] = Field(default="RCS_TEXT", alias="messageType")
    message_text: NonEmptyStr = Field(alias="messageText")
    choices: list[Choice] | None = None
    sms_failover: SmsFailover | None = Field(default=None, alias="smsFailover")


class RcsMedia(_RcsMessage):
    """RCS_MEDIA: a media file with thumbnail, optional choices (no count limit) and MMS failover."""

    message_type: Literal["RCS_MEDIA"] = Field(default="RCS_MEDIA", alias="messageType")
    media_url: HttpUrlStr = Field(alias="mediaUrl")
    thumbnail_url: HttpUrlStr = Field(alias="thumbnailUrl")
    filename_override: NonEmptyStr = Field(alias="filenameOverride")
    choices: list[Choice] | None = None
    mms_failover: MmsFailover | None = Field(default=None, alias="mmsFailover")


class _CardFields(VendorModel):
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(max_length=500)
    height: CardHeight
    media_url: HttpUrlStr = Field(alias="mediaUrl")
    thumbnail_url: HttpUrlStr | None = Field(default=None, alias="thumbnailUrl")
    # ≤100 is documented for carousel cards; assumed the same for a single card.
    filename_override: str | None = Field(default=None, alias="filenameOverride", min_length=1, max_length=100)
    choices: CardChoices | None = None


class CarouselCard(_CardFields):
    """One card of an RCS_CAROUSEL."""


class RcsCard(_RcsMessage, _CardFields):
    """RCS_CARD: a rich card (title, description, media) with up to 4 choices and MMS failover."""

    message_type: Literal["RCS_CARD"] = Field(default="RCS_CARD", alias="messageType")
    mms_failover: MmsFailover | None = Field(default=None, alias="mmsFailover")


class RcsCarousel(_RcsMessage):
    """RCS_CAROUSEL: 1 to 10 cards, each with up to 4 choices, and MMS failover."""

    message_type: Literal["RCS_CAROUSEL"] = Field(default="RCS_CAROUSEL", alias="messageType")
    cards: Annotated[list[CarouselCard], max_items(MAX_CAROUSEL_CARDS, "cards per carousel")] = Field(min_length=1)
    mms_failover: MmsFailover | None = Field(default=None, alias="mmsFailover")


RcsMessage = Annotated[RcsText | RcsMedia | RcsCard | RcsCarousel, Field(discriminator="message_type")]
RCS_MESSAGE_ADAPTER: TypeAdapter[RcsText | RcsMedia | RcsCard | RcsCarousel] = TypeAdapter(RcsMessage)


def parse_message(data: Any) -> RcsText | RcsMedia | RcsCard | RcsCarousel:
    """Validate any message body and return the class its ``messageType`` names.

    Raises :class:`~airflow_provider_messaging.exceptions.PayloadValidationError`.
    """
    if isinstance(data, RcsText | RcsMedia | RcsCard | RcsCarousel):
        return data
    result: RcsText | RcsMedia | RcsCard | RcsCarousel = validate(RCS_MESSAGE_ADAPTER, data, name="Aerialink message")
    return result


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
