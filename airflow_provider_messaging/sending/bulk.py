"""Many messages through the ledger: lazily consumed chunks, bounded concurrency, batched commits.

A part of :class:`~airflow_provider_messaging.sending.ledger.SendLedger`, kept apart for size: it uses the
ledger's own steps (``_call``, ``_complete``, ``_admission``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from itertools import islice
from typing import TYPE_CHECKING

from airflow_provider_messaging.sending import results
from airflow_provider_messaging.sending.outcomes import Limiter, Outcome, SendRequest, SendResult

if TYPE_CHECKING:
    from airflow_provider_messaging.sending.ledger import SendLedger

Pending = deque[tuple[SendRequest, "Future[SendResult]"]]


def send_many(
    ledger: SendLedger,
    requests: Iterable[SendRequest],
    *,
    concurrency: int,
    limiter: Limiter | None,
    chunk_size: int | None,
) -> Iterator[SendResult]:
    """The body of :meth:`SendLedger.send_many` (see there)."""
    chunk_size = chunk_size or min(200, max(16, 2 * concurrency))
    # Sent but not yet recorded is what a crash leaves leased: flush completions every half chunk.
    flush_at = max(8, chunk_size // 2)

    iterator = iter(requests)
    pending: Pending = deque()
    buffer: list[tuple[SendRequest, SendResult]] = []
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="messaging-send") as pool:
        while True:
            chunk = list(islice(iterator, chunk_size))
            if chunk:
                send_now: list[SendRequest] = []
                yield from _reserve_chunk(ledger, chunk, send_now)
                for request in send_now:
                    pending.append((request, pool.submit(ledger._call, request, limiter)))
            # Keep at most two chunks in flight; flush completions as calls finish.
            while pending and (len(pending) > chunk_size or not chunk):
                done, _ = wait([f for _, f in pending], return_when=FIRST_COMPLETED)
                still: Pending = deque()
                for request, future in pending:
                    if future in done:
                        buffer.append((request, future.result()))
                    else:
                        still.append((request, future))
                pending = still
                if len(buffer) >= flush_at or not pending:
                    yield from _flush(ledger, buffer)
                    buffer = []
            if not chunk:
                break
            # collect whatever already finished, without waiting
            finished = [(r, f) for r, f in pending if f.done()]
            if finished:
                pending = deque((r, f) for r, f in pending if not f.done())
                buffer.extend((r, f.result()) for r, f in finished)
                yield from _flush(ledger, buffer)
                buffer = []
        yield from _flush(ledger, buffer)


def _reserve_chunk(
    ledger: SendLedger, chunk: Sequence[SendRequest], send_now: list[SendRequest]
) -> Iterator[SendResult]:
    """Reserve one chunk in one transaction; yield the results of what will not be sent, fill ``send_now``."""
    from airflow_provider_messaging.policies import SendNow
    from airflow_provider_messaging.store import ReservationReason

    admission = ledger._admission
    opted_out = _opted_out(ledger, chunk)
    intents = []
    held: list[tuple[SendRequest, SendResult]] = []
    keys: set[str] = set()
    now, chunk_counts = admission.chunk_counts(chunk)
    for request in chunk:
        if (request.vendor, request.recipient) in opted_out:
            held.append((request, results.opted_out(request)))  # recorded with the chunk's policy skips
            continue
        if request.key in keys:
            yield results.result_for(request, Outcome.DUPLICATE, error="listed twice; sent once")
            continue
        decision, gate = admission.decide(request, now=now, counts=chunk_counts.get(request.key))
        if not isinstance(decision, SendNow):
            # each recipient waits for its own window; skips are recorded per chunk
            held.append((request, admission.hold(request, decision, record=False)))
            continue
        keys.add(request.key)
        intents.append((request, gate))
    admission.record_skips(held)
    for _request, result in held:
        yield result
    reservations = ledger.store.reserve_many(
        [results.intent_of(r, gate=gate) for r, gate in intents],
        resend_unknown=ledger.resend_unknown,
        lease_seconds=ledger.lease_seconds,
    )
    for (request, _gate), reservation in zip(intents, reservations, strict=True):
        if reservation.send:
            send_now.append(request)
        elif reservation.reason == ReservationReason.CAPPED:
            ledger.log.info("Not sending %s to %s: %s", request.key, request.recipient, reservation.error)
            yield results.capped(request, reservation)
        else:
            yield results.not_reserved(request, reservation, ledger.lease_seconds)


def _flush(ledger: SendLedger, finished: list[tuple[SendRequest, SendResult]]) -> Iterator[SendResult]:
    accepted = [(r.key, res.message_id) for r, res in finished if res.outcome is Outcome.ACCEPTED]
    states = ledger._complete([(k, m) for k, m in accepted if m is not None]) if accepted else {}
    for _request, result in finished:
        if result.outcome is Outcome.ACCEPTED:
            result.state = states.get(result.key)
        yield result


def _opted_out(ledger: SendLedger, chunk: Sequence[SendRequest]) -> set[tuple[str, str]]:
    if not ledger.respect_opt_out:
        return set()
    by_vendor: dict[str, list[str]] = {}
    for request in chunk:
        by_vendor.setdefault(request.vendor, []).append(request.recipient)
    # one query per vendor of the chunk, not one per recipient
    return {
        (vendor, recipient)
        for vendor, recipients in by_vendor.items()
        for recipient in ledger.store.opted_out_among(vendor, recipients)
    }
