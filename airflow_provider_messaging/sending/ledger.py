"""The send ledger itself: reservation, the vendor call and completion (see the package docstring of
:mod:`airflow_provider_messaging.sending`). Bulk streaming (:mod:`.bulk`), failover chains (:mod:`.failover`)
and the sending policy's admission (:mod:`.admission`) are its parts, in modules of their own."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_messaging.sending import results
from airflow_provider_messaging.sending.admission import Admission
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

if TYPE_CHECKING:
    from airflow_provider_messaging.policies import CapScope, Decision, SendingPolicy
    from airflow_provider_messaging.store import CapGate, MessageStore, Reservation

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
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._admission = Admission(store, policy, self.clock, self.log)
        self.policy = self._admission.policy

    # ---- the sending policy (applied before reserving)
    def admission(
        self, request: SendRequest, *, now: datetime | None = None, counts: Mapping[CapScope, int] | None = None
    ) -> tuple[Decision, CapGate | None]:
        """The policy's decision for ``request`` now, and the gate that re-checks the caps inside the
        reservation (:meth:`Admission.decide`). Reserves nothing: a dry run uses it as is."""
        return self._admission.decide(request, now=now, counts=counts)

    # ---- one message
    def send(self, request: SendRequest, *, limiter: Limiter | None = None) -> SendResult:
        """Send one message under its key (or return what an earlier try did)."""
        from airflow_provider_messaging.policies import SendNow
        from airflow_provider_messaging.store import ReservationReason

        if self.respect_opt_out and self.store.is_opted_out(request.vendor, request.recipient):
            return self._opted_out(request)
        decision, gate = self._admission.decide(request)
        if not isinstance(decision, SendNow):
            return self._admission.hold(request, decision)
        reservation = self._reserve(request, gate=gate)
        if reservation.reason == ReservationReason.CAPPED:
            self.log.info("Not sending %s to %s: %s", request.key, request.recipient, reservation.error)
            return results.capped(request, reservation)
        if not reservation.send:
            return results.not_reserved(request, reservation, self.lease_seconds)
        result = self._call(request, limiter)
        if result.outcome is Outcome.ACCEPTED:
            assert result.message_id is not None
            result.state = self._complete([(request.key, result.message_id)])[request.key]
        return result

    def _opted_out(self, request: SendRequest, *, key: str | None = None, attempt: int = 0) -> SendResult:
        """The skip of an opted-out recipient, recorded like a policy skip (the report counts it)."""
        result = results.opted_out(request, key=key)
        self._admission.record_skip(request, "opted_out", result.error or "", logical_key=key, attempt=attempt)
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
            return results.result_for(request, classified.outcome, error=text, kind=classified.kind, exc=error)
        return results.result_for(request, Outcome.ACCEPTED, message_id=str(message_id))

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
        from airflow_provider_messaging.sending.bulk import send_many

        return send_many(self, requests, concurrency=concurrency, limiter=limiter, chunk_size=chunk_size)

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
        from airflow_provider_messaging.sending.failover import send_failover

        return send_failover(self, logical_key, steps, failover_on=failover_on)
