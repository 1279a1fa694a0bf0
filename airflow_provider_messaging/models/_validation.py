"""Shared validation helpers: vendor-style error paths, wire dumps, timestamps, phone and URL checks.

Pure functions; no I/O and no Airflow imports.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin, overload

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PlainValidator,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from airflow_provider_messaging.exceptions import FieldError, PayloadValidationError

M = TypeVar("M", bound=BaseModel)

# Error types raised by our own validators (see ``rule_error`` / ``rules_error``).
_FIELD_RULE = "field_rule"
_MODEL_RULES = "model_rules"

# How a discriminated union is named in "When <label> is <tag>, 'x' is required".
# None: never prefix (the vendor writes plain "'mediaUrl' is required" for message types).
_TAG_LABELS: dict[str, str | None] = {"type": "choice type", "template": "template", "messageType": None}

# Friendlier wording for count limits on well-known lists: leaf name -> (too_short, too_long).
_COUNT_WORDS: dict[str, tuple[str, str]] = {
    "cards": ("must have at least {n} card", "must have at most {n} cards per carousel"),
    "channels": ("must have at least {n} channel", "must have at most {n} channels"),
}

_EXTRA_WORDS: dict[str, str] = {
    "smsFailover": "'smsFailover' is only supported on RCS_TEXT messages (use 'mmsFailover')",
    "mmsFailover": "'mmsFailover' is not supported on RCS_TEXT messages (use 'smsFailover')",
}


#: Context flag of :func:`to_wire`: merge ``extra_fields`` onto the body instead of keeping them apart.
_WIRE = "wire"
EXTRA_FIELDS = "extra_fields"


class VendorModel(BaseModel):
    """Base of request models: vendor field names as aliases, unknown fields rejected (catches typos).

    Unknown keys are refused because the vendors silently ignore a misspelt optional field
    (``fallback_tme``), so a typo would change the message without any error. A field the vendor added
    after these models were written goes in ``extra_fields`` instead: it is checked only for being JSON
    and for not shadowing a documented field, and :func:`to_wire` merges it onto the body at that level.
    """

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    extra_fields: dict[str, JsonValue] | None = Field(
        default=None,
        exclude=True,
        description="Vendor fields these models do not know yet, sent as given at this level of the body.",
    )

    @model_validator(mode="after")
    def _extra_fields_do_not_shadow(self) -> Any:
        if self.extra_fields:
            known = {n for n, f in type(self).model_fields.items() if n != EXTRA_FIELDS} | {
                f.alias for f in type(self).model_fields.values() if f.alias
            }
            clashes = sorted(k for k in self.extra_fields if k in known)
            if clashes:
                raise rules_error(
                    [
                        (
                            f"{EXTRA_FIELDS}.{k}",
                            f"'{k}' is a documented field: set it directly, not in '{EXTRA_FIELDS}'",
                        )
                        for k in clashes
                    ]
                )
        return self

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        data = handler(self)
        if not self.extra_fields or not isinstance(data, dict):
            return data
        context = info.context if isinstance(info.context, dict) else {}
        if context.get(_WIRE):
            return {**data, **self.extra_fields}
        return {**data, EXTRA_FIELDS: dict(self.extra_fields)}

    @classmethod
    def parse(cls: type[M], data: Any) -> M:
        """Validate ``data`` (dict, JSON text or instance); raise :class:`PayloadValidationError`."""
        return validate(cls, data)

    def to_wire(self) -> dict[str, Any]:
        """The JSON body the vendor expects (see :func:`to_wire`)."""
        return to_wire(self)

    def wire_bytes(self) -> bytes:
        """The exact bytes sent to the vendor (see :func:`wire_bytes`)."""
        return wire_bytes(self)


class LenientModel(BaseModel):
    """Base of callback/response models: never reject a payload for a field we did not expect."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    @classmethod
    def parse(cls: type[M], data: Any) -> M:
        """Validate ``data`` (dict, JSON text or instance); raise :class:`PayloadValidationError`."""
        return validate(cls, data)


# --------------------------------------------------------------------------------------------
# validate / to_wire
# --------------------------------------------------------------------------------------------


@overload
def validate(model_or_adapter: type[M], data: Any, *, name: str | None = None) -> M: ...
@overload
def validate(model_or_adapter: TypeAdapter[Any], data: Any, *, name: str | None = None) -> Any: ...
def validate(model_or_adapter: type[BaseModel] | TypeAdapter[Any], data: Any, *, name: str | None = None) -> Any:
    """Validate ``data`` against a model class or a ``TypeAdapter``.

    ``data`` may be a dict, JSON ``str``/``bytes`` or an already built instance (returned as is).
    Raises :class:`PayloadValidationError` listing every bad field with its vendor-style path;
    ``name`` names the payload in that error (default: the model or union member names).
    """
    if isinstance(model_or_adapter, TypeAdapter):
        # TypeAdapter keeps the validated type only privately; without it paths fall back to heuristics.
        root: Any = getattr(model_or_adapter, "_type", None)
        name = name or getattr(_unwrap(root), "__name__", None) or _union_name(root) or "payload"
        try:
            if isinstance(data, str | bytes | bytearray):
                return model_or_adapter.validate_json(data)
            return model_or_adapter.validate_python(data)
        except ValidationError as exc:
            raise to_payload_error(root, exc, name) from None
    if isinstance(data, model_or_adapter):
        return data
    try:
        if isinstance(data, str | bytes | bytearray):
            return model_or_adapter.model_validate_json(data)
        return model_or_adapter.model_validate(data)
    except ValidationError as exc:
        raise to_payload_error(model_or_adapter, exc, name) from None


def to_wire(model: BaseModel) -> dict[str, Any]:
    """The vendor JSON for ``model``: aliases, JSON types, ``None`` fields left out, ``extra_fields`` merged.

    Keys come in the models' field order, which follows the vendor docs' examples.
    """
    return model.model_dump(mode="json", by_alias=True, exclude_none=True, context={_WIRE: True})


def wire_bytes(model: BaseModel) -> bytes:
    """THE serializer of request bodies: compact UTF-8 JSON of :func:`to_wire` (non-ASCII kept as is).

    The hooks send exactly these bytes and the 10 KB check measures them, so the two cannot disagree.
    """
    return json.dumps(to_wire(model), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def to_payload_error(root: Any, exc: ValidationError, name: str | None = None) -> PayloadValidationError:
    """Turn a pydantic ``ValidationError`` into a :class:`PayloadValidationError` with vendor paths.

    ``root`` is the validated type (model class or annotated union), used to drop union tags from paths.
    """
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False):
        errors.extend(_field_errors(root, err))
    model_name = name or getattr(root, "__name__", None) or exc.title
    return PayloadValidationError(model_name, errors)


# --------------------------------------------------------------------------------------------
# custom rule errors
# --------------------------------------------------------------------------------------------


def rule_error(rule: str) -> PydanticCustomError:
    """Error for the field being validated; ``rule`` completes "'<field>' ..." (e.g. "must be ...")."""
    return PydanticCustomError(_FIELD_RULE, "{rule}", {"rule": rule})


def rules_error(problems: Sequence[tuple[str, str]]) -> PydanticCustomError:
    """Several model-level problems at once: ``(relative dotted path, full message)`` pairs."""
    summary = "; ".join(f"{p}: {m}" if p else m for p, m in problems)
    return PydanticCustomError(_MODEL_RULES, "{summary}", {"summary": summary, "problems": list(problems)})


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
            errors.extend(_reraisable(e) for e in exc.errors(include_url=False))
            result = None
        if errors:
            raise ValidationError.from_exception_data("list", errors)
        return result

    return WrapValidator(check)


def _reraisable(err: Any) -> InitErrorDetails:
    ctx = err.get("ctx") or {}
    custom = PydanticCustomError(err["type"], str(err["msg"]), ctx)
    return {"type": custom, "loc": tuple(err["loc"]), "input": err.get("input")}


# --------------------------------------------------------------------------------------------
# error path and message translation
# --------------------------------------------------------------------------------------------


@dataclass
class _Tag:
    """The innermost discriminated union crossed on an error path."""

    key: str  # discriminator as on the wire, e.g. "type"
    value: str  # the tag, e.g. "OPEN_URL"
    members: list[type[BaseModel]]
    depth: int  # number of path segments before the tag


@dataclass
class _Walk:
    path: list[str | int]
    tag: _Tag | None
    end: Any  # the type at the end of the path (None when unknown)


def _field_errors(root: Any, err: Any) -> list[FieldError]:
    walk = _walk(root, tuple(err["loc"]))
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == _MODEL_RULES:
        out = []
        for rel, message in ctx.get("problems", []):
            parts: list[str | int] = [int(p) if p.isdigit() else p for p in rel.split(".")] if rel else []
            out.append(FieldError(_join([*walk.path, *parts]), message))
        return out
    path = walk.path
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        # ctx names the discriminator like "'message_type' | 'messageType'": keep the wire name
        key = str(ctx.get("discriminator", "")).split("|")[-1].strip(" '\"") or "type"
        path = [*path, key]
    return [FieldError(_join(path), _message(kind, err, ctx, path, walk))]


def _message(kind: str, err: Any, ctx: dict[str, Any], path: list[str | int], walk: _Walk) -> str:
    leaf = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
    if kind == _FIELD_RULE:
        return f"'{leaf}' {ctx['rule']}" if leaf else str(ctx["rule"])
    if kind == "missing":
        tag = walk.tag
        if tag and _TAG_LABELS.get(tag.key, tag.key) and not _common(tag.members, path[tag.depth :]):
            return f"When {_TAG_LABELS.get(tag.key, tag.key)} is {tag.value}, '{leaf}' is required"
        return f"'{leaf}' is required"
    if kind == "string_too_long":
        return f"'{leaf}' must be at most {ctx['max_length']} characters"
    if kind == "string_too_short":
        n = ctx["min_length"]
        return f"'{leaf}' must not be empty" if n == 1 else f"'{leaf}' must be at least {n} characters"
    if kind in ("too_long", "too_short") and isinstance(err.get("input"), str):
        n = ctx["max_length"] if kind == "too_long" else ctx["min_length"]
        return f"'{leaf}' must be at {'most' if kind == 'too_long' else 'least'} {n} characters"
    if kind in ("too_long", "too_short"):
        n = ctx["max_length"] if kind == "too_long" else ctx["min_length"]
        short, long_ = _COUNT_WORDS.get(leaf, ("must have at least {n} item(s)", "must have at most {n} items"))
        return f"'{leaf}' " + (long_ if kind == "too_long" else short).format(n=n)
    if kind == "literal_error":
        return f"'{leaf}' must be {ctx['expected']} (got {err['input']!r})"
    if kind == "union_tag_invalid":
        return f"'{leaf}' must be one of {ctx['expected_tags']} (got {ctx['tag']!r})"
    if kind == "union_tag_not_found":
        tags = _tags_of(walk.end, leaf)
        allowed = f" (one of {', '.join(repr(t) for t in tags)})" if tags else ""
        return f"'{leaf}' is required{allowed}"
    if kind == "extra_forbidden":
        return _EXTRA_WORDS.get(
            leaf, f"unknown field '{leaf}' (a field the vendor added after these models: put it in '{EXTRA_FIELDS}')"
        )
    msg = str(err["msg"])
    return f"'{leaf}': {msg}" if leaf else msg


def _join(path: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in path)


def _walk(root: Any, loc: tuple[str | int, ...]) -> _Walk:
    """Map a pydantic ``loc`` to the vendor path, dropping union tags and validator names."""
    path: list[str | int] = []
    tag: _Tag | None = None
    tp: Any = root
    for seg in loc:
        tp = _unwrap(tp)
        members = _union_members(tp)
        if members is not None:
            member = _member_for_tag(members, seg)
            if member is not None:
                if getattr(member, "union_tag", None) != seg:  # a catch-all member names no tag value
                    tag = _Tag(_discriminator(members, seg), str(seg), members, len(path))
                tp = member
                continue
            if isinstance(seg, str):  # untagged union: pydantic names the member type; drop it
                tp = None
                continue
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(seg, str):
            name, annotation = _model_field(tp, seg)
            path.append(name)
            tp = annotation
            continue
        origin = get_origin(tp)
        if isinstance(seg, int) and origin in (list, tuple, set, frozenset, Sequence):
            path.append(seg)
            args = get_args(tp)
            tp = args[0] if args else None
            continue
        if origin is dict and isinstance(seg, str):
            path.append(seg)
            args = get_args(tp)
            tp = args[1] if len(args) == 2 else None
            continue
        # Unknown territory: keep data keys, drop pydantic's schema names such as "function-after[...]".
        if isinstance(seg, str) and ("[" in seg or seg.startswith(("function-", "tagged-union"))):
            continue
        path.append(seg)
        tp = None
    return _Walk(path, tag, _unwrap(tp))


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
            continue
        if origin is Union or origin is types.UnionType:
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def _union_members(tp: Any) -> list[Any] | None:
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return [_unwrap(a) for a in get_args(tp) if a is not type(None)]
    return None


def _union_name(tp: Any) -> str | None:
    members = _union_members(_unwrap(tp))
    return " | ".join(getattr(m, "__name__", str(m)) for m in members) if members else None


def _literal_values(annotation: Any) -> tuple[Any, ...]:
    annotation = _unwrap(annotation)
    return get_args(annotation) if get_origin(annotation) is Literal else ()


def _member_for_tag(members: list[Any], seg: str | int) -> type[BaseModel] | None:
    for m in members:
        if isinstance(m, type) and issubclass(m, BaseModel):
            if getattr(m, "union_tag", None) == seg:
                return m
            for f in m.model_fields.values():
                if seg in _literal_values(f.annotation):
                    return m
    return None


def _discriminator(members: list[Any], seg: str | int) -> str:
    for m in members:
        if isinstance(m, type) and issubclass(m, BaseModel):
            for name, f in m.model_fields.items():
                if seg in _literal_values(f.annotation):
                    return f.alias or name
    return "type"


def _tags_of(tp: Any, key: str) -> list[Any]:
    members = _union_members(_unwrap(tp)) or []
    tags: list[Any] = []
    for m in members:
        if isinstance(m, type) and issubclass(m, BaseModel):
            for name, f in m.model_fields.items():
                if key in (name, f.alias):
                    tags.extend(_literal_values(f.annotation))
    return tags


def _model_field(model: type[BaseModel], seg: str) -> tuple[str, Any]:
    for name, f in model.model_fields.items():
        if seg in (name, f.alias):
            return f.alias or name, f.annotation
    return seg, None


def _common(members: list[type[BaseModel]], rel: Sequence[str | int]) -> bool:
    """Whether the relative path exists in every member of a union (then no "When type is X")."""
    for m in members:
        tp: Any = m
        for seg in rel:
            tp = _unwrap(tp)
            if isinstance(seg, int):
                args = get_args(tp)
                tp = args[0] if args else None
            elif isinstance(tp, type) and issubclass(tp, BaseModel):
                if not any(seg in (n, f.alias) for n, f in tp.model_fields.items()):
                    return False
                tp = _model_field(tp, seg)[1]
            else:
                return False
    return True


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
# phone numbers and URLs
# --------------------------------------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_MX_LEGACY_MOBILE = re.compile(r"521\d{10}")


def is_possible_phone(number: str) -> bool:
    """Whether ``number`` (digits with country code, '+' optional) is a possible phone number."""
    digits = _PHONE_SEPARATORS.sub("", number)
    if not re.fullmatch(r"\+?\d{6,15}", digits):
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


def _recipient(value: str) -> str:
    if not is_possible_phone(value):
        raise rule_error("must be a possible phone number with country code, digits only (e.g. 15558675309)")
    return _PHONE_SEPARATORS.sub("", value).lstrip("+")


def _phone_kept(value: str) -> str:
    if not is_possible_phone(value):
        raise rule_error("must be a possible phone number with country code (e.g. 18003334444)")
    return value


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


#: A recipient number, normalised to bare digits with country code ('+', spaces and dashes removed).
RecipientNumber = Annotated[str, AfterValidator(_recipient)]
#: A phone number checked for plausibility but sent exactly as given.
PhoneNumber = Annotated[str, AfterValidator(_phone_kept)]

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
