"""The *Messages* view: JSON endpoints and one small HTML page, served by the receiver app under ``/ui``.

Inside Airflow the page is at ``/messaging/ui/`` and the plugin links it into the navigation as an
external view (rendered by Airflow's UI in an iframe). Plugin routes are not behind Airflow's login,
so every data endpoint declares Airflow's login as a dependency in its signature (``Reader`` /
``Writer``: :func:`~airflow_provider_messaging.receiver.login.airflow_login`, the Airflow JWT as a
Bearer header or the ``_token`` cookie; writing also needs the right to edit connections and a
``X-Requested-With`` header).

The HTML page and its script are static and carry no data (their routes declare ``Public``); the script
reads the JSON endpoints. Callback routes have their own authentication (``receiver/dependencies.py``).
"""

# No ``from __future__ import annotations``: FastAPI must see the route signatures' Annotated
# dependencies (built inside create_ui_router) as objects, not as strings it cannot resolve.
import html
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from airflow_provider_messaging import vendors
from airflow_provider_messaging.models.status import DeliveryState
from airflow_provider_messaging.receiver.dependencies import Public
from airflow_provider_messaging.receiver.login import Authenticator, airflow_login, airflow_user
from airflow_provider_messaging.store import MessageStore, StoreError

log = logging.getLogger(__name__)

_STATIC = {
    "messages.js": "application/javascript; charset=utf-8",
    "messages.css": "text/css; charset=utf-8",
}
_SECURITY_HEADERS = {
    # the page and its script only: no inline script, no third-party anything, framed by Airflow only
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'self'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _static_text(name: str) -> str:
    return resources.files("airflow_provider_messaging.receiver").joinpath("static", name).read_text("utf-8")


def _parse_time(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    """An ISO date (``2026-01-31``: the whole day) or datetime, in UTC; naive values are UTC.

    The end of the last representable day (``until=9999-12-31``) is no bound at all; any other time
    that a datetime cannot hold in UTC (``0001-01-01T00:00:00+23:00``) is a 400 naming ``name``.
    """
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if end and day == date.max:
                return None
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=timezone.utc)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(400, f"{name}: not an ISO date or datetime: {value!r}") from None
    try:
        return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    except OverflowError:
        raise HTTPException(400, f"{name}: out of range in UTC: {value!r}") from None


def _text(value: str | None, name: str) -> str | None:
    """A free-text filter; PostgreSQL refuses NUL characters in text (that was a 503), so they are a 400."""
    if value and "\x00" in value:
        raise HTTPException(400, f"{name}: must not contain a NUL character")
    return value or None


def _vendor(value: str | None) -> str | None:
    names = vendors.vendor_names()  # the registry (read when the router was built)
    if value and value not in names:
        raise HTTPException(400, f"vendor must be one of {', '.join(names)}")
    return value or None


def _page() -> str:
    """The page, with one ``<option>`` per registered vendor in its vendor filters."""
    options = "".join(f"<option>{html.escape(name)}</option>" for name in vendors.vendor_names())
    return _static_text("messages.html").replace("<!--vendor-options-->", options)


def _latest_inbound(store: MessageStore, vendor: str | None, sender: str | None, limit: int) -> list[dict[str, Any]]:
    """Inbound messages as the view lists them, newest first."""
    return [r.to_dict() for r in store.latest_inbound(vendor=vendor, sender=sender, limit=limit)]


def _message_detail(store: MessageStore, message_id: str, vendor: str | None) -> dict[str, Any] | None:
    status = store.get_status(message_id, vendor)
    if status is None:
        return None
    history = [c for c in store.callbacks_for(status.message_id) if c["vendor"] == status.vendor]
    replies = _latest_inbound(store, status.vendor, status.recipient, 20) if status.recipient else []
    return {"message": status.to_dict(), "callbacks": history, "inbound": replies}


def create_ui_router(get_store: Callable[[], MessageStore], authenticate: Authenticator | None = None) -> APIRouter:
    """Routes of the Messages view (``/ui/...``), reading ``get_store()``; ``authenticate`` defaults to Airflow's."""
    check = authenticate or airflow_user
    vendors.vendors()  # read the registry (entry points) now, not on the event loop of a request
    router = APIRouter(prefix="/ui", tags=["messages view"])

    Reader = Annotated[Any, Depends(airflow_login(check))]
    Writer = Annotated[Any, Depends(airflow_login(check, write=True))]

    async def in_thread(fn: Callable[[], Any]) -> Any:
        try:
            return await run_in_threadpool(fn)
        except (StoreError, SQLAlchemyError) as exc:
            raise HTTPException(503, f"message store unavailable: {type(exc).__name__}") from None

    @router.get("", include_in_schema=False)
    async def page_redirect(_: Public) -> RedirectResponse:
        return RedirectResponse("ui/", status_code=307)  # relative: right behind any prefix or proxy

    @router.get("/", include_in_schema=False)
    async def page(_: Public) -> Response:
        return Response(_page(), media_type="text/html; charset=utf-8", headers=_SECURITY_HEADERS)

    @router.get("/static/{name}", include_in_schema=False)
    async def static(_: Public, name: str) -> Response:
        if name not in _STATIC:
            raise HTTPException(404, "not found")
        return Response(_static_text(name), media_type=_STATIC[name], headers=_SECURITY_HEADERS)

    @router.get("/api/me")
    async def me(user: Reader) -> dict[str, Any]:
        name = getattr(user, "get_name", None)
        return {"user": name() if callable(name) else str(user)}

    @router.get("/api/messages")
    async def list_messages(
        user: Reader,
        vendor: str | None = None,
        state: str | None = None,
        dag_id: str | None = None,
        since: Annotated[str | None, Query(description="ISO date or datetime (from)")] = None,
        until: Annotated[str | None, Query(description="ISO date (inclusive) or datetime (exclusive)")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> dict[str, Any]:
        if state and state not in DeliveryState.__members__:
            raise HTTPException(400, f"state must be one of {', '.join(DeliveryState.__members__)}")
        filters: dict[str, Any] = {
            "vendor": _vendor(vendor),
            "state": state or None,
            "dag_id": _text(dag_id, "dag_id"),
            "since": _parse_time(since, "since"),
            "until": _parse_time(until, "until", end=True),
            "limit": limit,
        }
        statuses = await in_thread(lambda: get_store().list_messages(**filters))
        return {"messages": [s.to_dict() for s in statuses], "states": list(DeliveryState.__members__)}

    # ``:path``: an id may be an idempotency key (``dag/task/run/map``); its ``%2F`` reaches us as ``/``
    @router.get("/api/messages/{message_id:path}")
    async def message_detail(user: Reader, message_id: str, vendor: str | None = None) -> dict[str, Any]:
        chosen = _vendor(vendor)
        ident = _text(message_id, "message_id") or ""
        detail = await in_thread(lambda: _message_detail(get_store(), ident, chosen))
        if detail is None:
            raise HTTPException(404, "unknown message")
        return detail  # type: ignore[no-any-return]

    @router.get("/api/inbound")
    async def inbound(
        user: Reader,
        vendor: str | None = None,
        sender: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> dict[str, Any]:
        chosen = _vendor(vendor)
        wanted = _text(sender, "sender")
        rows = await in_thread(lambda: _latest_inbound(get_store(), chosen, wanted, limit))
        return {"inbound": rows}

    @router.get("/api/optouts")
    async def optouts(user: Reader, vendor: str | None = None) -> dict[str, Any]:
        chosen = _vendor(vendor)
        return {"optouts": await in_thread(lambda: get_store().list_opt_outs(chosen))}

    @router.delete("/api/optouts/{vendor}/{recipient}")
    async def remove_optout(user: Writer, vendor: str, recipient: str) -> JSONResponse:
        chosen = _vendor(vendor) or ""
        number = _text(recipient, "recipient") or ""
        removed = await in_thread(lambda: get_store().remove_opt_out(chosen, number, source="ui"))
        if not removed:
            raise HTTPException(404, "not on the opt-out list")
        name = getattr(user, "get_name", None)
        log.info("opt-out removed: %s %s by %s", vendor, recipient, name() if callable(name) else user)
        return JSONResponse({"status": "ok", "vendor": vendor, "recipient": recipient, "removed": True})

    return router
