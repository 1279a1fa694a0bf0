"""Translation of pydantic errors into vendor-style field errors (private to :mod:`.base`).

A pydantic ``loc`` becomes the path the vendor would name (``cards.1.choices.0.url``): union tags and
validator names are dropped, aliases are used, and the message says the rule ("'title' must be at most
25 characters"). Pure functions; no I/O.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from airflow_provider_messaging.exceptions import FieldError, PayloadValidationError

#: The field of :class:`~.base.VendorModel` that carries vendor fields the models do not know yet.
EXTRA_FIELDS = "extra_fields"

# Error types raised by our own validators (see ``base.rule_error`` / ``base.rules_error``).
FIELD_RULE = "field_rule"
MODEL_RULES = "model_rules"

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


def to_payload_error(root: Any, exc: ValidationError, name: str | None = None) -> PayloadValidationError:
    """Turn a pydantic ``ValidationError`` into a :class:`PayloadValidationError` with vendor paths.

    ``root`` is the validated type (model class or annotated union), used to drop union tags from paths.
    """
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False):
        errors.extend(_field_errors(root, err))
    model_name = name or getattr(root, "__name__", None) or exc.title
    return PayloadValidationError(model_name, errors)


def reraisable(err: Any) -> InitErrorDetails:
    ctx = err.get("ctx") or {}
    custom = PydanticCustomError(err["type"], str(err["msg"]), ctx)
    return {"type": custom, "loc": tuple(err["loc"]), "input": err.get("input")}


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
    if kind == MODEL_RULES:
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
    if kind == FIELD_RULE:
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
        tp = unwrap(tp)
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
    return _Walk(path, tag, unwrap(tp))


def unwrap(tp: Any) -> Any:
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
        return [unwrap(a) for a in get_args(tp) if a is not type(None)]
    return None


def union_name(tp: Any) -> str | None:
    members = _union_members(unwrap(tp))
    return " | ".join(getattr(m, "__name__", str(m)) for m in members) if members else None


def _literal_values(annotation: Any) -> tuple[Any, ...]:
    annotation = unwrap(annotation)
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
    members = _union_members(unwrap(tp)) or []
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
            tp = unwrap(tp)
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
