"""The callback receiver: a FastAPI app that authenticates, parses and commits vendor callbacks.

Mounted into the Airflow API server under ``/messaging`` by the provider's plugin, or run alone with
``airflow-messaging receiver``. A 2xx is returned only after the callback is committed; anything the
store cannot take right now gets 503 so the vendor retries; bad input gets a 4xx and writes nothing.
Authentication is a dependency declared in every route's signature (:mod:`.dependencies`): each
vendor's verification on its callback routes, Airflow's login on the Messages view and ``/report``;
``/health`` is open by design.
"""

# No ``from __future__ import annotations``: FastAPI must see the callback routes' Annotated dependencies
# (built inside create_app) as objects, not as strings it cannot resolve.
import dataclasses
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from airflow_provider_messaging import config, vendors
from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.models.consent import inbound_action
from airflow_provider_messaging.receiver import report_routes
from airflow_provider_messaging.receiver.auth import CallbackAuth
from airflow_provider_messaging.receiver.batching import CommitBatcher
from airflow_provider_messaging.receiver.dependencies import CallbackGuard, Public, Refusal, refusal_response
from airflow_provider_messaging.receiver.login import Authenticator, airflow_user
from airflow_provider_messaging.receiver.vendors import CallbackAdapter
from airflow_provider_messaging.receiver.views import create_ui_router
from airflow_provider_messaging.store import DeliveryRecord, MessageStore, StoreError, StoreUnavailableError

log = logging.getLogger(__name__)


def _error(status: int, reason: str, **headers: str) -> JSONResponse:
    return JSONResponse({"status": "error", "reason": reason}, status_code=status, headers=headers or None)


def _decode_json_object(raw: bytes) -> tuple[dict[str, Any], str]:
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise Refusal(400, f"body is not valid UTF-8 JSON: {type(exc).__name__}") from exc
    except ValueError as exc:  # an integer longer than Python's int/str limit (4,300 digits)
        raise Refusal(400, "body has a number too long to read") from exc
    if not isinstance(data, dict):
        raise Refusal(400, "body must be a JSON object")
    if "\\ud" in text.lower():
        # JSON escapes may encode a lone UTF-16 surrogate, which no database can store as text
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise Refusal(400, "body contains an unpaired UTF-16 surrogate escape") from exc
    return data, text


def create_app(
    store: MessageStore | Callable[[], MessageStore] | None = None,
    auth: CallbackAuth | None = None,
    max_body_bytes: int | None = None,
    authenticate: Authenticator | None = None,
) -> FastAPI:
    """Build the receiver app. Defaults read ``[messaging]`` settings lazily, at the first request.

    ``authenticate`` checks readers of the Messages view and the report (default: Airflow's JWT).
    No API docs are served (``/docs``, ``/redoc``, ``/openapi.json``): inside Airflow the plugin's
    routes are not behind Airflow's login, and vendors need no docs.
    """
    app = FastAPI(
        title="airflow-provider-messaging callback receiver",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    state: dict[str, Any] = {}
    # built once, in worker threads (see ``ready``): the lock keeps two first requests from building two
    init_lock = threading.RLock()

    def get_store() -> MessageStore:
        if isinstance(store, MessageStore):
            return store
        with init_lock:
            if "store" not in state:
                state["store"] = store() if callable(store) else config.get_store()
            return state["store"]  # type: ignore[no-any-return]

    def get_batcher() -> CommitBatcher:
        with init_lock:
            if "batcher" not in state:
                state["batcher"] = CommitBatcher(get_store())
            return state["batcher"]  # type: ignore[no-any-return]

    def get_auth() -> CallbackAuth:
        with init_lock:
            if "auth" not in state:
                state["auth"] = auth or CallbackAuth.from_config()
            return state["auth"]  # type: ignore[no-any-return]

    def limit() -> int:
        # read once: looking the option up in Airflow's configuration costs more than the whole callback
        with init_lock:
            if "limit" not in state:
                state["limit"] = max_body_bytes or int(config.get_option("max_callback_bytes") or 65536)
            return state["limit"]  # type: ignore[no-any-return]

    async def ready() -> tuple[CallbackAuth, int]:
        # the first request reads the settings (and may open the store) in a thread: configuration
        # options can come from a secrets backend, and nothing may block the event loop
        if "limit" not in state:
            await run_in_threadpool(lambda: (get_auth(), limit()))
        return state["auth"], state["limit"]

    callbacks = CallbackGuard(ready)

    async def handle(raw: bytes, adapter: CallbackAdapter, kind: str) -> JSONResponse:
        """An authenticated callback body -> parsed and committed (answered after the commit)."""
        vendor = adapter.vendor
        try:
            data, text = _decode_json_object(raw)
            if kind == "status":
                update = adapter.parse_delivery(data)
                record = DeliveryRecord(vendor, update.message_id, tuple(update.events), text)
                batcher = state["batcher"] if "batcher" in state else await run_in_threadpool(get_batcher)
                status = await batcher.submit_async(record)  # answered after the commit
                result: dict[str, Any] = {
                    "message_id": update.message_id,
                    "state": status.state.value if status else None,
                    "known_message": status is not None,
                }
            else:
                result = await run_in_threadpool(_store_inbound, get_store(), adapter, data, text)
            return JSONResponse({"status": "ok", **result})
        except Refusal as rejected:
            return _error(rejected.status_code, str(rejected.detail))
        except PayloadValidationError as invalid:
            return _error(400, str(invalid))
        except StoreUnavailableError:
            log.warning("store unavailable: %s callback answered 503", vendor)
            return _error(503, "store unavailable, retry later", **{"Retry-After": "5"})
        except StoreError as exc:
            log.exception("store error")
            return _error(503, type(exc).__name__, **{"Retry-After": "5"})
        except Exception:  # nothing was committed: the vendor retries; never a 500 with a stack trace
            log.exception("unexpected error storing a %s %s callback", vendor, kind)
            return _error(503, "callback could not be stored, retry later", **{"Retry-After": "5"})

    def make_route(adapter: CallbackAdapter, kind: str) -> Callable[..., Awaitable[JSONResponse]]:
        # adapter and kind are bound here, not declared as parameters: FastAPI would read parameters
        # with defaults from the query string (?vendor=...), letting a caller pick the parser and auth.
        VerifiedBody = Annotated[bytes, Depends(callbacks.verifier(adapter))]

        async def route(raw: VerifiedBody) -> JSONResponse:
            return await handle(raw, adapter, kind)

        return route

    # the routes of every registered vendor, as its callback adapter declares them; each route's
    # signature carries its vendor's verification (which reads the raw body once, within the limit)
    for spec in vendors.vendors():
        adapter = spec.load_adapter()
        for callback in adapter.routes:
            kind = callback.kind
            # one route per method: each operation needs its own id (Airflow's API server warns on duplicates)
            for method in callback.methods:
                app.add_api_route(
                    f"/{spec.name}/{kind}",
                    make_route(adapter, kind),
                    methods=[method],
                    name=f"{spec.name}_{kind}",
                    operation_id=f"messaging_{spec.name}_{kind}_{method.lower()}",
                    summary=f"{spec.title} {'delivery status' if kind == 'status' else 'inbound message'} callback",
                )

    check = authenticate or airflow_user
    app.include_router(create_ui_router(get_store, check))  # the Messages view (/ui), Airflow-JWT auth
    app.include_router(report_routes.report_router(get_store, check))  # GET /report, the same auth

    @app.get("/health", operation_id="messaging_health")
    async def health(_: Public) -> JSONResponse:
        """Open by design (load balancers and probes call it): answers ok or 503, and carries no data."""
        try:
            await run_in_threadpool(lambda: get_store().count("opt_outs"))
        except (StoreError, Exception) as exc:
            return _error(503, f"store unavailable: {type(exc).__name__}")
        return JSONResponse({"status": "ok"})

    app.add_exception_handler(Refusal, refusal_response)  # the callback guards' and the report's refusals
    return app


def _store_inbound(store: MessageStore, adapter: CallbackAdapter, data: dict[str, Any], text: str) -> dict[str, Any]:
    inbound = adapter.parse_inbound(data)
    # Consent keywords (STOP, UNSUBSCRIBE, START, HELP, ...) on every vendor's inbound channels, on top of the
    # vendor's own action field: one classifier, applied here once for all adapters.
    action, keyword = inbound_action(adapter.vendor, inbound.action, inbound.keyword, inbound.text)
    inbound = dataclasses.replace(inbound, action=action, keyword=keyword)
    record, created = store.record_inbound(vendor=adapter.vendor, raw_body=text, inbound=inbound)
    return {"inbound_id": record.id, "duplicate": not created, "action": record.action}
