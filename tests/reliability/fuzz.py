"""Hostile input for the running receiver: Hypothesis strategies, forged callbacks, and the checks.

Every request is authenticated the vendor's way (so the parser, not the auth check, meets the input),
except the forged ones, which must all get 401. After a 4xx no row may have been written.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
from hypothesis import strategies as st
from reliability.receiver_process import API_KEY, CUSTOMER_ID, PASSWORD, TOKEN, USERNAME

from airflow_provider_messaging.receiver.auth import telesign_signature
from airflow_provider_messaging.store import MessageStore

TABLES = ("messages", "attempts", "callbacks", "inbound", "opt_outs")
ROUTES = ("/telesign/status", "/telesign/inbound", "/aerialink/status", "/aerialink/inbound")
LIMIT = 65536  # the receiver's default max_callback_bytes

VALID: dict[str, dict[str, Any]] = {
    "/telesign/status": {
        "reference_id": "35C8B5D509BC10689196FED2AD551B8A",
        "external_id": "null",
        "status": {
            "code": 3000,
            "description": "Delivered",
            "last_channel": "sms",
            "updated_on": "2020-05-04 22:07:01:226",
        },
        "channel_status": [
            {"sms": {"code": 3000, "description": "Delivered", "updated_on": "2020-05-04 22:07:01:226"}}
        ],
    },
    "/telesign/inbound": {
        "status": {"code": 1500, "description": "Delivered to customer", "updated_on": "2023-10-31T14:47:10.490130Z"},
        "reference_id": "0123456789ABCDEF0123456789ABCDEF",
        "user_response": {"sender_id": "4442", "phone_number": "11234567890", "mo_message": "Start"},
        "sub_resource": "mo_sms",
    },
    "/aerialink/status": {"messageGUID": "6f1c1f52-5d0c-4a57-9b39-6f7f7c0c2a11", "status": "SUCCESS", "channel": "RCS"},
    "/aerialink/inbound": {
        "messageGUID": "mo-1",
        "source": "15559876543",
        "destination": "CONVEY",
        "messageText": "YES",
    },
}

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.text(st.characters(codec="utf-8"), max_size=200)
    | st.sampled_from(["\x00", "null", "", "\ud800", "\U0001f600" * 30, "3000", "SUCCESS", "\uff33\uff34\uff2f\uff30"])
)
json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


@st.composite
def mutated_callbacks(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid vendor callback with one field replaced by something else (wrong type, huge, unicode, ...)."""
    route = draw(st.sampled_from(ROUTES))
    data = json.loads(json.dumps(VALID[route]))
    path = draw(st.sampled_from(_paths(data)))
    replacement = draw(
        json_values
        | st.integers(min_value=60, max_value=80_000).map(lambda n: "Ω" * n)
        | st.integers(min_value=1, max_value=3000).map(lambda n: json.loads("[" * n + "]" * n) if n < 900 else [])
    )
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = replacement
    return route, json.dumps(data).encode()


@st.composite
def raw_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    """Anything at all: random JSON, truncated callbacks, deep nesting, binary, huge bodies."""
    route = draw(st.sampled_from(ROUTES))
    kind = draw(st.sampled_from(["json", "truncated", "nesting", "binary", "huge", "text"]))
    if kind == "json":
        return route, json.dumps(draw(json_values)).encode()
    if kind == "truncated":
        body = json.dumps(VALID[route]).encode()
        return route, body[: draw(st.integers(min_value=0, max_value=len(body) - 1))]
    if kind == "nesting":
        depth = draw(st.integers(min_value=1, max_value=30_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return route, (opener * depth + "1" + closer * depth).encode()
    if kind == "binary":
        return route, draw(st.binary(max_size=300))
    if kind == "huge":
        return route, json.dumps({"reference_id": "A", "x": "y" * draw(st.integers(LIMIT - 100, LIMIT + 100))}).encode()
    return route, draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")


content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/xml",
        "application/octet-stream",
    ]
)


def authenticated(route: str, body: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, params) the genuine vendor would send with ``body``."""
    if route.startswith("/telesign"):
        return {"X-TS-Authorization": telesign_signature(body, API_KEY)}, {}
    return {}, {"token": TOKEN}


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    rows_after_reject: list[str] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def record(self, response: requests.Response, before: dict[str, int], after: dict[str, int], what: str) -> None:
        self.statuses[response.status_code] += 1
        if not 200 <= response.status_code < 300 and before != after:
            self.rows_after_reject.append(f"{what}: {response.status_code} wrote {before} -> {after}")
        if "Traceback" in response.text:
            self.traces.append(f"{what}: {response.text[:200]}")


def counts(store: MessageStore) -> dict[str, int]:
    return {table: store.count(table) for table in TABLES}


def post(
    session: requests.Session, base: str, route: str, body: bytes, content_type: str, *, auth: bool = True
) -> requests.Response:
    headers, params = authenticated(route, body) if auth else ({}, {})
    if content_type:
        headers["Content-Type"] = content_type
    return session.post(base + route, data=body, headers=headers, params=params, timeout=30)


def forged_requests(extra_body: bytes = b"") -> list[tuple[str, str, bytes, dict[str, str], dict[str, str]]]:
    """(name, route, body, headers, params): forged, replayed-onto-another-body and unauthenticated callbacks."""
    other_key = base64.b64encode(b"not-the-api-key-of-this-account").decode()
    wrong_basic = "Basic " + base64.b64encode(f"{USERNAME}:wrong-{PASSWORD}".encode()).decode()
    out = []
    for route in ROUTES:
        body = json.dumps(VALID[route]).encode() + extra_body
        other = json.dumps({**VALID[route], "tampered": True}).encode()
        good = telesign_signature(body, API_KEY)
        cases: list[tuple[str, dict[str, str], dict[str, str]]] = [
            ("no credentials", {}, {}),
            ("signature of another body", {"X-TS-Authorization": telesign_signature(other, API_KEY)}, {}),
            ("signature with another key", {"X-TS-Authorization": telesign_signature(body, other_key)}, {}),
            ("garbage signature", {"X-TS-Authorization": "not base64 !!"}, {}),
            ("empty signature", {"X-TS-Authorization": ""}, {}),
            ("TSA of another customer", {"Authorization": f"TSA OTHER-CUSTOMER:{good}"}, {}),
            ("TSA without signature", {"Authorization": f"TSA {CUSTOMER_ID}:"}, {}),
            ("wrong token", {}, {"token": TOKEN + "x"}),
            ("empty token", {}, {"token": ""}),
            ("token in a header", {"X-Token": TOKEN}, {}),
            ("wrong Basic password", {"Authorization": wrong_basic}, {}),
            ("Basic garbage", {"Authorization": "Basic %%%"}, {}),
        ]
        if route.startswith("/aerialink"):  # a valid Telesign signature is no credential for Aerialink
            cases.append(("Telesign signature on Aerialink", {"X-TS-Authorization": good}, {}))
        for name, headers, params in cases:
            out.append((f"{route} {name}", route, body, {"Content-Type": "application/json", **headers}, params))
    return out
