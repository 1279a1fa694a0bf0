"""Local-time windows: a recipient's time zones from the number, and the next time a window is open in all.

Pure: the clock is an argument. Time zones come from libphonenumber's geocoding data
(``phonenumbers.timezone``): a number tied to one region gets one zone (``+1 201`` -> New York), a
number that only names a country gets all of that country's zones (a Russian mobile: 16). With several
zones the window must be open in EVERY one of them (the most restrictive reading). DST is handled by
``zoneinfo``: a window edge in the spring-forward gap opens at the transition, an edge in the repeated
autumn hour is taken at its first occurrence.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_provider_messaging.models.types import normalize_recipient
from airflow_provider_messaging.policies.model import WEEKDAYS, SendWindow

#: How far ahead a window is looked for: two weeks covers any weekday rule in every zone.
HORIZON = timedelta(days=15)

Interval = tuple[datetime, datetime]


@lru_cache(maxsize=8192)
def _zones_of(digits: str) -> tuple[str, ...]:
    import phonenumbers
    from phonenumbers import timezone as number_zones

    try:
        number = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return ()
    names = number_zones.time_zones_for_number(number)
    return tuple(n for n in names if n != number_zones.UNKNOWN_TIMEZONE)


def recipient_time_zones(recipient: str, fallback: str = "UTC") -> tuple[ZoneInfo, ...]:
    """Time zones of a phone number (E.164, with or without ``+``); ``fallback`` when none is known."""
    digits = normalize_recipient(recipient)
    zones: list[ZoneInfo] = []
    if digits.isdigit():
        for name in _zones_of(digits):
            try:
                zones.append(ZoneInfo(name))
            except (ZoneInfoNotFoundError, ValueError):  # a zone the local tz database lacks
                continue
    return tuple(zones) or (ZoneInfo(fallback),)


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first instant at which the local clock in ``zone`` reads ``day at`` or later, in UTC."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone).astimezone(timezone.utc)  # fold=0: first occurrence, pre-gap offset
    if _wall(first, zone) == wall:
        return first
    # ``wall`` falls in a spring-forward gap: the clock jumps over it at the transition, which lies
    # between the two readings of the gap; find it to the second.
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(first.timestamp()) + 1
    low, high = min(low, high), max(low, high)
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, timezone.utc), zone) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, timezone.utc)


def open_intervals(window: SendWindow, zone: ZoneInfo, since: datetime, until: datetime) -> list[Interval]:
    """The UTC intervals in which ``window`` is open in ``zone`` and that overlap ``[since, until)``."""
    overnight = window.end <= window.start
    day = since.astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date()
    out: list[Interval] = []
    while day <= last:
        if window.days is None or WEEKDAYS[day.weekday()] in window.days:
            opens = local_to_utc(day, window.start, zone)
            closes = local_to_utc(day + timedelta(days=1) if overnight else day, window.end, zone)
            if opens < closes and closes > since and opens < until:
                out.append((opens, closes))
        day += timedelta(days=1)
    return out


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _first_common(window: SendWindow, zones: Sequence[ZoneInfo], now: datetime, until: datetime) -> Interval | None:
    common: list[Interval] | None = None
    for zone in zones:
        intervals = open_intervals(window, zone, now, until)
        common = intervals if common is None else _intersect(common, intervals)
        if not common:
            return None
    for start, end in common or []:
        if end > now:
            return start, end
    return None


def next_open(window: SendWindow, zones: Sequence[ZoneInfo], now: datetime) -> Interval | None:
    """The first interval, ending after ``now``, in which ``window`` is open in every zone; or ``None``
    when there is none within :data:`HORIZON` (e.g. zones too far apart for a short window)."""
    unique = list(dict.fromkeys(zones))  # keep order, drop duplicates
    # the next two days answer almost every case; look further only for weekday rules and the like
    return _first_common(window, unique, now, now + timedelta(days=2)) or _first_common(
        window, unique, now, now + HORIZON
    )
