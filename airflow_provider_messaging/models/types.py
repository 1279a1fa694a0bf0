"""Field types shared by the vendor models: phone numbers, URLs, numbers, timestamps, list caps.

:func:`normalize_recipient` is THE phone normaliser: the models' :data:`RecipientNumber` sends what it
returns, and the store, the opt-out checks and the reports key recipients by it, so a number is the same
recipient wherever it is written. Pure functions; ``phonenumbers`` loads on the first phone check.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, PlainValidator, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import InitErrorDetails

from airflow_provider_messaging.models._errors import reraisable
from airflow_provider_messaging.models.base import rule_error

# --------------------------------------------------------------------------------------------
# phone numbers
# --------------------------------------------------------------------------------------------

# Separators people write inside a number; a '+' is allowed once, in front (the country code marker).
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
# ASCII digits only: the vendors document numbers as "digits with country code" ("15558675309"), and
# str.isdigit()/\d also accept fullwidth, Arabic-Indic or superscript digits that no vendor takes.
_PHONE_DIGITS = re.compile(r"\+?[0-9]+")
_MX_LEGACY_MOBILE = re.compile(r"521[0-9]{10}")


def normalize_recipient(value: str | None) -> str:
    """The key of a recipient: bare ASCII digits for a number, else the id lower-cased.

    ``+1 (555) 867-5309`` -> ``15558675309``: spaces, dashes, dots, parentheses and ONE leading '+'
    are dropped. Anything else (``CONVEY``, an e-mail address, ``1+555...``, ``1-800-FLOWERS``,
    non-ASCII digits) is not a phone number and is kept as an id: stripped and lower-cased, never
    reduced to digits, so it cannot collide with a real number.
    """
    text = (value or "").strip()
    compact = _PHONE_SEPARATORS.sub("", text)
    if _PHONE_DIGITS.fullmatch(compact):
        return compact.removeprefix("+")
    return text.lower()


def is_possible_phone(number: str) -> bool:
    """Whether ``number`` (ASCII digits with country code, '+' optional) is a possible phone number."""
    digits = _PHONE_SEPARATORS.sub("", number)
    if not re.fullmatch(r"\+?[0-9]{6,15}", digits):
        return False
    bare = digits.lstrip("+")
    if _MX_LEGACY_MOBILE.fullmatch(bare):
        # Mexico dropped the mobile '1' in 2019 and libphonenumber now refuses "521 + 10 digits", but
        # the vendors do not document refusing it and many contact lists still hold it: check it as 52 + 10.
        bare = "52" + bare[3:]
    import phonenumbers  # libphonenumber's metadata loads on the first check, not at DAG parse time

    try:
        parsed = phonenumbers.parse(f"+{bare}", None)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_possible_number(parsed))


def recipient_number(value: str) -> str:
    """Validator of a recipient: a possible phone number, returned as :func:`normalize_recipient` digits."""
    if not is_possible_phone(value):
        raise rule_error("must be a possible phone number with country code, digits only (e.g. 15558675309)")
    return normalize_recipient(value)


def _phone_kept(value: str) -> str:
    if not is_possible_phone(value):
        raise rule_error("must be a possible phone number with country code (e.g. 18003334444)")
    return value


#: A recipient number, normalised to bare digits with country code ('+', spaces and dashes removed).
RecipientNumber = Annotated[str, AfterValidator(recipient_number)]
#: A phone number checked for plausibility but sent exactly as given.
PhoneNumber = Annotated[str, AfterValidator(_phone_kept)]

# --------------------------------------------------------------------------------------------
# numbers and lists
# --------------------------------------------------------------------------------------------


def _number(value: Any) -> int | float:
    # One clear error instead of pydantic's one per union member; a numeric string (a rendered Jinja
    # template) becomes the number it spells. Booleans are not numbers here (JSON true is not 1).
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise rule_error("must be a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value in (_INF, -_INF):
        raise rule_error("must be a number")
    return value


_INF = float("inf")
#: A JSON number, sent as given: an int stays an int (``37``, not ``37.0``).
Number = Annotated[int | float, PlainValidator(_number)]


def max_items(limit: int, what: str) -> WrapValidator:
    """Cap a list at ``limit`` items while still validating every item (``Field(max_length=)`` stops early).

    ``what`` ends the message: ``"'choices' must have at most 4 choices per card (got 5)"``.
    """

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        errors: list[InitErrorDetails] = []
        if isinstance(value, list) and len(value) > limit:
            rule = f"must have at most {limit} {what} (got {len(value)})"
            errors.append({"type": rule_error(rule), "loc": (), "input": value})
        try:
            result = handler(value)
        except ValidationError as exc:
            errors.extend(reraisable(e) for e in exc.errors(include_url=False))
            result = None
        if errors:
            raise ValidationError.from_exception_data("list", errors)
        return result

    return WrapValidator(check)


# --------------------------------------------------------------------------------------------
# timestamps
# --------------------------------------------------------------------------------------------

_TS = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.:,](?P<frac>\d{1,9}))?)?"
    r"\s*(?P<tz>Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_vendor_timestamp(value: str) -> datetime:
    """Parse a vendor timestamp into an aware UTC ``datetime``.

    Accepts ``2020-05-04 22:07:01:226`` (Telesign's colon before the milliseconds),
    ``2020-05-04 22:05:00.325``, ``2023-10-31T14:47:10.490130Z`` and ISO-8601 with offsets.
    A timestamp without zone is taken as UTC. Raises ``ValueError`` for anything else.
    """
    if not isinstance(value, str):
        raise ValueError(f"timestamp must be a string, got {type(value).__name__}")
    match = _TS.match(value.strip())
    if not match:
        raise ValueError(f"unrecognised timestamp: {value!r}")
    frac = (match["frac"] or "0")[:6].ljust(6, "0")
    tz = match["tz"]
    tzinfo = timezone.utc
    if tz and tz not in ("Z", "z", "UTC"):
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        tzinfo = timezone(offset if tz[0] == "+" else -offset)
    year, month, day = (int(p) for p in match["date"].split("-"))
    stamp = datetime(year, month, day, int(match["h"]), int(match["m"]), int(match["s"] or 0), int(frac), tzinfo=tzinfo)
    try:
        return stamp.astimezone(timezone.utc)
    except OverflowError:  # 9999-12-31T23:59:59-23:00, 0001-01-01 00:00:00+05:00: no such UTC time
        raise TimestampOutOfRange(f"timestamp out of range in UTC: {value!r}") from None


class TimestampOutOfRange(ValueError):
    """A well-formed timestamp whose UTC time a ``datetime`` cannot hold (year 0 or 10000)."""


def try_parse_timestamp(value: str | None) -> datetime | None:
    """Lenient variant for callbacks: ``None`` when missing or unparseable.

    A well-formed time outside the representable range still raises :class:`TimestampOutOfRange`:
    the receiver refuses such a callback (400) instead of storing a time it cannot hold.
    """
    if not value:
        return None
    try:
        return parse_vendor_timestamp(value)
    except TimestampOutOfRange:
        raise
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------------

# RFC 3986: a scheme, then only unreserved / reserved characters and %HH escapes (no spaces, no raw
# non-ASCII: percent-encode them). Checked by hand because pydantic's URL types re-serialise the value
# (adding a trailing '/') and accept only a few schemes; the string is sent exactly as given.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")
_AUTHORITY = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*://(?:[^/?#@]*@)?(\[[0-9A-Fa-f:.]+\]|[^/?#:\[\]@]+)(?::\d*)?(?:[/?#].*)?"
)


def absolute_uri(value: str) -> str:
    """Validator for fields the docs call a "valid URI": any absolute URI (``myapp://promo/42``, ``tel:...``)."""
    if not _URI.fullmatch(value):
        raise rule_error(
            "must be a valid absolute URI without spaces (e.g. https://example.com/info or myapp://promo/42)"
        )
    return value


def full_url(value: str) -> str:
    """Validator for fields the docs call a URL: a fully-qualified URL (scheme://host...), any scheme."""
    if not _URI.fullmatch(value) or not _AUTHORITY.fullmatch(value):
        raise rule_error("must be a fully-qualified URL without spaces (e.g. https://example.com/media.jpg)")
    return value


#: A fully-qualified URL (scheme and host), validated but kept exactly as given on the wire.
UrlStr = Annotated[str, AfterValidator(full_url)]
#: Any absolute URI (the docs' "must be valid URI"), kept exactly as given.
UriStr = Annotated[str, AfterValidator(absolute_uri)]
