"""InboundMessageSensor: wait for a reply (a keyword, a text pattern or an RCS postback) from a number."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_messaging import config
from airflow_provider_messaging.compat import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)
from airflow_provider_messaging.sensors._ids import message_ids_from
from airflow_provider_messaging.triggers.inbound import InboundMessageTrigger, find_reply

if TYPE_CHECKING:
    from airflow_provider_messaging.compat import Context


class InboundMessageSensor(BaseSensorOperator):
    """Waits for an inbound message from ``phone_number`` and returns it (XCom).

    :param phone_number: the end user's number (templated).
    :param vendor: only messages received from this vendor.
    :param action: keyword action to wait for: ``stop``, ``help``, ``start`` or ``generic``.
    :param text_pattern: regular expression the reply text must match (case-insensitive), e.g. ``^\\s*yes\\b``.
    :param postback: RCS postback data to wait for (a tapped suggestion).
    :param after_message_id: only replies stored after this message was sent (id or XCom record);
        default: replies stored after this task started.
    """

    template_fields: Sequence[str] = (
        "phone_number",
        "vendor",
        "action",
        "text_pattern",
        "postback",
        "after_message_id",
    )
    ui_color = "#f0fde8"

    def __init__(
        self,
        *,
        phone_number: str,
        vendor: str | None = None,
        action: str | None = None,
        text_pattern: str | None = None,
        postback: str | None = None,
        after_message_id: Any = None,
        poll_interval: float | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=True),
        store_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        interval = config.poll_interval(poll_interval)
        kwargs.setdefault("poke_interval", interval)
        super().__init__(**kwargs)
        self.phone_number = phone_number
        self.vendor = vendor
        self.action = action
        self.text_pattern = text_pattern
        self.postback = postback
        self.after_message_id = after_message_id
        self.poll_interval = interval
        self.deferrable = deferrable
        self.store_url = store_url
        self._after: datetime | None = None

    def _since(self, context: Context) -> datetime:
        store = config.get_store(self.store_url)
        for message_id in message_ids_from(self.after_message_id):
            status = store.get_status(message_id)
            if status is not None and status.created_at is not None:
                return status.created_at
        start = getattr(context["ti"], "start_date", None)
        return start if isinstance(start, datetime) else datetime.now(timezone.utc)

    def _find(self) -> dict[str, Any] | None:
        record = find_reply(
            config.get_store(self.store_url),
            sender=self.phone_number,
            vendor=self.vendor,
            after=self._after,
            action=self.action,
            postback=self.postback,
            text_pattern=self.text_pattern,
        )
        return record.to_dict() if record else None

    def execute(self, context: Context) -> Any:
        # Rendered templates may leave empty strings: they mean "no filter".
        self.action = self.action or None
        self.postback = self.postback or None
        self.text_pattern = self.text_pattern or None
        self.vendor = self.vendor or None
        if self.action is not None and self.action not in ("stop", "help", "start", "generic"):
            raise AirflowFailException(f"action must be one of stop, help, start, generic; not {self.action!r}")
        self._after = self._since(context)
        if not self.deferrable:
            return super().execute(context)
        found = self._find()
        if found is not None:
            return found
        self.defer(
            trigger=InboundMessageTrigger(
                sender=self.phone_number,
                vendor=self.vendor,
                after=self._after.isoformat(),
                action=self.action,
                postback=self.postback,
                text_pattern=self.text_pattern,
                poll_interval=self.poll_interval,
                timeout_at=time.time() + float(self.timeout),
                store_url=self.store_url,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)),
        )

    def poke(self, context: Context) -> PokeReturnValue | bool:
        found = self._find()
        return PokeReturnValue(is_done=True, xcom_value=found) if found else False

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        if event.get("status") == "success":
            return event["inbound"]
        message = f"No matching reply from {self.phone_number} within {self.timeout}s"
        if self.soft_fail:
            raise AirflowSkipException(message)
        raise AirflowSensorTimeout(message)
