"""Cross-vendor failover: one logical message sent through a ranked list of vendors.

::

    FailoverSendOperator(
        task_id="notify",
        steps=[
            failover_step(TelesignRcsCallButtonOperator, phone_number="{{ params.phone }}", text=..., dial_text=...,
                          phone_number_to_dial=..., dial_payload=..., sms_fallback_text=...),   # Telesign RCS -> SMS
            failover_step(AerialinkRcsTextOperator, destination="{{ params.phone }}", message_text=...,
                          sms_failover={"enabled": True, "fallbackText": ...}),                # Aerialink RCS + SMS
        ],
    )

The next step is tried only when the previous vendor did NOT take the message: it refused it (4xx,
including auth errors), stayed rate-limited after the hook's retry budget (``max_retries`` and
``max_retry_after``: :class:`RateLimitError`), or was down (connection refused, 5xx after retries:
:class:`VendorUnavailableError` / :class:`VendorServerError`). A send whose outcome is unknown (read
timeout after the body left) stops the chain: the customer may already have it.

One idempotency key (the task's, or ``idempotency_key``) names the logical message; step ``i`` sends
under the child key ``<key>#<i>:<vendor>`` and the store links every child to the parent key
(``logical_key``). A task retry looks the parent up first: if any vendor accepted, its message is
returned and nothing is sent again; a vendor that refused may be tried again. The returned record
carries ``logical_id`` (the parent key), which :class:`MessageDeliverySensor` waits on: complete as soon
as any vendor delivers. ``airflow-messaging status <key>`` (or ``MessageStore.logical_history``) shows
every attempt.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from airflow_provider_messaging import config
from airflow_provider_messaging.compat import AirflowException, AirflowFailException, AirflowSkipException, BaseOperator
from airflow_provider_messaging.exceptions import (
    AuthenticationError,
    MessagingError,
    PayloadValidationError,
    RateLimitError,
    SendOutcomeUnknownError,
    VendorAPIError,
    VendorServerError,
    VendorUnavailableError,
)
from airflow_provider_messaging.operators.base import MessagingSendOperator, send_record
from airflow_provider_messaging.store import MessageStore, SendStatus

if TYPE_CHECKING:
    from airflow_provider_messaging.compat import Context

#: failure kinds that move on to the next vendor
REJECTED, RATE_LIMITED, UNAVAILABLE = "rejected", "rate_limited", "unavailable"
DEFAULT_FAILOVER_ON = (REJECTED, RATE_LIMITED, UNAVAILABLE)


def failover_step(operator: type[MessagingSendOperator] | str, **kwargs: Any) -> dict[str, Any]:
    """One ranked step: a send operator class (or its dotted path) and its arguments (templated)."""
    path = operator if isinstance(operator, str) else f"{operator.__module__}.{operator.__qualname__}"
    return {"operator": path, "kwargs": kwargs}


def classify(error: Exception) -> str | None:
    """The failover kind of a send error, or None when it must stop the chain (unknown outcome)."""
    if isinstance(error, SendOutcomeUnknownError):
        return None
    if isinstance(error, RateLimitError):
        return RATE_LIMITED
    if isinstance(error, (VendorUnavailableError, VendorServerError)):
        return UNAVAILABLE
    if isinstance(error, (AuthenticationError, VendorAPIError, MessagingError)):
        return REJECTED
    return None


class FailoverSendOperator(BaseOperator):
    """Send one logical message through a ranked list of vendor steps (see the module docstring).

    :param steps: ranked :func:`failover_step` dicts (templated).
    :param idempotency_key: key of the logical message (templated); default
        ``{dag_id}/{task_id}/{run_id}/{map_index}``.
    :param failover_on: which failures move on: ``rejected``, ``rate_limited``, ``unavailable``.
    :param respect_opt_out: skip the message when the recipient opted out with ANY step's vendor.
    :param resend_unknown: send again although an earlier try's outcome is unknown (may duplicate).
    """

    template_fields: Sequence[str] = ("steps", "idempotency_key")
    template_fields_renderers = {"steps": "json"}
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        steps: list[dict[str, Any]],
        idempotency_key: str | None = None,
        failover_on: Sequence[str] = DEFAULT_FAILOVER_ON,
        respect_opt_out: bool = True,
        resend_unknown: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not steps:
            raise ValueError("steps must list at least one vendor step")
        unknown = set(failover_on) - set(DEFAULT_FAILOVER_ON)
        if unknown:
            raise ValueError(f"failover_on: unknown kinds {sorted(unknown)}; use {list(DEFAULT_FAILOVER_ON)}")
        self.steps = steps
        self.idempotency_key = idempotency_key
        self.failover_on = tuple(failover_on)
        self.respect_opt_out = respect_opt_out
        self.resend_unknown = resend_unknown

    @cached_property
    def store(self) -> MessageStore:
        return config.get_store()

    def step_operators(self) -> list[MessagingSendOperator]:
        """The steps as (unattached) operator instances, built from the rendered arguments."""
        operators = []
        for index, step in enumerate(self.steps):
            module, _, name = str(step["operator"]).rpartition(".")
            cls = getattr(importlib.import_module(module), name)
            if not (isinstance(cls, type) and issubclass(cls, MessagingSendOperator)):
                raise AirflowFailException(f"steps.{index}: {step['operator']} is not a messaging send operator")
            kwargs = dict(step.get("kwargs") or {})
            kwargs.pop("recipients", None)  # bulk mode is not a failover step
            operators.append(cls(task_id=f"{self.task_id}__step{index}", **kwargs))
        return operators

    def _key(self, context: Context) -> str:
        if self.idempotency_key:
            return str(self.idempotency_key)
        ti = context["ti"]
        return f"{ti.dag_id}/{ti.task_id}/{ti.run_id}/{getattr(ti, 'map_index', -1)}"

    def execute(self, context: Context) -> dict[str, Any]:
        operators = self.step_operators()
        payloads: list[BaseModel] = []
        problems = []
        for index, operator in enumerate(operators):
            try:
                payloads.append(operator.build_payload())
            except PayloadValidationError as invalid:
                problems.append(f"steps.{index} ({operator.vendor}): {invalid}")
        if problems:
            raise AirflowFailException("Nothing was sent; invalid input:\n" + "\n".join(problems))
        key = self._key(context)
        recipients = [op.recipient_of(p) for op, p in zip(operators, payloads, strict=True)]
        if self.respect_opt_out:
            for operator, recipient in zip(operators, recipients, strict=True):
                if self.store.is_opted_out(operator.vendor, recipient):
                    raise AirflowSkipException(f"{recipient} opted out of {operator.vendor} messages (STOP); not sent")

        # A retry (or a second run under the same key) finds what an earlier try did.
        for earlier in self.store.logical_history(key):
            if earlier["send_status"] == SendStatus.ACCEPTED:
                self.log.info("Already sent under key %s via %s as %s", key, earlier["vendor"], earlier["message_id"])
                return self._record(key, earlier["vendor"], recipients[earlier["attempt"]], earlier)
            if earlier["send_status"] in (SendStatus.UNKNOWN, SendStatus.RESERVED) and not self.resend_unknown:
                raise AirflowFailException(
                    f"An earlier send of {key!r} via {earlier['vendor']} has an unknown outcome: it may have reached "
                    "the customer, so no vendor is tried again. Re-run with resend_unknown=True to send anyway."
                )

        ti = context["ti"]
        transient = False
        for index, (operator, payload, recipient) in enumerate(zip(operators, payloads, recipients, strict=True)):
            child = f"{key}#{index}:{operator.vendor}"
            reservation = self.store.reserve_send(
                idempotency_key=child,
                vendor=operator.vendor,
                recipient=recipient,
                channels=operator.cascade_of(payload),
                dag_id=ti.dag_id,
                task_id=ti.task_id,
                run_id=ti.run_id,
                map_index=getattr(ti, "map_index", None),
                resend_unknown=self.resend_unknown,
                logical_key=key,
                attempt=index,
            )
            if not reservation.send:  # a concurrent try got there first
                raise AirflowFailException(f"{child} is being sent by another try; not sending twice")
            try:
                message_id = operator.send_payload(payload)
            except Exception as error:
                kind = classify(error)
                self.store.fail_send(child, f"{type(error).__name__}: {error}", outcome_unknown=kind is None)
                if kind is None:
                    if isinstance(error, SendOutcomeUnknownError):
                        raise AirflowFailException(f"Send outcome unknown via {operator.vendor}: {error}") from error
                    raise
                transient = transient or kind in (RATE_LIMITED, UNAVAILABLE)
                if kind not in self.failover_on:
                    raise (AirflowException if kind != REJECTED else AirflowFailException)(
                        f"{operator.vendor} did not take the message ({kind}): {error}"
                    ) from error
                self.log.warning(
                    "%s did not take the message (%s: %s); trying the next vendor", operator.vendor, kind, error
                )
                continue
            status = self.store.complete_send(child, message_id)
            self.log.info("Sent %s via %s (step %d) as %s", key, operator.vendor, index, message_id)
            history = {"message_id": message_id, "state": status.state.value, "channels": status.channels}
            return self._record(key, operator.vendor, recipient, history)

        attempts = self.store.logical_history(key)
        lines = "\n".join(f"  {a['attempt']}. {a['vendor']}: {a['error']}" for a in attempts)
        message = f"No vendor took {key!r}:\n{lines}"
        if transient:  # a vendor was down or rate-limited: an Airflow retry may succeed
            raise AirflowException(message)
        raise AirflowFailException(message)

    def _record(self, key: str, vendor: str, recipient: str, sent: dict[str, Any]) -> dict[str, Any]:
        record = send_record(
            vendor,
            recipient,
            key,
            message_id=sent["message_id"],
            status=sent["state"],
            channels=sent.get("channels") or (),
        )
        record["logical_id"] = key
        record["attempts"] = [
            {k: a[k] for k in ("attempt", "vendor", "idempotency_key", "message_id", "send_status", "error")}
            for a in self.store.logical_history(key)
        ]
        return record
