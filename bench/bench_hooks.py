"""Send throughput of TelesignHook against a bare requests.Session and the official Telesign SDK.

A fast HTTP/1.1 keep-alive server runs in a separate process (so it does not compete with the
client for the GIL) and answers every request with Telesign's 3001 "Message in progress".
Rounds are interleaved (bare, hook+model, hook+dict, SDK, bare, ...) and the medians compared.

Run: ``python bench/bench_hooks.py [--quick]``.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

ANSWER = json.dumps(
    {"status": {"code": 3001, "description": "Message in progress"}, "reference_id": "35C8B5D509BC10689196FED2AD551B8A"}
).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(ANSWER)).encode()
    + b"\r\n\r\n"
    + ANSWER
)
REQUEST = {
    "channels": [{"channel": "rcs", "fallback_time": 600}, {"channel": "sms"}],
    "phone_number": "15558675309",
    "message": {
        "rcs": {
            "template": "dial_action",
            "parameters": {
                "dial_text": "Call us",
                "phone_number_to_dial": "18003334444",
                "dial_payload": "dialid1",
                "text": "We received your refund request for order #45390. Please call our support team.",
            },
        },
        "sms": {"template": "text", "parameters": {"text": "Please call us at 1.800.333.4444 about order #45390."}},
    },
    "message_type": "MKT",
}
CUSTOMER_ID = "12345678-9ABC-DEF0-1234-56789ABCDEF0"
API_KEY = "dGVzdC1hcGkta2V5LXRoYXQtbXVzdC1uZXZlci1sZWFr"


# ---- server (child process) ------------------------------------------------------------------


class _Http11(asyncio.Protocol):
    """Answers every request on a keep-alive connection with RESPONSE (Content-Length bodies only)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(RESPONSE)


def _serve(port_queue: Any) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Http11, "127.0.0.1", 0)
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


# ---- client ----------------------------------------------------------------------------------


def _rate(send: Callable[[], Any], n: int) -> float:
    send()  # warm (connection open, first-call caches)
    start = time.perf_counter()
    for _ in range(n):
        send()
    return n / (time.perf_counter() - start)


def _senders(url: str) -> dict[str, Callable[[], Any]]:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    conn = {"conn_type": "telesign", "host": url, "login": CUSTOMER_ID, "password": API_KEY}
    os.environ["AIRFLOW_CONN_BENCH_TELESIGN"] = json.dumps(conn)

    import base64

    import requests
    from telesignenterprise.messaging import MessagingClient

    from airflow_provider_messaging.hooks.telesign import TelesignHook
    from airflow_provider_messaging.models.telesign import OmnichannelRequest

    model = OmnichannelRequest.parse(REQUEST)
    body = model.model_dump_json(by_alias=True, exclude_none=True).encode()
    session = requests.Session()
    token = base64.b64encode(f"{CUSTOMER_ID}:{API_KEY}".encode()).decode()
    session.headers.update({"Authorization": f"Basic {token}", "Content-Type": "application/json"})
    send_url = f"{url}/v1/omnichannel"

    def bare() -> None:
        response = session.post(send_url, data=body, timeout=(5, 30))
        assert response.status_code == 200

    # The same, with the environment (proxies, CA bundle) not re-read per send, as the hook does.
    quiet = requests.Session()
    quiet.headers.update(session.headers)
    quiet.trust_env = False

    def bare_quiet() -> None:
        response = quiet.post(send_url, data=body, timeout=(5, 30))
        assert response.status_code == 200

    hook = TelesignHook("bench_telesign")
    sdk = MessagingClient(CUSTOMER_ID, API_KEY, rest_endpoint=url)

    def with_sdk() -> None:
        assert sdk.omniMessage(REQUEST).ok

    return {
        "bare requests.Session": bare,
        "bare requests.Session, trust_env=False": bare_quiet,
        "TelesignHook (model)": lambda: hook.send_omnichannel(model),
        "TelesignHook (dict)": lambda: hook.send_omnichannel(REQUEST),
        "telesignenterprise SDK": with_sdk,
    }


def run(quick: bool = False) -> str:
    """Measure messages/s per client; return a Markdown section."""
    rounds, n = (3, 300) if quick else (7, 2000)
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    server = ctx.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=30)}"
        senders = _senders(url)
        rates: dict[str, list[float]] = {name: [] for name in senders}
        for _ in range(rounds):
            for name, send in senders.items():
                rates[name].append(_rate(send, n))
    finally:
        server.terminate()
        server.join(5)

    median = {name: statistics.median(values) for name, values in rates.items()}
    bare, sdk = median["bare requests.Session"], median["telesignenterprise SDK"]
    lines = [
        "## Hooks: send throughput (Telesign omnichannel, local keep-alive server)",
        "",
        f"One client thread, sequential sends; {rounds} interleaved rounds of {n} sends each; median messages/s.",
        "Server: asyncio HTTP/1.1 in a separate process, fixed 3001 answer. "
        "Bare = `requests.Session.post` of prebuilt JSON bytes, status check only (default session; "
        "`trust_env=False` skips requests' per-send environment scan, which the hook does once per session). "
        "SDK = `MessagingClient.omniMessage` (default HMAC-signed auth).",
        "",
        "| client | msg/s (median) | min..max | vs bare | vs SDK |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, values in rates.items():
        lines.append(
            f"| {name} | {median[name]:,.0f} | {min(values):,.0f}..{max(values):,.0f} "
            f"| {median[name] / bare:.2f}x | {median[name] / sdk:.2f}x |"
        )
    hook = median["TelesignHook (model)"]
    verdict = "met" if hook >= 0.8 * bare and hook >= sdk else "NOT met"
    lines += ["", f"Target (hook with a model >= 0.8x bare and >= SDK): **{verdict}**.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
