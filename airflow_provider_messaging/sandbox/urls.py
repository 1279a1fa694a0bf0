"""Small value checks shared by the validators."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

_PHONE = re.compile(r"[1-9][0-9]{7,14}")


def is_url(value: object) -> bool:
    """An absolute http(s) URL with a host."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def is_msisdn(value: object) -> bool:
    """Digits only, with the country code, 8-15 digits, no leading zero (E.164 without '+')."""
    return isinstance(value, str) and _PHONE.fullmatch(value) is not None


def is_iso8601(value: object) -> bool:
    """A date-time with a time zone, e.g. ``2030-03-03T15:00:00.000+01:00`` or ``...Z``."""
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None
