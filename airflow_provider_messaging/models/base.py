"""The base of every vendor model: strict requests, lenient callbacks, one validator and one serializer.

* :class:`VendorModel` (requests: unknown fields refused) and :class:`LenientModel` (callbacks and responses).
* :func:`validate`: dict, JSON text or instance -> model, or a
  :class:`~airflow_provider_messaging.exceptions.PayloadValidationError` naming every bad field by its
  vendor path and rule.
* :func:`wire_bytes`: THE serializer of request bodies; the hooks send these bytes and the size checks
  measure them. :func:`to_wire` is the same body as a dict.
* :func:`rule_error` / :func:`rules_error`: how a model's own validators state a rule.

Pure functions; no I/O and no Airflow imports.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar, overload

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from airflow_provider_messaging.models._errors import (
    EXTRA_FIELDS,
    FIELD_RULE,
    MODEL_RULES,
    to_payload_error,
    union_name,
    unwrap,
)

__all__ = [
    "EXTRA_FIELDS",
    "LenientModel",
    "VendorModel",
    "rule_error",
    "rules_error",
    "to_wire",
    "validate",
    "wire_bytes",
]

M = TypeVar("M", bound=BaseModel)

#: Context flag of :func:`to_wire`: merge ``extra_fields`` onto the body instead of keeping them apart.
_WIRE = "wire"


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
        name = name or getattr(unwrap(root), "__name__", None) or union_name(root) or "payload"
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

    The hooks send exactly these bytes and the size checks (Telesign's 10 KB) measure them, so the two
    cannot disagree.
    """
    return json.dumps(to_wire(model), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def rule_error(rule: str) -> PydanticCustomError:
    """Error for the field being validated; ``rule`` completes "'<field>' ..." (e.g. "must be ...")."""
    return PydanticCustomError(FIELD_RULE, "{rule}", {"rule": rule})


def rules_error(problems: Sequence[tuple[str, str]]) -> PydanticCustomError:
    """Several model-level problems at once: ``(relative dotted path, full message)`` pairs."""
    summary = "; ".join(f"{p}: {m}" if p else m for p, m in problems)
    return PydanticCustomError(MODEL_RULES, "{summary}", {"summary": summary, "problems": list(problems)})
