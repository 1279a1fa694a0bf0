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
(``logical_key``). The send ledger (:meth:`SendLedger.send_failover`) decides each step's reservation
under a lock on the logical key, over every step's record: while one vendor's send is in flight,
accepted, or of unknown outcome, no concurrent or later try sends through any vendor; a vendor that
definitely refused may be tried again by a retry. The returned record carries ``logical_id`` (the
parent key), which :class:`MessageDeliverySensor` waits on: complete as soon as any vendor delivers.
``airflow-messaging status <key>`` (or ``MessageStore.logical_history``) shows every attempt.

A sending policy (``policy=``, README: Sending policies) decides once per logical message, by
``message_category`` (default: the first step's category, e.g. Telesign's ``message_type``), with the
first step's connection extra and ``[messaging]`` as defaults: a cap counts the logical message once,
and a closed window defers the task until it opens (a ``DateTimeTrigger``), then the chain runs.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from airflow_provider_messaging import config
from airflow_provider_messaging.compat import AirflowFailException, BaseOperator
from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.operators.base import MessagingSendOperator
from airflow_provider_messaging.policies.model import SendingPolicy
from airflow_provider_messaging.sending import (
    FailureKind,
    Outcome,
    SendLedger,
    failover_key,
    raise_for_airflow,
    task_key,
)

if TYPE_CHECKING:
    from airflow_provider_messaging.compat import Context
    from airflow_provider_messaging.store import MessageStore

#: failure kinds that move on to the next vendor
REJECTED, RATE_LIMITED, UNAVAILABLE = (k.value for k in FailureKind)
DEFAULT_FAILOVER_ON = (REJECTED, RATE_LIMITED, UNAVAILABLE)


def failover_step(operator: type[MessagingSendOperator] | str, **kwargs: Any) -> dict[str, Any]:
    """One ranked step: a send operator class (or its dotted path) and its arguments (templated)."""
    path = operator if isinstance(operator, str) else f"{operator.__module__}.{operator.__qualname__}"
    return {"operator": path, "kwargs": kwargs}


class FailoverSendOperator(BaseOperator):
    """Send one logical message through a ranked list of vendor steps (see the module docstring).

    :param steps: ranked :func:`failover_step` dicts (templated).
    :param idempotency_key: key of the logical message (templated); default
        ``{dag_id}/{task_id}/{run_id}/{map_index}``.
    :param failover_on: which failures move on: ``rejected``, ``rate_limited``, ``unavailable``.
    :param respect_opt_out: skip the message when the recipient opted out with ANY step's vendor.
    :param resend_unknown: send again although an earlier try's outcome is unknown (may duplicate).
    :param policy: sending policy of the logical message (templated); overrides the first step's
        connection extra ``sending_policy`` and ``[messaging] sending_policy``.
    :param message_category: the type the policy decides by (templated); default the first step's.
    """

    template_fields: Sequence[str] = ("steps", "idempotency_key", "policy", "message_category")
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
        policy: SendingPolicy | dict[str, Any] | None = None,
        message_category: str | None = None,
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
        # kept as plain data: operator arguments are serialized with the DAG
        self.policy = policy.to_dict() if isinstance(policy, SendingPolicy) else policy
        self.message_category = message_category

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
        key = str(self.idempotency_key) if self.idempotency_key else task_key(context["ti"])
        steps = [
            operator.send_request(payload, failover_key(key, index, operator.vendor), context)
            for index, (operator, payload) in enumerate(zip(operators, payloads, strict=True))
        ]
        if self.message_category:
            steps = [dataclasses.replace(step, message_type=str(self.message_category)) for step in steps]
        ledger = SendLedger(
            self.store,
            respect_opt_out=self.respect_opt_out,
            resend_unknown=self.resend_unknown,
            logger=self.log,
            policy=self._resolve_policy(operators[0]),
        )
        result = ledger.send_failover(key, steps, failover_on=[FailureKind(k) for k in self.failover_on])
        if result.outcome is Outcome.WAITING and result.send_at is not None:
            self._defer_until(result.send_at, result.error or "the recipient's window is closed")
        if result.outcome is Outcome.ACCEPTED:
            self.log.info("Sent %s via %s as %s", key, result.vendor, result.message_id)
        elif result.outcome is Outcome.ALREADY_SENT:
            self.log.info("Already sent under key %s via %s as %s", key, result.vendor, result.message_id)
        raise_for_airflow(result)
        record = result.record()
        record["idempotency_key"] = key
        record["logical_id"] = key
        record["attempts"] = result.attempts
        return record

    def _resolve_policy(self, first: MessagingSendOperator) -> SendingPolicy | None:
        """``policy`` (or the first step's own) over the first step's connection extra over ``[messaging]``."""
        if self.policy is not None:
            first.policy = self.policy
        return first.resolve_policy()

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resumed when the recipient's window opened: decide again (fresh caps) and send."""
        return self.execute(context)

    def _defer_until(self, moment: datetime, reason: str) -> None:
        from airflow_provider_messaging.compat import DateTimeTrigger

        self.log.info("%s: deferring until %s (no worker slot held)", reason, moment.isoformat())
        self.defer(trigger=DateTimeTrigger(moment=moment), method_name="execute_complete")
