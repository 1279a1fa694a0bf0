"""``airflow-messaging status`` of an id that only has callbacks (issue 15.9): what the store has, and that no
send is recorded. The vendor reported on a message sent by another system, or the callback beat the send."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

from airflow_provider_messaging.receiver import parsing
from airflow_provider_messaging.store import MessageStore
from tests.support.store_helpers import record_delivery
from tests.vendor_examples import load

CLI = str(Path(sys.executable).with_name("airflow-messaging"))
MID = "35C8B5D509BC10689196FED2AD551B8A"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, env=os.environ.copy())


def _callback(store: MessageStore, payload: dict) -> None:  # type: ignore[type-arg]
    update = parsing.telesign_delivery(payload)
    record_delivery(
        store, vendor="telesign", message_id=update.message_id, events=update.events, raw_body=json.dumps(payload)
    )


def test_status_of_an_id_with_callbacks_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'orphan.db'}"
    store = MessageStore(url)
    store.upgrade()
    delivered = load("telesign_delivery_callback_rcs_sms")  # RCS expired, then SMS delivered
    early = copy.deepcopy(delivered)
    del early["channel_status"][1]
    early["status"].update(code=3056, description="Fallback", last_channel="rcs")
    for payload in (delivered, early):  # out of order: the later callback arrives first
        _callback(store, payload)
    assert store.get_status(MID) is None and len(store.callbacks_for(MID)) == 2
    store.dispose()

    text = run("--store-url", url, "status", MID)
    assert text.returncode == 0, text.stderr
    assert f"telesign message {MID}: no send recorded in this store" in text.stdout
    assert "state DELIVERED (complete)" in text.stdout
    assert "channel rcs:" in text.stdout and "channel sms: DELIVERED" in text.stdout
    assert "callbacks: 2" in text.stdout

    as_json = run("--store-url", url, "status", MID, "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert (data["message_id"], data["send_recorded"], data["state"], data["complete"]) == (
        MID,
        False,
        "DELIVERED",
        True,
    )
    assert [c["channel"] for c in data["channels"]] == ["rcs", "sms"]
    assert len(data["callbacks"]) == 2

    unknown = run("--store-url", url, "status", "NO-SUCH-ID")
    assert unknown.returncode == 1 and "no message 'NO-SUCH-ID'" in unknown.stderr
