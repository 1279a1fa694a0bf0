"""InboundMessageEventTrigger driven directly (``run()`` in an event loop) against a store filled by the
sandbox -> receiver path: filters, one event per message, restarts and two concurrent instances."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import pytest

from airflow_provider_messaging.triggers.inbound_events import InboundMessageEventTrigger
from tests.support.store_helpers import watcher_cursor
from tests.support.waiting import wait_for


async def _collect(trigger: InboundMessageEventTrigger, want: int, timeout: float) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in trigger.run():
            events.append(event.payload)
            if len(events) >= want:
                return

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(consume(), timeout)
    return events


def collect(trigger: InboundMessageEventTrigger, want: int = 99, timeout: float = 2.0) -> list[dict[str, Any]]:
    """Run the trigger until ``want`` events or ``timeout`` seconds; its events' payloads."""
    return asyncio.run(_collect(trigger, want, timeout))


def trigger(store_url: str, **filters: Any) -> InboundMessageEventTrigger:
    filters.setdefault("watcher", "w")
    return InboundMessageEventTrigger(poll_interval=0.1, store_url=store_url, **filters)


def inject(stack: Any, n_before: int | None = None, **payload: Any) -> int:
    store = stack.store
    before = store.count("inbound")
    payload.setdefault("vendor", "aerialink")
    payload.setdefault("channel", "rcs")
    payload.setdefault("phone_number", "15559876541")
    stack.inject_inbound(**payload)
    wait_for(lambda: store.count("inbound") != before, 10, "the receiver to store the inbound message")
    return store.find_inbound(limit=1000)[-1].id


def test_serialize_roundtrip_has_no_store_url_by_default() -> None:
    original = InboundMessageEventTrigger(watcher="yes", vendor="aerialink", text_pattern="^yes")
    classpath, kwargs = original.serialize()
    assert classpath == "airflow_provider_messaging.triggers.inbound_events.InboundMessageEventTrigger"
    assert kwargs["store_url"] is None  # no database URL in the serialized DAG
    assert InboundMessageEventTrigger(**kwargs).serialize() == (classpath, kwargs)
    with pytest.raises(ValueError):
        InboundMessageEventTrigger(watcher="")
    with pytest.raises(re.error):  # a bad pattern fails at DAG parse time
        InboundMessageEventTrigger(watcher="x", text_pattern="(")


def test_filters_and_one_event_per_matching_message(local_stack) -> None:
    url = local_stack.store.url
    inject(local_stack, text="yes before the watcher started")
    watcher = trigger(url, vendor="aerialink", channel="rcs", sender="+1 (555) 987-6541", text_pattern=r"^\s*yes\b")
    assert collect(watcher, timeout=0.5) == []  # "latest": the first poll only places the cursor
    wanted = [inject(local_stack, text="Yes please")]
    inject(local_stack, text="yes", vendor="telesign")  # other vendor
    inject(local_stack, text="yes", channel="sms")  # other channel
    inject(local_stack, text="yes", phone_number="15559876542")  # other sender
    inject(local_stack, text="no")  # other text
    wanted.append(inject(local_stack, text="YES!"))
    events = collect(watcher)
    assert [e["inbound_id"] for e in events] == wanted
    assert events[0]["inbound"]["text"] == "Yes please" and events[0]["watcher"] == "w"
    assert collect(watcher, timeout=0.5) == []  # nothing twice


def test_action_and_postback_filters(local_stack) -> None:
    url = local_stack.store.url
    stops, taps = trigger(url, watcher="stops", action="stop"), trigger(url, watcher="taps", postback="yes_response")
    collect(stops, timeout=0.3), collect(taps, timeout=0.3)
    stop = inject(local_stack, text="STOP", vendor="telesign")
    tap = inject(local_stack, postback="yes_response", text="Yes")
    inject(local_stack, postback="no_response", text="No")
    assert [e["inbound_id"] for e in collect(stops)] == [stop]
    assert [e["inbound_id"] for e in collect(taps)] == [tap]


def test_restart_continues_after_the_claimed_messages(local_stack) -> None:
    """A new trigger instance (what a triggerer restart creates from the stored kwargs) fires only for
    messages it has not claimed, even with start="earliest"."""
    url = local_stack.store.url
    first = [inject(local_stack, text=f"yes {i}") for i in range(3)]
    assert [e["inbound_id"] for e in collect(trigger(url, start="earliest"))] == first
    restarted = trigger(url, start="earliest")
    assert collect(restarted, timeout=0.6) == []
    later = inject(local_stack, text="yes again")
    assert [e["inbound_id"] for e in collect(restarted)] == [later]
    assert watcher_cursor(local_stack.store, "w")["events"] == 4
    # a different watcher has its own cursor
    assert len(collect(trigger(url, watcher="other", start="earliest"))) == 4


def test_two_instances_of_one_watcher_never_fire_twice(local_stack) -> None:
    """The same watcher briefly running on two triggerers (HA handover): each message fires once in total."""
    url = local_stack.store.url
    ids = [inject(local_stack, text=f"yes {i}") for i in range(6)]

    async def both() -> list[list[dict[str, Any]]]:
        a, b = trigger(url, start="earliest"), trigger(url, start="earliest")
        return list(await asyncio.gather(_collect(a, 99, 2.0), _collect(b, 99, 2.0)))

    got = asyncio.run(both())
    assert sorted(e["inbound_id"] for events in got for e in events) == ids
