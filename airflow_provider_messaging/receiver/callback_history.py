"""What the stored callbacks of a message imply when the store has no send for it.

The vendor may report on a message this store never sent (another system sent it, or the callback
beat the send record). The callbacks are kept raw; this replays them through the receiver's parsers
and the monotonic rule, for ``airflow-messaging status``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.models.status import ChannelAttempt, summarize, supersedes
from airflow_provider_messaging.vendors import find_vendor


def implied_status(message_id: str, callbacks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``{message_id, vendor, send_recorded: False, state, complete, channels, callbacks}`` from raw callbacks.

    ``complete`` is judged on the channels the callbacks name (the cascade of the send is unknown).
    """
    attempts: dict[str, ChannelAttempt] = {}
    order: list[str] = []
    vendors = sorted({c["vendor"] for c in callbacks})
    for callback in callbacks:
        if callback.get("kind", "status") != "status":
            continue
        spec = find_vendor(callback["vendor"])
        if spec is None:  # a vendor no longer registered: its callbacks cannot be read
            continue
        try:
            update = spec.load_adapter().parse_delivery(json.loads(callback["body"]))
        except (ValueError, PayloadValidationError):  # kept raw although unreadable now: skip it
            continue
        for event in update.events:
            old = attempts.get(event.channel)
            if event.channel not in order:
                order.append(event.channel)
            if old is None or supersedes(event.state, event.occurred_at, old.state, old.updated_on):
                attempts[event.channel] = ChannelAttempt(
                    event.channel, event.state, event.code, event.description, None, event.occurred_at
                )
    summary = summarize(order, attempts)
    return {
        "message_id": message_id,
        "vendor": ", ".join(vendors),
        "send_recorded": False,
        "state": summary.state.value,
        "complete": summary.complete,
        "channels": [
            {
                "channel": channel,
                "state": attempts[channel].state.value,
                "code": attempts[channel].code,
                "description": attempts[channel].description,
            }
            for channel in order
        ],
        "callbacks": list(callbacks),
    }


def describe(found: dict[str, Any]) -> list[str]:
    """Text lines of :func:`implied_status` for ``airflow-messaging status``."""
    lines = [
        f"{found['vendor']} message {found['message_id']}: no send recorded in this store",
        f"  implied by its callbacks: state {found['state']}{' (complete)' if found['complete'] else ''}",
    ]
    for channel in found["channels"]:
        detail = " ".join(str(v) for v in (channel["code"], channel["description"]) if v)
        lines.append(f"  channel {channel['channel']}: {channel['state']} {detail}".rstrip())
    lines.append(f"  callbacks: {len(found['callbacks'])}")
    lines += [f"    {c['received_at']}  {c['body'][:120]}" for c in found["callbacks"]]
    return lines
