"""The send flow shared by every operator: validate -> opt-out check -> reserve -> send -> record.

Operators are thin: a subclass only builds its vendor payload and names its hook. The idempotency key
is written to the store before the HTTP call and completed with the vendor id after it, so a task
retry returns the recorded message instead of texting the customer twice.
"""

from __future__ import annotations

import ast
import re
from abc import abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from airflow_provider_messaging import config
from airflow_provider_messaging.compat import AirflowException, AirflowFailException, AirflowSkipException, BaseOperator
from airflow_provider_messaging.exceptions import (
    MessagingError,
    PayloadValidationError,
    RateLimitError,
    SendOutcomeUnknownError,
    VendorAPIError,
    VendorServerError,
    VendorUnavailableError,
)
from airflow_provider_messaging.models.status import normalize_recipient
from airflow_provider_messaging.operators.rate_limit import RateLimiter
from airflow_provider_messaging.store import MessageStore, SendStatus

if TYPE_CHECKING:
    from airflow_provider_messaging.compat import Context

SKIPPED_OPT_OUT = "SKIPPED_OPT_OUT"
FAILED = "FAILED"


def send_record(
    vendor: str,
    recipient: str,
    idempotency_key: str,
    *,
    message_id: str | None = None,
    status: str,
    channels: Sequence[str] = (),
    error: str | None = None,
) -> dict[str, Any]:
    """The small JSON-able record every operator returns through XCom (one per recipient in bulk mode)."""
    return {
        "vendor": vendor,
        "message_id": message_id,
        "recipient": recipient,
        "idempotency_key": idempotency_key,
        "status": status,
        "channels": list(channels),
        "error": error,
    }


class MessagingSendOperator(BaseOperator):
    """Base class of the send operators; see the vendor modules for the concrete ones.

    :param idempotency_key: key that makes the send happen once (templated). Default
        ``{dag_id}/{task_id}/{run_id}/{map_index}``; in bulk mode ``/{recipient}`` is appended.
    :param respect_opt_out: skip recipients who opted out with a STOP keyword (default True).
    :param resend_unknown: send again although an earlier try's outcome is unknown (may duplicate).
    :param recipients: bulk mode: send the same message to each of these numbers from one task (templated).
    :param max_concurrency: parallel sends in bulk mode.
    :param fail_on_any_failure: in bulk mode, fail the task (after sending to everyone else) when a
        recipient failed; a retry then re-sends only the failed recipients.
    """

    vendor: ClassVar[str] = ""
    base_template_fields: ClassVar[tuple[str, ...]] = ("idempotency_key", "recipients")
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.idempotency_key = idempotency_key
        self.respect_opt_out = respect_opt_out
        self.resend_unknown = resend_unknown
        self.recipients = recipients
        self.max_concurrency = max_concurrency
        self.fail_on_any_failure = fail_on_any_failure

    # ---- what a vendor operator provides
    @abstractmethod
    def build_payload(self, recipient: str | None = None) -> BaseModel:
        """The validated vendor payload, for ``recipient`` in bulk mode (raises PayloadValidationError)."""

    @abstractmethod
    def recipient_of(self, payload: BaseModel) -> str: ...

    @abstractmethod
    def cascade_of(self, payload: BaseModel) -> list[str]: ...

    @abstractmethod
    def send_payload(self, payload: BaseModel) -> str:
        """Send through the hook; return the vendor message id."""

    @property
    def rate_limit(self) -> float | None:
        return None

    # ---- the shared flow
    @cached_property
    def store(self) -> MessageStore:
        return config.get_store()

    def _base_key(self, context: Context) -> str:
        if self.idempotency_key:
            return str(self.idempotency_key)
        ti = context["ti"]
        return f"{ti.dag_id}/{ti.task_id}/{ti.run_id}/{getattr(ti, 'map_index', -1)}"

    def execute(self, context: Context) -> Any:
        if self.recipients is not None:
            return self._execute_bulk(context)
        try:
            payload = self.build_payload()
        except PayloadValidationError as invalid:
            raise AirflowFailException(str(invalid)) from invalid
        recipient = self.recipient_of(payload)
        key = self._base_key(context)
        if self.respect_opt_out and self.store.is_opted_out(self.vendor, recipient):
            raise AirflowSkipException(f"{recipient} opted out of {self.vendor} messages (STOP); not sent")
        record, failure = self._send_one(context, payload, recipient, key, limiter=None)
        if failure is not None:
            raise failure
        return record

    def _send_one(
        self, context: Context, payload: BaseModel, recipient: str, key: str, limiter: RateLimiter | None
    ) -> tuple[dict[str, Any], Exception | None]:
        """Send one payload under ``key``; returns the record and, on failure, the exception to raise.

        The exception type tells Airflow whether a retry is safe (AirflowException) or pointless or
        dangerous (AirflowFailException).
        """
        channels = self.cascade_of(payload)
        ti = context["ti"]
        reservation = self.store.reserve_send(
            idempotency_key=key,
            vendor=self.vendor,
            recipient=recipient,
            channels=channels,
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            run_id=ti.run_id,
            map_index=getattr(ti, "map_index", None),
            resend_unknown=self.resend_unknown,
        )
        if not reservation.send:
            existing = reservation.existing
            assert existing is not None
            if existing.send_status == SendStatus.ACCEPTED:
                self.log.info("Already sent under key %s as %s: not sending again", key, existing.message_id)
                record = send_record(
                    self.vendor,
                    recipient,
                    key,
                    message_id=existing.message_id,
                    status=existing.state.value,
                    channels=existing.channels,
                )
                return record, None
            failure: Exception = AirflowFailException(
                f"An earlier send under key {key!r} has an unknown outcome ({existing.send_status}): it may have "
                "reached the customer, so it is not sent again. Check the vendor, then re-run with "
                "resend_unknown=True to send anyway."
            )
            return self._failed(recipient, key, channels, failure)
        try:
            if limiter is not None:
                limiter.acquire()
            message_id = self.send_payload(payload)
        except SendOutcomeUnknownError as unknown:
            self.store.fail_send(key, str(unknown), outcome_unknown=True)
            failure = AirflowFailException(f"Send outcome unknown, not re-sent: {unknown}")
            return self._failed(recipient, key, channels, failure)
        except (VendorUnavailableError, RateLimitError, VendorServerError) as transient:
            self.store.fail_send(key, str(transient), outcome_unknown=False)
            failure = AirflowException(f"{self.vendor} did not take the message (retry is safe): {transient}")
            return self._failed(recipient, key, channels, failure)
        except (VendorAPIError, MessagingError) as rejected:
            self.store.fail_send(key, str(rejected), outcome_unknown=False)
            failure = AirflowFailException(f"{self.vendor} rejected the message: {rejected}")
            return self._failed(recipient, key, channels, failure)
        except Exception as unexpected:
            # Anything else (a bug, an interrupted worker) might have happened after the request left.
            self.store.fail_send(key, f"{type(unexpected).__name__}: {unexpected}", outcome_unknown=True)
            raise
        status = self.store.complete_send(key, message_id)
        self.log.info("Sent %s message %s to %s (key %s)", self.vendor, message_id, recipient, key)
        record = send_record(
            self.vendor, recipient, key, message_id=message_id, status=status.state.value, channels=channels
        )
        return record, None

    def _failed(
        self, recipient: str, key: str, channels: list[str], failure: Exception
    ) -> tuple[dict[str, Any], Exception]:
        return send_record(self.vendor, recipient, key, status=FAILED, channels=channels, error=str(failure)), failure

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

    def _execute_bulk(self, context: Context) -> list[dict[str, Any]]:
        recipients = self._recipient_list()
        payloads: list[BaseModel] = []
        problems: list[str] = []
        seen: set[str] = set()
        for index, recipient in enumerate(recipients):
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
        base = self._base_key(context)
        limiter = RateLimiter(self.rate_limit) if self.rate_limit else None

        def one(payload: BaseModel) -> tuple[dict[str, Any], Exception | None]:
            recipient = self.recipient_of(payload)
            key = f"{base}/{recipient}"
            if self.respect_opt_out and self.store.is_opted_out(self.vendor, recipient):
                return send_record(self.vendor, recipient, key, status=SKIPPED_OPT_OUT), None
            try:
                return self._send_one(context, payload, recipient, key, limiter)
            except Exception as exc:  # one recipient's surprise must not stop the others
                error = f"{type(exc).__name__}: {exc}"
                return send_record(self.vendor, recipient, key, status=FAILED, error=error), exc

        with ThreadPoolExecutor(max_workers=max(1, self.max_concurrency)) as pool:
            outcomes = list(pool.map(one, payloads))
        records = [record for record, _ in outcomes]
        failures = [failure for _, failure in outcomes if failure is not None]
        failed = [r for r in records if r["status"] == FAILED]
        skipped = sum(r["status"] == SKIPPED_OPT_OUT for r in records)
        self.log.info(
            "Bulk send: %d recipients, %d sent, %d skipped (opt-out), %d failed",
            len(records),
            len(records) - len(failed) - skipped,
            skipped,
            len(failed),
        )
        if failed and self.fail_on_any_failure:
            context["ti"].xcom_push(key="records", value=records)
            lines = "\n".join(f"  {r['recipient']}: {r['error']}" for r in failed)
            message = f"{len(failed)} of {len(records)} recipients failed (others were sent):\n{lines}"
            # Retry only when some failure is transient: a retry re-sends just the failed recipients,
            # and re-sending a vendor rejection or an unknown outcome cannot help.
            if all(isinstance(f, AirflowFailException) for f in failures):
                raise AirflowFailException(message)
            raise AirflowException(message)
        return records
