"""Two receivers (two uvicorn servers, two MessageStore instances) on one PostgreSQL, hit concurrently."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import pytest
import requests

from airflow_provider_messaging.models.status import DeliveryState
from airflow_provider_messaging.receiver.app import create_app
from airflow_provider_messaging.store import MessageStore
from airflow_provider_messaging.store.schema import metadata
from tests.receiver.receiver_support import body_of, make_auth, signed_headers
from tests.support.store_helpers import complete_send
from tests.support.uvicorn_server import serve_app

MESSAGES = 25


def channel_callback(mid: str, channel: str, code: int, description: str, at: str) -> dict[str, Any]:
    """A callback that reports only one channel, so a lost update would lose that channel."""
    attempt = {"code": code, "description": description, "reference_id": f"{mid[:24]}{channel:>8}", "updated_on": at}
    return {
        "reference_id": mid,
        "external_id": None,
        "status": {"code": code, "description": description, "last_channel": channel, "updated_on": at},
        "channel_status": [{channel: attempt}],
    }


def callbacks_for(mid: str) -> list[bytes]:
    bodies = [
        channel_callback(mid, "rcs", 3002, "Sent", "2025-01-01 12:00:00.100"),
        channel_callback(
            mid, "rcs", 3056, "Message failed to deliver in specified fallback time", "2025-01-01 12:01:00:000"
        ),
        channel_callback(mid, "sms", 3002, "Sent", "2025-01-01 12:01:00.500"),
        channel_callback(mid, "sms", 3000, "Delivered", "2025-01-01 12:01:02:226"),
    ]
    raw = [body_of(b) for b in bodies]
    return raw + raw[1::2]  # the vendor retries two of them


@pytest.fixture
def two_receivers(postgres_url: str) -> Iterator[tuple[list[str], MessageStore]]:
    with ExitStack() as stack:
        stores = [MessageStore(postgres_url), MessageStore(postgres_url)]
        for s in stores:
            stack.callback(s.dispose)
        with stores[0].engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
        urls = [stack.enter_context(serve_app(create_app(s, make_auth()))) for s in stores]
        yield urls, stores[0]


def test_two_receivers_interleaved_callbacks_lose_nothing(two_receivers: tuple[list[str], MessageStore]) -> None:
    urls, store = two_receivers
    mids = [f"{i:032X}" for i in range(1, MESSAGES + 1)]
    for mid in mids:
        key = f"bulk/send/run/{mid}"
        assert store.reserve_send(
            idempotency_key=key, vendor="telesign", recipient="15558675309", channels=["rcs", "sms"]
        ).send
        complete_send(store, key, mid)

    jobs = [(mid, body) for mid in mids for body in callbacks_for(mid)]
    random.Random(7).shuffle(jobs)
    local = threading.local()

    def post(job: tuple[int, tuple[str, bytes]]) -> int:
        index, (_mid, body) = job
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        url = urls[index % 2] + "/telesign/status"  # interleave the two receivers
        return session.post(url, data=body, headers=signed_headers(body), timeout=60).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(post, enumerate(jobs)))

    assert codes == [200] * len(jobs)
    assert store.count("callbacks") == len(jobs)  # every raw callback kept, duplicates included
    assert store.count("attempts") == 2 * MESSAGES
    statuses = store.get_statuses(mids)
    assert len(statuses) == MESSAGES
    for mid, status in statuses.items():
        assert (status.state, status.complete, status.delivered_channel) == (DeliveryState.DELIVERED, True, "sms"), mid
        assert [(a.channel, a.state, a.code) for a in status.attempts] == [
            ("rcs", DeliveryState.EXPIRED, "3056"),
            ("sms", DeliveryState.DELIVERED, "3000"),
        ], mid
        assert len(store.callbacks_for(mid)) == 6


def test_two_receivers_concurrent_inbound_retries_and_stops(two_receivers: tuple[list[str], MessageStore]) -> None:
    """The same inbound body retried on both receivers at once is stored once; concurrent STOPs of one
    sender give one opt-out; no 5xx."""
    urls, store = two_receivers
    stops = []
    for i, keyword in enumerate(["stop", "end", "quit", "cancel", "unsubscribe", "arret"]):
        stops.append(
            {
                "reference_id": f"{i:032X}",
                "phone_number": "11234567890",
                "status": {"code": 1500, "description": "Delivered to customer", "updated_on": "2023-12-13T09:36:10Z"},
                "content": {"end_user_action": {"action": "stop", "keyword": keyword, "text": keyword.title()}},
                "sub_resource": "mo_rcs",
            }
        )
    bodies = [body_of(s) for s in stops]
    jobs = [b for b in bodies for _ in range(4)]  # every body delivered 4 times
    barrier = threading.Barrier(len(jobs))

    def post(job: tuple[int, bytes]) -> int:
        index, body = job
        with requests.Session() as session:
            barrier.wait(timeout=30)
            url = urls[index % 2] + "/telesign/inbound"
            return session.post(url, data=body, headers=signed_headers(body), timeout=60).status_code

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        codes = list(pool.map(post, enumerate(jobs)))

    assert codes == [200] * len(jobs)
    assert store.count("inbound") == len(bodies)
    assert store.count("callbacks") == len(bodies)
    assert store.count("opt_outs") == 1
    assert store.is_opted_out("telesign", "11234567890")
