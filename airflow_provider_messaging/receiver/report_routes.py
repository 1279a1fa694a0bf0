"""``GET /report``: the delivery analytics of a time window as JSON (or a PNG/SVG chart).

Authentication: Airflow's login, exactly as the Messages view, declared as the route's dependency
(:func:`~airflow_provider_messaging.receiver.login.airflow_login`): the Airflow JWT (``Authorization:
Bearer`` or the ``_token`` cookie) validated by the auth manager, and the right to view plugins. The
report exposes business figures; the vendors' callback secret (which travels in callback URLs) does not
open it, nor does a Telesign signature or ``callback_auth_disabled``.
"""

# No ``from __future__ import annotations``: FastAPI must see the route's Annotated dependency (built
# inside report_router) as an object.
import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from airflow_provider_messaging.analytics import report as analytics
from airflow_provider_messaging.receiver.login import Authenticator, airflow_login
from airflow_provider_messaging.store import MessageStore, StoreError


def parse_time(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """An ISO-8601 time (UTC if no zone) or a span back from now: ``90m``, ``24h``, ``7d``; returned in UTC.

    Raises ``ValueError`` for anything else, including times outside what a datetime can hold.
    """
    if not value:
        return None
    now = now or datetime.now(timezone.utc)
    text = value.strip()
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    try:
        if text[-1:].lower() in units and text[:-1].replace(".", "", 1).isdigit():
            return now - timedelta(**{units[text[-1].lower()]: float(text[:-1])})
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except OverflowError:
        raise ValueError(f"out of range: {value!r}") from None


def report_router(get_store: Callable[[], MessageStore], authenticate: Authenticator) -> APIRouter:
    """The router; ``create_app`` passes its lazily built store and Airflow's authenticator."""
    router = APIRouter()
    # refusals in the report's own error shape, {"status": "error", "reason": ...}
    Viewer = Annotated[Any, Depends(airflow_login(authenticate, reason_body=True))]

    @router.get(
        "/report",
        operation_id="messaging_report",
        summary="Delivery analytics of a time window (JSON, or ?chart=png|svg)",
    )
    async def report(request: Request, user: Viewer) -> Response:
        params = request.query_params
        try:
            until = parse_time(params.get("until"))
        except ValueError as exc:
            return JSONResponse({"status": "error", "reason": f"bad time in until: {exc}"}, status_code=400)
        try:
            since = parse_time(params.get("since", "7d"), now=until)
        except ValueError as exc:
            return JSONResponse({"status": "error", "reason": f"bad time in since: {exc}"}, status_code=400)
        chart = params.get("chart")
        if chart not in (None, "png", "svg"):
            return JSONResponse({"status": "error", "reason": "chart must be png or svg"}, status_code=400)
        try:
            result = await run_in_threadpool(lambda: analytics.from_store(get_store(), since, until))
        except StoreError:
            return JSONResponse({"status": "error", "reason": "store unavailable"}, status_code=503)
        if chart is None:
            return JSONResponse(result.to_dict())
        try:
            body = await run_in_threadpool(_chart_bytes, result, chart)
        except ImportError:
            reason = "charts need matplotlib: pip install 'airflow-provider-messaging[report]'"
            return JSONResponse({"status": "error", "reason": reason}, status_code=501)
        return Response(body, media_type="image/png" if chart == "png" else "image/svg+xml")

    return router


def _chart_bytes(result: Any, kind: str) -> bytes:
    handle, path = tempfile.mkstemp(suffix=f".{kind}")
    os.close(handle)
    try:
        analytics.render_chart(result, path)
        with open(path, "rb") as file:
            return file.read()
    finally:
        os.unlink(path)
