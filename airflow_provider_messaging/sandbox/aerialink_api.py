"""Aerialink route: ``POST /v5/messages``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from . import aerialink_events
from .aerialink_validation import FieldError, failover_channel, validate_message
from .basic_auth import check_basic
from .context import SandboxContext
from .formats import aerialink_guid
from .scenarios import Outcome, outcome_for

PATH = "/v5/messages"
INVALID = "Missing or invalid parameters in body"


def error_response(errors: list[FieldError]) -> JSONResponse:
    return JSONResponse({"status": "error", "message": INVALID, "data": errors}, status_code=400)


def aerialink_router(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(tags=["aerialink"])
    config = ctx.config

    @router.post(PATH)
    async def send_message(request: Request) -> JSONResponse:
        auth = check_basic(request.headers.get("authorization"), config.aerialink_username, config.aerialink_password)
        if auth is not None:
            ctx.state.log_request("aerialink", "POST", PATH, 401, code=auth.value)
            return JSONResponse(  # assumed shape: the vendor documents only 200 and 400 bodies
                {"status": "error", "message": "Invalid username or password", "data": []},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="Aerialink"'},
            )
        try:
            data = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            ctx.state.log_request("aerialink", "POST", PATH, 400, code="body")
            return error_response([{"field": "body", "description": "Body", "message": "Body must be a JSON object"}])
        destination = data.get("destination") if isinstance(data.get("destination"), str) else None
        outcome = outcome_for(destination or "")
        if destination and outcome is Outcome.RATE_LIMITED and ctx.state.first_attempt("aerialink", destination):
            ctx.state.log_request("aerialink", "POST", PATH, 429, destination, code="rate_limited")
            return JSONResponse(  # assumed shape
                {"status": "error", "message": "Too many requests", "data": []},
                status_code=429,
                headers={"Retry-After": "1"},
            )
        errors = validate_message(data)
        if not errors and outcome is Outcome.REJECTED:
            errors = [
                {
                    "field": "destination",
                    "description": "Destination",
                    "message": "'destination' must be a valid phone number",
                }
            ]
        if errors:
            ctx.state.log_request("aerialink", "POST", PATH, 400, destination, code=errors[0]["field"])
            return error_response(errors)
        guid = aerialink_guid()
        _play(ctx, guid, data, outcome)
        ctx.state.log_request("aerialink", "POST", PATH, 200, destination, guid, "success")
        return JSONResponse(
            {
                "status": "success",
                "message": "Message successfully queued",
                "data": {"results": [{"messageGUID": guid, "destination": destination, "status": "success"}]},
            }
        )

    return router


def _play(ctx: SandboxContext, guid: str, data: dict[str, Any], outcome: Outcome) -> None:
    url = data.get("callbackURL") or ctx.config.aerialink_status_url
    if not url:
        return
    for cb in aerialink_events.plan(guid, data, failover_channel(data), outcome, ctx.config):
        ctx.dispatcher.schedule(ctx.aerialink_delivery(url, cb.payload, "delivery", guid, cb.status), cb.send_after)
