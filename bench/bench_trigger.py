"""Delivery trigger at scale: many waiting messages in one triggerer process.

Batched (this package: one shared query per poll interval) vs naive (one store query per trigger per
interval), same store, same process, same run. A second process completes messages at a fixed rate by
committing delivery callbacks, as the receiver would; the delay is trigger event time minus the commit
time (``completed_at``).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from airflow_provider_messaging.models.status import ChannelEvent, DeliveryState  # noqa: E402
from airflow_provider_messaging.store import DeliveryRecord, MessageStore  # noqa: E402


def _seed(url: str, count: int) -> list[str]:
    store = MessageStore(url)
    store.upgrade()
    ids = [f"BENCH{i:06d}" for i in range(count)]
    from sqlalchemy import insert

    from airflow_provider_messaging.store.schema import messages

    now = datetime.now(timezone.utc)
    rows = [
        {
            "vendor": "telesign",
            "message_id": m,
            "idempotency_key": f"bench/{m}",
            "recipient": "15558675301",
            "channels": ["sms"],
            "send_status": "ACCEPTED",
            "state": "QUEUED",
            "complete": False,
            "attempts": [],
            "created_at": now,
            "updated_at": now,
        }
        for m in ids
    ]
    with store.engine.begin() as connection:
        connection.execute(insert(messages), rows)
    store.dispose()
    return ids


def _complete(url: str, ids: list[str], rate: float, start_at: float) -> None:
    """Second process: commit one delivery callback per message at ``rate`` per second."""
    store = MessageStore(url)
    while time.time() < start_at:
        time.sleep(0.01)
    for index, message_id in enumerate(ids):
        due = start_at + index / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        event = ChannelEvent("sms", DeliveryState.DELIVERED, "3000", "Delivered", None, datetime.now(timezone.utc))
        store.record_deliveries([DeliveryRecord("telesign", message_id, (event,), "{}")])
    store.dispose()


def _batched(url: str, ids: list[str], interval: float, rate: float) -> dict[str, float]:
    from sqlalchemy import event as sa_event

    from airflow_provider_messaging import config
    from airflow_provider_messaging.triggers.delivery import DeliveryPoller, MessageDeliveryTrigger

    shared = config.get_store(url)
    queries = [0]

    @sa_event.listens_for(shared.read_engine, "before_cursor_execute")
    def _count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            queries[0] += 1

    start_at = time.time() + 3.0
    writer = multiprocessing.get_context("spawn").Process(target=_complete, args=(url, ids, rate, start_at))
    writer.start()

    async def one(trigger: MessageDeliveryTrigger) -> tuple[str, float]:
        async for event in trigger.run():
            return event.payload["message_ids"][0], time.time()
        raise AssertionError("no event")

    async def main() -> list[tuple[str, float]]:
        tasks = [
            asyncio.create_task(one(MessageDeliveryTrigger([m], poll_interval=interval, store_url=url))) for m in ids
        ]
        return await asyncio.gather(*tasks)

    cpu0, wall0 = time.process_time(), time.monotonic()
    fired = asyncio.run(main())
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    writer.join()
    completed = {s.message_id: s.completed_at for s in shared.get_statuses(ids).values()}
    delays = sorted(t - completed[m].timestamp() for m, t in fired if completed.get(m))
    polls = wall / interval
    del DeliveryPoller._instances  # type: ignore[attr-defined]
    DeliveryPoller._instances = __import__("weakref").WeakKeyDictionary()  # type: ignore[misc]
    config.reset_stores()
    return {
        "queries_per_interval": queries[0] / polls,
        "cpu_per_interval_ms": 1000 * cpu / polls,
        "p50_delay_s": statistics.median(delays),
        "p99_delay_s": delays[int(0.99 * (len(delays) - 1))],
        "fired": float(len(fired)),
    }


def _naive(url: str, ids: list[str], interval: float, seconds: float) -> dict[str, float]:
    """Baseline: every trigger reads its own message every interval (nothing completes meanwhile)."""
    store = MessageStore(url)

    async def one(message_id: str, stop: float) -> int:
        reads = 0
        while time.monotonic() < stop:
            await asyncio.to_thread(store.get_status, message_id)
            reads += 1
            await asyncio.sleep(interval)
        return reads

    async def main() -> int:
        stop = time.monotonic() + seconds
        return sum(await asyncio.gather(*(one(m, stop) for m in ids)))

    cpu0, wall0 = time.process_time(), time.monotonic()
    reads = asyncio.run(main())
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    store.dispose()
    polls = wall / interval
    # The baseline cannot keep its schedule (every read needs a worker thread), so what one query per
    # trigger per interval would cost is its CPU per query times the number of triggers.
    return {
        "queries_per_interval": reads / polls,
        "cpu_per_interval_ms": 1000 * cpu / polls,
        "cpu_per_scheduled_interval_ms": 1000 * cpu / reads * len(ids),
    }


def run(quick: bool = False) -> str:
    count, rate, interval = (2_000, 200.0, 1.0) if quick else (10_000, 1_000.0, 1.0)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench-trigger.db'}"
        ids = _seed(url, count)
        naive = _naive(url, ids, interval, seconds=5.0)
        batched = _batched(url, ids, interval, rate)
    cpu_ratio = naive["cpu_per_scheduled_interval_ms"] / max(batched["cpu_per_interval_ms"], 1e-9)
    measured_ratio = naive["cpu_per_interval_ms"] / max(batched["cpu_per_interval_ms"], 1e-9)
    ok = (
        batched["queries_per_interval"] <= 1.5
        and batched["p99_delay_s"] <= interval + 1.0
        and cpu_ratio >= 20
        and batched["fired"] == count
    )
    return "\n".join(
        [
            "## Delivery trigger: many waiting messages in one triggerer",
            "",
            f"{count:,} pending messages, completed at {rate:,.0f}/s by a second process committing callbacks; "
            f"poll interval {interval:.0f} s; SQLite store.",
            "",
            "| | store queries / interval | CPU / interval | p50 delay | p99 delay |",
            "|---|---:|---:|---:|---:|",
            f"| batched (MessageDeliveryTrigger) | {batched['queries_per_interval']:.2f} | "
            f"{batched['cpu_per_interval_ms']:.1f} ms | {batched['p50_delay_s']:.2f} s | {batched['p99_delay_s']:.2f} s |",
            f"| baseline: one query per trigger, as measured | {naive['queries_per_interval']:,.0f} | "
            f"{naive['cpu_per_interval_ms']:.1f} ms | | |",
            f"| baseline: one query per trigger, on schedule ({count:,} queries) | {count:,} | "
            f"{naive['cpu_per_scheduled_interval_ms']:,.0f} ms | | |",
            "",
            f"The baseline cannot keep its schedule on this machine: it manages "
            f"{naive['queries_per_interval']:,.0f} of the {count:,} reads per interval, CPU-bound on one core "
            f"(measured ratio {measured_ratio:.0f}x). Its cost on schedule is its CPU per read times {count:,}. "
            f"CPU ratio baseline (on schedule)/batched: **{cpu_ratio:.0f}x** (target >= 20x); all "
            f"{int(batched['fired']):,} triggers fired; p99 delay target <= {interval + 1:.0f} s. "
            f"Target met: **{'yes' if ok else 'NO'}**. Most of the batched CPU is the per-completion work "
            f"(building {rate:,.0f} finished statuses and events per second), not the poll.",
        ]
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
