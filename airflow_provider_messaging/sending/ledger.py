"""The send ledger itself: reservation, the vendor call, completion, bulk streaming and failover chains
(see the package docstring of :mod:`airflow_provider_messaging.sending`)."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_messaging.policies import CapScope, Decision, SendingPolicy
    from airflow_provider_messaging.store import CapGate, MessageStore, Reservation, SendIntent

from airflow_provider_messaging.sending.outcomes import (
    _FAILURE_TEXT,
    FailureKind,
    Limiter,
    Outcome,
    SendRequest,
    SendResult,
    classify,
    describe,
)

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- the ledger
class SendLedger:
    """Sends through a store-backed ledger: at most once per key, whatever races (module docstring).

    :param store: the message store.
    :param respect_opt_out: skip recipients on the vendor's opt-out list.
    :param resend_unknown: allow a send after an unknown outcome (may duplicate; never within a lease).
    :param lease_seconds: how long a reservation counts as in flight; default ``[messaging] send_lease_seconds``.
    :param policy: the sending policy (windows, caps); ``None`` or an empty policy sends at once.
    :param clock: the time source of policy decisions (tests inject one); default the UTC wall clock.
    """

    def __init__(
        self,
        store: MessageStore,
        *,
        respect_opt_out: bool = True,
        resend_unknown: bool = False,
        lease_seconds: float | None = None,
        logger: Any = None,
        policy: SendingPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        from airflow_provider_messaging.config import send_lease_seconds

        self.store = store
        self.respect_opt_out = respect_opt_out
        self.resend_unknown = resend_unknown
        self.lease_seconds = send_lease_seconds() if lease_seconds is None else lease_seconds
        self.log = logger or log
        self.policy = policy if policy is not None and not policy.is_empty else None
        self._caps_only = self.policy.model_copy(update={"windows": {}, "max_wait": None}) if self.policy else None
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    # ---- the sending policy (applied before reserving)
    def admission(
        self, request: SendRequest, *, now: datetime | None = None, counts: Mapping[CapScope, int] | None = None
    ) -> tuple[Decision, CapGate | None]:
        """The policy's decision for ``request`` now (caps counted without locks, unless ``counts`` are
        given), and the gate that re-checks the caps inside the reservation. Reserves nothing: a dry run
        uses it as is."""
        from airflow_provider_messaging.policies import RecipientHistory, SendNow, Skip, cap_scopes, decide
        from airflow_provider_messaging.store import CapGate

        policy = self.policy
        if policy is None:
            return SendNow(), None
        now = now or self.clock()
        kind = request.message_type or ""
        scopes = cap_scopes(policy, message_type=kind, vendor=request.vendor, now=now)
        if counts is None:
            counts = self.store.count_recent_sends(request.recipient, scopes, exclude_key=request.key) if scopes else {}

        def decide_with(found: Any) -> Decision:
            history = RecipientHistory(counts=found)
            return decide(
                policy, recipient=request.recipient, message_type=kind, now=now, vendor=request.vendor, history=history
            )

        caps_only = self._caps_only
        assert caps_only is not None

        def admit(found: Any) -> str | None:
            # runs inside the reservation's transaction: caps only (the window was checked above)
            history = RecipientHistory(counts=found)
            verdict = decide(
                caps_only,
                recipient=request.recipient,
                message_type=kind,
                now=now,
                vendor=request.vendor,
                history=history,
            )
            return verdict.reason if isinstance(verdict, Skip) and verdict.code == "frequency_cap" else None

        return decide_with(counts), (CapGate(tuple(scopes), admit) if scopes else None)

    def _held(
        self, request: SendRequest, decision: Decision, *, key: str | None = None, record: bool = True
    ) -> SendResult:
        """The result of a send the policy holds back (a skip, or a wait for the recipient's window).
        A skip is recorded in the store (a SKIPPED row with its reason); a wait is not: it sends later."""
        from airflow_provider_messaging.policies import Skip, WaitUntil

        if isinstance(decision, WaitUntil):
            result = self._result(request, Outcome.WAITING, error=decision.reason)
            result.send_at = decision.at
        else:
            assert isinstance(decision, Skip)
            result = self._result(request, Outcome.SKIPPED, error=decision.reason)
            result.skip_code = decision.code
            if record:
                self._record_skip(request, decision.code, decision.reason, logical_key=key)
        if key is not None:
            result.key = key
        self.log.info("Not sending %s to %s now: %s", request.key, request.recipient, decision.reason)
        return result

    @staticmethod
    def _intent(request: SendRequest) -> SendIntent:
        from airflow_provider_messaging.store import SendIntent

        origin = request.origin
        return SendIntent(
            request.key,
            request.vendor,
            request.recipient,
            tuple(request.channels),
            origin.dag_id,
            origin.task_id,
            origin.run_id,
            origin.map_index,
            request.campaign_id,
            message_type=request.message_type,
        )

    def _record_skip(self, request: SendRequest, code: str, reason: str, *, logical_key: str | None) -> None:
        try:
            self.store.record_skip(
                self._intent(request),
                code=code,
                reason=reason,
                logical_key=logical_key,
                attempt=0 if logical_key else None,
            )
        except Exception:  # the skip stands (nothing was sent); only its record is missing
            self.log.exception("Could not record the policy skip of %s", request.key)

    def _record_skips(self, held: Sequence[tuple[SendRequest, SendResult]]) -> None:
        """Record a chunk's policy skips in one transaction."""
        skips = [
            (self._intent(r), res.skip_code or "unknown", res.error or "")
            for r, res in held
            if res.outcome is Outcome.SKIPPED
        ]
        if not skips:
            return
        try:
            self.store.record_skips(skips)
        except Exception:  # the skips stand (nothing was sent); only their records are missing
            self.log.exception("Could not record %d policy skip(s)", len(skips))

    def _capped(self, request: SendRequest, reservation: Reservation, *, key: str | None = None) -> SendResult:
        """A reservation the caps refused (the store recorded the skip in the same transaction)."""
        result = self._result(request, Outcome.SKIPPED, error=reservation.error)
        result.skip_code = "frequency_cap"
        if key is not None:
            result.key = key
        self.log.info("Not sending %s to %s: %s", request.key, request.recipient, reservation.error)
        return result

    # ---- one message
    def send(self, request: SendRequest, *, limiter: Limiter | None = None) -> SendResult:
        """Send one message under its key (or return what an earlier try did)."""
        from airflow_provider_messaging.policies import SendNow
        from airflow_provider_messaging.store import ReservationReason

        if self.respect_opt_out and self.store.is_opted_out(request.vendor, request.recipient):
            return self._skipped(request)
        decision, gate = self.admission(request)
        if not isinstance(decision, SendNow):
            return self._held(request, decision)
        reservation = self._reserve(request, gate=gate)
        if reservation.reason == ReservationReason.CAPPED:
            return self._capped(request, reservation)
        if not reservation.send:
            return self._not_reserved(request, reservation)
        result = self._call(request, limiter)
        if result.outcome is Outcome.ACCEPTED:
            assert result.message_id is not None
            result.state = self._complete([(request.key, result.message_id)])[request.key]
        return result

    def _reserve(self, request: SendRequest, **extra: Any) -> Reservation:
        """The store's locked reservation of ``request``'s key (``extra``: failover link, policy gate)."""
        return self.store.reserve_send(
            idempotency_key=request.key,
            vendor=request.vendor,
            recipient=request.recipient,
            channels=request.channels,
            dag_id=request.origin.dag_id,
            task_id=request.origin.task_id,
            run_id=request.origin.run_id,
            map_index=request.origin.map_index,
            resend_unknown=self.resend_unknown,
            lease_seconds=self.lease_seconds,
            message_type=request.message_type,
            **extra,
        )

    def _call(self, request: SendRequest, limiter: Limiter | None, *, record_failure: bool = True) -> SendResult:
        """The vendor call of a reserved key. Failures are recorded here (unless the caller records them);
        success is completed by the caller, which may batch completions."""
        try:
            if limiter is not None:
                limiter.acquire()
            message_id = request.send()
        except BaseException as error:
            classified = classify(error)
            if record_failure or not isinstance(error, Exception):
                self._fail([(request.key, describe(error), classified.outcome is Outcome.UNKNOWN)])
            if not isinstance(error, Exception):
                raise  # interrupted (SIGTERM, KeyboardInterrupt): recorded as unknown, then let it end the task
            text = _FAILURE_TEXT[classified.outcome].format(vendor=request.vendor, error=describe(error))
            if classified.outcome is Outcome.REJECTED:
                self._opt_out_on_refusal(request, error)
            return self._result(request, classified.outcome, error=text, kind=classified.kind, exc=error)
        return self._result(request, Outcome.ACCEPTED, message_id=str(message_id))

    def _opt_out_on_refusal(self, request: SendRequest, error: BaseException) -> None:
        """A vendor refusal that says the recipient opted out puts them on the opt-out list (with the error)."""
        from airflow_provider_messaging.exceptions import VendorAPIError
        from airflow_provider_messaging.models.consent import is_opt_out_error

        if not isinstance(error, VendorAPIError) or not is_opt_out_error(request.vendor, error.code, error.description):
            return
        try:
            self.store.add_opt_out(
                request.vendor,
                request.recipient,
                source="vendor_error",
                detail=f"code {error.code}: {error.description}" if error.code is not None else error.description,
            )
            self.log.warning(
                "%s says %s opted out (%s): added to the opt-out list", request.vendor, request.recipient, error.code
            )
        except Exception:
            self.log.exception("Could not add %s to the opt-out list after the vendor's refusal", request.recipient)

    def _complete(self, completions: Sequence[tuple[str, str]]) -> dict[str, str]:
        """Record vendor ids. The messages were sent: a store hiccup must not lose that, so retry briefly;
        a batch the database refuses (a vendor id seen before) is recorded key by key, so one bad key
        cannot leave the whole batch leased."""
        from sqlalchemy.exc import IntegrityError

        for attempt in range(3):
            try:
                statuses = self.store.complete_many(completions)
                return {key: status.state.value for key, status in statuses.items()}
            except IntegrityError:
                if len(completions) == 1:
                    raise
                states: dict[str, str] = {}
                for completion in completions:
                    try:
                        states.update(self._complete([completion]))
                    except Exception:
                        self.log.exception("Sent %s as %s, but the store refused to record it", *completion)
                return states
            except Exception:
                if attempt == 2:
                    sent = ", ".join(f"{key} -> {mid}" for key, mid in completions[:5])
                    self.log.error("Sent, but the store could not record it (%s): keys stay leased", sent)
                    raise
                time.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    def _fail(self, failures: Sequence[tuple[str, str, bool]]) -> None:
        try:
            self.store.fail_many(failures)
        except Exception:
            # The key stays RESERVED: after its lease it counts as unknown, so nothing is re-sent blindly.
            self.log.exception("Could not record %d failed send(s); their keys stay leased", len(failures))

    # ---- many messages (bulk mode, campaigns)
    def send_many(
        self,
        requests: Iterable[SendRequest],
        *,
        concurrency: int = 8,
        limiter: Limiter | None = None,
        chunk_size: int | None = None,
    ) -> Iterator[SendResult]:
        """Send many messages with bounded concurrency and memory; yields one result per request.

        Requests are consumed lazily, ``chunk_size`` at a time (default twice the concurrency, 16 to
        200): one transaction reserves a chunk, the vendor calls run on ``concurrency`` threads, and
        completions are written in batches - a few commits per chunk instead of two per message. At
        most two chunks are reserved and unsent, and half a chunk sent and unrecorded, at any moment:
        that bounds what a crash leaves leased (2.5 chunks, perhaps sent), which a retry reports as in
        flight / unknown instead of guessing.
        """
        from airflow_provider_messaging.policies import SendNow
        from airflow_provider_messaging.store import ReservationReason, SendIntent

        chunk_size = chunk_size or min(200, max(16, 2 * concurrency))
        # Sent but not yet recorded is what a crash leaves leased: flush completions every half chunk.
        flush_at = max(8, chunk_size // 2)

        iterator = iter(requests)
        pending: deque[tuple[SendRequest, Future[SendResult]]] = deque()
        buffer: list[tuple[SendRequest, SendResult]] = []
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="messaging-send") as pool:
            while True:
                chunk = list(islice(iterator, chunk_size))
                if chunk:
                    send_now: list[SendRequest] = []
                    opted_out = self._opted_out(chunk)
                    intents = []
                    gates: list[CapGate | None] = []
                    held: list[tuple[SendRequest, SendResult]] = []
                    keys: set[str] = set()
                    now, chunk_counts = self._chunk_counts(chunk)
                    for request in chunk:
                        if (request.vendor, request.recipient) in opted_out:
                            yield self._skipped(request)
                            continue
                        if request.key in keys:
                            yield self._result(request, Outcome.DUPLICATE, error="listed twice; sent once")
                            continue
                        decision, gate = self.admission(request, now=now, counts=chunk_counts.get(request.key))
                        if not isinstance(decision, SendNow):
                            # each recipient waits for its own window; skips are recorded per chunk
                            held.append((request, self._held(request, decision, record=False)))
                            continue
                        keys.add(request.key)
                        intents.append(request)
                        gates.append(gate)
                    self._record_skips(held)
                    for _request, result in held:
                        yield result
                    reservations = self.store.reserve_many(
                        [
                            SendIntent(
                                r.key,
                                r.vendor,
                                r.recipient,
                                tuple(r.channels),
                                r.origin.dag_id,
                                r.origin.task_id,
                                r.origin.run_id,
                                r.origin.map_index,
                                r.campaign_id,
                                message_type=r.message_type,
                                gate=gate,
                            )
                            for r, gate in zip(intents, gates, strict=True)
                        ],
                        resend_unknown=self.resend_unknown,
                        lease_seconds=self.lease_seconds,
                    )
                    for request, reservation in zip(intents, reservations, strict=True):
                        if reservation.send:
                            send_now.append(request)
                        elif reservation.reason == ReservationReason.CAPPED:
                            yield self._capped(request, reservation)
                        else:
                            yield self._not_reserved(request, reservation)
                    for request in send_now:
                        pending.append((request, pool.submit(self._call, request, limiter)))
                # Keep at most two chunks in flight; flush completions as calls finish.
                while pending and (len(pending) > chunk_size or not chunk):
                    done, _ = wait([f for _, f in pending], return_when=FIRST_COMPLETED)
                    still: deque[tuple[SendRequest, Future[SendResult]]] = deque()
                    for request, future in pending:
                        if future in done:
                            buffer.append((request, future.result()))
                        else:
                            still.append((request, future))
                    pending = still
                    if len(buffer) >= flush_at or not pending:
                        yield from self._flush(buffer)
                        buffer = []
                if not chunk:
                    break
                # collect whatever already finished, without waiting
                finished = [(r, f) for r, f in pending if f.done()]
                if finished:
                    pending = deque((r, f) for r, f in pending if not f.done())
                    buffer.extend((r, f.result()) for r, f in finished)
                    yield from self._flush(buffer)
                    buffer = []
            yield from self._flush(buffer)

    def _chunk_counts(self, chunk: Sequence[SendRequest]) -> tuple[datetime, dict[str, Mapping[CapScope, int]]]:
        """The caps' counts of a whole chunk in one read (per request key); the clock they were read at."""
        from airflow_provider_messaging.policies import cap_scopes

        now = self.clock()
        if self.policy is None or not self.policy.caps:
            return now, {}
        scopes = {
            r.key: cap_scopes(self.policy, message_type=r.message_type or "", vendor=r.vendor, now=now) for r in chunk
        }
        by_recipient: dict[str, list[CapScope]] = {}
        for request in chunk:
            by_recipient.setdefault(request.recipient, []).extend(scopes[request.key])
        wanted = {recipient: list(dict.fromkeys(group)) for recipient, group in by_recipient.items() if group}
        counts = self.store.count_recent_sends_many(wanted, exclude_keys={r.key for r in chunk}) if wanted else {}
        return now, {r.key: {s: counts[r.recipient][s] for s in scopes[r.key]} for r in chunk if scopes[r.key]}

    def _flush(self, finished: list[tuple[SendRequest, SendResult]]) -> Iterator[SendResult]:
        accepted = [(r.key, res.message_id) for r, res in finished if res.outcome is Outcome.ACCEPTED]
        states = self._complete([(k, m) for k, m in accepted if m is not None]) if accepted else {}
        for _request, result in finished:
            if result.outcome is Outcome.ACCEPTED:
                result.state = states.get(result.key)
            yield result

    def _opted_out(self, chunk: Sequence[SendRequest]) -> set[tuple[str, str]]:
        if not self.respect_opt_out:
            return set()
        by_vendor: dict[str, list[str]] = {}
        for request in chunk:
            by_vendor.setdefault(request.vendor, []).append(request.recipient)
        # one query per vendor of the chunk, not one per recipient
        return {
            (vendor, recipient)
            for vendor, recipients in by_vendor.items()
            for recipient in self.store.opted_out_among(vendor, recipients)
        }

    # ---- one logical message through ranked vendors
    def send_failover(
        self,
        logical_key: str,
        steps: Sequence[SendRequest],
        *,
        failover_on: Iterable[FailureKind] = tuple(FailureKind),
    ) -> SendResult:
        """Send one logical message through ranked vendor steps (``steps[i].key`` from :func:`failover_key`).

        Each step's reservation is decided under a lock on the logical key, over every step's record:
        while any step is in flight or accepted, or has an unknown outcome, no other try sends through
        any vendor. The next step is tried only when a vendor definitely did not take the message and
        its failure kind is in ``failover_on``.
        """
        from airflow_provider_messaging.policies import SendNow
        from airflow_provider_messaging.store import ReservationReason

        failover_on = set(failover_on)
        if self.respect_opt_out:
            for step in steps:
                if self.store.is_opted_out(step.vendor, step.recipient):
                    return self._skipped(step, key=logical_key)
        # one logical message: the policy decides once (caps across vendors count it once)
        decision, gate = self.admission(steps[0]) if steps else (SendNow(), None)
        if not isinstance(decision, SendNow):
            return self._held(steps[0], decision, key=logical_key)
        transient = False
        failed: list[SendResult] = []
        previous: tuple[str, str, bool] | None = None
        for index, step in enumerate(steps):
            # Reserving the next step and recording the previous step's refusal is one transaction: the
            # chain holds a RESERVED step from start to end, so no other try starts a second chain.
            reservation = self._reserve(
                step,
                logical_key=logical_key,
                attempt=index,
                gate=gate if index == 0 else None,  # one logical message counts once, at its first step
                after_failure=previous,
            )
            if reservation.reason == ReservationReason.CAPPED:
                return self._with_history(self._capped(step, reservation, key=logical_key), logical_key)
            if not reservation.send:
                return self._with_history(self._not_reserved(step, reservation), logical_key)
            result = self._call(step, None, record_failure=False)
            if result.outcome is Outcome.ACCEPTED:
                assert result.message_id is not None
                result.state = self._complete([(step.key, result.message_id)])[step.key]
                return self._with_history(result, logical_key)
            failure = (step.key, result.error or "", result.outcome is Outcome.UNKNOWN)
            if result.outcome is Outcome.UNKNOWN or result.kind not in failover_on or index == len(steps) - 1:
                self._fail([failure])
                if result.outcome is Outcome.UNKNOWN or result.kind not in failover_on:
                    return self._with_history(result, logical_key)
            previous = failure
            transient = transient or result.outcome is Outcome.TRANSIENT
            failed.append(result)
            if index < len(steps) - 1:
                self.log.warning(
                    "%s did not take %s (%s); trying the next vendor", step.vendor, logical_key, result.error
                )
        last = failed[-1]
        lines = "\n".join(f"  {i}. {r.vendor}: {r.error}" for i, r in enumerate(failed))
        summary = self._result(
            steps[0],
            Outcome.TRANSIENT if transient else Outcome.REJECTED,
            error=f"No vendor took {logical_key!r}:\n{lines}",
            kind=last.kind,
            exc=last.exception,
        )
        summary.key = logical_key
        return self._with_history(summary, logical_key)

    def _with_history(self, result: SendResult, logical_key: str) -> SendResult:
        result.attempts = [
            {k: a[k] for k in ("attempt", "vendor", "idempotency_key", "message_id", "send_status", "error")}
            for a in self.store.logical_history(logical_key)
        ]
        return result

    # ---- results
    def _result(
        self,
        request: SendRequest,
        outcome: Outcome,
        *,
        message_id: str | None = None,
        state: str | None = None,
        error: str | None = None,
        kind: FailureKind | None = None,
        exc: BaseException | None = None,
    ) -> SendResult:
        return SendResult(
            outcome,
            request.key,
            request.vendor,
            request.recipient,
            tuple(request.channels),
            message_id=message_id,
            state=state,
            error=error,
            kind=kind,
            exception=exc,
        )

    def _skipped(self, request: SendRequest, *, key: str | None = None) -> SendResult:
        result = self._result(
            request, Outcome.SKIPPED, error=f"{request.recipient} opted out of {request.vendor} messages (STOP)"
        )
        result.skip_code = "opted_out"
        if key is not None:
            result.key = key
        return result

    def _not_reserved(self, request: SendRequest, reservation: Reservation) -> SendResult:
        from airflow_provider_messaging.store import ReservationReason

        existing = reservation.existing
        assert existing is not None
        result = SendResult(
            Outcome.ALREADY_SENT,
            existing.idempotency_key or request.key,
            existing.vendor,
            existing.recipient or request.recipient,
            tuple(existing.channels),
            message_id=existing.message_id or None,
            state=existing.state.value,
        )
        if reservation.reason == ReservationReason.ACCEPTED:
            return result
        since = reservation.reserved_at.isoformat(timespec="seconds") if reservation.reserved_at else "?"
        if reservation.reason == ReservationReason.IN_FLIGHT:
            result.outcome = Outcome.IN_FLIGHT
            result.error = (
                f"Another try is sending key {result.key!r} (reserved at {since}, leased for "
                f"{self.lease_seconds:g}s): not sending it twice. A retry after the lease finds its outcome."
            )
        else:
            result.outcome = Outcome.UNKNOWN
            result.error = (
                f"An earlier send under key {result.key!r} has an unknown outcome ({existing.send_status} "
                f"since {since}; {reservation.error or 'its sender stopped mid-send'}): it may have reached the "
                "customer, so it is not sent again. Check the vendor, then re-run with resend_unknown=True to "
                "send anyway (or `airflow-messaging release KEY` if nothing was sent)."
            )
        return result
