"""Vendor-like callback traffic: generation, a retrying keep-alive client, the expected outcome.

``make_traffic`` builds delivery and inbound callbacks for N messages in both vendors' shapes (Telesign
signed with the API key, Aerialink with the shared token), adds 20% duplicates and shuffles them.
``VendorClient`` sends them from several threads over keep-alive sessions and, like a vendor, retries
each one on any non-2xx answer or connection error until it gets a 2xx. ``expected_status`` folds a
message's callbacks with the package's own rules (``receiver.parsing`` + ``models.status``).
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from airflow_provider_messaging.models.status import RANK, ChannelAttempt, Summary, summarize, supersedes
from airflow_provider_messaging.receiver import parsing
from airflow_provider_messaging.receiver.auth import telesign_signature
from tests.support.receiver_process import API_KEY, CUSTOMER_ID, TOKEN

CASCADE = ["rcs", "sms"]
_EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)
# (channel, Telesign code) steps per scenario; a callback carries every channel reported so far
_TELESIGN_SCENARIOS: tuple[tuple[tuple[str, int], ...], ...] = (
    (("rcs", 3001), ("rcs", 3002), ("rcs", 3000)),  # delivered on RCS
    (("rcs", 3002), ("rcs", 3056), ("sms", 3002), ("sms", 3000)),  # RCS timed out, SMS delivered
    (("rcs", 3003), ("sms", 3003)),  # every channel failed
    (("rcs", 3000), ("rcs", 3005)),  # delivered, then read
    (("rcs", 3001), ("rcs", 3002)),  # still in progress
)
_AERIALINK_SCENARIOS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("rcs", "PROCESSING"), ("rcs", "SUCCESS")),
    (("rcs", "FAIL"), ("sms", "SUCCESS")),
    (("rcs", "FAIL"), ("sms", "FAIL")),
)


@dataclass(frozen=True)
class Callback:
    vendor: str
    kind: str  # status | inbound
    message_id: str
    path: str
    body: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.vendor == "telesign":
            signature = telesign_signature(self.body, API_KEY)
            headers["Authorization"] = f"TSA {CUSTOMER_ID}:{signature}"
        return headers

    def params(self) -> dict[str, str]:
        return {"token": TOKEN} if self.vendor == "aerialink" else {}


@dataclass(frozen=True)
class Message:
    vendor: str
    message_id: str
    recipient: str


@dataclass
class Traffic:
    messages: list[Message]
    distinct: list[Callback]  # every callback once
    queue: list[Callback]  # with duplicates, shuffled: the order they are sent in

    def of(self, message_id: str) -> list[Callback]:
        return [c for c in self.distinct if c.message_id == message_id and c.kind == "status"]


def _ts(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _telesign_status(message_id: str, reported: dict[str, tuple[int, datetime]], last: str) -> dict[str, Any]:
    code, at = reported[last]
    return {
        "reference_id": message_id,
        "external_id": "null",
        "status": {"code": code, "description": f"code {code}", "last_channel": last, "updated_on": _ts(at)},
        "channel_status": [
            {ch: {"code": c, "description": f"code {c}", "reference_id": f"{message_id}{ch}", "updated_on": _ts(t)}}
            for ch, (c, t) in reported.items()
        ],
    }


def make_traffic(n_messages: int, *, duplicates: float = 0.2, inbound_every: int = 5, seed: int = 9) -> Traffic:
    rng = random.Random(seed)
    messages: list[Message] = []
    distinct: list[Callback] = []
    for i in range(n_messages):
        recipient = f"1202555{i % 10000:04d}"
        start = _EPOCH + timedelta(minutes=i)
        if i % 3 != 2:
            mid = f"{i:08X}{uuid.UUID(int=rng.getrandbits(128)).hex[:24].upper()}"
            messages.append(Message("telesign", mid, recipient))
            reported: dict[str, tuple[int, datetime]] = {}
            for step, (channel, code) in enumerate(_TELESIGN_SCENARIOS[i % len(_TELESIGN_SCENARIOS)]):
                reported[channel] = (code, start + timedelta(seconds=step + 1))
                body = json.dumps(_telesign_status(mid, reported, channel)).encode()
                distinct.append(Callback("telesign", "status", mid, "/telesign/status", body))
            if i % inbound_every == 0:
                inbound = {
                    "status": {"code": 1500, "description": "Delivered to customer", "updated_on": _ts(start)},
                    "reference_id": f"MO{mid[2:]}",
                    "user_response": {
                        "sender_id": "4442",
                        "iso_country_code": "US",
                        "phone_number": recipient,
                        "mo_message": f"Yes please {i}",
                    },
                    "sub_resource": "mo_sms",
                    "errors": [],
                    "submit_timestamp": _ts(start),
                }
                distinct.append(Callback("telesign", "inbound", mid, "/telesign/inbound", json.dumps(inbound).encode()))
        else:
            guid = str(uuid.UUID(int=rng.getrandbits(128)))
            messages.append(Message("aerialink", guid, recipient))
            for step, (channel, status) in enumerate(_AERIALINK_SCENARIOS[(i // 3) % len(_AERIALINK_SCENARIOS)]):
                status_body = {
                    "messageGUID": guid,
                    "destination": recipient,
                    "source": "CONVEY",
                    "status": status,
                    "channel": channel.upper(),
                    "failover": channel != "rcs",
                    "timestamp": _ts(start + timedelta(seconds=step + 1)),
                }
                encoded = json.dumps(status_body).encode()
                distinct.append(Callback("aerialink", "status", guid, "/aerialink/status", encoded))
            if i % inbound_every == 2:
                inbound = {
                    "messageGUID": f"mo-{guid}",
                    "source": recipient,
                    "destination": "CONVEY",
                    "messageType": "RCS_TEXT",
                    "messageText": f"Confirmed {i}",
                    "timestamp": _ts(start),
                }
                distinct.append(
                    Callback("aerialink", "inbound", guid, "/aerialink/inbound", json.dumps(inbound).encode())
                )
    queue = list(distinct) + rng.sample(distinct, int(len(distinct) * duplicates))
    rng.shuffle(queue)
    return Traffic(messages, distinct, queue)


def expected_status(callbacks: Sequence[Callback], cascade: Sequence[str] = CASCADE) -> Summary:
    """What the store must end with: the callbacks parsed and folded by the package's own rules."""
    attempts: dict[str, ChannelAttempt] = {}
    for callback in callbacks:
        data = json.loads(callback.body)
        update = parsing.telesign_delivery(data) if callback.vendor == "telesign" else parsing.aerialink_delivery(data)
        for e in update.events:
            old = attempts.get(e.channel)
            if old is None or supersedes(e.state, e.occurred_at, old.state, old.updated_on):
                attempts[e.channel] = ChannelAttempt(e.channel, e.state, e.code, e.description, None, e.occurred_at)
    return summarize(list(cascade), attempts)


# ---------------------------------------------------------------------------------------------- the client
@dataclass
class Outcome:
    callback: Callback
    ok: bool = False
    attempts: int = 0
    statuses: list[int | str] = field(default_factory=list)  # HTTP status or exception class name
    bad_bodies: list[str] = field(default_factory=list)  # non-2xx bodies that are not a clean JSON error


def _clean_error_body(status: int, text: str) -> bool:
    if "Traceback" in text or 'File "' in text:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("status") == "error" and (status != 503 or "reason" in data)


class VendorClient:
    """Threads with keep-alive sessions; each callback is retried until it gets a 2xx or time runs out."""

    def __init__(self, base_url: str, *, threads: int = 16, deadline_s: float = 300.0) -> None:
        self.base_url = base_url
        self.threads = threads
        self.deadline_s = deadline_s
        self.outcomes: list[Outcome] = []
        self.done = 0
        self._lock = threading.Lock()
        self._queue: deque[Outcome] = deque()
        self._workers: list[threading.Thread] = []
        self._deadline = 0.0
        self._stop = threading.Event()

    def start(self, callbacks: Sequence[Callback]) -> VendorClient:
        self.outcomes = [Outcome(c) for c in callbacks]
        self._queue = deque(self.outcomes)
        self._deadline = time.monotonic() + self.deadline_s
        self._workers = [
            threading.Thread(target=self._work, name=f"vendor-{i}", daemon=True) for i in range(self.threads)
        ]
        for worker in self._workers:
            worker.start()
        return self

    def wait(self) -> list[Outcome]:
        for worker in self._workers:
            worker.join(max(1.0, self._deadline - time.monotonic() + 30))
        self._stop.set()
        return self.outcomes

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(30)

    @property
    def progress(self) -> float:
        return self.done / max(1, len(self.outcomes))

    def _work(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                with self._lock:
                    if not self._queue:
                        return
                    outcome = self._queue.popleft()
                self._deliver(session, outcome)
                with self._lock:
                    self.done += 1

    def _deliver(self, session: requests.Session, outcome: Outcome) -> None:
        callback = outcome.callback
        headers, params = callback.headers(), callback.params()
        while time.monotonic() < self._deadline and not self._stop.is_set():
            outcome.attempts += 1
            try:
                response = session.post(
                    self.base_url + callback.path, data=callback.body, headers=headers, params=params, timeout=(2, 20)
                )
            except requests.RequestException as exc:
                outcome.statuses.append(type(exc).__name__)
            else:
                outcome.statuses.append(response.status_code)
                if 200 <= response.status_code < 300:
                    outcome.ok = True
                    return
                if not _clean_error_body(response.status_code, response.text):
                    outcome.bad_bodies.append(f"{response.status_code}: {response.text[:300]}")
            delay = min(1.0, 0.05 * 2 ** min(outcome.attempts, 5)) * (0.5 + random.random())
            self._stop.wait(delay)


def status_histogram(outcomes: Sequence[Outcome]) -> Counter[str]:
    histogram: Counter[str] = Counter()
    for outcome in outcomes:
        histogram.update(str(s) for s in outcome.statuses)
    return histogram


# ---------------------------------------------------------------------------------------------- periodic reads
class StateWatcher:
    """Reads every message's status periodically and records any state that went backwards."""

    def __init__(self, store: Any, message_ids: Sequence[str], interval: float = 0.1) -> None:
        self.store = store
        self.ids = list(message_ids)
        self.interval = interval
        self.reads = 0
        self.read_errors = 0
        self.backwards: list[str] = []
        self._seen: dict[str, tuple[int, bool]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="state-watcher", daemon=True)

    def start(self) -> StateWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self.read_once()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.read_once()

    def read_once(self) -> None:
        try:
            statuses = self.store.get_statuses(self.ids)
        except Exception:  # the database may be down on purpose
            self.read_errors += 1
            return
        self.reads += 1
        for message_id, status in statuses.items():
            now = (RANK[status.state], status.complete)
            before = self._seen.get(message_id)
            if before is not None and (now[0] < before[0] or (before[1] and not now[1])):
                self.backwards.append(f"{message_id}: {before} -> {now}")
            self._seen[message_id] = max(before, now) if before else now
