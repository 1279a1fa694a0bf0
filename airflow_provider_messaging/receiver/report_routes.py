"""``GET /report``: the delivery analytics of a time window as JSON (or a PNG/SVG chart).

Authentication: the callback receiver's shared secret, and nothing else. Routes of a plugin's FastAPI
app are not behind Airflow's login (airflow-notes.md §5), and the report exposes business figures, so
the route checks the request itself and fails closed: ``?token=`` / ``Authorization: Bearer`` equal to
``[messaging] callback_token``, or HTTP Basic equal to ``callback_username``/``callback_password``. A
Telesign signature (which authenticates a vendor's body, not a reader) and ``callback_auth_disabled``
(a sandbox switch for callbacks) do NOT open it. Airflow's own token is not accepted: checking it would
tie the standalone receiver to Airflow's auth manager.
"""

from __future__ import annotations

import hmac
import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from airflow_provider_messaging.analytics import report as analytics
from airflow_provider_messaging.receiver.auth import CallbackAuth
from airflow_provider_messaging.store import MessageStore, StoreError


def parse_time(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """An ISO-8601 time (UTC if no zone) or a span back from now: ``90m``, ``24h``, ``7d``."""
    if not value:
        return None
    now = now or datetime.now(timezone.utc)
    text = value.strip()
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if text[-1:].lower() in units and text[:-1].replace(".", "", 1).isdigit():
        return now - timedelta(**{units[text[-1].lower()]: float(text[:-1])})
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _authorized(auth: CallbackAuth, request: Request) -> bool:
    headers = {name.lower(): value for name, value in request.headers.items()}
    if auth.shared_secret_ok(headers, request.query_params.get("token")):
        return True
    bearer = headers.get("authorization", "")
    return bool(
        auth.token
        and bearer[:7].lower() == "bearer "
        and hmac.compare_digest(bearer[7:].strip().encode(), auth.token.encode())
    )


def report_router(get_store: Callable[[], MessageStore], get_auth: Callable[[], CallbackAuth]) -> APIRouter:
    """The router; ``create_app`` passes its lazily built store and auth."""
    router = APIRouter()

    @router.get("/report", summary="Delivery analytics of a time window (JSON, or ?chart=png|svg)")
    async def report(request: Request) -> Response:
        if not _authorized(get_auth(), request):
            return JSONResponse({"status": "error", "reason": "not authenticated"}, status_code=401)
        params = request.query_params
        try:
            until = parse_time(params.get("until"))
            since = parse_time(params.get("since", "7d"), now=until)
        except ValueError as exc:
            return JSONResponse({"status": "error", "reason": f"bad time: {exc}"}, status_code=400)
        chart = params.get("chart")
        if chart not in (None, "png", "svg"):
            return JSONResponse({"status": "error", "reason": "chart must be png or svg"}, status_code=400)
        try:
            result = await run_in_threadpool(analytics.from_store, get_store(), since, until)
        except StoreError:
            return JSONResponse({"status": "error", "reason": "store unavailable"}, status_code=503)
        if chart is None:
            return JSONResponse(result.to_dict())
        body = await run_in_threadpool(_chart_bytes, result, chart)
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
