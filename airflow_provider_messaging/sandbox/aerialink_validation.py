"""Validation of ``POST /v5/messages`` bodies, written from the Aerialink v5 RCS docs.

Every problem is reported (not just the first) as ``{field, description, message}`` with the vendor's
dotted paths (``cards.1.choices.0.url``). Messages reuse the vendor's wording where the docs show it
(``'x' is required``, ``When choice type is OPEN_URL, 'url' is required``); the others follow the
same style. Top-level fields get a human label as ``description`` ("Message Text"), nested ones
their own name, as in the doc examples.
"""

from __future__ import annotations

import re
from typing import Any

from .urls import is_complete_phone, is_iso8601, is_phone_shaped, is_uri, is_url

MESSAGE_TYPES = ("RCS_TEXT", "RCS_MEDIA", "RCS_CARD", "RCS_CAROUSEL")
CHOICE_TYPES = ("REPLY", "OPEN_URL", "DIAL_PHONE", "SHOW_LOCATION", "REQUEST_LOCATION", "CREATE_CALENDAR_EVENT")
HEIGHTS = ("SHORT", "MEDIUM", "TALL")
APPLICATIONS = ("BROWSER", "WEBVIEW")
VIEW_MODES = ("FULL", "HALF", "TALL")
MAX_CARD_CHOICES = 4
MAX_CARDS = 10

Path = tuple[str | int, ...]
FieldError = dict[str, str]


def _label(name: str) -> str:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return spaced[:1].upper() + spaced[1:]


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, path: Path, message: str) -> None:
        leaf = str(path[-1])
        description = _label(leaf) if len(path) == 1 else leaf
        self.items.append({"field": ".".join(str(p) for p in path), "description": description, "message": message})


def validate_message(data: dict[str, Any]) -> list[FieldError]:
    errors = _Errors()
    message_type = data.get("messageType")
    if message_type is None:
        errors.add(("messageType",), "'messageType' is required")
    elif message_type not in MESSAGE_TYPES:
        errors.add(("messageType",), f"'messageType' must be one of [{', '.join(MESSAGE_TYPES)}]")
    source = data.get("source")
    # "RCS is not available for phone numbers. The source field must be a valid RCS sender (e.g., "CONVEY")."
    if _string(errors, data, ("source",), required=True) and is_phone_shaped(source):
        errors.add(("source",), "'source' must be a valid RCS sender (e.g. \"CONVEY\"), not a phone number")
    # "The recipient's address or phone number": a phone-shaped value must be a complete number.
    destination = data.get("destination")
    if _string(errors, data, ("destination",), required=True):
        if is_phone_shaped(destination) and not is_complete_phone(destination):
            errors.add(("destination",), "'destination' must be a valid phone number")
        elif not is_phone_shaped(destination) and any(c.isspace() for c in str(destination)):
            errors.add(("destination",), "'destination' must be a valid address or phone number")

    if message_type == "RCS_TEXT":
        _string(errors, data, ("messageText",), required=True)
        _choices(errors, data, (), max_items=None)
    elif message_type == "RCS_MEDIA":
        _url(errors, data, ("mediaUrl",), required=True)
        _url(errors, data, ("thumbnailUrl",), required=True)
        _string(errors, data, ("filenameOverride",), required=True)  # no length documented for RCS_MEDIA
        _choices(errors, data, (), max_items=None)
    elif message_type == "RCS_CARD":
        _card(errors, data, (), carousel=False)
    elif message_type == "RCS_CAROUSEL":
        cards = data.get("cards")
        if cards is None:
            errors.add(("cards",), "'cards' is required")
        elif not isinstance(cards, list):
            errors.add(("cards",), "'cards' must be an array")
        elif not cards:
            errors.add(("cards",), "'cards' must contain at least 1 items")
        else:
            if len(cards) > MAX_CARDS:
                errors.add(("cards",), f"'cards' must contain less than or equal to {MAX_CARDS} items")
            for i, card in enumerate(cards):
                if isinstance(card, dict):
                    _card(errors, card, ("cards", i), carousel=True)
                else:
                    errors.add(("cards", i), f"'{i}' must be of type object")

    if "callbackURL" in data:
        _url(errors, data, ("callbackURL",), required=False)
    sms_allowed = message_type == "RCS_TEXT"
    _failover(errors, data, "smsFailover", allowed=sms_allowed or message_type not in MESSAGE_TYPES, mms=False)
    _failover(errors, data, "mmsFailover", allowed=not sms_allowed, mms=True)
    return errors.items


def _value(obj: dict[str, Any], path: Path) -> Any:
    return obj.get(str(path[-1]))


def _string(errors: _Errors, obj: dict[str, Any], path: Path, *, required: bool, max_len: int | None = None) -> bool:
    """True when a usable string is present."""
    name, value = path[-1], _value(obj, path)
    if value is None:
        if required:
            errors.add(path, f"'{name}' is required")
        return False
    if not isinstance(value, str):
        errors.add(path, f"'{name}' must be a string")
        return False
    if not value:
        errors.add(path, f"'{name}' is not allowed to be empty")
        return False
    if max_len is not None and len(value) > max_len:
        errors.add(path, f"'{name}' length must be less than or equal to {max_len} characters long")
    return True


def _uri(errors: _Errors, obj: dict[str, Any], path: Path, *, required: bool, max_len: int | None = None) -> None:
    """A field the docs call a "valid URI": any absolute URI."""
    if _string(errors, obj, path, required=required, max_len=max_len) and not is_uri(_value(obj, path)):
        errors.add(path, f"'{path[-1]}' must be a valid uri")


def _url(errors: _Errors, obj: dict[str, Any], path: Path, *, required: bool) -> None:
    """A field the docs call a URL (or URL and URI in two places: the stricter reading): scheme://host..."""
    if _string(errors, obj, path, required=required) and not is_url(_value(obj, path)):
        errors.add(path, f"'{path[-1]}' must be a valid url")


def _enum(errors: _Errors, obj: dict[str, Any], path: Path, allowed: tuple[str, ...], required: bool) -> None:
    value = _value(obj, path)
    if value is None:
        if required:
            errors.add(path, f"'{path[-1]}' is required")
    elif value not in allowed:
        errors.add(path, f"'{path[-1]}' must be one of [{', '.join(allowed)}]")


def _card(errors: _Errors, card: dict[str, Any], at: Path, *, carousel: bool) -> None:
    """Card fields of RCS_CARD (at the top level) or of one carousel card (``cards.N``)."""
    _string(errors, card, (*at, "title"), required=True, max_len=100)
    _string(errors, card, (*at, "description"), required=True, max_len=500)
    _enum(errors, card, (*at, "height"), HEIGHTS, required=True)
    _url(errors, card, (*at, "mediaUrl"), required=True)
    # Carousel cards: the RCS_CAROUSEL table says thumbnailUrl, filenameOverride and choices are required,
    # the Carousel Cards table says optional; the stricter reading. Only carousel cards document max 100.
    _url(errors, card, (*at, "thumbnailUrl"), required=carousel)
    _string(errors, card, (*at, "filenameOverride"), required=carousel, max_len=100 if carousel else None)
    if carousel and card.get("choices") is None:
        errors.add((*at, "choices"), "'choices' is required")
    _choices(errors, card, at, max_items=MAX_CARD_CHOICES)


def _choices(errors: _Errors, obj: dict[str, Any], at: Path, max_items: int | None) -> None:
    path = (*at, "choices")
    choices = obj.get("choices")
    if choices is None:
        return
    if not isinstance(choices, list):
        errors.add(path, "'choices' must be an array")
        return
    if max_items is not None and len(choices) > max_items:
        errors.add(path, f"'choices' must contain less than or equal to {max_items} items")
    for i, choice in enumerate(choices):
        if isinstance(choice, dict):
            _choice(errors, choice, (*path, i), on_card=max_items is not None)
        else:
            errors.add((*path, i), f"'{i}' must be of type object")


def _choice(errors: _Errors, choice: dict[str, Any], at: Path, *, on_card: bool) -> None:
    kind = choice.get("type")
    _enum(errors, choice, (*at, "type"), CHOICE_TYPES, required=True)
    _string(errors, choice, (*at, "title"), required=True, max_len=25)
    _string(errors, choice, (*at, "postbackData"), required=True, max_len=2048)
    if on_card and kind != "CREATE_CALENDAR_EVENT":
        # the RCS_CARD / RCS_CAROUSEL tables list a choice description; the examples leave it out: optional
        _string(errors, choice, (*at, "description"), required=False)

    def needed(name: str) -> bool:
        if choice.get(name) is None:
            errors.add((*at, name), f"When choice type is {kind}, '{name}' is required")
            return False
        return True

    if kind == "OPEN_URL":
        if needed("url"):
            _uri(errors, choice, (*at, "url"), required=True, max_len=2048)
        if needed("application"):
            _enum(errors, choice, (*at, "application"), APPLICATIONS, required=True)
        if needed("webviewViewMode"):
            _enum(errors, choice, (*at, "webviewViewMode"), VIEW_MODES, required=True)
    elif kind == "DIAL_PHONE":
        if needed("phoneNumber"):
            _string(errors, choice, (*at, "phoneNumber"), required=True, max_len=20)
    elif kind == "SHOW_LOCATION":
        for name, limit in (("latitude", 90), ("longitude", 180)):
            if needed(name):
                _number(errors, choice, (*at, name), limit)
        _string(errors, choice, (*at, "label"), required=False)
    elif kind == "CREATE_CALENDAR_EVENT":
        for name in ("startTime", "endTime"):
            if needed(name) and not is_iso8601(choice[name]):
                errors.add((*at, name), f"'{name}' must be in ISO 8601 date format")
        if needed("eventTitle"):
            _string(errors, choice, (*at, "eventTitle"), required=True, max_len=100)
        _string(errors, choice, (*at, "description"), required=False, max_len=500)


def _number(errors: _Errors, obj: dict[str, Any], path: Path, limit: int) -> None:
    value, name = _value(obj, path), path[-1]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.add(path, f"'{name}' must be a number")
    elif not -limit <= value <= limit:
        errors.add(path, f"'{name}' must be between -{limit} and {limit}")


def _failover(errors: _Errors, data: dict[str, Any], key: str, *, allowed: bool, mms: bool) -> None:
    failover = data.get(key)
    if failover is None:
        return
    if not allowed:
        errors.add((key,), f"'{key}' is not allowed for messageType {data.get('messageType')}")
        return
    if not isinstance(failover, dict):
        errors.add((key,), f"'{key}' must be of type object")
        return
    enabled = failover.get("enabled")
    if enabled is None:
        errors.add((key, "enabled"), "'enabled' is required")
    elif not isinstance(enabled, bool):
        errors.add((key, "enabled"), "'enabled' must be a boolean")
    required = enabled is True  # the other fields are "required if enabled"
    _string(errors, failover, (key, "failoverSource"), required=required, max_len=50)
    _string(errors, failover, (key, "fallbackText"), required=required, max_len=160)
    if mms:
        _url(errors, failover, (key, "mediaUrl"), required=required)
        _string(errors, failover, (key, "subject"), required=required, max_len=100)


def failover_channel(data: dict[str, Any]) -> tuple[str, str] | None:
    """``(channel, failoverSource)`` when the accepted message has failover enabled."""
    for key, channel in (("smsFailover", "SMS"), ("mmsFailover", "MMS")):
        failover = data.get(key)
        if isinstance(failover, dict) and failover.get("enabled") is True:
            return channel, str(failover.get("failoverSource", ""))
    return None
