"""Where a send's policy comes from: ``policy=`` on the operator, over the connection, over the config.

Layers, most specific last (each replaces the fields it sets; ``windows`` merge per message type):

1. the empty policy (send everything at once);
2. ``[messaging] sending_policy`` (JSON; env ``AIRFLOW__MESSAGING__SENDING_POLICY``);
3. the connection extra ``sending_policy`` (a JSON object, or JSON text);
4. the operator's ``policy=`` (a :class:`SendingPolicy` or a dict).

This is the one part of :mod:`airflow_provider_messaging.policies` that reads settings; the decision
itself (:mod:`.decision`) takes the resolved policy as an argument.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_messaging.exceptions import FieldError, PayloadValidationError
from airflow_provider_messaging.models.base import validate
from airflow_provider_messaging.policies.model import SendingPolicy

#: Name of the ``[messaging]`` option and of the connection extra.
SETTING = "sending_policy"


def _layer(value: Any, where: str) -> SendingPolicy | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, SendingPolicy):
        return value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise PayloadValidationError(
                where, [FieldError("", f"is not valid JSON ({exc.msg} at {exc.pos})")]
            ) from None
    if not isinstance(value, dict):
        raise PayloadValidationError(
            where, [FieldError("", "must be a JSON object (see the README, Sending policies)")]
        )
    return validate(SendingPolicy, value, name=where)


def combine(
    *,
    config_value: Any = None,
    extras: Mapping[str, Any] | None = None,
    policy: SendingPolicy | Mapping[str, Any] | None = None,
) -> SendingPolicy:
    """The effective policy from the three layers (pure: the values are given)."""
    result = SendingPolicy()
    layers = (
        (config_value, f"[messaging] {SETTING}"),
        ((extras or {}).get(SETTING), f"connection extra {SETTING!r}"),
        (dict(policy) if isinstance(policy, Mapping) else policy, "policy"),
    )
    for value, where in layers:
        layer = _layer(value, where)
        if layer is not None:
            result = result.merged(layer)
    return result


def resolve_policy(
    policy: SendingPolicy | Mapping[str, Any] | None = None,
    *,
    extras: Mapping[str, Any] | None = None,
    get_option: Callable[[str], str] | None = None,
) -> SendingPolicy:
    """The policy of one send: ``policy`` over the connection ``extras`` over ``[messaging]``.

    ``extras`` are the connection's extras (e.g. ``hook.settings.extras``); ``get_option`` reads the
    ``[messaging]`` section (default :func:`airflow_provider_messaging.config.get_option`).
    """
    if get_option is None:
        from airflow_provider_messaging import config

        get_option = config.get_option
    return combine(config_value=get_option(SETTING), extras=extras, policy=policy)
