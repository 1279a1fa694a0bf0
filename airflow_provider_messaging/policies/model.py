"""The sending policy as configuration: local-time windows and frequency caps per message type.

A :class:`SendingPolicy` is plain data (a pydantic model): it travels as operator arguments and trigger
kwargs through :meth:`SendingPolicy.to_dict` / :meth:`SendingPolicy.from_dict`, and is read from the
connection's extras and the ``[messaging]`` configuration (:mod:`.settings`). The decision made with it
lives in :mod:`.decision`.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from airflow_provider_messaging.models.base import rule_error, validate

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: The key of :attr:`SendingPolicy.windows` that applies to every message type without its own window.
ANY_TYPE = "*"
#: Message types exempt from catch-all windows and caps unless a rule names them.
DEFAULT_EXEMPT = ("OTP", "TRANSACTIONAL")

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_SPAN_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_WINDOW = re.compile(r"^\s*(\d{1,2}:\d{2}(?::\d{2})?)\s*-\s*(\d{1,2}:\d{2}(?::\d{2})?)\s*$")


def message_type_key(value: str) -> str:
    """The canonical spelling of a message type or category: stripped, upper-case (``mkt`` -> ``MKT``)."""
    return value.strip().upper()


def parse_span(value: Any) -> Any:
    """``"90m"``, ``"24h"``, ``"7d"``, ``"2w"`` -> timedelta; anything else is left to pydantic
    (seconds as a number, ISO-8601 durations such as ``"P1D"``, a timedelta)."""
    if isinstance(value, str):
        match = _SPAN.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _SPAN_SECONDS[match.group(2).lower()])
    return value


def format_span(value: timedelta) -> str:
    """The shortest of ``"2w"``, ``"7d"``, ``"24h"``, ``"90m"``, ``"30s"`` that is exact."""
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m"):
        size = _SPAN_SECONDS[unit]
        if seconds and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _format_time(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


class _PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SendWindow(_PolicyModel):
    """Local hours in which a message may be sent: ``start`` <= local time < ``end``.

    ``end`` before ``start`` spans midnight (``22:00``-``06:00``). ``days`` limits the days on which the
    window opens (the day it starts); ``None`` means every day. Shorthand: ``"08:00-21:00"``.
    """

    start: time
    end: time
    days: tuple[Weekday, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            match = _WINDOW.match(value)
            if not match:
                raise rule_error("must be 'HH:MM-HH:MM' (e.g. '08:00-21:00') or an object with start and end")
            return {"start": match.group(1), "end": match.group(2)}
        return value

    @field_validator("start", "end")
    @classmethod
    def _naive(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise rule_error("must be a local time of day without a time zone (the recipient's zone applies)")
        return value

    @field_validator("days", mode="before")
    @classmethod
    def _day_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            return tuple(v.strip().lower()[:3] if isinstance(v, str) else v for v in value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> SendWindow:
        if self.start == self.end:
            raise rule_error("must not start and end at the same time (an always-open type needs no window)")
        if self.days is not None and not self.days:
            raise rule_error("'days' must name at least one day, or be left out for every day")
        return self

    @field_serializer("start", "end")
    def _dump_time(self, value: time) -> str:
        return _format_time(value)

    def __str__(self) -> str:
        days = f" on {','.join(self.days)}" if self.days else ""
        return f"{_format_time(self.start)}-{_format_time(self.end)}{days}"


class FrequencyCap(_PolicyModel):
    """At most ``limit`` messages to one recipient in any ``period`` (a rolling window).

    Counted across vendors unless ``per_vendor``. ``message_types`` limits the cap to those types (and
    counts only them); without it the cap covers every type not exempt. ``per_message_type`` counts
    only earlier messages of the same type as the one being sent.
    """

    limit: int = Field(ge=1)
    period: timedelta
    per_vendor: bool = False
    per_message_type: bool = False
    message_types: tuple[str, ...] | None = None

    @field_validator("period", mode="before")
    @classmethod
    def _span(cls, value: Any) -> Any:
        return parse_span(value)

    @field_validator("period")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise rule_error("must be a positive duration such as '24h' or '7d'")
        return value

    @field_validator("message_types", mode="before")
    @classmethod
    def _types(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            return tuple(message_type_key(v) if isinstance(v, str) else v for v in value) or None
        return value

    @field_serializer("period")
    def _dump_period(self, value: timedelta) -> str:
        return format_span(value)

    def applies_to(self, message_type: str, exempt: tuple[str, ...]) -> bool:
        if self.message_types is not None:
            return message_type in self.message_types
        return message_type not in exempt

    def __str__(self) -> str:
        scope = [] if self.message_types is None else [f"{'/'.join(self.message_types)} messages"]
        if self.per_vendor:
            scope.append("per vendor")
        if self.per_message_type:
            scope.append("per message type")
        return f"{self.limit} per {format_span(self.period)}" + (f" ({', '.join(scope)})" if scope else "")


class SendingPolicy(_PolicyModel):
    """When a message may go out, per message type (Telesign ``ARN``/``MKT``/``OTP`` or your own category).

    - ``windows``: local-time window per message type; the key ``"*"`` covers every type without its own
      window, except the ``exempt`` ones.
    - ``caps``: frequency caps; a cap without ``message_types`` covers every type except the exempt ones.
    - ``exempt``: types the catch-all window and caps leave alone (default ``OTP`` and ``TRANSACTIONAL``).
      A window or cap that names an exempt type still applies to it.
    - ``fallback_timezone``: zone used when the recipient's number gives none (not a phone number, or
      no zone data).
    - ``max_wait``: skip instead of waiting longer than this for a window (``None``: no limit).

    The empty policy (the default) sends everything at once.
    """

    windows: dict[str, SendWindow] = Field(default_factory=dict)
    caps: tuple[FrequencyCap, ...] = ()
    exempt: tuple[str, ...] = DEFAULT_EXEMPT
    fallback_timezone: str = "UTC"
    max_wait: timedelta | None = None

    @field_validator("windows", mode="before")
    @classmethod
    def _window_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {message_type_key(k) if isinstance(k, str) else k: v for k, v in value.items()}
        return value

    @field_validator("exempt", mode="before")
    @classmethod
    def _exempt_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            return tuple(message_type_key(v) if isinstance(v, str) else v for v in value)
        return value

    @field_validator("fallback_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise rule_error("must be an IANA time zone name such as 'UTC' or 'America/New_York'") from None
        return value

    @field_validator("max_wait", mode="before")
    @classmethod
    def _wait_span(cls, value: Any) -> Any:
        return parse_span(value)

    @field_serializer("max_wait")
    def _dump_wait(self, value: timedelta | None) -> str | None:
        return None if value is None else format_span(value)

    # -------------------------------------------------------------- construction and serialization
    @classmethod
    def from_dict(cls, data: Any) -> SendingPolicy:
        """Validate a dict (or JSON text, or a policy); raise PayloadValidationError naming each bad field."""
        return validate(cls, data, name="SendingPolicy")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict that :meth:`from_dict` reads back to an equal policy."""
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def marketing_hours(cls, start: str = "08:00", end: str = "21:00", **fields: Any) -> SendingPolicy:
        """The TCPA-style rule: ``MKT`` messages only between ``start`` and ``end`` in the recipient's zone."""
        return cls.from_dict({"windows": {"MKT": {"start": start, "end": end}}, **fields})

    def merged(self, override: SendingPolicy | dict[str, Any] | None) -> SendingPolicy:
        """This policy with the fields ``override`` sets replaced; ``windows`` are merged per message type."""
        if override is None:
            return self
        # the fields the override sets: those given when it was built (pydantic's fields_set)
        given = SendingPolicy.from_dict(override).model_dump(mode="json", exclude_unset=True)
        data = self.to_dict()
        if "windows" in given:
            given["windows"] = {**data.get("windows", {}), **given["windows"]}
        return SendingPolicy.from_dict({**data, **given})

    # -------------------------------------------------------------- lookups used by the decision
    def window_for(self, message_type: str) -> SendWindow | None:
        """The window that governs ``message_type``, or ``None`` when it may go out at any hour."""
        key = message_type_key(message_type)
        if key in self.windows:
            return self.windows[key]
        if key in self.exempt:
            return None
        return self.windows.get(ANY_TYPE)

    def caps_for(self, message_type: str) -> list[FrequencyCap]:
        key = message_type_key(message_type)
        return [cap for cap in self.caps if cap.applies_to(key, self.exempt)]

    @property
    def is_empty(self) -> bool:
        """True when the policy never delays or skips anything."""
        return not self.windows and not self.caps
