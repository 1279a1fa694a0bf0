"""DAG of the event-driven tests (tests/events): runs on every "yes" RCS reply stored for Aerialink.

The asset's watcher is an InboundMessageEventTrigger; the task records the inbound ids it was started
for in $EV_RUN_LOG (JSON lines), so the tests can tell which message started which run.
"""

from __future__ import annotations

import json
import os

import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_messaging.triggers.inbound_events import InboundMessageEventTrigger

YES_REPLIES = Asset(
    "messaging_yes_replies",
    watchers=[
        AssetWatcher(
            name="ev_yes_replies",
            trigger=InboundMessageEventTrigger(
                watcher="ev_yes_replies",
                vendor="aerialink",
                channel="rcs",
                text_pattern=r"^\s*yes\b",
                poll_interval=0.5,
            ),
        )
    ],
)

with DAG("ev_on_yes_reply", schedule=[YES_REPLIES], start_date=pendulum.datetime(2025, 1, 1, tz="UTC")) as dag:

    @task
    def handle(triggering_asset_events=None) -> list[int]:
        ids = [event.extra["payload"]["inbound_id"] for event in triggering_asset_events[YES_REPLIES]]
        path = os.environ.get("EV_RUN_LOG")
        if path:
            with open(path, "a", encoding="utf-8") as log:
                log.write(json.dumps({"inbound_ids": ids}) + "\n")
        return ids

    handle()
