"""Unauthenticated control routes under ``/sandbox``: inbound injection, logs, reset, holding callbacks, health."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from . import scenarios
from .context import SandboxContext
from .inbound import InboundError, aerialink_inbound, telesign_inbound


def control_router(ctx: SandboxContext) -> APIRouter:
    router = APIRouter(prefix="/sandbox", tags=["sandbox"])

    @router.post("/inbound")
    async def inject_inbound(request: Request) -> JSONResponse:
        try:
            spec = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            spec = None
        if not isinstance(spec, dict):
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        vendor = spec.get("vendor")
        try:
            if vendor == "telesign":
                body = telesign_inbound(spec, ctx.config)
                url = ctx.config.telesign_inbound_url
                message_id = body["reference_id"]
            elif vendor == "aerialink":
                body = aerialink_inbound(spec, ctx.config)
                url = ctx.config.aerialink_inbound_url
                message_id = body["messageGUID"]
            else:
                raise InboundError("vendor must be 'telesign' or 'aerialink'")
        except InboundError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if not url:
            return JSONResponse({"error": f"no {vendor}_inbound_url configured"}, status_code=409)
        make = ctx.telesign_delivery if vendor == "telesign" else ctx.aerialink_delivery
        ctx.dispatcher.schedule(make(url, body, "inbound", message_id, "inbound"), 0.0)
        return JSONResponse({"vendor": vendor, "url": url, "message_id": message_id, "body": body})

    @router.get("/requests")
    def list_requests() -> list[dict[str, Any]]:
        return ctx.state.requests()

    @router.get("/callbacks")
    def list_callbacks() -> list[dict[str, Any]]:
        return ctx.dispatcher.records()

    @router.post("/reset")
    def reset() -> dict[str, str]:
        ctx.state.reset()
        ctx.dispatcher.reset()
        return {"status": "reset"}

    @router.post("/callbacks/hold")
    def hold_callbacks() -> dict[str, bool]:
        """Keep every callback back until released (to look at messages that are still in flight)."""
        ctx.dispatcher.hold()
        return {"held": True}

    @router.post("/callbacks/release")
    def release_callbacks() -> dict[str, bool]:
        ctx.dispatcher.release()
        return {"held": False}

    @router.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "pending_callbacks": ctx.dispatcher.pending(),
            "callbacks_held": ctx.dispatcher.held,
            "time_scale": ctx.config.time_scale,
            "scenarios": scenarios.describe(),
        }

    return router
