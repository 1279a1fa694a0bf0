"""Telesign routes: ``POST /v1/omnichannel`` and ``GET /v1/messaging/{reference_id}``."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from . import telesign_events
from .basic_auth import AuthProblem, check_basic
from .context import SandboxContext
from .formats import iso_micro_z, telesign_reference_id, utcnow
from .scenarios import Outcome, outcome_for
from .state import TimelineEntry
from .telesign_validation import Problem, parse_body, validate_omnichannel

_AUTH_PROBLEMS: dict[AuthProblem, Problem] = {
    AuthProblem.MISSING: (3405, "Missing required `Authorization` header"),
    AuthProblem.MALFORMED: (3412, "Required 'Authorization' header is not in the correct format"),
    AuthProblem.NOT_BASIC: (3400, "Not authorized"),
    AuthProblem.BAD_USER: (3410, "Invalid Customer ID."),
    AuthProblem.BAD_SECRET: (3411, "Invalid API Key."),
}
RATE_LIMIT: Problem = (3204, "Rate limit exceeded")
UNKNOWN_REFERENCE: Problem = (10036, "Reference ID expired")  # assumed: no documented answer for unknown ids


def error_response(
    http_status: int, problems: list[Problem], reference_id: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Telesign error envelope: ``{reference_id?, status{code, description, updated_on}, errors[]}``."""
    code, description = problems[0]
    body: dict[str, Any] = {}
    if reference_id is not None:
        body["reference_id"] = reference_id
    body["status"] = {"code": code, "description": description, "updated_on": iso_micro_z(utcnow())}
    body["errors"] = [{"code": c, "description": d} for c, d in problems]
    return JSONResponse(body, status_code=http_status, headers=headers)


def telesign_router(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(tags=["telesign"])
    config = ctx.config

    def auth_failure(request: Request) -> Problem | None:
        problem = check_basic(
            request.headers.get("authorization"), config.telesign_customer_id, config.telesign_api_key
        )
        return None if problem is None else _AUTH_PROBLEMS[problem]

    @router.post("/v1/omnichannel")
    async def omnichannel(request: Request) -> JSONResponse:
        path = "/v1/omnichannel"
        denied = auth_failure(request)
        if denied is not None:
            ctx.state.log_request("telesign", "POST", path, 401, code=denied[0])
            return error_response(401, [denied])
        data, fatal = parse_body(await request.body())
        if data is None:
            assert fatal is not None
            ctx.state.log_request("telesign", "POST", path, 400, code=fatal[0])
            return error_response(400, [fatal], telesign_reference_id())
        phone = data.get("phone_number") if isinstance(data.get("phone_number"), str) else None
        outcome = outcome_for(phone or "")
        if phone and outcome is Outcome.RATE_LIMITED and ctx.state.first_attempt("telesign", phone):
            ctx.state.log_request("telesign", "POST", path, 429, phone, code=RATE_LIMIT[0])
            return error_response(429, [RATE_LIMIT], telesign_reference_id(), {"Retry-After": "1"})
        problems = validate_omnichannel(data)
        if not problems and outcome is Outcome.REJECTED:
            problems = [(3101, f"Invalid value for parameter phone_number: {phone}")]
        if problems:
            reference_id = telesign_reference_id()
            ctx.state.log_request("telesign", "POST", path, 400, phone, reference_id, problems[0][0])
            return error_response(400, problems, reference_id)
        reference_id = telesign_reference_id()
        _play(ctx, reference_id, data, outcome)
        ctx.state.log_request("telesign", "POST", path, 200, phone, reference_id, 3001)
        return JSONResponse(
            {
                "status": {"code": 3001, "description": "Message in progress"},
                "reference_id": reference_id,
                "external_id": data.get("external_id"),
            }
        )

    @router.get("/v1/messaging/{reference_id}")
    async def messaging_status(reference_id: str, request: Request) -> JSONResponse:
        path = f"/v1/messaging/{reference_id}"
        denied = auth_failure(request)
        if denied is not None:
            ctx.state.log_request("telesign", "GET", path, 401, code=denied[0])
            return error_response(401, [denied])
        current = ctx.state.current_status(reference_id)
        if current is None:
            ctx.state.log_request("telesign", "GET", path, 404, message_id=reference_id, code=UNKNOWN_REFERENCE[0])
            return error_response(404, [UNKNOWN_REFERENCE], reference_id)
        ctx.state.log_request("telesign", "GET", path, 200, message_id=reference_id, code=current["status"]["code"])
        return JSONResponse(current)

    return router


def _play(ctx: SandboxContext, reference_id: str, data: dict[str, Any], outcome: Outcome) -> None:
    """Plan the callbacks, remember the status timeline, and schedule the sends."""
    external_id = data.get("external_id")
    channels = [(c["channel"], c.get("fallback_time")) for c in data["channels"]]
    planned = telesign_events.plan(reference_id, external_id, channels, outcome, ctx.config)
    started = time.monotonic()
    ctx.state.set_timeline(
        reference_id,
        telesign_events.initial_status(reference_id, external_id),
        [TimelineEntry(started + cb.happened_after, cb.payload) for cb in planned],
    )
    url = data.get("callback_url") or ctx.config.telesign_status_url
    if not url:
        return
    for cb in planned:
        delivery = ctx.telesign_delivery(url, cb.payload, "delivery", reference_id, str(cb.code))
        ctx.dispatcher.schedule(delivery, cb.send_after)
