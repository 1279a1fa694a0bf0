"""How a send ended, decided once: the classification of send errors, the keys, the request and result
types, and their mapping to Airflow (see the package docstring of :mod:`airflow_provider_messaging.sending`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from airflow_provider_messaging.exceptions import (
    MessagingError,
    RateLimitError,
    SendOutcomeUnknownError,
    StoreError,
    VendorServerError,
    VendorUnavailableError,
)


class Outcome(str, Enum):
    """How one send ended (see the module docstring)."""

    ACCEPTED = "accepted"
    ALREADY_SENT = "already_sent"
    REJECTED = "rejected"
    TRANSIENT = "transient"
    UNKNOWN = "unknown"
    IN_FLIGHT = "in_flight"
    SKIPPED = "skipped"
    WAITING = "waiting"
    DUPLICATE = "duplicate"  # the same key came twice in one bulk send: sent once

    @property
    def sent(self) -> bool:
        return self in (Outcome.ACCEPTED, Outcome.ALREADY_SENT)

    @property
    def failed(self) -> bool:
        """Not sent, and not on purpose (an opt-out or a repeated recipient is no failure)."""
        return not self.sent and self not in (Outcome.SKIPPED, Outcome.DUPLICATE, Outcome.WAITING)


class FailureKind(str, Enum):
    """Why a vendor did not take a message; failover moves on by kind."""

    REJECTED = "rejected"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Classified:
    outcome: Outcome
    kind: FailureKind | None = None


def classify(error: BaseException) -> Classified:
    """THE classification of a send error: what it means for the customer and for a retry.

    Anything that is not one of our typed errors (a bug, an interrupted worker) may have happened
    after the request left, so it is an unknown outcome.
    """
    if isinstance(error, (SendOutcomeUnknownError, StoreError)):
        return Classified(Outcome.UNKNOWN)
    if isinstance(error, RateLimitError):
        return Classified(Outcome.TRANSIENT, FailureKind.RATE_LIMITED)
    if isinstance(error, (VendorUnavailableError, VendorServerError)):
        return Classified(Outcome.TRANSIENT, FailureKind.UNAVAILABLE)
    if isinstance(error, MessagingError):
        return Classified(Outcome.REJECTED, FailureKind.REJECTED)
    return Classified(Outcome.UNKNOWN)


# ---------------------------------------------------------------- keys
def task_key(ti: Any) -> str:
    """The default key of a task's send: ``dag_id/task_id/run_id/map_index``."""
    return f"{ti.dag_id}/{ti.task_id}/{ti.run_id}/{getattr(ti, 'map_index', -1)}"


def bulk_key(base: str, recipient: str) -> str:
    """The key of one recipient of a bulk send."""
    return f"{base}/{recipient}"


def failover_key(logical_key: str, index: int, vendor: str) -> str:
    """The key of step ``index`` (through ``vendor``) of a failover send."""
    return f"{logical_key}#{index}:{vendor}"


# ---------------------------------------------------------------- requests and results
@dataclass(frozen=True)
class Origin:
    """Which task sent: stored with the message for the CLI, the Messages view and the report."""

    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    map_index: int | None = None

    @classmethod
    def of(cls, ti: Any) -> Origin:
        if ti is None:
            return cls()
        return cls(ti.dag_id, ti.task_id, ti.run_id, getattr(ti, "map_index", None))


@dataclass(frozen=True)
class SendRequest:
    """One message to send under ``key``; ``send`` makes the vendor call and returns the vendor id."""

    key: str
    vendor: str
    recipient: str
    channels: tuple[str, ...]
    send: Callable[[], str]
    origin: Origin = field(default_factory=Origin)
    campaign_id: str | None = None
    message_type: str | None = None  # ARN/MKT/OTP or the operator's category: what a policy decides by


@dataclass
class SendResult:
    """How one send ended. ``record()`` is what operators return through XCom."""

    outcome: Outcome
    key: str
    vendor: str
    recipient: str
    channels: tuple[str, ...] = ()
    message_id: str | None = None
    state: str | None = None
    error: str | None = None
    kind: FailureKind | None = None
    exception: BaseException | None = field(default=None, repr=False)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    skip_code: str | None = None  # opted_out, frequency_cap, window_unreachable
    send_at: datetime | None = None  # WAITING: when the recipient's window opens

    def record(self) -> dict[str, Any]:
        if self.outcome.sent:
            status = self.state
        elif self.outcome is Outcome.SKIPPED:
            status = f"SKIPPED_{(self.skip_code or 'opt_out').upper()}".replace("OPTED_OUT", "OPT_OUT")
        elif self.outcome is Outcome.WAITING:
            status = "WAITING"
        else:
            status = "FAILED"
        extra = {"send_at": self.send_at.isoformat()} if self.send_at is not None else {}
        return {
            "vendor": self.vendor,
            "message_id": self.message_id,
            "recipient": self.recipient,
            "idempotency_key": self.key,
            "status": status,
            "outcome": self.outcome.value,
            "channels": list(self.channels),
            "error": self.error,
            **extra,
        }


_RECORD_STATUS = {Outcome.SKIPPED: "SKIPPED_OPT_OUT", Outcome.DUPLICATE: "DUPLICATE"}


class Limiter(Protocol):
    def acquire(self) -> None: ...


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


_FAILURE_TEXT = {
    Outcome.REJECTED: "{vendor} rejected the message: {error}",
    Outcome.TRANSIENT: "{vendor} did not take the message (retry is safe): {error}",
    Outcome.UNKNOWN: "Send outcome unknown, not re-sent: {error}",
}


# ---------------------------------------------------------------- Airflow
def raise_for_airflow(result: SendResult) -> None:
    """Turn a send that did not succeed into the Airflow exception that retries only when it is safe."""
    from airflow_provider_messaging.compat import AirflowException, AirflowFailException, AirflowSkipException

    outcome = result.outcome
    if outcome.sent or outcome is Outcome.DUPLICATE:
        return
    cause = result.exception
    if outcome in (Outcome.SKIPPED, Outcome.WAITING):  # a deferring operator handles WAITING before this
        raise AirflowSkipException(f"{result.error}; not sent")
    if outcome in (Outcome.TRANSIENT, Outcome.IN_FLIGHT):
        raise AirflowException(result.error) from cause
    raise AirflowFailException(result.error) from cause
