"""One logical message through ranked vendors, holding the logical key from the first step to the last.

A part of :class:`~airflow_provider_messaging.sending.ledger.SendLedger`, kept apart for size: it uses the
ledger's own steps (``_reserve``, ``_call``, ``_complete``, ``_fail``, ``_opted_out``, ``_admission``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from airflow_provider_messaging.sending import results
from airflow_provider_messaging.sending.outcomes import FailureKind, Outcome, SendRequest, SendResult

if TYPE_CHECKING:
    from airflow_provider_messaging.sending.ledger import SendLedger


def send_failover(
    ledger: SendLedger, logical_key: str, steps: Sequence[SendRequest], *, failover_on: Iterable[FailureKind]
) -> SendResult:
    """The body of :meth:`SendLedger.send_failover` (see there)."""
    from airflow_provider_messaging.policies import SendNow
    from airflow_provider_messaging.store import ReservationReason

    failover_on = set(failover_on)
    if ledger.respect_opt_out:
        for index, step in enumerate(steps):
            if ledger.store.is_opted_out(step.vendor, step.recipient):
                return ledger._opted_out(step, key=logical_key, attempt=index)
    # one logical message: the policy decides once (caps across vendors count it once)
    decision, gate = ledger._admission.decide(steps[0]) if steps else (SendNow(), None)
    if not isinstance(decision, SendNow):
        return ledger._admission.hold(steps[0], decision, key=logical_key)
    transient = False
    failed: list[SendResult] = []
    previous: tuple[str, str, bool] | None = None
    for index, step in enumerate(steps):
        # Reserving the next step and recording the previous step's refusal is one transaction: the
        # chain holds a RESERVED step from start to end, so no other try starts a second chain.
        reservation = ledger._reserve(
            step,
            logical_key=logical_key,
            attempt=index,
            gate=gate if index == 0 else None,  # one logical message counts once, at its first step
            after_failure=previous,
        )
        if reservation.reason == ReservationReason.CAPPED:
            ledger.log.info("Not sending %s to %s: %s", step.key, step.recipient, reservation.error)
            return _with_history(ledger, results.capped(step, reservation, key=logical_key), logical_key)
        if not reservation.send:
            return _with_history(ledger, results.not_reserved(step, reservation, ledger.lease_seconds), logical_key)
        result = ledger._call(step, None, record_failure=False)
        if result.outcome is Outcome.ACCEPTED:
            assert result.message_id is not None
            result.state = ledger._complete([(step.key, result.message_id)])[step.key]
            return _with_history(ledger, result, logical_key)
        failure = (step.key, result.error or "", result.outcome is Outcome.UNKNOWN)
        final = result.outcome is Outcome.UNKNOWN or result.kind not in failover_on
        if final or index == len(steps) - 1:
            ledger._fail([failure])
            if final:
                return _with_history(ledger, result, logical_key)
        previous = failure
        transient = transient or result.outcome is Outcome.TRANSIENT
        failed.append(result)
        if index < len(steps) - 1:
            ledger.log.warning(
                "%s did not take %s (%s); trying the next vendor", step.vendor, logical_key, result.error
            )
    last = failed[-1]
    lines = "\n".join(f"  {i}. {r.vendor}: {r.error}" for i, r in enumerate(failed))
    summary = results.result_for(
        steps[0],
        Outcome.TRANSIENT if transient else Outcome.REJECTED,
        error=f"No vendor took {logical_key!r}:\n{lines}",
        kind=last.kind,
        exc=last.exception,
        key=logical_key,
    )
    return _with_history(ledger, summary, logical_key)


def _with_history(ledger: SendLedger, result: SendResult, logical_key: str) -> SendResult:
    result.attempts = [
        {k: a[k] for k in ("attempt", "vendor", "idempotency_key", "message_id", "send_status", "error")}
        for a in ledger.store.logical_history(logical_key)
    ]
    return result
