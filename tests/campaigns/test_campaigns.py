"""Campaigns: streamed recipients with template values, a small handle, one aggregate wait, chunked
mapping over workers, and a retry after the send task was killed half-way."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_messaging.operators.campaign import (
    CampaignInputError,
    campaign_chunks,
    count_rows,
    fill,
    read_rows,
)
from airflow_provider_messaging.store import MessageStore
from tests.support.dag_runner import Run, load_dags
from tests.support.http_server import LocalHttpServer, Recorded, Reply
from tests.support.store_helpers import record_delivery

HERE = Path(__file__).resolve().parent


def numbers(n: int, *, failing_every: int = 0) -> list[str]:
    """Sandbox numbers: last digit 1 = delivered on the first channel, 3 = every channel fails."""
    return [f"1555{i:06d}{3 if failing_every and i % failing_every == 0 else 1}" for i in range(n)]


def write_csv(path: Path, phones: list[str]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["recipient", "name", "order"])
        for i, phone in enumerate(phones):
            writer.writerow([phone, f"Customer {i}", 45000 + i])
    return path


def test_rows_from_csv_jsonl_and_lists(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "r.csv", ["15558675301", "15558675302"])
    rows = list(read_rows(csv_path))
    assert [(r.index, r.recipient, dict(r.values)) for r in rows] == [
        (0, "15558675301", {"name": "Customer 0", "order": "45000"}),
        (1, "15558675302", {"name": "Customer 1", "order": "45001"}),
    ]
    assert count_rows(csv_path) == 2
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text('{"phone_number": "15558675301", "name": "Ada"}\n\n{"destination": "15558675302"}\n')
    assert [(r.recipient, dict(r.values)) for r in read_rows(jsonl)] == [
        ("15558675301", {"name": "Ada"}),
        ("15558675302", {}),
    ]
    assert [r.recipient for r in read_rows(iter(["15558675301", {"to": "15558675302"}]))] == [
        "15558675301",
        "15558675302",
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("number,name\n1555,Ada\n")
    with pytest.raises(CampaignInputError, match="header needs one of recipient"):
        list(read_rows(bad))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"recipient": "1"}\n{nope\n')
    with pytest.raises(CampaignInputError, match="line 2: not JSON"):
        list(read_rows(broken))
    assert fill({"text": "Hi {name}, {unknown} {0}", "n": [("{name}")]}, {"name": "Ada"}) == {
        "text": "Hi Ada, {unknown} {0}",
        "n": ["Ada"],
    }
    assert campaign_chunks(3) == [{"index": 0, "of": 3}, {"index": 1, "of": 3}, {"index": 2, "of": 3}]


@pytest.mark.parametrize("mode", ["deferrable", "poke"])
def test_campaign_from_a_file_then_one_aggregate_wait(local_stack: Any, tmp_path: Path, mode: str) -> None:
    phones = numbers(300, failing_every=10)  # 30 fail on every channel: 90 % delivered
    run = Run(
        getattr(load_dags("campaigns.py"), f"campaign_wait_{mode}"),
        {"file": str(write_csv(tmp_path / "spring.csv", phones)), "campaign": f"spring-{mode}"},
    )

    assert run.state == "success", run.task_states()
    handle = run.xcom("send")
    assert handle["campaign_id"] == f"spring-{mode}" and handle["recipients"] == 300
    assert handle["counts"] == {"accepted": 300} and handle["failures"] == []
    assert len(json.dumps(handle)) < 64 * 1024
    waited = run.xcom("wait")
    [campaign] = waited["campaigns"]
    assert campaign == {
        "campaign_id": f"spring-{mode}",
        "sent": 300,
        "by_state": {"DELIVERED": 270, "FAILED": 30},
    }
    assert "270 of 300 delivered" in waited["reason"]
    sent = Counter(r["recipient"] for r in local_stack.sandbox.requests() if r["method"] == "POST")
    assert set(sent) == set(phones) and set(sent.values()) == {1}
    assert local_stack.store.campaign_sends(f"spring-{mode}") == {"ACCEPTED": 300}


def test_campaign_split_over_mapped_chunks(local_stack: Any, tmp_path: Path) -> None:
    phones = numbers(120)
    run = Run(
        load_dags("campaigns.py").campaign_chunked,
        {"file": str(write_csv(tmp_path / "c.csv", phones)), "campaign": "chunked"},
    )

    assert run.state == "success", run.task_states()
    handles = run.xcom("send")
    assert [h["chunk"] for h in handles] == campaign_chunks(3)
    assert [h["recipients"] for h in handles] == [40, 40, 40]
    assert {h["campaign_id"] for h in handles} == {"chunked"}
    sent = Counter(r["recipient"] for r in local_stack.sandbox.requests() if r["method"] == "POST")
    assert set(sent) == set(phones) and set(sent.values()) == {1}
    assert run.xcom("wait")["campaigns"][0]["sent"] == 120


def telesign_accepted(request: Recorded) -> Reply:
    body = request.json()
    return Reply(200, {"status": {"code": 3001}, "reference_id": f"ref-{body['phone_number']}"}, delay=0.01)


def process_env(server: LocalHttpServer, store: MessageStore) -> dict[str, str]:
    """The environment of a campaign task process: connection ``campaign`` at ``server``, the test's store."""
    conn = {
        "conn_type": "telesign",
        "host": f"{server.url}/c",
        "login": "cid",
        "password": "key",
        "extra": {"max_retries": 0},
    }
    return {**os.environ, "AIRFLOW_CONN_CAMPAIGN": json.dumps(conn), "AIRFLOW__MESSAGING__STORE_URL": store.url}


def run_campaign_process(env: dict[str, str], file: Path, campaign: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "campaign_process.py"), str(file), campaign],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_retry_after_a_kill_half_way_sends_nobody_twice(tmp_path: Path, sqlite_store: MessageStore) -> None:
    phones = numbers(2000)
    file = write_csv(tmp_path / "big.csv", phones)
    with LocalHttpServer(telesign_accepted) as server:
        env = process_env(server, sqlite_store)
        first = run_campaign_process(env, file, "resume")
        deadline = time.monotonic() + 120
        while len(server.requests) < 1000:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the campaign did not get half-way"
            time.sleep(0.005)
        first.send_signal(signal.SIGKILL)  # the worker dies mid-campaign, nothing flushed
        first.wait(timeout=30)
        before = sent_to(server.requests)
        leased = sqlite_store.campaign_sends("resume").get("RESERVED", 0)

        retry = run_campaign_process(env, file, "resume")
        out, err = retry.communicate(timeout=300)
        handle = handle_in(out)
        # keys the killed try left leased make the retry fail retryably (Airflow tries again later)
        assert retry.returncode == (3 if leased else 0), err[-3000:]

    sent = sent_to(server.requests)
    assert max(sent.values()) == 1, "a recipient got two messages"
    counts = handle["counts"]
    assert counts["accepted"] == sum(1 for p in phones if p not in before and sent[p] == 1)
    # the killed try leaves at most 2.5 chunks leased: reported as in flight, never re-sent blindly
    assert counts.get("in_flight", 0) == leased <= 40
    assert counts["accepted"] + counts.get("already_sent", 0) + counts.get("in_flight", 0) == 2000
    for phone in (p for p in phones if sent[p] == 0):  # no gap: whoever got nothing is leased, and reported
        status = sqlite_store.get_status(f"resume/{phone}")
        assert status is not None and status.send_status == "RESERVED", phone


def handle_in(stdout: str) -> dict[str, Any]:
    [line] = [line for line in stdout.splitlines() if line.startswith("HANDLE ")]
    return dict(json.loads(line.removeprefix("HANDLE ")))


def sent_to(requests: list[Recorded]) -> Counter[str]:
    """Requests per recipient; a request cut off by the kill (its body never arrived whole) sent nothing."""
    whole = []
    for request in requests:
        try:
            whole.append(recipient(request))
        except ValueError:
            continue
    return Counter(whole)


def recipient(request: Recorded) -> str:
    return str(request.json()["phone_number"])


def test_personalized_bodies_and_invalid_rows(tmp_path: Path, sqlite_store: MessageStore) -> None:
    rows = tmp_path / "p.jsonl"
    rows.write_text(
        '{"recipient": "15558675301", "name": "Ada", "order": "45390"}\n'
        '{"recipient": "12", "name": "Bob", "order": "1"}\n'
        '{"recipient": "15558675311", "name": "Cy", "order": "45391"}\n'
    )
    with LocalHttpServer(telesign_accepted) as server:
        env = process_env(server, sqlite_store)
        done = subprocess.run(
            [
                sys.executable,
                str(HERE / "campaign_process.py"),
                str(rows),
                "personal",
                "Hi {name}, order {order} shipped",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 3, done.stderr[-2000:]  # the invalid row fails the task (after the others were sent)
    handle = handle_in(done.stdout)
    assert handle["counts"] == {"accepted": 2, "invalid": 1}
    assert handle["failures"][0]["recipient"] == "12" and "row 1" in handle["failures"][0]["error"]
    texts = {recipient(r): r.json()["message"]["sms"]["parameters"]["text"] for r in server.requests}
    assert texts == {"15558675301": "Hi Ada, order 45390 shipped", "15558675311": "Hi Cy, order 45391 shipped"}


def test_campaign_command_counts_sends_and_deliveries(sqlite_store: MessageStore) -> None:
    from airflow_provider_messaging.models.status import ChannelEvent, DeliveryState
    from airflow_provider_messaging.sending import SendLedger, SendRequest

    requests = [
        SendRequest(f"cli/{i}", "telesign", f"155500000{i}", ("sms",), send=lambda i=i: f"m-{i}", campaign_id="cli")
        for i in range(3)
    ]
    list(SendLedger(sqlite_store, lease_seconds=900).send_many(requests))
    record_delivery(
        sqlite_store,
        vendor="telesign",
        message_id="m-0",
        events=[ChannelEvent("sms", DeliveryState.DELIVERED)],
        raw_body="{}",
    )
    cli = [sys.executable, "-m", "airflow_provider_messaging.cli", "--store-url", sqlite_store.url, "campaign"]
    shown = subprocess.run([*cli, "cli", "--json"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "campaign_id": "cli",
        "sends": {"ACCEPTED": 3},
        "delivery": {"DELIVERED": 1, "QUEUED": 2},
    }
    missing = subprocess.run([*cli, "nope"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "no campaign 'nope'" in missing.stderr
