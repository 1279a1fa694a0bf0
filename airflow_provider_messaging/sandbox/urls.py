"""Small value checks shared by the validators (written from the vendor docs, independent of our models)."""

from __future__ import annotations

import re
from datetime import datetime

_PHONE = re.compile(r"[1-9][0-9]{7,14}")
_SEPARATORS = re.compile(r"[\s\-().]")
# RFC 3986 characters: unreserved, reserved and %HH escapes (no spaces, no raw non-ASCII).
_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_ISO_EXTENDED = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)
_ISO_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(?:(\d{2})(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?:\d{2})?)?")
_PHONE_SHAPED = re.compile(r"\+?[0-9][0-9 \-().]*")


def is_uri(value: object) -> bool:
    """An absolute URI (``scheme:rest``) of RFC 3986 characters: the docs' "must be valid URI"."""
    if not isinstance(value, str) or ":" not in value:
        return False
    scheme, rest = value.split(":", 1)
    return bool(_SCHEME.fullmatch(scheme)) and bool(rest) and bool(_URI_CHARS.fullmatch(rest))


def is_url(value: object) -> bool:
    """A fully-qualified URL: an absolute URI with ``//`` and a host (any scheme)."""
    if not is_uri(value):
        return False
    assert isinstance(value, str)
    rest = value.split(":", 1)[1]
    if not rest.startswith("//"):
        return False
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    host = authority.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.find("]") > 1
    return bool(host.split(":", 1)[0])


def is_msisdn(value: object) -> bool:
    """Digits only, with the country code, 8-15 digits, no leading zero (E.164 without '+')."""
    return isinstance(value, str) and _PHONE.fullmatch(value) is not None


def is_phone_shaped(value: object) -> bool:
    """Digits with an optional '+' and separators: meant as a phone number, not an address or a sender name."""
    return isinstance(value, str) and _PHONE_SHAPED.fullmatch(value) is not None


def is_complete_phone(value: object) -> bool:
    """A phone number with country code, as a person writes it ('+', spaces, dashes and brackets allowed)."""
    return is_phone_shaped(value) and is_msisdn(_SEPARATORS.sub("", str(value)).lstrip("+"))


def is_iso8601(value: object) -> bool:
    """An ISO 8601 date and time, extended (``2030-03-03T15:00:00.000+01:00``) or basic (``20300303T150000Z``).

    The docs give only "ISO 8601 date string"; a time zone is not required.
    """
    if not isinstance(value, str):
        return False
    match = _ISO_EXTENDED.fullmatch(value) or _ISO_BASIC.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
    try:
        datetime(year, month, day, hour % 24, minute, second)
    except ValueError:
        return False
    return hour < 24 or (minute == 0 and second == 0)
