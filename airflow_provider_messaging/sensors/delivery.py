"""MessageDeliverySensor: wait, without holding a worker slot, until messages are delivered or have failed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from airflow_provider_messaging import config
from airflow_provider_messaging.compat import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
)
from airflow_provider_messaging.models.status import MessageStatus
from airflow_provider_messaging.models.waiting import DeliveryCriteria
from airflow_provider_messaging.sensors._ids import campaign_ids_from, message_ids_from
from airflow_provider_messaging.triggers.delivery import MessageDeliveryTrigger

if TYPE_CHECKING:
    from airflow_provider_messaging.compat import Context


class MessageDeliverySensor(BaseSensorOperator):
    """Succeeds when a message is delivered (or read) on any channel of its cascade; fails when every
    channel failed (skips instead with ``soft_fail``); fails on ``timeout`` with the last known state.

    :param message_id: vendor message id, an operator's XCom record, or a list of them from a mapped or
        bulk send (templated; pass ``send.output`` to get the records as objects). A
        :class:`~airflow_provider_messaging.operators.failover.FailoverSendOperator` record (or its
        ``logical_id``) waits on the logical message: complete as soon as any vendor delivers. A campaign
        handle (or the handles of mapped chunks) waits on the campaign's sent messages, counted with one
        aggregate query per poll.
    :param vendor: optional vendor name (informational; ids are unique across vendors).
    :param success_states: states that count as success (default DELIVERED, READ; add SENT where the
        destination gives no receipts).
    :param fail_on_fallback: fail when only a fallback channel delivered.
    :param match: for lists, ``all`` (default) or ``any``.
    :param min_delivered_ratio: with ``match="all"``, the share that must succeed (default 1.0).
    :param poll_interval: seconds between store reads (default ``[messaging] poll_interval``).
    :param deferrable: wait in the triggerer without holding a worker slot (default True, whatever
        ``[operators] default_deferrable`` says); False waits in ``poke`` or ``reschedule`` ``mode``.
    """

    template_fields: Sequence[str] = ("message_id", "vendor")
    ui_color = "#fdf5e8"

    def __init__(
        self,
        *,
        message_id: Any,
        vendor: str | None = None,
        success_states: Sequence[str] = ("DELIVERED", "READ"),
        fail_on_fallback: bool = False,
        match: str = "all",
        min_delivered_ratio: float = 1.0,
        poll_interval: float | None = None,
        deferrable: bool = True,
        store_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        interval = config.poll_interval(poll_interval)
        kwargs.setdefault("poke_interval", interval)
        super().__init__(**kwargs)
        self.message_id = message_id
        self.vendor = vendor
        self.criteria = DeliveryCriteria(
            success_states=tuple(success_states),
            fail_on_fallback=fail_on_fallback,
            match=match,
            min_delivered_ratio=min_delivered_ratio,
        )
        self.poll_interval = interval
        self.deferrable = deferrable
        self.store_url = store_url
        self._ids: list[str] = []
        self._campaigns: list[str] = []
        self._campaign_counts: list[dict[str, Any]] = []
        self._last: dict[str, MessageStatus] = {}

    def _read(self) -> tuple[bool, bool, str]:
        store = config.get_store(self.store_url)
        if self._campaigns:
            counts = store.campaign_counts(self._campaigns)
            self._campaign_counts = [c.to_dict() for c in counts.values()]
            verdict = self.criteria.evaluate_campaign([g for c in counts.values() for g in c.groups])
            return verdict.done, verdict.success, verdict.reason
        self._last = store.get_statuses(self._ids)
        verdict = self.criteria.evaluate(self._ids, self._last)
        return verdict.done, verdict.success, verdict.reason

    def _campaign_result(self, reason: str) -> dict[str, Any]:
        return {"campaign_ids": self._campaigns, "campaigns": self._campaign_counts, "reason": reason}

    def _result(self, messages: list[dict[str, Any]]) -> Any:
        return messages[0] if len(self._ids) == 1 and messages else messages

    def _fail(self, reason: str) -> NoReturn:
        if self.soft_fail:
            raise AirflowSkipException(reason)
        raise AirflowFailException(reason)

    def _last_state(self) -> str:
        if self._campaigns:
            return "; ".join(f"{c['campaign_id']}: {c['by_state']}" for c in self._campaign_counts) or "nothing yet"
        if not self._last:
            return "no delivery report stored yet"
        return "; ".join(f"{m}: {s.state.value}" for m, s in self._last.items())

    def execute(self, context: Context) -> Any:
        self._campaigns = campaign_ids_from(self.message_id)
        if self._campaigns:
            self._ids = []
            sent = sum(c.sent for c in config.get_store(self.store_url).campaign_counts(self._campaigns).values())
            if not sent:
                raise AirflowSkipException(f"no message to wait for in campaign {', '.join(self._campaigns)}")
            self.log.info("Waiting for %d message(s) of campaign %s", sent, ", ".join(self._campaigns))
        else:
            self._ids = message_ids_from(self.message_id, logical=True)
            if not self._ids:
                raise AirflowSkipException("no message to wait for (nothing was sent)")
            self.log.info("Waiting for %d message(s): %s", len(self._ids), ", ".join(self._ids[:10]))
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout as timeout:
                raise AirflowSensorTimeout(f"{timeout}; last known state: {self._last_state()}") from timeout
        done, success, reason = self._read()
        if done:
            return self._finish(success, reason)
        self.defer(
            trigger=MessageDeliveryTrigger(
                message_ids=self._ids,
                criteria=self.criteria.to_dict(),
                poll_interval=self.poll_interval,
                timeout_at=time.time() + float(self.timeout),
                store_url=self.store_url,
                campaign_ids=self._campaigns,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)),
        )

    def poke(self, context: Context) -> PokeReturnValue | bool:
        done, success, reason = self._read()
        if not done:
            self.log.info("Not complete yet: %s (%s)", reason, self._last_state())
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._finish(success, reason))

    def _finish(self, success: bool, reason: str) -> Any:
        messages = [self._last[m].to_dict() for m in self._ids if m in self._last]
        if not success:
            self._fail(reason)
        self.log.info("Delivery complete: %s", reason)
        return self._campaign_result(reason) if self._campaigns else self._result(messages)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        if event.get("campaigns") is not None:
            return self._campaign_complete(event)
        self._ids = list(event.get("message_ids") or message_ids_from(self.message_id, logical=True))
        messages = list(event.get("messages") or [])
        status = event.get("status")
        if status == "success":
            self.log.info("Delivery complete: %s", event.get("reason"))
            return self._result(messages)
        if status == "timeout":
            last = "; ".join(f"{m['message_id']}: {m['state']}" for m in messages) or "no delivery report stored"
            message = f"Timed out after {self.timeout}s waiting for delivery; last known state: {last}"
            if self.soft_fail:
                raise AirflowSkipException(message)
            raise AirflowSensorTimeout(message)
        self._fail(str(event.get("reason") or "delivery failed"))

    def _campaign_complete(self, event: dict[str, Any]) -> Any:
        self._campaigns = campaign_ids_from(self.message_id)
        self._campaign_counts = list(event["campaigns"])
        reason = str(event.get("reason") or "")
        if event.get("status") == "success":
            self.log.info("Delivery complete: %s", reason)
            return self._campaign_result(reason)
        if event.get("status") == "timeout":
            message = f"Timed out after {self.timeout}s waiting for delivery; last known state: {self._last_state()}"
            if self.soft_fail:
                raise AirflowSkipException(message)
            raise AirflowSensorTimeout(message)
        self._fail(reason or "delivery failed")
