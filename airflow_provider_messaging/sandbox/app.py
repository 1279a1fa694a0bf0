"""FastAPI app factory for the sandbox."""

from __future__ import annotations

from fastapi import FastAPI

from .aerialink_api import aerialink_router
from .callbacks import CallbackDispatcher
from .config import SandboxConfig
from .context import SandboxContext
from .control import control_router
from .state import SandboxState
from .telesign_api import telesign_router


def create_app(config: SandboxConfig, context: SandboxContext | None = None) -> FastAPI:
    """The sandbox app. The caller owns ``context.dispatcher`` (start/stop it); see ``SandboxServer``."""
    ctx = context or SandboxContext(config, SandboxState(), CallbackDispatcher(config))
    app = FastAPI(
        title="Messaging vendor sandbox",
        description="Local emulator of the Telesign omnichannel and Aerialink v5 APIs.",
        openapi_url="/sandbox/openapi.json",
        docs_url="/sandbox/docs",
        redoc_url=None,
    )
    app.state.sandbox = ctx
    app.include_router(telesign_router(ctx))
    app.include_router(aerialink_router(ctx))
    app.include_router(control_router(ctx))
    return app
