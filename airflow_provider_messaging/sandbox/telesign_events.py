"""Telesign delivery callbacks for each scenario, in the shape of the vendor-doc callback example.

One callback per event; ``channel_status`` is cumulative (one one-key object per channel tried, in
cascade order). As in the doc example, the entry changed by the event carries the same
``2020-05-04 22:07:01:226``-shaped ``updated_on`` as ``status``; older entries keep the
``2020-05-04 22:05:00.325`` shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .config import SandboxConfig
from .formats import telesign_channel_time, telesign_reference_id, telesign_status_time, utcnow
from .scenarios import Outcome

DESCRIPTIONS = {
    3000: "Delivered",
    3001: "Message in progress",
    3002: "Delivered to Gateway",
    3003: "Delivery error",
    3005: "Message is read",
    3055: "Delivery channel not supported by the end user's device",
    3056: "Message failed to deliver in specified fallback time",
}


@dataclass(frozen=True)
class Step:
    at: float  # seconds after the send when the event happens
    channel: int  # index into the cascade
    code: int


@dataclass(frozen=True)
class PlannedCallback:
    send_after: float  # seconds after the send
    happened_after: float  # when the event itself happened (differs only for out-of-order sends)
    code: int
    payload: dict[str, Any]


def steps_for(outcome: Outcome, channels: list[tuple[str, float | None]], config: SandboxConfig) -> list[Step]:
    base = config.base_delay_s
    last = len(channels) - 1
    if outcome in (Outcome.DELIVERED, Outcome.RATE_LIMITED):
        return [Step(base, 0, 3000)]
    if outcome is Outcome.READ:
        return [Step(base, 0, 3000), Step(2 * base, 0, 3005)]
    if outcome is Outcome.OUT_OF_ORDER:
        return [Step(base / 2, 0, 3002), Step(base, 0, 3000)]
    if outcome is Outcome.FALLBACK_TIMEOUT:
        fallback = channels[0][1] or config.default_fallback_time_s
        timeout_at = max(base, config.scaled(fallback))
        if last == 0:  # no next channel to cascade to: the only channel ends in a delivery error
            return [Step(timeout_at, 0, 3003)]
        return [Step(timeout_at, 0, 3056), Step(timeout_at + base, 1, 3000)]
    if outcome is Outcome.UNSUPPORTED:
        return [Step(base, 0, 3055)] + ([Step(2 * base, 1, 3000)] if last > 0 else [])
    if outcome is Outcome.ALL_FAIL:
        return [Step(base * (i + 1), i, 3003) for i in range(len(channels))]
    return []  # SILENT (and REJECTED, which never gets here)


def plan(
    reference_id: str,
    external_id: str | None,
    channels: list[tuple[str, float | None]],
    outcome: Outcome,
    config: SandboxConfig,
    now: datetime | None = None,
) -> list[PlannedCallback]:
    """Callbacks to send, in sending order."""
    now = now or utcnow()
    channel_refs = [telesign_reference_id() for _ in channels]
    entries: dict[int, tuple[int, datetime]] = {}  # channel index -> (code, when), insertion = cascade order
    planned: list[PlannedCallback] = []
    for step in steps_for(outcome, channels, config):
        when = now + timedelta(seconds=step.at)
        entries[step.channel] = (step.code, when)
        name = channels[step.channel][0]
        channel_status = []
        for index, (code, at) in entries.items():
            stamp = telesign_status_time(at) if index == step.channel else telesign_channel_time(at)
            channel_status.append(
                {
                    channels[index][0]: {
                        "code": code,
                        "description": DESCRIPTIONS[code],
                        "reference_id": channel_refs[index],
                        "updated_on": stamp,
                    }
                }
            )
        payload = {
            "reference_id": reference_id,
            "external_id": external_id if external_id is not None else "null",  # vendor quirk: a string
            "status": {
                "code": step.code,
                "description": DESCRIPTIONS[step.code],
                "last_channel": name,
                "updated_on": telesign_status_time(when),
            },
            "channel_status": channel_status,
        }
        planned.append(PlannedCallback(step.at, step.at, step.code, payload))
    if outcome is Outcome.OUT_OF_ORDER and len(planned) == 2:
        earlier, final = planned
        gap = max(0.02, config.base_delay_s / 4)
        start = final.happened_after
        planned = [
            PlannedCallback(start + i * gap, cb.happened_after, cb.code, cb.payload)
            for i, cb in enumerate((final, earlier, final, earlier))
        ]
    return planned


def initial_status(reference_id: str, external_id: str | None) -> dict[str, Any]:
    """What ``GET /v1/messaging/{id}`` answers before the first event."""
    return {
        "reference_id": reference_id,
        "external_id": external_id,
        "status": {"code": 3001, "description": DESCRIPTIONS[3001], "updated_on": telesign_status_time(utcnow())},
        "channel_status": [],
    }
