"""Hostile input for the running receiver: Hypothesis strategies, forged callbacks, and the checks.

Every request is authenticated the vendor's way (so the parser, not the auth check, meets the input),
except the forged ones, which must all get 401. After a 4xx no row may have been written.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from hypothesis import strategies as st

from airflow_provider_messaging.receiver.auth import telesign_signature
from airflow_provider_messaging.store import MessageStore
from tests.support.receiver_process import API_KEY, CUSTOMER_ID, PASSWORD, TOKEN, USERNAME

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
        self.record_status(response.status_code, before, after, what)
        if "Traceback" in response.text:
            self.traces.append(f"{what}: {response.text[:200]}")

    def record_status(self, status: int, before: dict[str, int], after: dict[str, int], what: str) -> None:
        """``status`` 0: the server closed the connection without an answer (a refused request head)."""
        self.statuses[status] += 1
        if not 200 <= status < 300 and before != after:
            self.rows_after_reject.append(f"{what}: {status} wrote {before} -> {after}")

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500)


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


# --------------------------------------------------------------------------------------------
# issue 15: classes that got through before (each one answered 5xx, stalled or leaked)
# --------------------------------------------------------------------------------------------

#: Where each vendor's callbacks carry a time (the parsers read every one of them).
TIME_FIELDS: dict[str, list[tuple[Any, ...]]] = {
    "/telesign/status": [("status", "updated_on"), ("channel_status", 0, "sms", "updated_on"), ("submit_timestamp",)],
    "/telesign/inbound": [("status", "updated_on")],
    "/aerialink/status": [("timestamp",)],
    "/aerialink/inbound": [("timestamp",)],
}


@st.composite
def out_of_range_times(draw: st.DrawFn) -> str:
    """Well-formed times whose UTC time no datetime holds: year 10000 or year 0 after the offset."""
    separator = draw(st.sampled_from(["T", " "]))
    hours, minutes = draw(st.integers(1, 23)), draw(st.integers(0, 59))
    fraction = draw(st.sampled_from(["", ".5", ":226", ".490130"]))
    if draw(st.booleans()):
        return f"9999-12-31{separator}23:59:59{fraction}-{hours:02d}:{minutes:02d}"
    return f"0001-01-01{separator}00:00:00{fraction}+{hours:02d}{'' if draw(st.booleans()) else ':'}{minutes:02d}"


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value


@st.composite
def hostile_callbacks(draw: st.DrawFn) -> tuple[str, bytes]:
    """Valid callbacks with a huge integer / non-finite number anywhere, or an out-of-range time in a time field."""
    route = draw(st.sampled_from(ROUTES))
    data = json.loads(json.dumps(VALID[route]))
    kind = draw(st.sampled_from(["huge-integer", "non-finite", "time"]))
    if kind == "time":
        _set(data, draw(st.sampled_from(TIME_FIELDS[route])), draw(out_of_range_times()))
        return route, json.dumps(data).encode()
    _set(data, draw(st.sampled_from(_paths(data))), "__RAW__")
    if kind == "huge-integer":  # json.dumps cannot write these: past Python's 4,300-digit limit
        raw = draw(st.sampled_from([b"", b"-"])) + b"9" * draw(st.integers(4301, 20_000))
    else:
        raw = draw(st.sampled_from([b"1e999", b"-1e999", b"NaN", b"Infinity", b"-Infinity", b"1" + b"0" * 400 + b".5"]))
    return route, json.dumps(data).encode().replace(b'"__RAW__"', raw)


def _non_ascii(draw: st.DrawFn) -> bytes:
    text = draw(st.text(st.characters(min_codepoint=0x80, max_codepoint=0x2FFF), min_size=1, max_size=40))
    return text.encode(draw(st.sampled_from(["utf-8", "latin-1"])), "ignore") or b"\xff"


@st.composite
def hostile_heads(draw: st.DrawFn) -> tuple[str, str, list[tuple[bytes, bytes]], bytes]:
    """(name, route, headers, body): non-ASCII credentials, oversized headers, thousands of headers."""
    route = draw(st.sampled_from(ROUTES))
    body = json.dumps(VALID[route]).encode()
    good, params = authenticated(route, body)
    target = route + ("?token=" + params["token"] if params else "")
    auth = [(name.encode(), value.encode()) for name, value in good.items()]
    kind = draw(st.sampled_from(["non-ascii-credentials", "oversized-header", "many-headers"]))
    if kind == "non-ascii-credentials":
        value = _non_ascii(draw)
        headers = draw(
            st.sampled_from(
                [
                    [(b"Authorization", b"TSA " + value + b":x")],
                    [(b"Authorization", b"TSA " + CUSTOMER_ID.encode() + b":" + value)],
                    [(b"Authorization", b"Basic " + value)],
                    [(b"X-TS-Authorization", value)],
                ]
            )
        )
        return kind, route, headers, body  # no valid credential: 401
    if kind == "oversized-header":
        size = draw(st.integers(17 * 1024, 300 * 1024))
        return kind, target, [*auth, (b"X-Pad", b"a" * size)], body
    count = draw(st.integers(101, 5000))
    return kind, target, [*auth, *((b"X-%d" % n, b"v") for n in range(count))], body


def raw_request(base: str, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    """Send one request with header bytes exactly as given; its status, or 0 when the server closed without one."""
    host, port = base.removeprefix("http://").split(":")
    head = b"%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: %d\r\n" % (
        method.encode(),
        target.encode(),
        host.encode(),
        len(body),
    )
    if body:
        head += b"Content-Type: application/json\r\n"
    head += b"".join(name + b": " + value + b"\r\n" for name, value in headers) + b"\r\n"
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        # refused while we were still sending: read what it answered, if anything
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head + body)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


#: Request heads left unfinished (then silence): the receiver must close them (its --header-timeout).
SLOW_HEADS = (
    b"",
    b"P",
    b"POST /telesign/status HTTP/1.1\r\n",
    b"POST /aerialink/status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 8000,
)


def slow_head_closed(base: str, prefix: bytes) -> bool:
    """Send ``prefix`` and nothing more; True when the server closes the connection (no 60 s client timeout)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(prefix)
        try:
            return sock.recv(65536) == b""
        except ConnectionResetError:
            return True


_EXTREME_TIMES = st.sampled_from(
    [
        "9999-12-31",
        "0001-01-01",
        "0001-01-01T00:00:00+23:00",
        "9999-12-31T23:59:59-23:00",
        "99999999999d",
        "1e308d",
        "-5d",
        "99999-01-01",
        "2026-02-30",
        "0000-00-00",
        "T",
        "",
        "9" * 5000,
    ]
)
filter_values = _EXTREME_TIMES | out_of_range_times() | st.text(max_size=30)


@st.composite
def ui_requests(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """(path, params) for the Messages view API and /report with extreme filter values and odd ids."""
    kind = draw(st.sampled_from(["messages", "report", "detail", "inbound", "optouts"]))
    if kind == "messages":
        keys = draw(st.lists(st.sampled_from(["since", "until", "state", "vendor", "dag_id", "limit"]), unique=True))
        params = {key: draw(filter_values if key in ("since", "until") else st.text(max_size=12)) for key in keys}
        return "/ui/api/messages", params
    if kind == "report":
        keys = draw(st.lists(st.sampled_from(["since", "until", "chart"]), unique=True))
        params = {key: draw(filter_values if key != "chart" else st.sampled_from(["svg", "gif", ""])) for key in keys}
        return "/report", params
    if kind == "detail":
        ident = draw(st.text(min_size=1, max_size=80) | st.sampled_from(["a/b/c/0", "%2F", "..", "../../etc/passwd"]))
        return "/ui/api/messages/" + quote(ident, safe=""), {"vendor": draw(st.sampled_from(["", "telesign", "x"]))}
    return f"/ui/api/{kind}", {
        "vendor": draw(st.sampled_from(["", "aerialink", "nope"])),
        "sender": draw(st.text(max_size=20)),
    }
