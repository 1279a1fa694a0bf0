"""Aerialink / Convey v5 RCS payloads (``POST /v5/messages``): the requests here, the rest re-exported.

Ground truth: ``vendor-docs/aerialink-rcs-messages-api.txt``. Python names are snake_case with the
vendor's camelCase as alias; :func:`~.base.to_wire` gives the exact vendor JSON. Responses, the
(assumed) callbacks and the status table live in :mod:`.aerialink_callbacks`, importable from here.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    TypeAdapter,
    model_validator,
)

from airflow_provider_messaging.models.aerialink_callbacks import (
    AERIALINK_STATES,
    GUID_KEYS,
    DeliveryCallback,
    ErrorDetail,
    ErrorResponse,
    InboundMessage,
    SendData,
    SendResponse,
    SendResult,
    aerialink_state,
)
from airflow_provider_messaging.models.base import VendorModel, rule_error, rules_error, validate
from airflow_provider_messaging.models.types import Number, UriStr, UrlStr, max_items, recipient_number

# Kept (undocumented) rejection of "" for every string: the vendor's error messages are those of a Joi
# schema ("'messageText' is required"), and Joi refuses an empty string unless a field allows it.
NonEmptyStr = Annotated[str, Field(min_length=1)]
# "Button text (max 25 characters)"; kept (undocumented) rejection of "": a button needs text to be tapped.
ChoiceTitle = Annotated[str, Field(min_length=1, max_length=25)]
PostbackData = Annotated[str, Field(min_length=1, max_length=2048)]
CardHeight = Literal["SHORT", "MEDIUM", "TALL"]

# The RCS_CARD table says "choices ... (10 max)"; the choice notes, the card-choices section, the carousel
# card table and the card steps say 4. Safer reading (and the majority): 4.
MAX_CARD_CHOICES = 4
MAX_CAROUSEL_CARDS = 10
COORDINATE_DECIMALS = 6


# --------------------------------------------------------------------------------------------
# choices
# --------------------------------------------------------------------------------------------


class _Choice(VendorModel):
    # Declared here so every choice starts with type, title, postbackData as in the docs' examples.
    type: str
    title: ChoiceTitle
    postback_data: PostbackData = Field(alias="postbackData")


class ReplyChoice(_Choice):
    """Suggested reply button."""

    type: Literal["REPLY"]


class OpenUrlChoice(_Choice):
    """Button that opens a URL in the browser or a webview."""

    type: Literal["OPEN_URL"]
    # "URL to open (max 2048 characters, must be valid URI)": any absolute URI, e.g. an app link.
    url: Annotated[UriStr, Field(max_length=2048)]
    application: Literal["BROWSER", "WEBVIEW"]
    webview_view_mode: Literal["FULL", "HALF", "TALL"] = Field(alias="webviewViewMode")


class DialPhoneChoice(_Choice):
    """Button that starts a phone call."""

    type: Literal["DIAL_PHONE"]
    phone_number: str = Field(alias="phoneNumber", min_length=1, max_length=20)


def _coordinate(limit: int) -> Any:
    def check(value: int | float) -> int | float:
        if not -limit <= value <= limit:
            raise rule_error(f"must be between -{limit} and {limit}")
        if isinstance(value, float):
            # "(6 decimal precision)": more decimals are rounded, not refused; an int stays an int.
            return round(value, COORDINATE_DECIMALS)
        return value

    return check


Latitude = Annotated[Number, AfterValidator(_coordinate(90))]
Longitude = Annotated[Number, AfterValidator(_coordinate(180))]


class ShowLocationChoice(_Choice):
    """Button that shows a location on a map."""

    type: Literal["SHOW_LOCATION"]
    latitude: Latitude
    longitude: Longitude
    label: str | None = None


class RequestLocationChoice(_Choice):
    """Button that asks the user to share their location."""

    type: Literal["REQUEST_LOCATION"]


# ISO 8601 date and time, extended (2030-03-03T15:00:00.000+01:00) or basic (20300303T150000Z), with an
# optional zone. The docs say only "ISO 8601 date string" (with examples that all carry a time and a zone):
# neither a time zone nor "end after start" is documented, so neither is enforced.
_ISO_EXTENDED = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?"
)
_ISO_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(?:(\d{2})(?:[.,]\d+)?)?(Z|[+-]\d{2}(?:\d{2})?)?")


def _iso_datetime(value: str) -> str:
    match = _ISO_EXTENDED.fullmatch(value) or _ISO_BASIC.fullmatch(value)
    valid = False
    if match:
        year, month, day, hour, minute, second = (int(g or 0) for g in match.groups()[:6])
        try:
            datetime(year, month, day, hour % 24, minute, second)
            valid = hour < 24 or (hour == 24 and minute == second == 0)
        except ValueError:
            valid = False
    if not valid:
        raise rule_error("must be an ISO 8601 date string, e.g. 2030-03-03T15:00:00.000+01:00 or 2030-03-03T15:00:00Z")
    return value  # kept as given: re-serialising would drop ".000"


IsoDateTime = Annotated[str, AfterValidator(_iso_datetime)]


class CreateCalendarEventChoice(_Choice):
    """Button that adds an event to the user's calendar."""

    type: Literal["CREATE_CALENDAR_EVENT"]
    start_time: IsoDateTime = Field(alias="startTime")
    end_time: IsoDateTime = Field(alias="endTime")
    event_title: str = Field(alias="eventTitle", min_length=1, max_length=100)
    description: str | None = Field(default=None, min_length=1, max_length=500)


Choice = Annotated[
    ReplyChoice
    | OpenUrlChoice
    | DialPhoneChoice
    | ShowLocationChoice
    | RequestLocationChoice
    | CreateCalendarEventChoice,
    Field(discriminator="type"),
]


# Card and carousel choices: the RCS_CARD and RCS_CAROUSEL tables list a choice "description" ("Required"),
# which the choice-type tables and every example leave out. Reading: optional (the docs' own examples
# must pass), non-empty when given; no length is documented.
class _CardChoice(_Choice):
    description: str | None = Field(default=None, min_length=1)


class CardReplyChoice(ReplyChoice, _CardChoice):
    """Reply button on a card."""


class CardOpenUrlChoice(OpenUrlChoice, _CardChoice):
    """URL button on a card."""


class CardDialPhoneChoice(DialPhoneChoice, _CardChoice):
    """Call button on a card."""


class CardShowLocationChoice(ShowLocationChoice, _CardChoice):
    """Map button on a card."""


class CardRequestLocationChoice(RequestLocationChoice, _CardChoice):
    """Location request button on a card."""


CardChoice = Annotated[
    CardReplyChoice
    | CardOpenUrlChoice
    | CardDialPhoneChoice
    | CardShowLocationChoice
    | CardRequestLocationChoice
    | CreateCalendarEventChoice,
    Field(discriminator="type"),
]
CardChoices = Annotated[list[CardChoice], max_items(MAX_CARD_CHOICES, "choices per card")]


# --------------------------------------------------------------------------------------------
# failovers
# --------------------------------------------------------------------------------------------


def _required_if_enabled(model: VendorModel, fields: dict[str, str]) -> None:
    missing = [alias for name, alias in fields.items() if getattr(model, name) in (None, "")]
    if missing:
        raise rules_error([(a, f"'{a}' is required when failover is enabled") for a in missing])


class SmsFailover(VendorModel):
    """SMS sent instead when RCS delivery fails (RCS_TEXT only). ``failoverSource`` must share the connection."""

    enabled: StrictBool  # "Boolean": "no" or 0 are refused, not turned into false
    failover_source: str | None = Field(default=None, alias="failoverSource", min_length=1, max_length=50)
    fallback_text: str | None = Field(default=None, alias="fallbackText", min_length=1, max_length=160)

    @model_validator(mode="after")
    def _if_enabled(self) -> SmsFailover:
        if self.enabled:
            _required_if_enabled(self, {"failover_source": "failoverSource", "fallback_text": "fallbackText"})
        return self


class MmsFailover(VendorModel):
    """MMS sent instead when RCS delivery fails (media, card and carousel messages)."""

    enabled: StrictBool
    failover_source: str | None = Field(default=None, alias="failoverSource", min_length=1, max_length=50)
    fallback_text: str | None = Field(default=None, alias="fallbackText", min_length=1, max_length=160)
    # "String (URI)" in the failover table, "URL of the fallback media file" in the message tables:
    # safer reading, a fully-qualified URL.
    media_url: UrlStr | None = Field(default=None, alias="mediaUrl")
    subject: str | None = Field(default=None, min_length=1, max_length=100)

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

_PHONE_SHAPED = re.compile(r"\+?[0-9][0-9 \-().]*")


def _rcs_sender(value: str) -> str:
    # "RCS is not available for phone numbers. The source field must be a valid RCS sender (e.g., "CONVEY")",
    # although the tables say "The sender's address or phone number": the explicit warning wins.
    if _PHONE_SHAPED.fullmatch(value):
        raise rule_error(
            'must be an RCS sender such as "CONVEY", not a phone number (RCS is not available for phone numbers)'
        )
    return value


def _address_or_phone(value: str) -> str:
    # "The recipient's address or phone number": a phone-shaped value must be a possible number (and is
    # normalised to digits); anything else is taken as an address.
    if _PHONE_SHAPED.fullmatch(value):
        return recipient_number(value)
    if any(c.isspace() for c in value):
        raise rule_error("must be a phone number with country code or an address without spaces")
    return value


RcsSender = Annotated[str, Field(min_length=1), AfterValidator(_rcs_sender)]
Destination = Annotated[str, Field(min_length=1), AfterValidator(_address_or_phone)]


class _RcsMessage(VendorModel):
    # Declared here so every message starts with messageType, source, destination as in the docs' examples.
    message_type: str = Field(alias="messageType")
    source: RcsSender
    destination: Destination
    callback_url: UrlStr | None = Field(default=None, alias="callbackURL")  # "URL to receive delivery status"


class RcsText(_RcsMessage):
    """RCS_TEXT: text with optional choices (no count limit) and SMS failover."""

    message_type: Literal["RCS_TEXT"] = Field(default="RCS_TEXT", alias="messageType")
    message_text: NonEmptyStr = Field(alias="messageText")
    choices: list[Choice] | None = None
    sms_failover: SmsFailover | None = Field(default=None, alias="smsFailover")


class RcsMedia(_RcsMessage):
    """RCS_MEDIA: a media file with thumbnail, optional choices (no count limit) and MMS failover."""

    message_type: Literal["RCS_MEDIA"] = Field(default="RCS_MEDIA", alias="messageType")
    media_url: UrlStr = Field(alias="mediaUrl")
    thumbnail_url: UrlStr = Field(alias="thumbnailUrl")
    filename_override: NonEmptyStr = Field(alias="filenameOverride")  # no length documented for RCS_MEDIA
    choices: list[Choice] | None = None
    mms_failover: MmsFailover | None = Field(default=None, alias="mmsFailover")


class _CardFields(VendorModel):
    title: str = Field(min_length=1, max_length=100)  # "title (card): Max 100 characters"
    description: str = Field(min_length=1, max_length=500)  # "description (card): Max 500 characters"
    height: CardHeight
    # "URL of the main image" (message tables) vs "Media URL (must be valid URI)" (carousel card table):
    # safer reading, a fully-qualified URL.
    media_url: UrlStr = Field(alias="mediaUrl")


class RcsCard(_CardFields, _RcsMessage):
    """RCS_CARD: a rich card (title, description, media) with up to 4 choices and MMS failover."""

    message_type: Literal["RCS_CARD"] = Field(default="RCS_CARD", alias="messageType")
    thumbnail_url: UrlStr | None = Field(default=None, alias="thumbnailUrl")
    filename_override: str | None = Field(default=None, alias="filenameOverride", min_length=1)
    # The RCS_CARD table lists choices both as "Required ... (10 max)" and "Optional", and the choice notes
    # say "optional" for cards: the table's own "Optional" row and the notes win (documented twice).
    choices: CardChoices | None = None
    mms_failover: MmsFailover | None = Field(default=None, alias="mmsFailover")


class CarouselCard(_CardFields):
    """One card of an RCS_CAROUSEL.

    The RCS_CAROUSEL table marks ``thumbnailUrl``, ``filenameOverride`` and ``choices`` "Required", the
    Carousel Cards table "Optional". Safer reading: required (every example card has all three).
    """

    thumbnail_url: UrlStr = Field(alias="thumbnailUrl")
    filename_override: str = Field(alias="filenameOverride", min_length=1, max_length=100)
    choices: CardChoices


class RcsCarousel(_RcsMessage):
    """RCS_CAROUSEL: 1 to 10 cards, each with up to 4 choices, and MMS failover."""

    message_type: Literal["RCS_CAROUSEL"] = Field(default="RCS_CAROUSEL", alias="messageType")
    cards: Annotated[list[CarouselCard], max_items(MAX_CAROUSEL_CARDS, "cards per carousel")] = Field(min_length=1)
    mms_failover: MmsFailover | None = Field(default=None, alias="mmsFailover")


RcsMessage = Annotated[RcsText | RcsMedia | RcsCard | RcsCarousel, Field(discriminator="message_type")]
RCS_MESSAGE_ADAPTER: TypeAdapter[RcsText | RcsMedia | RcsCard | RcsCarousel] = TypeAdapter(RcsMessage)
#: The model of each ``messageType``.
MESSAGE_MODELS: dict[str, type[RcsText | RcsMedia | RcsCard | RcsCarousel]] = {
    "RCS_TEXT": RcsText,
    "RCS_MEDIA": RcsMedia,
    "RCS_CARD": RcsCard,
    "RCS_CAROUSEL": RcsCarousel,
}


def parse_message(data: Any) -> RcsText | RcsMedia | RcsCard | RcsCarousel:
    """Validate any message body and return the class its ``messageType`` names.

    Raises :class:`~airflow_provider_messaging.exceptions.PayloadValidationError`.
    """
    if isinstance(data, RcsText | RcsMedia | RcsCard | RcsCarousel):
        return data
    result: RcsText | RcsMedia | RcsCard | RcsCarousel = validate(RCS_MESSAGE_ADAPTER, data, name="Aerialink message")
    return result


__all__ = [
    "AERIALINK_STATES",
    "GUID_KEYS",
    "MESSAGE_MODELS",
    "RCS_MESSAGE_ADAPTER",
    "CardChoice",
    "CarouselCard",
    "Choice",
    "CreateCalendarEventChoice",
    "DeliveryCallback",
    "DialPhoneChoice",
    "ErrorDetail",
    "ErrorResponse",
    "InboundMessage",
    "MmsFailover",
    "OpenUrlChoice",
    "RcsCard",
    "RcsCarousel",
    "RcsMedia",
    "RcsMessage",
    "RcsText",
    "ReplyChoice",
    "RequestLocationChoice",
    "SendData",
    "SendResponse",
    "SendResult",
    "ShowLocationChoice",
    "SmsFailover",
    "aerialink_state",
    "parse_message",
]
