"""The hooks' transport: one pooled, keep-alive ``requests`` adapter that sends each attempt exactly once.

A hook mounts this adapter on its session unless it is given another ``transport`` (any
:class:`requests.adapters.BaseAdapter`: tests pass one that answers from a script, in-process). A
transport sends one attempt and returns the answer or raises as :class:`HTTPAdapter` does; it never
retries: the hook's :class:`~airflow_provider_messaging.hooks.retry.RetryPolicy` decides that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.util.retry import Retry

from airflow_provider_messaging import __version__
from airflow_provider_messaging.hooks.connection import BasicAuth, ConnectionSettings

log = logging.getLogger(__name__)

#: Telesign drops keep-alive connections idle for 499 s; recycle the pool well before that.
DEFAULT_POOL_RECYCLE = 480.0
DEFAULT_POOL_MAXSIZE = 32


class PooledTransport(HTTPAdapter):
    """``HTTPAdapter`` with no retries of its own that closes its idle keep-alive connections.

    :param pool_maxsize: keep-alive connections kept for concurrent sends.
    :param pool_recycle: seconds of idleness after which every pooled connection is closed before the
        next request picks one (the vendor closes idle connections on its side, mid-request otherwise).
    """

    def __init__(
        self,
        *,
        pool_maxsize: int = DEFAULT_POOL_MAXSIZE,
        pool_recycle: float = DEFAULT_POOL_RECYCLE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Retry(0, read=False): a connect error raises at once, wrapped as requests always does.
        super().__init__(pool_connections=1, pool_maxsize=pool_maxsize, max_retries=Retry(0, read=False))
        self.pool_recycle = pool_recycle
        self._clock = clock
        self._recycle_lock = threading.Lock()
        self._last_used = clock()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self._recycle_if_idle()
        try:
            return super().send(request, *args, **kwargs)
        finally:
            self._last_used = self._clock()

    def _recycle_if_idle(self) -> None:
        if self._clock() - self._last_used <= self.pool_recycle:
            return
        with self._recycle_lock:
            if self._clock() - self._last_used > self.pool_recycle:
                log.debug("Pool idle for more than %ss: closing keep-alive connections", self.pool_recycle)
                self.poolmanager.clear()
                self._last_used = self._clock()  # concurrent callers must not clear the fresh pool again


def build_session(settings: ConnectionSettings, transport: BaseAdapter) -> requests.Session:
    """A session sending through ``transport``: Basic auth, JSON headers, proxies/CA from the environment."""
    session = requests.Session()
    session.mount("https://", transport)
    session.mount("http://", transport)
    session.auth = BasicAuth(settings.authorization)
    session.headers.update(
        {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"airflow-provider-messaging/{__version__}",
        }
    )
    # Proxies, NO_PROXY and CA bundle come from the environment, read once for the vendor host:
    # requests re-reads all of os.environ on every send otherwise (about a quarter of a local send's time).
    env = session.merge_environment_settings(settings.base_url, {}, None, None, None)
    session.proxies.update(env["proxies"])
    session.verify, session.cert = env["verify"], env["cert"]
    session.trust_env = False
    return session
