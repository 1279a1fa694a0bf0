"""Serve an ASGI app with a real uvicorn server on 127.0.0.1 in a background thread (tests only)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


class _QuickServer(uvicorn.Server):
    """Checks for the exit flag every 10 ms instead of uvicorn's 100 ms: tests start and stop many servers."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(0 if counter % 100 == 0 else 1):  # the Date header once a second
            counter += 1
            await asyncio.sleep(0.01)


@contextmanager
def serve_app(app: Any, *, startup_timeout: float = 10.0, **config: Any) -> Iterator[str]:
    """Run ``app`` on a free port; yield its base URL (``http://127.0.0.1:PORT``); stop it on exit.

    Extra keyword arguments go to :class:`uvicorn.Config` (e.g. ``http="h11"``).
    """
    options: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "log_level": "warning", "lifespan": "off"}
    options.update(config)
    server = _QuickServer(uvicorn.Config(app, **options))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            server.run()
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)

    thread = threading.Thread(target=run, name="uvicorn-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if errors or not thread.is_alive():
            raise RuntimeError(f"uvicorn did not start: {errors[0] if errors else 'thread exited'}")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError("uvicorn did not start in time")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():  # a client still holds a keep-alive connection open
            server.force_exit = True
            thread.join(timeout=5)
