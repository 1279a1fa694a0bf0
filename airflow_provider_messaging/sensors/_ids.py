"""Turn what a DAG author passes as ``message_id`` into a list of vendor message ids."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from typing import Any


def message_ids_from(value: Any, *, logical: bool = False) -> list[str]:
    """Accept an id, an operator's XCom record, a list of either, or their rendered string form.

    Records without a message id (recipients skipped for an opt-out, failed sends) are left out. With
    ``logical``, a failover send's record gives its ``logical_id`` (every vendor it tried) instead.
    """
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{":
            try:
                return message_ids_from(json.loads(text), logical=logical)
            except ValueError:
                return message_ids_from(ast.literal_eval(text), logical=logical)
        return [text] if text else []
    if isinstance(value, dict):
        message_id = value.get("message_id")
        if logical and message_id and value.get("logical_id"):
            return [str(value["logical_id"])]
        return [str(message_id)] if message_id else []
    if isinstance(value, Iterable):  # lists, tuples, and Airflow's lazy XCom sequence of a mapped task
        return [m for item in value for m in message_ids_from(item, logical=logical)]
    raise TypeError(f"message_id must be an id, a send record or a list of them, not {type(value).__name__}")


def campaign_ids_from(value: Any) -> list[str]:
    """The campaign ids of campaign handles (a handle, a list of them from mapped chunks, or their string form)."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text[:1] not in "[{":
            return []
        try:
            return campaign_ids_from(json.loads(text))
        except ValueError:
            return campaign_ids_from(ast.literal_eval(text))
    if isinstance(value, dict):
        campaign_id = value.get("campaign_id")
        return [str(campaign_id)] if campaign_id and "message_id" not in value else []
    if isinstance(value, Iterable):
        return list(dict.fromkeys(c for item in value for c in campaign_ids_from(item)))
    return []
