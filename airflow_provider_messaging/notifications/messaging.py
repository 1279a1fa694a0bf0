"""Notifiers for ``on_failure_callback`` / ``on_success_callback``: an SMS (Telesign) or RCS text (Aerialink).

Airflow may call a callback more than once for one event (apache/airflow#56942, #33855), so each
notification carries an idempotency key built from the DAG run, task, try number and recipient; a
repeated call returns without sending again.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_messaging import config
from airflow_provider_messaging.compat import BaseNotifier
from airflow_provider_messaging.sending import Outcome, SendLedger, SendRequest

if TYPE_CHECKING:  # the hooks and models load when a callback runs, not when a DAG file is parsed
    from airflow_provider_messaging.hooks.aerialink import AerialinkHook
    from airflow_provider_messaging.hooks.telesign import TelesignHook


def _notification_key(context: Any, kind: str, recipient: str) -> str:
    ti = context.get("ti") or context.get("task_instance")
    run = context.get("run_id") or getattr(context.get("dag_run"), "run_id", "")
    dag_id = getattr(context.get("dag"), "dag_id", "") or getattr(ti, "dag_id", "")
    task_id = getattr(ti, "task_id", "dag")
    try_number = getattr(ti, "try_number", 0)
    map_index = getattr(ti, "map_index", -1)
    return f"notify:{kind}/{dag_id}/{run}/{task_id}/{map_index}/{try_number}/{recipient}"


class _MessagingNotifier(BaseNotifier):
    vendor = ""

    def __init__(self, *, text: str, idempotent: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.text = text
        self.idempotent = idempotent

    @abstractmethod
    def _recipient(self) -> str: ...

    @abstractmethod
    def _send(self) -> str: ...

    def _channels(self) -> list[str]:
        return ["sms"]

    def notify(self, context: Any) -> None:
        """Send the (already rendered) text once per event, through the send ledger."""
        recipient = self._recipient()
        if not self.idempotent:
            self._send()
            return
        key = _notification_key(context, type(self).__name__, recipient)
        request = SendRequest(
            key=key, vendor=self.vendor, recipient=recipient, channels=tuple(self._channels()), send=self._send
        )
        # A notification about a failure must reach the on-call person even if they once replied STOP.
        result = SendLedger(config.get_store(), respect_opt_out=False, logger=self.log).send(request)
        if result.exception is not None:  # this call failed: the callback's caller logs it
            raise result.exception
        if result.outcome is Outcome.ALREADY_SENT:
            self.log.info("Notification %s was already sent as %s", key, result.message_id)
        elif result.outcome in (Outcome.IN_FLIGHT, Outcome.UNKNOWN):
            self.log.warning("Notification %s not sent again: %s", key, result.error)

    async def async_notify(self, context: Any) -> None:
        # The send is blocking I/O; run it off the triggerer's event loop.
        await asyncio.to_thread(self.notify, context)


class TelesignNotifier(_MessagingNotifier):
    """Sends an SMS (or another Telesign cascade) when a DAG or task succeeds or fails.

    :param phone_number: recipient (templated).
    :param text: message text, rendered with the callback context (templated), e.g.
        ``"{{ dag.dag_id }}.{{ ti.task_id }} failed: {{ exception }}"``.
    :param channels: cascade, default ``["sms"]``; every channel gets the plain ``text`` template.
    """

    vendor = "telesign"
    template_fields: Sequence[str] = ("phone_number", "text", "telesign_conn_id")

    def __init__(
        self,
        *,
        phone_number: str,
        text: str,
        channels: Sequence[str] = ("sms",),
        message_type: str = "ARN",
        telesign_conn_id: str = "telesign_default",
        **kwargs: Any,
    ):
        super().__init__(text=text, **kwargs)
        self.phone_number = phone_number
        self.channels = list(channels)
        self.message_type = message_type
        self.telesign_conn_id = telesign_conn_id

    @cached_property
    def hook(self) -> TelesignHook:
        from airflow_provider_messaging.hooks.telesign import TelesignHook

        return TelesignHook(telesign_conn_id=self.telesign_conn_id)

    def _recipient(self) -> str:
        return str(self.phone_number)

    def _channels(self) -> list[str]:
        return self.channels

    def _send(self) -> str:
        from airflow_provider_messaging.models.telesign import Step, cascade

        steps = [Step(channel, "text", {"text": self.text}) for channel in self.channels]
        request = cascade(self.phone_number, steps, self.message_type)
        return str(self.hook.send_omnichannel(request).reference_id)


class AerialinkNotifier(_MessagingNotifier):
    """Sends an RCS text (optionally with SMS failover) when a DAG or task succeeds or fails.

    :param destination: recipient (templated).
    :param text: message text (templated).
    :param sms_failover_source: when set, an SMS with the same text is sent from this number if RCS fails.
    """

    vendor = "aerialink"
    template_fields: Sequence[str] = ("destination", "text", "source", "aerialink_conn_id")

    def __init__(
        self,
        *,
        destination: str,
        text: str,
        source: str | None = None,
        sms_failover_source: str | None = None,
        aerialink_conn_id: str = "aerialink_default",
        **kwargs: Any,
    ):
        super().__init__(text=text, **kwargs)
        self.destination = destination
        self.source = source
        self.sms_failover_source = sms_failover_source
        self.aerialink_conn_id = aerialink_conn_id

    @cached_property
    def hook(self) -> AerialinkHook:
        from airflow_provider_messaging.hooks.aerialink import AerialinkHook

        return AerialinkHook(aerialink_conn_id=self.aerialink_conn_id)

    def _recipient(self) -> str:
        return str(self.destination)

    def _channels(self) -> list[str]:
        return ["rcs", "sms"] if self.sms_failover_source else ["rcs"]

    def _send(self) -> str:
        from airflow_provider_messaging.models.aerialink import RcsText

        failover = None
        if self.sms_failover_source:
            failover = {"enabled": True, "failover_source": self.sms_failover_source, "fallback_text": self.text[:160]}
        # the hook fills the connection's defaults (source, callback URL) and validates the whole message
        message = self.hook.build_message(
            RcsText,
            source=self.source or None,
            destination=self.destination,
            message_text=self.text,
            sms_failover=failover,
        )
        return self.hook.send_message(message).guids[0]


send_telesign_notification = TelesignNotifier
send_aerialink_notification = AerialinkNotifier
