"""The receiver's authentication as FastAPI dependencies: every route declares its guard in its signature.

* a callback route depends on :meth:`CallbackGuard.verifier` of its vendor's adapter (built from the
  vendor registry), which reads the raw body (:meth:`CallbackGuard.body`: once, within
  ``max_callback_bytes``), checks the vendor's signature or the shared secret (:class:`.auth.CallbackAuth`)
  and gives the route the verified body;
* the Messages view's endpoints and ``/report`` depend on :func:`.login.airflow_login` (Airflow's JWT);
* ``/health`` and the view's static page depend on :func:`public`: open by design, and said so.

Each guard carries a mark (:func:`guard_kind`), so a test walks the app's routes and fails on a route
that declares none.
"""

# No ``from __future__ import annotations``: FastAPI must see the Annotated dependencies declared inside
# functions below as objects, not as strings it cannot resolve.
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from airflow_provider_messaging.receiver.auth import CallbackAuth, CredentialsPending
from airflow_provider_messaging.receiver.vendors import CallbackAdapter

log = logging.getLogger(__name__)

#: Kinds of guard (the value of :func:`guard_kind`).
CALLBACK, AIRFLOW_LOGIN, PUBLIC = "callback", "airflow-login", "public"
_MARK = "messaging_guard"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_RETRY = {"Retry-After": "5"}

_F = TypeVar("_F", bound=Callable[..., Any])


def guard(kind: str, **details: str) -> Callable[[_F], _F]:
    """Mark a dependency as the authentication of the routes that declare it (``details``: vendor, access)."""

    def mark(dependency: _F) -> _F:
        setattr(dependency, _MARK, kind)
        for name, value in details.items():
            setattr(dependency, f"{_MARK}_{name}", value)
        return dependency

    return mark


def guard_kind(dependency: object) -> str | None:
    """``callback``, ``airflow-login`` or ``public`` for a guard, None for any other dependency."""
    return getattr(dependency, _MARK, None)


@guard(PUBLIC)
async def public() -> None:
    """An open route, by design (it serves no data): declared, so that being open is a decision, not an omission."""


#: Declare ``_: Public`` on a route that is open on purpose.
Public = Annotated[None, Depends(public)]


class Refusal(HTTPException):
    """A refusal in the receiver's error shape, ``{"status": "error", "reason": ...}`` (see :func:`refusal_response`).

    Raised by the callback guards and the report's login; without the app's handler it is still a plain
    ``HTTPException`` with the same status.
    """

    def __init__(self, status: int, reason: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, reason, dict(headers) if headers else None)


async def refusal_response(request: Request, exc: Exception) -> JSONResponse:
    """The app's exception handler for :class:`Refusal`."""
    assert isinstance(exc, Refusal)
    return JSONResponse({"status": "error", "reason": exc.detail}, status_code=exc.status_code, headers=exc.headers)


#: Reads the callback auth and the body limit of one app (off the event loop the first time).
CallbackSettings = Callable[[], Awaitable[tuple[CallbackAuth, int]]]


class CallbackGuard:
    """The dependencies of one app's callback routes: the raw body and each vendor's verification."""

    def __init__(self, settings: CallbackSettings) -> None:
        self._settings = settings

    async def body(self, request: Request) -> bytes:
        """The raw body, read once (kept on ``request.state``): 415 for a form, 413 above the limit."""
        cached: bytes | None = getattr(request.state, "messaging_raw_body", None)
        if cached is not None:
            return cached
        if request.headers.get("content-type", "").lower().startswith(_FORM_TYPES):
            raise Refusal(415, "callbacks must be JSON")
        try:
            _, limit = await self._settings()
            raw = await _read_body(request, limit)
        except Refusal:
            raise
        except Exception:  # the settings could not be read, the client went away: nothing stored, retry
            log.exception("unexpected error reading a callback to %s", request.url.path)
            raise Refusal(503, "callback could not be stored, retry later", _RETRY) from None
        request.state.messaging_raw_body = raw
        return raw

    def verifier(self, adapter: CallbackAdapter) -> Callable[..., Awaitable[bytes]]:
        """The dependency that authenticates a callback to ``adapter``'s routes and returns its raw body
        (401 otherwise).

        The vendor's routes accept the shared secret (``?token=`` or Basic) when the vendor is listed in
        ``[messaging] callback_secret_vendors``, and a signed adapter's signature over the raw body. The
        signing credentials are looked up off the event loop; while the first lookup runs: 503. The body
        is read by a call, not a sub-dependency: each level of FastAPI's dependency resolution costs CPU on
        every callback.
        """
        settings = self._settings
        read_body = self.body

        @guard(CALLBACK, vendor=adapter.vendor)
        async def verify_callback(request: Request) -> bytes:
            raw = await read_body(request)
            try:
                auth, _ = await settings()
                accepted = await auth.verify(adapter, raw, request.headers, request.query_params.get("token"))
            except CredentialsPending:
                log.warning("signing credentials still being looked up: %s callback answered 503", adapter.vendor)
                raise Refusal(503, "credentials not available yet, retry later", _RETRY) from None
            except Exception:  # never a 500: nothing was stored, the vendor retries
                log.exception("unexpected error authenticating a %s callback", adapter.vendor)
                raise Refusal(503, "callback could not be stored, retry later", _RETRY) from None
            if not accepted:
                raise Refusal(401, "callback not authenticated")
            return raw

        return verify_callback


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise Refusal(413, f"body larger than {limit} bytes")
        except ValueError as exc:
            raise Refusal(400, "invalid Content-Length") from exc
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
