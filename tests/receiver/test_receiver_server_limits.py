"""The standalone receiver (``airflow-messaging receiver``) bounds request heads, times out slow ones and caps
connections (issue 15.4). Inside Airflow's API server a reverse proxy does this (see the README)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from airflow_provider_messaging.store import MessageStore
from tests.support.receiver_process import ReceiverProcess

HEAD = b"POST /telesign/status HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n"


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
    workdir = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{workdir / 'limits.db'}"
    store = MessageStore(url)
    store.upgrade()
    store.dispose()
    with ReceiverProcess(url, workdir, args=("--header-timeout", "1")) as process:
        yield process


def _connect(receiver: ReceiverProcess, timeout: float = 60.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", receiver.port), timeout=timeout)


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closed)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def _send(sock: socket.socket, data: bytes) -> bool:
    """Send as much as the server takes; False when it closed the connection first."""
    try:
        sock.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize(
    "head",
    [
        HEAD + b"X-Big: " + b"a" * 64 * 1024 + b"\r\n\r\n",
        HEAD + b"X-Big: " + b"a" * 1024 * 1024 + b"\r\n\r\n",
        HEAD + b"".join(b"X-%d: v\r\n" % n for n in range(5000)) + b"\r\n",
        HEAD + b"".join(b"X-%d: v\r\n" % n for n in range(101)) + b"\r\n",
        HEAD + "X-Name: \u00fc\u00df".encode() * 3000 + b"\r\n\r\n",
    ],
    ids=["64-kib-header", "1-mib-header", "5000-headers", "101-headers", "non-ascii-oversized"],
)
def test_oversized_request_head_is_refused_and_closed(receiver: ReceiverProcess, head: bytes) -> None:
    """400 when the head outgrows the limit while arriving, 431 when it arrived whole; the app never sees it."""
    before = receiver.log_text().count("callback not authenticated")
    with _connect(receiver) as sock:
        _send(sock, head)
        answer = _answer(sock)
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 431 ")), answer[:200]
    assert receiver.log_text().count("callback not authenticated") == before
    assert requests.get(receiver.url + "/health", timeout=30).status_code == 200


def test_a_head_that_never_completes_is_closed(receiver: ReceiverProcess) -> None:
    """Partial headers, then silence: closed after the header timeout (was: open indefinitely)."""
    with _connect(receiver) as partial, _connect(receiver) as silent:
        assert _send(partial, HEAD + b"X-Slow: 1\r\n")
        assert _answer(partial) == b""  # closed by the server, no answer (socket timeout: 60 s)
        assert _answer(silent) == b""  # a connection that sends nothing at all is closed too
    assert receiver.alive()


def test_unfinished_huge_heads_do_not_grow_the_process(receiver: ReceiverProcess) -> None:
    """Four unfinished 30 MB headers took the process from 159 to 328 MB; now each is refused at 16 KiB."""
    before = _rss_kib(receiver.pid)
    chunk = b"a" * 1024 * 1024
    sockets = [_connect(receiver) for _ in range(4)]
    try:
        sent_mib = []
        for sock in sockets:
            _send(sock, HEAD + b"X-Huge: ")
            mib = 0
            while mib < 30 and _send(sock, chunk):
                mib += 1
            sent_mib.append(mib)
        grown = _rss_kib(receiver.pid) - before
    finally:
        for sock in sockets:
            sock.close()
    assert all(mib < 30 for mib in sent_mib), sent_mib  # the server stopped reading long before 30 MB
    assert grown < 16 * 1024, f"receiver grew by {grown} KiB"
    assert requests.get(receiver.url + "/health", timeout=30).status_code == 200


def test_connections_above_the_limit_get_503(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'conc.db'}"
    store = MessageStore(url)
    store.upgrade()
    store.dispose()
    with ReceiverProcess(url, tmp_path, args=("--limit-concurrency", "4", "--header-timeout", "120")) as receiver:
        idle = [_connect(receiver) for _ in range(4)]
        try:
            with _connect(receiver) as extra:
                _send(extra, b"GET /health HTTP/1.1\r\nHost: receiver\r\nConnection: close\r\n\r\n")
                assert _answer(extra).startswith(b"HTTP/1.1 503 ")
        finally:
            for sock in idle:
                sock.close()
        # once they are gone, requests are served again
        with requests.Session() as session:
            for _ in range(200):
                if session.get(receiver.url + "/health", timeout=30).status_code == 200:
                    break
            else:
                pytest.fail("still 503 after the idle connections closed")
