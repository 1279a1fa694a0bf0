"""Run the sandbox: ``SandboxServer`` (background thread, for tests and demos) and the ``main`` CLI.

CLI (wired by the lead as ``airflow-messaging sandbox``; every option is optional)::

    --host HOST                     bind address (default 127.0.0.1)
    --port PORT                     port (default 8765; 0 = any free port)
    --time-scale F                  multiplies vendor times such as fallback_time (default 0.001)
    --base-delay S                  seconds before the first delivery event (default 0.2)
    --telesign-customer-id ID       Customer ID accepted on Telesign routes
    --telesign-api-key KEY          API key (base64) accepted and used to sign Telesign callbacks
    --aerialink-username U          Basic user accepted on Aerialink routes
    --aerialink-password P          Basic password accepted on Aerialink routes
    --telesign-status-url URL       where Telesign delivery callbacks go (unless the request has callback_url)
    --telesign-inbound-url URL      where Telesign MO callbacks go
    --aerialink-status-url URL      where Aerialink delivery callbacks go when a message has no callbackURL
    --aerialink-inbound-url URL     where Aerialink MO callbacks go
    --receiver-url BASE             shortcut: sets the four URLs to BASE/telesign/status, BASE/telesign/inbound,
                                    BASE/aerialink/status, BASE/aerialink/inbound (explicit URLs win)
    --callback-token TOKEN          appended as ?token=TOKEN to every callback URL built by --receiver-url
    --callback-header 'Name: value' extra header on every callback (repeatable)
    --callback-username U / --callback-password P   HTTP Basic on Aerialink callbacks
    --telesign-callback-method {POST,GET}           method of Telesign delivery callbacks (default POST)
    --print-env                     print the matching Airflow connections and [messaging] settings, then exit

It serves in the foreground until SIGINT or SIGTERM and returns 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shlex
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import quote

import uvicorn

from .app import create_app
from .callbacks import CallbackDispatcher
from .config import SandboxConfig
from .context import SandboxContext
from .state import SandboxState

DEFAULT_CLI_PORT = 8765
log = logging.getLogger(__name__)
_TOKEN = re.compile(r"(token=)[^&]+")


def _masked(url: str | None) -> str:
    return _TOKEN.sub(r"\1***", url) if url else "(not sent: no URL)"


class SandboxServer:
    """The sandbox on a background thread: ``SandboxServer(config).start()`` ... ``.stop()``."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.context = SandboxContext(self.config, SandboxState(), CallbackDispatcher(self.config))
        self.app = create_app(self.config, self.context)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> SandboxServer:
        """Bind, serve on a daemon thread, and return once requests are accepted."""
        if self._thread is not None:
            return self
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host, self.config.port))
        except OSError:
            sock.close()
            raise
        self._socket, self._port = sock, sock.getsockname()[1]
        self.context.dispatcher.start()
        server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2)
        )
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="sandbox-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sandbox HTTP server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop uvicorn and the callback threads; pending callbacks are dropped."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self.context.dispatcher.stop(timeout)
        self._server = self._thread = self._socket = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox is not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (use it as the connection host of both vendors)."""
        host = self.config.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    # -- inspection (same data as the /sandbox routes) ------------------------------------------
    def requests(self) -> list[dict[str, Any]]:
        """Every vendor API request answered: vendor, method, path, recipient, status_code, code, message_id, time."""
        return self.context.state.requests()

    def callbacks(self) -> list[dict[str, Any]]:
        """Every callback delivery attempt: url, method, headers, body, attempt, status_code or error, ..."""
        return self.context.dispatcher.records()

    def wait_for_callbacks(self, n: int, timeout: float = 10.0, **match: Any) -> list[dict[str, Any]]:
        """Wait for ``n`` attempts whose fields equal ``match`` (e.g. ``message_id=..., delivered=True``)."""
        return self.context.dispatcher.wait_for(n, timeout, **match)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no callback is scheduled, retrying or in flight."""
        return self.context.dispatcher.wait_idle(timeout)

    def reset(self) -> None:
        self.context.state.reset()
        self.context.dispatcher.reset()


# -- CLI -----------------------------------------------------------------------------------------
class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every option's default; "not set" for options that are off unless given."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:
            return f"{action.help} (default: not set)"
        if action.default in (False, []) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    defaults = SandboxConfig()
    p = argparse.ArgumentParser(
        prog="airflow-messaging sandbox",
        description="Local emulator of the Telesign and Aerialink APIs: validates requests like the vendor, "
        "answers like the vendor and posts vendor-shaped callbacks to your receiver. The outcome of each "
        "message is chosen by the last digit of the recipient (see GET /sandbox/health).",
        epilog="Wire it into Airflow: run `airflow-messaging sandbox --print-env` with the same options and "
        "export its output where Airflow runs (see the README, 'Try it in a real Airflow').",
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--host", default=defaults.host, help="address to listen on")
    p.add_argument("--port", type=int, default=DEFAULT_CLI_PORT, help="port to listen on (0: any free port)")
    p.add_argument(
        "--time-scale",
        type=float,
        default=defaults.time_scale,
        help="factor applied to vendor durations such as fallback_time (0.001: 600 s become 0.6 s)",
    )
    p.add_argument("--base-delay", type=float, default=defaults.base_delay_s, help="seconds before the first callback")
    p.add_argument(
        "--telesign-customer-id", default=defaults.telesign_customer_id, help="Customer ID (Basic user) accepted"
    )
    p.add_argument(
        "--telesign-api-key",
        default=defaults.telesign_api_key,
        help="API key (base64) accepted, and the key Telesign callbacks are signed with",
    )
    p.add_argument("--aerialink-username", default=defaults.aerialink_username, help="Aerialink API user accepted")
    p.add_argument("--aerialink-password", default=defaults.aerialink_password, help="Aerialink API secret accepted")
    for name, what in (
        ("telesign-status-url", "Telesign delivery callbacks (unless a request carries its own callback_url)"),
        ("telesign-inbound-url", "Telesign inbound (MO) callbacks"),
        ("aerialink-status-url", "Aerialink delivery callbacks of messages without a callbackURL"),
        ("aerialink-inbound-url", "Aerialink inbound callbacks"),
    ):
        p.add_argument(f"--{name}", default=None, metavar="URL", help=f"where to post {what}; overrides --receiver-url")
    p.add_argument(
        "--receiver-url",
        default=None,
        metavar="BASE",
        help="base URL of the callback receiver, e.g. http://localhost:8080/messaging for the receiver mounted "
        "in the Airflow API server; sets the four callback URLs to BASE/telesign/status, BASE/telesign/inbound, "
        "BASE/aerialink/status and BASE/aerialink/inbound (no callbacks are sent without it)",
    )
    p.add_argument(
        "--callback-token",
        default=None,
        metavar="TOKEN",
        help="appended as ?token=TOKEN to the URLs built from --receiver-url; must equal the receiver's "
        "[messaging] callback_token",
    )
    p.add_argument(
        "--callback-header",
        action="append",
        default=[],
        metavar="'Name: value'",
        help="extra header on every callback (repeatable)",
    )
    p.add_argument("--callback-username", default=None, help="HTTP Basic user on Aerialink callbacks")
    p.add_argument("--callback-password", default=None, help="HTTP Basic password on Aerialink callbacks")
    p.add_argument(
        "--telesign-callback-method",
        choices=("POST", "GET"),
        default=defaults.telesign_callback_method,
        help="method of Telesign delivery callbacks (the vendor docs show both)",
    )
    p.add_argument(
        "--print-env",
        action="store_true",
        help="print the Airflow connections and [messaging] settings (shell export lines) that match a sandbox "
        "started with the same options, then exit",
    )
    return p


def config_from_args(argv: Sequence[str] | None = None) -> SandboxConfig:
    parser = build_parser()
    return _config(parser, parser.parse_args(argv))


def _config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> SandboxConfig:
    headers: dict[str, str] = {}
    for item in args.callback_header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            parser.error(f"--callback-header needs 'Name: value', got {item!r}")
        headers[name.strip()] = value.strip()
    urls = {
        "telesign_status_url": args.telesign_status_url,
        "telesign_inbound_url": args.telesign_inbound_url,
        "aerialink_status_url": args.aerialink_status_url,
        "aerialink_inbound_url": args.aerialink_inbound_url,
    }
    if args.receiver_url:
        base = args.receiver_url.rstrip("/")
        suffix = f"?token={quote(args.callback_token, safe='')}" if args.callback_token else ""
        for key in urls:
            vendor, kind, _ = key.split("_")
            urls[key] = urls[key] or f"{base}/{vendor}/{kind}{suffix}"
    try:
        return SandboxConfig(
            host=args.host,
            port=args.port,
            telesign_customer_id=args.telesign_customer_id,
            telesign_api_key=args.telesign_api_key,
            aerialink_username=args.aerialink_username,
            aerialink_password=args.aerialink_password,
            time_scale=args.time_scale,
            base_delay_s=args.base_delay,
            callback_headers=headers,
            callback_username=args.callback_username,
            callback_password=args.callback_password,
            telesign_callback_method=args.telesign_callback_method,
            **urls,
        )
    except ValueError as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits


def serve(config: SandboxConfig, stop: threading.Event | None = None) -> int:
    """Serve in the foreground until SIGINT/SIGTERM (or ``stop`` is set); returns 0."""
    stop = stop or threading.Event()
    server = SandboxServer(config).start()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        log.info("Messaging sandbox listening on %s", server.url)
        log.info("  Telesign:  POST %s/v1/omnichannel  (Basic %s:<api key>)", server.url, config.telesign_customer_id)
        log.info("  Aerialink: POST %s/v5/messages  (Basic %s:<password>)", server.url, config.aerialink_username)
        for label, url in (
            ("Telesign status", config.telesign_status_url),
            ("Telesign inbound", config.telesign_inbound_url),
            ("Aerialink status", config.aerialink_status_url),
            ("Aerialink inbound", config.aerialink_inbound_url),
        ):
            log.info("  %s callbacks -> %s", label, _masked(url))
        log.info("  Outcome = last digit of the recipient; see GET /sandbox/health. Ctrl+C to stop.")
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def environment(config: SandboxConfig, callback_token: str | None = None) -> dict[str, str]:
    """Airflow connections ``telesign_default`` / ``aerialink_default`` and ``[messaging]`` settings that
    match a sandbox running with ``config`` (its callback URLs point at the receiver)."""
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(config.host, config.host)
    url = f"http://[{host}]:{config.port}" if ":" in host else f"http://{host}:{config.port}"
    telesign = {
        "conn_type": "telesign",
        "host": url,
        "login": config.telesign_customer_id,
        "password": config.telesign_api_key,
    }
    aerialink: dict[str, Any] = {
        "conn_type": "aerialink",
        "host": url,
        "login": config.aerialink_username,
        "password": config.aerialink_password,
        "extra": {"default_source": config.aerialink_sender},
    }
    if config.aerialink_status_url:
        aerialink["extra"]["callback_url"] = config.aerialink_status_url
    env = {
        "AIRFLOW_CONN_TELESIGN_DEFAULT": json.dumps(telesign),
        "AIRFLOW_CONN_AERIALINK_DEFAULT": json.dumps(aerialink),
    }
    if callback_token:
        env["AIRFLOW__MESSAGING__CALLBACK_TOKEN"] = callback_token
    if config.callback_username and config.callback_password:
        env["AIRFLOW__MESSAGING__CALLBACK_USERNAME"] = config.callback_username
        env["AIRFLOW__MESSAGING__CALLBACK_PASSWORD"] = config.callback_password
    return env


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    config = _config(parser, args)
    if args.print_env:
        if config.port == 0:
            parser.error("--print-env needs the --port the sandbox will listen on (not 0)")
        if not args.receiver_url and not config.telesign_status_url:
            log.warning("no --receiver-url: the sandbox will send no callbacks")
        # the command's output (eval "$(airflow-messaging sandbox ... --print-env)"): stdout, not a log
        sys.stdout.write(
            "".join(f"export {k}={shlex.quote(v)}\n" for k, v in environment(config, args.callback_token).items())
        )
        return 0
    if not logging.getLogger().handlers:  # run as a command: show the start-up banner on stderr
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
