"""Airflow's login on the receiver's own routes (the Messages view's endpoints, ``/report``), as a dependency.

Plugin routes are not behind Airflow's login, so these routes check the caller themselves, with
Airflow's own token check:

* the token is the ``Authorization: Bearer <jwt>`` header (API clients, ``POST /auth/token``) or, for
  the browser, the ``_token`` cookie that Airflow's login sets (same origin, so the view's iframe sends it);
* it is validated by the configured auth manager (``get_user_from_token``: signature, expiry,
  revocation), exactly as the API server's ``get_user`` does; no token -> 401, a bad one -> 401/403;
* reading needs the auth manager's ``is_authorized_view(PLUGINS)``; a change (removing an opt-out
  entry lets the vendor connections message that number again) needs the right to edit connections
  (``is_authorized_connection(PUT)``) and a ``X-Requested-With`` header (a cross-site form or ``fetch``
  cannot send it without a CORS preflight that this app never grants).

The vendors' callback credentials (signature, shared secret, ``callback_auth_disabled``) open none of these.
"""

# No ``from __future__ import annotations``: FastAPI reads the dependency's signature.
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, Request

from airflow_provider_messaging.receiver.dependencies import AIRFLOW_LOGIN, Refusal, guard

log = logging.getLogger(__name__)

#: Cookie in which Airflow's login flow stores the JWT (``airflow.api_fastapi.auth.managers.base_auth_manager``).
COOKIE_NAME = "_token"

#: ``authenticate(request, write)`` returns the user or raises ``HTTPException`` (401/403).
Authenticator = Callable[[Request, bool], Awaitable[Any]]


def _token_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()  # an explicit credential wins over the ambient cookie, as in Airflow
    return request.cookies.get(COOKIE_NAME) or None


def _auth_manager() -> Any:
    """The API server's auth manager; initialized here when the receiver runs alone."""
    from airflow_provider_messaging.compat import get_auth_manager, init_auth_manager

    try:
        return get_auth_manager()
    except RuntimeError:  # standalone receiver: not initialized by an API server
        return init_auth_manager()


async def airflow_user(request: Request, write: bool) -> Any:
    """Authenticate the request with Airflow's JWT and authorize it; raise 401/403 otherwise."""
    token = _token_from(request)
    if not token:
        raise HTTPException(401, "Not authenticated: log in to Airflow", headers={"WWW-Authenticate": "Bearer"})
    try:
        from airflow_provider_messaging.compat import AccessView, resolve_user_from_token

        manager = _auth_manager()
        user = await resolve_user_from_token(token)  # signature, expiry, revocation: Airflow's own check
    except HTTPException as exc:
        raise HTTPException(401 if exc.status_code == 401 else 403, str(exc.detail)) from None
    except Exception as exc:  # a misconfigured auth manager must not open the door
        log.warning("messages view: token check failed: %s", type(exc).__name__)
        raise HTTPException(403, "Invalid token") from None
    allowed = manager.is_authorized_view(access_view=AccessView.PLUGINS, user=user)
    if allowed and write:
        allowed = manager.is_authorized_connection(method="PUT", user=user)
    if not allowed:
        raise HTTPException(403, "Forbidden")
    return user


def airflow_login(
    authenticate: Authenticator, *, write: bool = False, reason_body: bool = False
) -> Callable[[Request], Awaitable[Any]]:
    """A dependency returning the Airflow user allowed to read (``write``: to change) the plugin's data.

    ``authenticate`` is :func:`airflow_user` in production (tests inject their own). Refusals are 401/403
    with ``{"detail": ...}``, or with the receiver's ``{"status": "error", "reason": ...}`` when ``reason_body``.
    """

    @guard(AIRFLOW_LOGIN, access="write" if write else "read")
    async def airflow_login_user(request: Request) -> Any:
        try:
            if write and request.headers.get("x-requested-with", "").lower() != "xmlhttprequest":
                raise HTTPException(403, "missing X-Requested-With header")
            return await authenticate(request, write)
        except HTTPException as refused:
            if reason_body and not isinstance(refused, Refusal):
                raise Refusal(refused.status_code, str(refused.detail), refused.headers) from None
            raise

    return airflow_login_user
