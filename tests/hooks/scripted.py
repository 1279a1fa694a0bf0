"""An in-process transport for the hooks (as httpx's ``MockTransport``): answers each attempt from a script.

Mounted through the hooks' ``transport`` parameter, it replaces the socket and nothing else: the hook's
session, auth, retry loop and error mapping all run. Each step answers one attempt: a :class:`Reply`,
a function of the request (that may raise), or an exception from the factories below, which raise
what requests' ``HTTPAdapter`` raises for the same failure (``test_http_layer`` checks that on sockets).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import RemoteDisconnected
from http.client import responses as reasons
from typing import Any, Generic, NoReturn, TypeVar

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, ReadTimeoutError

from airflow_provider_messaging.hooks.base import MessagingHttpHook
from tests.support.http_server import Reply

Step = Reply | Callable[[requests.PreparedRequest], "requests.Response | Reply"]


class ScriptedTransport(BaseAdapter):
    """Answers attempts from ``steps`` in order, then from ``default``; records every request it got."""

    def __init__(self, *steps: Step, default: Step | None = None) -> None:
        super().__init__()
        self.script: deque[Step] = deque(steps)
        self.default: Step = default or Reply(200, {})
        self.requests: list[requests.PreparedRequest] = []
        self.timeouts: list[Any] = []

    def enqueue(self, *steps: Step) -> None:
        self.script.extend(steps)

    def send(
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **_: Any
    ) -> requests.Response:  # type: ignore[override]
        self.requests.append(request)
        self.timeouts.append(timeout)
        step = self.script.popleft() if self.script else self.default
        answer = step(request) if callable(step) else step
        return answer if isinstance(answer, requests.Response) else response(request, answer)

    def close(self) -> None:
        pass

    def bodies(self) -> list[Any]:
        return [json.loads(r.body or b"null") for r in self.requests]


def response(request: requests.PreparedRequest, reply: Reply) -> requests.Response:
    """The ``requests.Response`` an ``HTTPAdapter`` would build for ``reply``."""
    body, content_type = reply.encoded()
    built = requests.Response()
    built.status_code = reply.status
    built.reason = reasons.get(reply.status, "")
    built.headers = CaseInsensitiveDict(
        {"Content-Type": content_type, "Content-Length": str(len(body)), **reply.headers}
    )
    built._content = body
    built.encoding = "utf-8"
    built.url = request.url or ""
    built.request = request
    return built


# ---- failures, raised as requests' HTTPAdapter raises them ---------------------------------


def connect_refused(request: requests.PreparedRequest) -> NoReturn:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    raise requests.exceptions.ConnectionError(MaxRetryError(None, request.path_url, reason), request=request)  # type: ignore[arg-type]


def read_timeout(request: requests.PreparedRequest) -> NoReturn:
    raise requests.exceptions.ReadTimeout(
        ReadTimeoutError(None, request.path_url, "Read timed out. (read timeout=2)"), request=request
    )  # type: ignore[arg-type]


def dropped(request: requests.PreparedRequest) -> NoReturn:
    error = ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection without response"))
    raise requests.exceptions.ConnectionError(error, request=request)


# ---- a hook on a scripted transport -------------------------------------------------------

H = TypeVar("H", bound=MessagingHttpHook)


@dataclass
class Offline(Generic[H]):
    """A hook, its scripted transport, and the waits it asked for (recorded, never slept)."""

    hook: H
    transport: ScriptedTransport
    sleeps: list[float] = field(default_factory=list)

    @property
    def requests(self) -> list[requests.PreparedRequest]:
        return self.transport.requests


def offline(hook_class: type[H], conn_id: str, *steps: Step, default: Step | None = None, **kwargs: Any) -> Offline[H]:
    transport = ScriptedTransport(*steps, default=default)
    sleeps: list[float] = []
    hook = hook_class(conn_id, transport=transport, sleep=sleeps.append, **kwargs)
    return Offline(hook, transport, sleeps)
