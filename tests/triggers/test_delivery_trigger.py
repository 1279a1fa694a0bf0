"""MessageDeliveryTrigger: serialization, outcomes, its own timeout, and one batched query per poll."""

from __future__ import annotations

import asyncio
import importlib
import time
from datetime import datetime, timezone

from sqlalchemy import event

from airflow_provider_messaging import config
from airflow_provider_messaging.models.status import ChannelEvent, DeliveryState
from airflow_provider_messaging.store import MessageStore
from airflow_provider_messaging.triggers.delivery import DeliveryPoller, MessageDeliveryTrigger
from tests.support.store_helpers import complete_send, record_delivery


def _send(store: MessageStore, message_id: str, channels=("rcs", "sms")) -> None:
    store.reserve_send(idempotency_key=f"k-{message_id}", vendor="telesign", recipient="15558675309", channels=channels)
    complete_send(store, f"k-{message_id}", message_id)


def _deliver(store: MessageStore, message_id: str, channel: str = "rcs", state=DeliveryState.DELIVERED) -> None:
    event_ = ChannelEvent(channel, state, "3000", "Delivered", None, datetime.now(timezone.utc))
    record_delivery(store, vendor="telesign", message_id=message_id, events=[event_], raw_body="{}")


async def _first_event(trigger: MessageDeliveryTrigger, timeout: float = 10):
    generator = trigger.run()
    try:
        return (await asyncio.wait_for(generator.__anext__(), timeout)).payload
    finally:
        await generator.aclose()


def test_serialize_round_trip() -> None:
    trigger = MessageDeliveryTrigger(
        message_ids=["A", "B"],
        criteria={
            "success_states": ["DELIVERED"],
            "match": "any",
            "min_delivered_ratio": 0.5,
            "fail_on_fallback": True,
        },
        poll_interval=1.5,
        timeout_at=1234.5,
        store_url="sqlite:////tmp/x.db",
    )
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["message_ids"] == ["A", "B"] and kwargs["timeout_at"] == 1234.5
    # every argument is JSON-able (the triggerer stores them)
    import json

    json.dumps(kwargs)


def test_fires_success_and_failure(store: MessageStore) -> None:
    _send(store, "OK")
    _send(store, "BAD")
    _deliver(store, "OK")
    _deliver(store, "BAD", "rcs", DeliveryState.FAILED)
    _deliver(store, "BAD", "sms", DeliveryState.FAILED)

    ok = asyncio.run(_first_event(MessageDeliveryTrigger(["OK"], poll_interval=0.05, store_url=store.url)))
    assert ok["status"] == "success" and ok["messages"][0]["delivered_channel"] == "rcs"
    bad = asyncio.run(_first_event(MessageDeliveryTrigger(["BAD"], poll_interval=0.05, store_url=store.url)))
    assert bad["status"] == "failed"
    assert "rcs: FAILED" in bad["reason"] and "sms: FAILED" in bad["reason"]


def test_enforces_its_own_timeout(store: MessageStore) -> None:
    _send(store, "SLOW")
    started = time.monotonic()
    payload = asyncio.run(
        _first_event(
            MessageDeliveryTrigger(["SLOW"], poll_interval=0.05, timeout_at=time.time() + 0.5, store_url=store.url)
        )
    )
    assert payload["status"] == "timeout"
    assert payload["messages"][0]["state"] == "QUEUED"  # last known state travels with the event
    assert time.monotonic() - started < 5


def test_many_triggers_share_one_query_per_poll(store: MessageStore) -> None:
    """200 waiting triggers: store reads stay at one per interval, not one per trigger."""
    ids = [f"M{i:03d}" for i in range(200)]
    for message_id in ids:
        _send(store, message_id, channels=("sms",))
    shared = config.get_store(store.url)
    statements: list[str] = []

    @event.listens_for(shared.read_engine, "before_cursor_execute")
    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "messaging_messages" in statement and statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    async def scenario() -> list[dict]:
        triggers = [MessageDeliveryTrigger([m], poll_interval=0.1, store_url=store.url) for m in ids]
        tasks = [asyncio.create_task(_first_event(t)) for t in triggers]
        poller = DeliveryPoller.for_loop(store.url, 0.1)
        deadline = time.monotonic() + 30
        while poller.queries < 5 and time.monotonic() < deadline:  # five polls while all 200 wait
            await asyncio.sleep(0.02)
        polls, reads = poller.queries, len(statements)
        assert polls >= 5
        assert reads - polls in (0, 1), (reads, polls)  # one read per poll (a sixth may be in flight)
        for message_id in ids:
            await asyncio.to_thread(_deliver, store, message_id, "sms")
        results = await asyncio.gather(*tasks)
        assert poller.queries == len(statements)
        return results

    results = asyncio.run(scenario())
    assert all(r["status"] == "success" for r in results)
    assert len(statements) < 60  # 200 triggers polled over ~2 s would have been ~4,000 queries
    event.remove(shared.read_engine, "before_cursor_execute", count)
    config.reset_stores()


def test_trigger_kwargs_carry_no_database_url(monkeypatch) -> None:
    """The store URL is a secret: triggers resolve it on the triggerer from its own configuration."""
    import json

    from airflow_provider_messaging.triggers.inbound import InboundMessageTrigger

    monkeypatch.setenv("AIRFLOW__MESSAGING__STORE_URL", "postgresql://messaging:s3cret-pw@db.internal/messaging")
    for trigger in (MessageDeliveryTrigger(["A"], campaign_ids=["c"]), InboundMessageTrigger(sender="15558675309")):
        _, kwargs = trigger.serialize()
        assert kwargs["store_url"] is None
        assert "s3cret-pw" not in json.dumps(kwargs)


def test_campaign_waits_with_one_aggregate_query_per_poll(store: MessageStore) -> None:
    from airflow_provider_messaging.sending import SendLedger, SendRequest

    for campaign in ("spring", "autumn"):
        requests = [
            SendRequest(
                f"{campaign}/{i}",
                "telesign",
                f"155500000{i}",
                ("sms",),
                send=lambda c=campaign, i=i: f"{c}-{i}",
                campaign_id=campaign,
            )
            for i in range(4)
        ]
        list(SendLedger(store, lease_seconds=900).send_many(requests))

    async def scenario() -> list[dict]:
        criteria = {"min_delivered_ratio": 0.75}
        waits = [
            asyncio.ensure_future(
                _first_event(MessageDeliveryTrigger([], criteria, 0.05, store_url=store.url, campaign_ids=[c]))
            )
            for c in ("spring", "autumn")
        ]
        # the triggers share this loop's poller: once its fourth poll started, three whole polls over both
        # campaigns were evaluated (and any wake-up they caused has run)
        poller = DeliveryPoller.for_loop(store.url, 0.05)
        deadline = time.monotonic() + 30
        while poller.queries < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert poller.queries >= 4
        assert not any(w.done() for w in waits)  # 0 of 4 delivered: three polls, both still wait
        for i in range(3):
            _deliver(store, f"spring-{i}", "sms")
        _deliver(store, "spring-3", "sms", DeliveryState.FAILED)
        for i in range(4):
            _deliver(store, f"autumn-{i}", "sms", DeliveryState.FAILED if i < 2 else DeliveryState.DELIVERED)
        events = await asyncio.wait_for(asyncio.gather(*waits), 10)
        return list(events)

    spring, autumn = asyncio.run(scenario())
    assert spring["status"] == "success" and spring["campaigns"] == [
        {"campaign_id": "spring", "sent": 4, "by_state": {"DELIVERED": 3, "FAILED": 1}}
    ]
    assert autumn["status"] == "failed" and "2 of 4 campaign messages" in autumn["reason"]


def test_one_aggregate_query_per_poll_for_many_campaigns(store: MessageStore) -> None:
    from airflow_provider_messaging.models.waiting import DeliveryCriteria
    from airflow_provider_messaging.sending import SendLedger, SendRequest

    campaigns = [f"c{n}" for n in range(5)]
    requests = [
        SendRequest(
            f"{c}/{i}", "telesign", f"15550000{n}{i}", ("sms",), send=lambda c=c, i=i: f"{c}-{i}", campaign_id=c
        )
        for n, c in enumerate(campaigns)
        for i in range(50)
    ]
    list(SendLedger(store, lease_seconds=900).send_many(requests))

    async def one_poll() -> int:
        poller = DeliveryPoller(store.url, 60)
        for campaign in campaigns:
            poller.register([], DeliveryCriteria(), [campaign])
        assert poller._task is not None
        poller._task.cancel()  # poll by hand, once
        reader = await poller.store()
        statements = {"n": 0}

        def count(_connection: object, _cursor: object, statement: str, *_: object) -> None:
            statements["n"] += statement.lstrip().upper().startswith("SELECT")

        event.listen(reader.read_engine, "before_cursor_execute", count)
        try:
            await poller.poll_once()
        finally:
            event.remove(reader.read_engine, "before_cursor_execute", count)
        return statements["n"]

    assert asyncio.run(one_poll()) == 1  # 5 campaigns x 50 messages: one query, not one per trigger or message
