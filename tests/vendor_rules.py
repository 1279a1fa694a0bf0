"""THE table of documented vendor rules, one case per rule, named after the docs' own words.

Each case is a payload built from a vendor-docs example with one change, and what the docs say about it:
valid (``field is None``) or invalid at the vendor path ``field`` (for Telesign the sandbox answers a
status ``code`` instead of a path). ``tests/fidelity/test_vendor_rules.py`` runs every case against the
pydantic models (``parse`` -> ``to_wire``) and against the sandbox over HTTP, so the two cannot drift.

``wire`` is what the models send when it differs from the payload (rounding, normalising).
Where the docs contradict themselves the case follows the reading written next to the rule in the
models, and ``docs/vendor-doc-contradictions.md`` lists it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Literal

from tests.vendor_examples import load

Vendor = Literal["telesign", "aerialink"]
_DROP = object()


@dataclass(frozen=True)
class Rule:
    """One documented rule applied to one payload."""

    id: str  # the docs' words (pytest id)
    vendor: Vendor
    payload: dict[str, Any]
    field: str | None = None  # None: valid; else the vendor path of the error
    code: int | None = None  # Telesign: the status code the sandbox answers
    wire: dict[str, Any] | None = None  # what the models send, when it is not the payload

    @property
    def valid(self) -> bool:
        return self.field is None


def edit(example: str | dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of a vendor example with dotted-path changes (``__`` for '.', ``_DROP`` deletes)."""
    data = copy.deepcopy(load(example) if isinstance(example, str) else example)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target: Any = data
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is _DROP:
            del target[int(leaf) if leaf.isdigit() else leaf]
        elif leaf.isdigit():
            target[int(leaf)] = value
        else:
            target[leaf] = value
    return data


DROP: Any = _DROP
CALL = "telesign_call_button_request"
LINK = "telesign_link_button_request"
FILE = "telesign_whatsapp_file_request"
TEXT = "aerialink_rcs_text"
MEDIA = "aerialink_rcs_media"
CARD = "aerialink_rcs_card"
CAROUSEL = "aerialink_rcs_carousel"
LOCAL_CALLBACK = "http://127.0.0.1:9/messaging/aerialink/status"  # never reached: the table's sandbox waits


def _ts(id: str, payload: dict[str, Any], field: str | None = None, code: int | None = None, **kw: Any) -> Rule:
    return Rule(id, "telesign", payload, field, code, **kw)


def _al(id: str, payload: dict[str, Any], field: str | None = None, **kw: Any) -> Rule:
    return Rule(id, "aerialink", payload, field, **kw)


def _backup(channel: str, template: str = "text", parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    data = load(CALL)
    data["channels"][1] = {"channel": channel}
    data["message"][channel] = {"template": template, "parameters": parameters or {"text": "Call us"}}
    del data["message"]["sms"]
    return data


def _choice(example: str, **changes: Any) -> dict[str, Any]:
    return edit(TEXT, choices=[edit(f"aerialink_choice_{example}", **changes)])


def _reply(i: int) -> dict[str, Any]:
    return {"type": "REPLY", "title": f"Option {i}", "postbackData": f"option_{i}"}


def _near_10kb_non_ascii() -> dict[str, Any]:
    """A call-button request whose compact UTF-8 body is exactly 10240 bytes, mostly 2-byte characters."""
    data = load(CALL)
    data["message"]["sms"]["parameters"]["text"] = ""
    size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
    room = 10 * 1024 - size
    data["message"]["sms"]["parameters"]["text"] = "é" * (room // 2) + "x" * (room % 2)
    return data


# --------------------------------------------------------------------------------------------
# Telesign: telesign-rcs-call-button.txt, telesign-rcs-link-button.txt, telesign-whatsapp-file.txt,
# telesign-inbound-messages.txt (channels); codes from the status table (vendor-notes.md §2)
# --------------------------------------------------------------------------------------------

TELESIGN: list[Rule] = [
    _ts("call button: request example", load(CALL)),
    _ts("link button: request example", load(LINK)),
    _ts("whatsapp file: request example", load(FILE)),
    _ts("channels | array of channel objects | yes", edit(CALL, channels=DROP), "channels", 3300),
    _ts("channels: array of channel objects (not empty)", edit(CALL, channels=[]), "channels", 3300),
    _ts(
        "channels[0] | {channel: rcs} | yes", edit(CALL, channels__0={"fallback_time": 600}), "channels.0.channel", 3301
    ),
    _ts("channels[0].fallback_time | no", edit(CALL, channels__0={"channel": "rcs"})),
    _ts("fallback_time: A time in seconds (fractional)", edit(CALL, channels__0__fallback_time=1.5)),
    _ts(
        "fallback_time: A time in seconds (not zero)",
        edit(CALL, channels__0__fallback_time=0),
        "channels.0.fallback_time",
        3113,
    ),
    _ts(
        "fallback_time: A time in seconds (not negative)",
        edit(CALL, channels__0__fallback_time=-5),
        "channels.0.fallback_time",
        3113,
    ),
    _ts(
        "fallback_time: A time in seconds (a number)",
        edit(CALL, channels__0__fallback_time="soon"),
        "channels.0.fallback_time",
        3113,
    ),
    _ts(
        "channels[0]: Include rcs (lower case, not RCS)",
        edit(CALL, channels__0__channel="RCS"),
        "channels.0.channel",
        3100,
    ),
    _ts("channels: an unknown channel", edit(CALL, channels__1__channel="fax"), "channels.1.channel", 3100),
    _ts(
        "3113 channels contains the same channel more than once",
        edit(CALL, channels__1={"channel": "rcs"}),
        "channels.1.channel",
        3113,
    ),
    _ts(
        "channels[1] sms: yes (if SMS is used for backup) - content required",
        edit(CALL, message__sms=DROP),
        "message.sms",
        3306,
    ),
    _ts(
        "message.sms without sms in channels is not an error",
        edit(CALL, channels=[{"channel": "rcs", "fallback_time": 600}]),
    ),
    _ts("a different backup channel: viber", _backup("viber")),
    _ts("a different backup channel: mms", _backup("mms")),
    _ts("a different backup channel: whatsapp text", _backup("whatsapp")),
    _ts("a different backup channel: email", _backup("email", "text", {"subject": "Refund", "text": "Call us"})),
    _ts(
        "a different backup template: sms",
        edit(CALL, message__sms={"template": "otp", "parameters": {"code": "123456"}}),
    ),
    _ts("undocumented template: checked for shape only", _backup("viber", "promo_card", {"image": "x"})),
    _ts(
        "undocumented template: parameters required",
        edit(_backup("viber"), message__viber__parameters=DROP),
        "message.viber.parameters",
        3305,
    ),
    _ts(
        "undocumented template: template name required",
        edit(_backup("viber"), message__viber__template=""),
        "message.viber.template",
        3112,
    ),
    _ts(
        "message.rcs.template | dial_action | yes",
        edit(CALL, message__rcs__template=DROP),
        "message.rcs.template",
        3112,
    ),
    *[
        _ts(
            f"message.rcs.parameters.{p} | yes",
            edit(CALL, **{f"message__rcs__parameters__{p}": DROP}),
            f"message.rcs.parameters.{p}",
            3305,
        )
        for p in ("dial_payload", "dial_text", "phone_number_to_dial", "text")
    ],
    _ts(
        "dial_action text: Some text (not only spaces)",
        edit(CALL, message__rcs__parameters__text="   "),
        "message.rcs.parameters.text",
        3305,
    ),
    _ts(
        "phone_number_to_dial: A complete phone number (including country code)",
        edit(CALL, message__rcs__parameters__phone_number_to_dial="333-4444"),
        "message.rcs.parameters.phone_number_to_dial",
        3108,
    ),
    _ts(
        "phone_number_to_dial: not a number",
        edit(CALL, message__rcs__parameters__phone_number_to_dial="call us"),
        "message.rcs.parameters.phone_number_to_dial",
        3108,
    ),
    _ts(
        "phone_number_to_dial: written with + and separators",
        edit(CALL, message__rcs__parameters__phone_number_to_dial="+1 800-333-4444"),
    ),
    _ts(
        "message.sms.parameters.text | yes (if text template is used for backup)",
        edit(CALL, message__sms__parameters__text=DROP),
        "message.sms.parameters.text",
        3305,
    ),
    _ts(
        "message.url_action template | url_action | yes",
        edit(LINK, message__rcs__template=DROP),
        "message.rcs.template",
        3112,
    ),
    *[
        _ts(
            f"message.rcs.parameters.{p} (url_action) | yes",
            edit(LINK, **{f"message__rcs__parameters__{p}": DROP}),
            f"message.rcs.parameters.{p}",
            3305,
        )
        for p in ("text", "url", "url_id", "url_text")
    ],
    _ts(
        "url_action url: A fully-qualified URL (no scheme)",
        edit(LINK, message__rcs__parameters__url="viatushop.com/track"),
        "message.rcs.parameters.url",
        3108,
    ),
    _ts(
        "url_action url: A fully-qualified URL (raw space)",
        edit(LINK, message__rcs__parameters__url="https://viatushop.com/track order"),
        "message.rcs.parameters.url",
        3108,
    ),
    _ts(
        "url_action url: A fully-qualified URL (app scheme)",
        edit(LINK, message__rcs__parameters__url="viatushop://orders/45390"),
    ),
    _ts("channels[0] | {channel: whatsapp} | message.whatsapp.template | file", load(FILE)),
    _ts(
        "message.whatsapp.template | file | yes",
        edit(FILE, message__whatsapp__template=DROP),
        "message.whatsapp.template",
        3112,
    ),
    _ts(
        "message.whatsapp.parameters.url | yes",
        edit(FILE, message__whatsapp__parameters__url=DROP),
        "message.whatsapp.parameters.url",
        3305,
    ),
    _ts(
        "whatsapp file url: A fully-qualified URL",
        edit(FILE, message__whatsapp__parameters__url="s3.amazonaws.com/x.xlsx"),
        "message.whatsapp.parameters.url",
        3108,
    ),
    _ts("file_name | no (default file name: file)", edit(FILE, message__whatsapp__parameters__file_name=DROP)),
    _ts(
        "file_name: A filename (not empty)",
        edit(FILE, message__whatsapp__parameters__file_name=""),
        "message.whatsapp.parameters.file_name",
        3108,
    ),
    _ts("phone_number | yes", edit(CALL, phone_number=DROP), "phone_number", 3302),
    _ts("3101 phone number contains non-digit values", edit(CALL, phone_number="call-me"), "phone_number", 3101),
    _ts("3101 phone number is too short", edit(CALL, phone_number="5301"), "phone_number", 3101),
    _ts("phone_number: Mexican legacy mobile 521 + 10 digits", edit(CALL, phone_number="5215512345670")),
    _ts("message | yes", edit(CALL, message=DROP), "message", 3303),
    _ts("message_type | MKT", edit(CALL, message_type=DROP), "message_type", 3304),
    _ts("3102 message_type is not one of ARN, MKT, OTP", edit(CALL, message_type="PROMO"), "message_type", 3102),
    _ts("3103 external_id longer than 100", edit(CALL, external_id="x" * 101), "external_id", 3103),
    _ts("3103 external_id non-ASCII", edit(CALL, external_id="café"), "external_id", 3103),
    _ts("external_id: up to 100 ASCII characters", edit(CALL, external_id="order-45390")),
    _ts("3106 callback_url invalid", edit(CALL, callback_url="not a url"), "callback_url", 3106),
    _ts(
        "3116 Allowed payload size is limited to 10KB",
        edit(CALL, message__sms__parameters__text="x" * 10_500),
        "",
        3116,
    ),
    _ts("10KB measured on the UTF-8 bytes sent (non-ASCII at the limit)", _near_10kb_non_ascii()),
]


# --------------------------------------------------------------------------------------------
# Aerialink: aerialink-rcs-messages-api.txt
# --------------------------------------------------------------------------------------------

_ALL_CHOICES = [
    load(f"aerialink_choice_{n}")
    for n in ("reply", "open_url", "dial_phone", "show_location", "request_location", "create_calendar_event")
]
_CARD_CHOICE_WITH_DESCRIPTION = edit("aerialink_choice_reply", description="Confirms the order")

AERIALINK: list[Rule] = [
    _al("RCS_TEXT example", load(TEXT)),
    _al("RCS_MEDIA example", load(MEDIA)),
    _al("RCS_CARD example", load(CARD)),
    _al("RCS_CAROUSEL example", load(CAROUSEL)),
    _al("messageType | Required", edit(TEXT, messageType=DROP), "messageType"),
    _al("messageType: RCS_TEXT, RCS_MEDIA, RCS_CARD, RCS_CAROUSEL", edit(TEXT, messageType="RCS_VIDEO"), "messageType"),
    _al("source | Required", edit(TEXT, source=DROP), "source"),
    _al("RCS is not available for phone numbers (source)", edit(TEXT, source="15551234567"), "source"),
    _al("source must be a valid RCS sender (e.g. CONVEY)", edit(TEXT, source="ACME Bank")),
    _al("destination | Required", edit(TEXT, destination=DROP), "destination"),
    _al("destination: The recipient's address or phone number (address)", edit(TEXT, destination="user@rcs.example")),
    _al(
        "destination: The recipient's address or phone number (bad number)",
        edit(TEXT, destination="555"),
        "destination",
    ),
    _al(
        "destination: phone number written with + and spaces",
        edit(TEXT, destination="+1 555 987 6543"),
        wire=edit(TEXT, destination="15559876543"),
    ),
    _al("messageText | Required (documented error)", edit(TEXT, messageText=DROP), "messageText"),
    _al("messageText: The text content to send (not empty)", edit(TEXT, messageText=""), "messageText"),
    _al("callbackURL | Optional | URL to receive delivery status updates", edit(TEXT, callbackURL=LOCAL_CALLBACK)),
    _al("callbackURL: a URL", edit(TEXT, callbackURL="example.com/cb"), "callbackURL"),
    _al("callbackURL: a URL (raw space)", edit(TEXT, callbackURL="http://127.0.0.1:9/a b"), "callbackURL"),
    _al("RCS_TEXT choices: All choice types are supported", edit(TEXT, choices=_ALL_CHOICES)),
    _al("For RCS_TEXT Choices are optional", edit(TEXT, choices=DROP)),
    _al("For RCS_TEXT and RCS_MEDIA no maximum limit", edit(TEXT, choices=[_reply(i) for i in range(12)])),
    _al("RCS_MEDIA: no maximum limit", edit(MEDIA, choices=[_reply(i) for i in range(12)])),
    _al("smsFailover | Optional", edit(TEXT, smsFailover=DROP)),
    _al("smsFailover enabled | Required", edit(TEXT, smsFailover__enabled=DROP), "smsFailover.enabled"),
    _al("smsFailover enabled: Boolean", edit(TEXT, smsFailover__enabled="no"), "smsFailover.enabled"),
    _al(
        "failoverSource (required if enabled)",
        edit(TEXT, smsFailover__failoverSource=DROP),
        "smsFailover.failoverSource",
    ),
    _al("fallbackText (required if enabled)", edit(TEXT, smsFailover__fallbackText=DROP), "smsFailover.fallbackText"),
    _al(
        "failover fields: required if enabled (disabled)",
        edit(TEXT, smsFailover={"enabled": False}),
    ),
    _al(
        "failoverSource: String (max 50)",
        edit(TEXT, smsFailover__failoverSource="1" * 51),
        "smsFailover.failoverSource",
    ),
    _al("fallbackText: String (max 160)", edit(TEXT, smsFailover__fallbackText="f" * 161), "smsFailover.fallbackText"),
    _al("fallbackText: String (max 160), at the limit", edit(TEXT, smsFailover__fallbackText="f" * 160)),
    _al("RCS_MEDIA: mmsFailover, not smsFailover", edit(MEDIA, smsFailover=load(TEXT)["smsFailover"]), "smsFailover"),
    *[
        _al(f"RCS_MEDIA required fields: {f}", edit(MEDIA, **{f: DROP}), f)
        for f in ("mediaUrl", "thumbnailUrl", "filenameOverride")
    ],
    _al("RCS_MEDIA mediaUrl: URL of the media file", edit(MEDIA, mediaUrl="media.jpg"), "mediaUrl"),
    _al(
        "RCS_MEDIA thumbnailUrl: URL of the thumbnail image",
        edit(MEDIA, thumbnailUrl="https://example.com/a b.jpg"),
        "thumbnailUrl",
    ),
    _al(
        "RCS_MEDIA filenameOverride: Custom filename (no length documented)",
        edit(MEDIA, filenameOverride="f" * 150 + ".jpg"),
    ),
    _al("mmsFailover subject (required if enabled)", edit(MEDIA, mmsFailover__subject=DROP), "mmsFailover.subject"),
    _al("mmsFailover mediaUrl (required if enabled)", edit(MEDIA, mmsFailover__mediaUrl=DROP), "mmsFailover.mediaUrl"),
    _al(
        "mmsFailover mediaUrl: String (URI) - Media URL",
        edit(MEDIA, mmsFailover__mediaUrl="fallback.jpg"),
        "mmsFailover.mediaUrl",
    ),
    _al("mmsFailover subject: String (max 100)", edit(MEDIA, mmsFailover__subject="s" * 101), "mmsFailover.subject"),
    _al("mmsFailover enabled: Boolean", edit(MEDIA, mmsFailover__enabled="no"), "mmsFailover.enabled"),
    _al("card title | Required", edit(CARD, title=DROP), "title"),
    _al("title (card): Max 100 characters", edit(CARD, title="t" * 101), "title"),
    _al("card description | Required", edit(CARD, description=DROP), "description"),
    _al("card description: Description text for the card (not empty)", edit(CARD, description=""), "description"),
    _al("description (card): Max 500 characters", edit(CARD, description="d" * 501), "description"),
    _al("height: possible values are SHORT, MEDIUM, TALL", edit(CARD, height="HUGE"), "height"),
    _al("card mediaUrl | Required", edit(CARD, mediaUrl=DROP), "mediaUrl"),
    _al("RCS_CARD thumbnailUrl, filenameOverride | Optional", edit(CARD, thumbnailUrl=DROP, filenameOverride=DROP)),
    _al("RCS_CARD choices | Optional", edit(CARD, choices=DROP)),
    _al("RCS_CARD filenameOverride: no length documented", edit(CARD, filenameOverride="f" * 150 + ".jpg")),
    _al("maximum 4 choices per card (4)", edit(CARD, choices=[_reply(i) for i in range(4)])),
    _al("maximum 4 choices per card (5)", edit(CARD, choices=[_reply(i) for i in range(5)]), "choices"),
    _al("card choice description: Description of the choice", edit(CARD, choices=[_CARD_CHOICE_WITH_DESCRIPTION])),
    _al(
        "card choice description: not empty",
        edit(CARD, choices=[edit(_CARD_CHOICE_WITH_DESCRIPTION, description="")]),
        "choices.0.description",
    ),
    _al("cards | Required", edit(CAROUSEL, cards=DROP), "cards"),
    _al("cards: Array of card objects (10 max)", edit(CAROUSEL, cards=[load(CAROUSEL)["cards"][0]] * 10)),
    _al("cards: Array of card objects (11)", edit(CAROUSEL, cards=[load(CAROUSEL)["cards"][0]] * 11), "cards"),
    _al("carousel card mediaUrl (documented error)", edit(CAROUSEL, cards__0__mediaUrl=DROP), "cards.0.mediaUrl"),
    _al(
        "carousel card title: Card title (max 100 characters)",
        edit(CAROUSEL, cards__1__title="t" * 101),
        "cards.1.title",
    ),
    _al(
        "carousel card description (max 500 characters)",
        edit(CAROUSEL, cards__1__description="d" * 501),
        "cards.1.description",
    ),
    _al("carousel card height: SHORT, MEDIUM, or TALL", edit(CAROUSEL, cards__1__height="WIDE"), "cards.1.height"),
    _al(
        "carousel card thumbnailUrl | Required (safer reading)",
        edit(CAROUSEL, cards__0__thumbnailUrl=DROP),
        "cards.0.thumbnailUrl",
    ),
    _al(
        "carousel card filenameOverride | Required (safer reading)",
        edit(CAROUSEL, cards__0__filenameOverride=DROP),
        "cards.0.filenameOverride",
    ),
    _al("carousel card choices | Required (safer reading)", edit(CAROUSEL, cards__0__choices=DROP), "cards.0.choices"),
    _al(
        "carousel card filenameOverride: Custom filename (max 100 characters)",
        edit(CAROUSEL, cards__0__filenameOverride="f" * 101),
        "cards.0.filenameOverride",
    ),
    _al(
        "carousel card thumbnailUrl: must be valid URI / URL",
        edit(CAROUSEL, cards__0__thumbnailUrl="thumb1.jpg"),
        "cards.0.thumbnailUrl",
    ),
    _al(
        "carousel card choices (max 4)",
        edit(CAROUSEL, cards__0__choices=[_reply(i) for i in range(5)]),
        "cards.0.choices",
    ),
    _al("carousel card choice description", edit(CAROUSEL, cards__0__choices=[_CARD_CHOICE_WITH_DESCRIPTION])),
    _al(
        "All choices require title, postbackData, and type fields: type", _choice("reply", type=DROP), "choices.0.type"
    ),
    _al(
        "All choices require title, postbackData, and type fields: title",
        _choice("reply", title=DROP),
        "choices.0.title",
    ),
    _al(
        "All choices require title, postbackData, and type fields: postbackData",
        _choice("reply", postbackData=DROP),
        "choices.0.postbackData",
    ),
    _al("choice type: one of the six types", _choice("reply", type="SHARE"), "choices.0.type"),
    _al("title: Button text (max 25 characters)", _choice("reply", title="t" * 26), "choices.0.title"),
    _al("title: Button text (max 25 characters), at the limit", _choice("reply", title="t" * 25)),
    _al("title: Button text (not empty)", _choice("reply", title=""), "choices.0.title"),
    _al("postbackData: max 2048 characters", _choice("reply", postbackData="p" * 2049), "choices.0.postbackData"),
    _al("OPEN_URL url (documented error)", _choice("open_url", url=DROP), "choices.0.url"),
    _al("OPEN_URL url: must be valid URI (app link)", _choice("open_url", url="myapp://promo/42")),
    _al("OPEN_URL url: must be valid URI (no scheme)", _choice("open_url", url="www.example.com"), "choices.0.url"),
    _al(
        "OPEN_URL url: must be valid URI (raw space)",
        _choice("open_url", url="https://example.com/a b"),
        "choices.0.url",
    ),
    _al("OPEN_URL url: max 2048 characters", _choice("open_url", url="https://e.com/" + "a" * 2040), "choices.0.url"),
    _al("OPEN_URL application: BROWSER or WEBVIEW", _choice("open_url", application="APP"), "choices.0.application"),
    _al("OPEN_URL application | Required", _choice("open_url", application=DROP), "choices.0.application"),
    _al(
        "OPEN_URL webviewViewMode (documented error)",
        _choice("open_url", webviewViewMode=DROP),
        "choices.0.webviewViewMode",
    ),
    _al(
        "OPEN_URL webviewViewMode: FULL, HALF, or TALL",
        _choice("open_url", webviewViewMode="QUARTER"),
        "choices.0.webviewViewMode",
    ),
    _al("DIAL_PHONE phoneNumber (documented error)", _choice("dial_phone", phoneNumber=DROP), "choices.0.phoneNumber"),
    _al(
        "DIAL_PHONE phoneNumber: max 20 characters",
        _choice("dial_phone", phoneNumber="1" * 21),
        "choices.0.phoneNumber",
    ),
    _al("SHOW_LOCATION latitude (documented error)", _choice("show_location", latitude=DROP), "choices.0.latitude"),
    _al("SHOW_LOCATION longitude | Required", _choice("show_location", longitude=DROP), "choices.0.longitude"),
    _al("latitude: Number between -90 and 90", _choice("show_location", latitude=90.5), "choices.0.latitude"),
    _al("longitude: Number between -180 and 180", _choice("show_location", longitude=-180.5), "choices.0.longitude"),
    _al("latitude: Number (not a boolean)", _choice("show_location", latitude=True), "choices.0.latitude"),
    _al(
        "latitude: (6 decimal precision) - more decimals are rounded",
        _choice("show_location", latitude=37.77491234, longitude=-122.41941256),
        wire=_choice("show_location", latitude=37.774912, longitude=-122.419413),
    ),
    _al("latitude: Number (an integer stays an integer)", _choice("show_location", latitude=37, longitude=-122)),
    _al("SHOW_LOCATION label | Optional", _choice("show_location", label=DROP)),
    _al("REQUEST_LOCATION example", _choice("request_location")),
    _al("CREATE_CALENDAR_EVENT example", _choice("create_calendar_event")),
    *[
        _al(f"startTime: ISO 8601 date string ({example})", _choice("create_calendar_event", startTime=example))
        for example in ("2030-03-03T15:00:00.000+01:00", "2030-03-03T15:00:00Z", "2030-03-03T15:00:00-05:00")
    ],
    _al("startTime: ISO 8601 (basic format)", _choice("create_calendar_event", startTime="20300303T150000Z")),
    _al(
        "startTime: ISO 8601 (no time zone is not forbidden)",
        _choice("create_calendar_event", startTime="2030-03-03T15:00:00"),
    ),
    _al(
        "endTime: same format as startTime (end before start is not forbidden)",
        _choice("create_calendar_event", endTime="2030-03-03T14:00:00.000+01:00"),
    ),
    _al(
        "startTime: ISO 8601 date string (not one)",
        _choice("create_calendar_event", startTime="March 3rd"),
        "choices.0.startTime",
    ),
    _al(
        "endTime: ISO 8601 date string (no such month)",
        _choice("create_calendar_event", endTime="2030-13-03T15:00:00Z"),
        "choices.0.endTime",
    ),
    _al(
        "CREATE_CALENDAR_EVENT endTime | Required", _choice("create_calendar_event", endTime=DROP), "choices.0.endTime"
    ),
    _al(
        "eventTitle: Event title (max 100 characters)",
        _choice("create_calendar_event", eventTitle="e" * 101),
        "choices.0.eventTitle",
    ),
    _al("eventTitle | Required", _choice("create_calendar_event", eventTitle=DROP), "choices.0.eventTitle"),
    _al(
        "description: Event description (max 500 characters)",
        _choice("create_calendar_event", description="d" * 501),
        "choices.0.description",
    ),
    _al("description | Optional", _choice("create_calendar_event", description=DROP)),
]

RULES: list[Rule] = [*TELESIGN, *AERIALINK]
