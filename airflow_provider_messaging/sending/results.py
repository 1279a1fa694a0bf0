"""How the ledger words the results it did not get from a vendor call: skips, caps, refusals to reserve."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_messaging.sending.outcomes import FailureKind, Outcome, SendRequest, SendResult

if TYPE_CHECKING:
    from airflow_provider_messaging.store import CapGate, Reservation, SendIntent


def result_for(
    request: SendRequest,
    outcome: Outcome,
    *,
    message_id: str | None = None,
    state: str | None = None,
    error: str | None = None,
    kind: FailureKind | None = None,
    exc: BaseException | None = None,
    key: str | None = None,
) -> SendResult:
    """A result about ``request`` (under ``key`` instead of the request's own, e.g. a failover's logical key)."""
    return SendResult(
        outcome,
        key if key is not None else request.key,
        request.vendor,
        request.recipient,
        tuple(request.channels),
        message_id=message_id,
        state=state,
        error=error,
        kind=kind,
        exception=exc,
    )


def opted_out(request: SendRequest, *, key: str | None = None) -> SendResult:
    error = f"{request.recipient} opted out of {request.vendor} messages (STOP)"
    result = result_for(request, Outcome.SKIPPED, error=error, key=key)
    result.skip_code = "opted_out"
    return result


def capped(request: SendRequest, reservation: Reservation, *, key: str | None = None) -> SendResult:
    """A reservation the caps refused (the store recorded the skip in the same transaction)."""
    result = result_for(request, Outcome.SKIPPED, error=reservation.error, key=key)
    result.skip_code = "frequency_cap"
    return result


def not_reserved(request: SendRequest, reservation: Reservation, lease_seconds: float) -> SendResult:
    """What an earlier try of the key did, or why it holds the key: already sent, in flight, or unknown."""
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
            f"{lease_seconds:g}s): not sending it twice. A retry after the lease finds its outcome."
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


def intent_of(request: SendRequest, *, gate: CapGate | None = None) -> SendIntent:
    """The store's record of what ``request`` is about to send (``gate``: the policy's cap re-check)."""
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
        gate=gate,
    )
