"""The base of every send operator: build the vendor payload, hand it to the send ledger, return the record.

Operators are thin: a subclass builds its payload model and names its hook (which fills the vendor's defaults);
:mod:`airflow_provider_messaging.sending` owns the idempotent send for single sends, bulk mode and failover.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from abc import abstractmethod
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from airflow_provider_messaging import config
from airflow_provider_messaging.compat import AirflowException, AirflowFailException, BaseOperator
from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.models.types import normalize_recipient
from airflow_provider_messaging.operators.campaign import (
    CampaignInputError,
    Row,
    Tally,
    campaign_handle,
    count_rows,
    fill,
    in_chunk,
    read_rows,
)
from airflow_provider_messaging.operators.rate_limit import RateLimiter
from airflow_provider_messaging.policies.model import SendingPolicy
from airflow_provider_messaging.sending import (
    Origin,
    Outcome,
    SendLedger,
    SendRequest,
    SendResult,
    bulk_key,
    raise_for_airflow,
    task_key,
)

if TYPE_CHECKING:
    from airflow_provider_messaging.compat import Context
    from airflow_provider_messaging.store import MessageStore

SKIPPED_OPT_OUT = "SKIPPED_OPT_OUT"
FAILED = "FAILED"

PayloadT = TypeVar("PayloadT", bound=BaseModel)  # the vendor request model, e.g. ``OmnichannelRequest``


class MessagingSendOperator(BaseOperator, Generic[PayloadT]):
    """Base of the send operators, generic over the payload model the subclass builds (vendor modules).

    :param idempotency_key: key that makes the send happen once (templated). Default
        ``{dag_id}/{task_id}/{run_id}/{map_index}``; in bulk mode ``/{recipient}`` is appended.
    :param respect_opt_out: skip recipients who opted out with a STOP keyword (default True).
    :param resend_unknown: send again although an earlier try's outcome is unknown (may duplicate).
    :param recipients: bulk mode: send the same message to each of these numbers from one task (templated).
    :param max_concurrency: parallel sends in bulk mode.
    :param fail_on_any_failure: in bulk mode, fail the task (after sending to everyone else) when a
        recipient failed; a retry then re-sends only the failed recipients.
    :param recipients_file: campaign mode: a CSV (with a header) or JSON Lines file of recipients, each
        with its template values (``{name}`` placeholders in the message), streamed (templated).
    :param campaign_id: campaign mode: the campaign's id (templated; default ``dag_id/task_id/run_id``).
        With ``recipients_file`` or ``campaign_id`` the task returns a small campaign handle instead of a
        record per recipient; see :mod:`airflow_provider_messaging.operators.campaign`.
    :param chunk: campaign mode: ``{"index": i, "of": n}`` from :func:`campaign_chunks`, to split one
        campaign over mapped tasks.
    :param policy: sending policy (README: Sending policies): local-time windows per message type and
        frequency caps, as a :class:`~airflow_provider_messaging.policies.SendingPolicy` or a dict
        (templated). It overrides the connection extra ``sending_policy`` and ``[messaging] sending_policy``.
        A send whose window is closed defers (no worker slot held) and sends when it opens; a capped
        recipient is skipped with the reason in the record.
    :param message_category: the type the policy decides by (templated); default Telesign's
        ``message_type`` (ARN/MKT/OTP), none for Aerialink (the policy's ``"*"`` rules apply).
    :param dry_run: render, validate, apply opt-outs and the policy, compute SMS segments and return
        what would be sent to whom and when: nothing is sent and nothing is reserved.
    """

    vendor: ClassVar[str] = ""
    base_template_fields: ClassVar[tuple[str, ...]] = (
        "idempotency_key",
        "recipients",
        "recipients_file",
        "campaign_id",
        "policy",
        "message_category",
    )
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        idempotency_key: str | None = None,
        respect_opt_out: bool = True,
        resend_unknown: bool = False,
        recipients: list[str] | None = None,
        max_concurrency: int = 8,
        fail_on_any_failure: bool = True,
        recipients_file: str | None = None,
        campaign_id: str | None = None,
        chunk: dict[str, int] | None = None,
        policy: SendingPolicy | dict[str, Any] | None = None,
        message_category: str | None = None,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.recipients_file = recipients_file
        self.campaign_id = campaign_id
        self.chunk = chunk
        # kept as plain data: operator arguments are serialized with the DAG
        self.policy = policy.to_dict() if isinstance(policy, SendingPolicy) else policy
        self.message_category = message_category
        # not ``self.dry_run``: BaseOperator.dry_run() is a method (render templates, log them)
        self.dry_run_only = dry_run
        self._resolved_policy: SendingPolicy | None = None
        self.idempotency_key = idempotency_key
        self.respect_opt_out = respect_opt_out
        self.resend_unknown = resend_unknown
        self.recipients = recipients
        self.max_concurrency = max_concurrency
        self.fail_on_any_failure = fail_on_any_failure

    # ---- what a vendor operator provides
    @abstractmethod
    def build_payload(self, recipient: str | None = None) -> PayloadT:
        """The validated vendor payload, for ``recipient`` in bulk mode (raises PayloadValidationError)."""

    @abstractmethod
    def recipient_of(self, payload: PayloadT) -> str: ...

    @abstractmethod
    def cascade_of(self, payload: PayloadT) -> list[str]: ...

    @abstractmethod
    def send_payload(self, payload: PayloadT) -> str:
        """Send through the hook; return the vendor message id."""

    @property
    def rate_limit(self) -> float | None:
        return None

    def message_category_of(self, payload: PayloadT) -> str | None:
        """The message type / category the sending policy decides ``payload`` by."""
        return self.message_category

    def resolve_policy(self) -> SendingPolicy | None:
        """``policy`` over the connection extra over ``[messaging]``; None when it never delays or skips."""
        from airflow_provider_messaging.policies import resolve_policy

        extras: dict[str, Any] = {}
        hook = getattr(self, "hook", None)
        if hook is not None:
            try:
                extras = dict(hook.settings.extras)
            except Exception as exc:  # a dry run may preview without a usable connection
                if not self.dry_run_only:
                    raise
                self.log.warning("Connection extras not read (%s): policy from policy= and [messaging] only", exc)
        try:
            policy = resolve_policy(self.policy, extras=extras)
        except PayloadValidationError as invalid:
            raise AirflowFailException(str(invalid)) from invalid
        return None if policy.is_empty else policy

    # ---- the shared flow
    @cached_property
    def store(self) -> MessageStore:
        return config.get_store()

    def ledger(self) -> SendLedger:
        return SendLedger(
            self.store,
            respect_opt_out=self.respect_opt_out,
            resend_unknown=self.resend_unknown,
            logger=self.log,
            policy=self._resolved_policy,
        )

    def _base_key(self, context: Context) -> str:
        return str(self.idempotency_key) if self.idempotency_key else task_key(context["ti"])

    def send_request(self, payload: PayloadT, key: str, context: Context) -> SendRequest:
        """The ledger's request for ``payload`` under ``key``."""
        return SendRequest(
            key=key,
            vendor=self.vendor,
            recipient=self.recipient_of(payload),
            channels=tuple(self.cascade_of(payload)),
            send=lambda: self.send_payload(payload),
            origin=Origin.of(context["ti"]),
            message_type=self.message_category_of(payload),
        )

    def execute(self, context: Context) -> Any:
        self._resolved_policy = self.resolve_policy()
        if self.dry_run_only:
            return self._execute_dry_run(context)
        if self.recipients_file or self.campaign_id or self.chunk:
            return self._execute_campaign(context)
        if self.recipients is not None:
            return self._execute_bulk(context)
        try:
            payload = self.build_payload()
        except PayloadValidationError as invalid:
            raise AirflowFailException(str(invalid)) from invalid
        result = self.ledger().send(self.send_request(payload, self._base_key(context), context))
        self._log_result(result)
        if result.outcome is Outcome.WAITING and result.send_at is not None:
            self._defer_until(result.send_at, result.error or "the recipient's window is closed")
        raise_for_airflow(result)
        return result.record()

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resumed when the recipient's window opened: decide again (fresh caps) and send."""
        return self.execute(context)

    def _defer_until(self, moment: datetime, reason: str) -> None:
        from airflow_provider_messaging.compat import DateTimeTrigger

        self.log.info("%s: deferring until %s (no worker slot held)", reason, moment.isoformat())
        self.defer(trigger=DateTimeTrigger(moment=moment), method_name="execute_complete")

    def dry_run_result(self, context: Context) -> Any:
        """The dry run of this task with the given (rendered) context: see ``dry_run``."""
        self._resolved_policy = self.resolve_policy()
        return self._execute_dry_run(context)

    #: a campaign's dry run previews this many recipients (the file may hold millions)
    DRY_RUN_CAMPAIGN_ROWS = 20

    def _campaign_preview_payloads(self) -> list[PayloadT]:
        from itertools import islice

        source: Any = self.recipients_file or self.recipients
        if source is None:
            raise AirflowFailException("campaign mode needs recipients_file or recipients")
        if isinstance(source, str) and not self.recipients_file:
            source = self._recipient_list()
        try:
            rows = list(islice((r for r in read_rows(source) if in_chunk(r, self.chunk)), self.DRY_RUN_CAMPAIGN_ROWS))
            return [self._personalized(row) for row in rows]
        except (CampaignInputError, PayloadValidationError) as invalid:
            raise AirflowFailException(str(invalid)) from invalid

    def _execute_dry_run(self, context: Context) -> Any:
        """What would be sent to whom and when; sends nothing and reserves nothing."""
        from airflow_provider_messaging.models.preview import preview
        from airflow_provider_messaging.policies import Skip

        campaign = bool(self.recipients_file or self.campaign_id or self.chunk)
        bulk = campaign or self.recipients is not None
        if campaign:
            payloads = self._campaign_preview_payloads()
        elif bulk:
            payloads = self._bulk_payloads()
        else:
            try:
                payloads = [self.build_payload()]
            except PayloadValidationError as invalid:
                raise AirflowFailException(str(invalid)) from invalid
        base = self._base_key(context)
        ledger = self.ledger()
        out: list[dict[str, Any]] = []
        for payload in payloads:
            recipient = self.recipient_of(payload)
            request = self.send_request(payload, bulk_key(base, recipient) if bulk else base, context)
            if self.respect_opt_out and self.store.is_opted_out(self.vendor, recipient):
                decision: Any = Skip("opted_out", f"{recipient} opted out of {self.vendor} messages")
            else:
                decision, _ = ledger.admission(request)
            view = preview(payload)
            for line in view.lines():
                self.log.info("[dry run] %s", line)
            self.log.info("[dry run]   decision: %s", getattr(decision, "reason", "send now"))
            out.append(
                {"dry_run": True, "idempotency_key": request.key, "decision": decision.to_dict(), **view.to_dict()}
            )
        return out if bulk else out[0]

    def _log_result(self, result: SendResult) -> None:
        if result.outcome is Outcome.ACCEPTED:
            self.log.info(
                "Sent %s message %s to %s (key %s)", result.vendor, result.message_id, result.recipient, result.key
            )
        elif result.outcome is Outcome.ALREADY_SENT:
            self.log.info("Already sent under key %s as %s: not sending again", result.key, result.message_id)

    def _recipient_list(self) -> list[str]:
        """``recipients`` as a list of strings.

        A Jinja template renders to a string (``"['1555...', '1555...']"``) unless the DAG renders native
        objects; such a string is read as a Python/JSON list, or else as comma/whitespace separated numbers,
        never iterated character by character.
        """
        value: Any = self.recipients
        if isinstance(value, str):
            text = value.strip()
            if text.startswith(("[", "(")):
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    raise AirflowFailException(f"recipients is not a list: {text[:200]!r}") from None
            else:
                value = [part for part in re.split(r"[,;\s]+", text) if part]
        if not isinstance(value, (list, tuple, set)):
            raise AirflowFailException(f"recipients must be a list of phone numbers, got {type(value).__name__}")
        return [str(r) for r in value]

    def _bulk_payloads(self) -> list[PayloadT]:
        """Every recipient's payload, validated before anything is sent (one message per number)."""
        payloads: list[PayloadT] = []
        problems: list[str] = []
        seen: set[str] = set()
        for index, recipient in enumerate(self._recipient_list()):
            try:
                payload = self.build_payload(recipient)
            except PayloadValidationError as invalid:
                problems.append(f"recipients.{index} ({recipient}): {invalid}")
                continue
            # One message per number: a repeated number would race for the same idempotency key.
            number = normalize_recipient(self.recipient_of(payload))
            if number in seen:
                self.log.warning("recipients.%d (%s) is listed twice; sending once", index, recipient)
                continue
            seen.add(number)
            payloads.append(payload)
        if problems:
            raise AirflowFailException("Nothing was sent; invalid input:\n" + "\n".join(problems))
        return payloads

    def _execute_bulk(self, context: Context) -> list[dict[str, Any]]:
        payloads = self._bulk_payloads()
        base = self._base_key(context)
        limiter = RateLimiter(self.rate_limit) if self.rate_limit else None

        def requests() -> Iterator[SendRequest]:
            for payload in payloads:
                yield self.send_request(payload, bulk_key(base, self.recipient_of(payload)), context)

        order = {self.recipient_of(p): i for i, p in enumerate(payloads)}
        results = sorted(
            self.ledger().send_many(requests(), concurrency=self.max_concurrency, limiter=limiter),
            key=lambda r: order.get(r.recipient, len(order)),
        )
        records = [r.record() for r in results]
        waiting = [r for r in results if r.outcome is Outcome.WAITING]
        failed = [r for r in results if r.outcome.failed]
        skipped = Counter(r.skip_code or "opted_out" for r in results if r.outcome is Outcome.SKIPPED)
        self.log.info(
            "Bulk send: %d recipients, %d sent, %d skipped (%s), %d waiting for their window, %d failed",
            len(records),
            len(records) - len(failed) - sum(skipped.values()) - len(waiting),
            sum(skipped.values()),
            ", ".join(f"{n} {code}" for code, n in sorted(skipped.items())) or "none",
            len(waiting),
            len(failed),
        )
        if self._resolved_policy is not None:
            context["ti"].xcom_push(key="waiting", value=len(waiting))  # the handle: how many wait
        if waiting and not (failed and self.fail_on_any_failure):
            # every recipient goes when its own window opens: sleep (deferred) until the next one does;
            # on resume, recipients already sent return their records and are not sent again
            first = min(r.send_at for r in waiting if r.send_at is not None)
            self._defer_until(first, f"{len(waiting)} recipient(s) wait for their window")
        if failed and self.fail_on_any_failure:
            context["ti"].xcom_push(key="records", value=records)
            lines = "\n".join(f"  {r.recipient}: {r.error}" for r in failed)
            message = f"{len(failed)} of {len(records)} recipients failed (others were sent):\n{lines}"
            # Retry only when some failure is transient: a retry re-sends just the failed recipients,
            # and re-sending a vendor rejection or an unknown outcome cannot help.
            if any(r.outcome in (Outcome.TRANSIENT, Outcome.IN_FLIGHT) for r in failed):
                raise AirflowException(message)
            raise AirflowFailException(message)
        return records

    # ---- campaign mode
    def _campaign_id(self, context: Context) -> str:
        if self.campaign_id:
            return str(self.campaign_id)
        ti = context["ti"]
        return f"{ti.dag_id}/{ti.task_id}/{ti.run_id}"

    def _personalized(self, row: Row) -> PayloadT:
        payload = self.build_payload(row.recipient)
        if not row.values:
            return payload
        from airflow_provider_messaging.models.base import validate

        data = payload.model_dump(mode="json", by_alias=True, exclude_none=True)
        return validate(type(payload), fill(data, row.values))

    def _execute_campaign(self, context: Context) -> dict[str, Any]:
        source: Any = self.recipients_file or self.recipients
        if source is None:
            raise AirflowFailException("campaign mode needs recipients_file or recipients")
        if isinstance(source, str) and not self.recipients_file:
            source = self._recipient_list()
        campaign_id = self._campaign_id(context)
        expected = count_rows(source)
        if expected is not None and self.chunk:
            expected = len(range(int(self.chunk["index"]), expected, int(self.chunk["of"])))
        tally = Tally(campaign_id, self.vendor, expected, self.log)
        limiter = RateLimiter(self.rate_limit) if self.rate_limit else None

        def requests() -> Iterator[SendRequest]:
            try:
                for row in read_rows(source):
                    if not in_chunk(row, self.chunk):
                        continue
                    try:
                        payload = self._personalized(row)
                    except PayloadValidationError as invalid:
                        tally.add("invalid", row.recipient, f"row {row.index}: {invalid}")
                        continue
                    request = self.send_request(payload, f"{campaign_id}/{self.recipient_of(payload)}", context)
                    yield dataclasses.replace(request, campaign_id=campaign_id)
            except CampaignInputError as bad:
                raise AirflowFailException(str(bad)) from bad

        self.log.info("Campaign %s: sending to %s recipients", campaign_id, f"{expected:,}" if expected else "streamed")
        next_window: datetime | None = None
        for result in self.ledger().send_many(requests(), concurrency=self.max_concurrency, limiter=limiter):
            tally.add(result.outcome.value, result.recipient, result.error if result.outcome.failed else None)
            if result.outcome is Outcome.WAITING and result.send_at is not None:
                next_window = result.send_at if next_window is None else min(next_window, result.send_at)
        tally.report()
        handle = campaign_handle(tally, self.chunk)
        failed = {k: v for k, v in tally.counts.items() if k == "invalid" or Outcome(k).failed}
        if failed and self.fail_on_any_failure:
            context["ti"].xcom_push(key="campaign", value=handle)
            message = f"Campaign {campaign_id}: {sum(failed.values())} of {tally.done} recipients not sent ({failed})"
            if set(failed) & {Outcome.TRANSIENT.value, Outcome.IN_FLIGHT.value}:
                raise AirflowException(
                    message + "; a retry sends only those with no record (in-flight ones once their lease ends)"
                )
            raise AirflowFailException(message)
        if next_window is not None:
            # the handle's counts say how many wait ("waiting"); each goes when its own window opens
            context["ti"].xcom_push(key="campaign", value=handle)
            self._defer_until(next_window, f"Campaign {campaign_id}: {tally.counts['waiting']} recipient(s) wait")
        return handle
