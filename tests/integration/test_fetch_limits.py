"""The fetcher's guards: a dripping server, and redirects into places a feed must not lead."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tidings.feeds.fetch import Fetcher, FetchError, FetchPolicy, redirect_refusal
from tidings.local.httpserver import Response


@pytest.fixture
def dripping_server() -> Iterator[str]:
    """200 with a 10 kB body, one byte every 50 ms: each read is quick, the whole is not."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n")
            for _ in range(10000):
                if stop.is_set():
                    return
                try:
                    connection.sendall(b"x")
                except OSError:
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
    stop.set()
    listener.close()


def test_a_server_dripping_bytes_is_cut_off_at_the_total_timeout(dripping_server):
    fetcher = Fetcher(FetchPolicy(read_timeout=5, total_timeout=1.0))
    started = time.monotonic()
    with pytest.raises(FetchError, match="timeout: body not received in 1 s"):
        fetcher.fetch(dripping_server)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("current", "target", "reason"),
    [
        ("https://feeds.example.org/a", "file:///etc/passwd", "scheme"),
        ("https://feeds.example.org/a", "ftp://feeds.example.org/a", "scheme"),
        ("https://feeds.example.org/a", "http://feeds.example.org/a", "https to http"),
        ("https://feeds.example.org/a", "https://169.254.169.254/latest/meta-data", "internal"),
        ("https://feeds.example.org/a", "https://127.0.0.1:9001/runtime", "internal"),
        ("https://feeds.example.org/a", "https://[::1]/x", "internal"),
        ("https://feeds.example.org/a", "https://10.0.0.5/x", "internal"),
    ],
)
def test_redirects_into_other_schemes_downgrades_or_internal_hosts_are_refused(
    current, target, reason
):
    refusal = redirect_refusal(current, target, private_origin=False)
    assert refusal is not None and reason in refusal


def test_an_internal_feed_may_redirect_internally(server):
    # the operator configured an internal URL: internal redirects are theirs to make
    server.routes["/old"] = Response(301, b"", {"Location": "/new"})
    server.routes["/new"] = Response(200, b"<rss/>", {"Content-Type": "application/rss+xml"})
    result = Fetcher().fetch(server.url("/old"))
    assert (result.status, result.moved_to) == (200, server.url("/new"))


def test_a_public_redirect_is_allowed_and_an_upgrade_too():
    assert (
        redirect_refusal("http://feeds.example.org/a", "https://feeds.example.org/b", False) is None
    )
    assert redirect_refusal("https://a.example.org/x", "https://b.example.org/y", False) is None


def test_a_refused_redirect_fails_the_fetch(server):
    # a public-looking origin cannot be faked on loopback, so refuse on scheme instead
    server.routes["/old"] = Response(301, b"", {"Location": "ftp://example.org/feed"})
    with pytest.raises(FetchError, match="redirect refused: scheme 'ftp'"):
        Fetcher().fetch(server.url("/old"))
