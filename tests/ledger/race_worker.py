"""A send worker for the ledger race tests: a separate process that runs the REAL send path.

Each worker is its own interpreter (``spawn``): its own Airflow import, store engine and HTTP pool,
as a Celery or Kubernetes worker would have. For every command it waits at a barrier shared with the
other workers (so the reservations truly overlap), then runs an operator's ``execute`` or a notifier
call against the recording server and reports how it ended.
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from types import SimpleNamespace
from typing import Any

#: How a worker ended one command
ACCEPTED, ALREADY_SENT, IN_FLIGHT, UNKNOWN, FAILED = "accepted", "already_sent", "in_flight", "unknown", "failed"


def _context(key: str, task_id: str = "race") -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="ledger_race", task_id=task_id, run_id=key, map_index=-1, try_number=1)
    ti.xcom_push = lambda **_: None
    return {"ti": ti, "task_instance": ti, "run_id": key, "params": {}}


def run_command(command: dict[str, Any]) -> dict[str, Any]:
    """Run one send as a task would; returns ``{"end": ..., "message_id": ..., "error": ...}``."""
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from airflow_provider_messaging.operators.aerialink import AerialinkRcsTextOperator
    from airflow_provider_messaging.operators.failover import FailoverSendOperator, failover_step
    from airflow_provider_messaging.operators.telesign import TelesignSmsOperator

    kind, key, phone = command["kind"], command["key"], command["phone"]
    resend_unknown = command.get("resend_unknown", False)
    try:
        if kind == "notifier":
            from airflow.sdk import DAG

            from airflow_provider_messaging.notifications.messaging import TelesignNotifier

            notifier = TelesignNotifier(phone_number=phone, text="load failed", telesign_conn_id=command["conn"])
            context = _context(key) | {"dag": DAG("ledger_race", schedule=None)}
            notifier(context)
            return {"end": "returned"}
        if kind == "failover":
            operator: Any = FailoverSendOperator(
                task_id="race",
                idempotency_key=key,
                steps=[
                    failover_step(TelesignSmsOperator, telesign_conn_id=command["conn"], phone_number=phone, text="Hi"),
                    failover_step(
                        AerialinkRcsTextOperator,
                        aerialink_conn_id=command["second_conn"],
                        destination=phone,
                        message_text="Hi",
                    ),
                ],
                resend_unknown=resend_unknown,
            )
        else:
            operator = TelesignSmsOperator(
                task_id="race",
                telesign_conn_id=command["conn"],
                phone_number=phone,
                text="Your order shipped",
                idempotency_key=key,
                resend_unknown=resend_unknown,
            )
        record = operator.execute(_context(key))
        return {"end": record["outcome"], "message_id": record["message_id"], "vendor": record["vendor"]}
    except AirflowFailException as failure:
        end = UNKNOWN if "unknown outcome" in str(failure) or "outcome unknown" in str(failure) else FAILED
        return {"end": end, "error": str(failure)}
    except AirflowException as retryable:
        end = IN_FLIGHT if "Another try is sending" in str(retryable) else FAILED
        return {"end": end, "error": str(retryable)}
    except Exception as unexpected:
        return {"end": FAILED, "error": "".join(traceback.format_exception(unexpected))}


def serve(index: int, commands: Any, results: Any, barrier: Any, pause: Any) -> None:
    """Worker loop: take a command, meet the others at the barrier, send, report. ``None`` ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # warm up: import everything before the first round so that rounds measure the race, not imports
    import airflow_provider_messaging.notifications.messaging
    import airflow_provider_messaging.operators.aerialink
    import airflow_provider_messaging.operators.failover
    import airflow_provider_messaging.operators.telesign  # noqa: F401

    results.put((index, "ready", {"pid": os.getpid()}))
    while True:
        command = commands.get()
        if command is None:
            return
        if command.get("pause_after_reserve"):
            _pause_after_reserve(pause)
        if command.get("barrier", True):
            barrier.wait(timeout=120)
        results.put((index, command["round"], run_command(command)))


def _pause_after_reserve(pause: Any) -> None:
    """Make this worker stop between its reservation and its vendor call until the test lets it go.

    The test SIGSTOPs the process while it waits here - a task process frozen right after reserving,
    as a lost heartbeat leaves a zombie - then SIGCONTs it and sets ``pause["go"]``.
    """
    from airflow_provider_messaging.store import MessageStore

    original = MessageStore.reserve_send

    def reserve_then_wait(self: MessageStore, **kwargs: Any) -> Any:
        reservation = original(self, **kwargs)
        MessageStore.reserve_send = original  # type: ignore[method-assign]
        pause["reserved"].set()
        # Poll a shared flag rather than wait on an Event: setting an Event blocks until its waiters
        # wake, and this waiter is about to be frozen.
        deadline = time.monotonic() + 120
        while not pause["go"].value and time.monotonic() < deadline:
            time.sleep(0.005)
        return reservation

    MessageStore.reserve_send = reserve_then_wait  # type: ignore[method-assign]
