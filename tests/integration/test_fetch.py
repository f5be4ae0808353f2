"""Fetcher against a real HTTP server on 127.0.0.1: validators, caps, redirects, errors."""

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate

import pytest

from tidings.feeds.fetch import (
    Fetcher,
    FetchError,
    FetchPolicy,
    parse_max_age,
    parse_retry_after,
)
from tidings.local.httpserver import Feed, LocalServer, Response

BODY = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def redirect(status: int, location: str) -> Response:
    return Response(status, b"", {"Location": location})


def last_request_headers(server: LocalServer) -> dict[str, str]:
    return server.requests[-1][2]


def test_requests_name_tidings_in_the_user_agent(server: LocalServer) -> None:
    server.routes["/feed"] = Feed(BODY)
    result = Fetcher().fetch(server.url("/feed"))
    assert result.status == 200
    assert result.body == BODY
    assert result.content_type == "application/rss+xml; charset=utf-8"
    sent = last_request_headers(server)
    assert sent["user-agent"].startswith("tidings/")
    assert "application/rss+xml" in sent["accept"]


def test_a_conditional_get_still_names_tidings(server: LocalServer) -> None:
    server.routes["/feed"] = Feed(BODY)
    Fetcher().fetch(server.url("/feed"), etag='"abc"')
    assert last_request_headers(server)["user-agent"].startswith("tidings/")


def test_conditional_get_sends_validators_and_a_304_has_no_body(server: LocalServer) -> None:
    # Given: a first fetch that returned validators
    server.routes["/feed"] = Feed(BODY)
    fetcher = Fetcher()
    first = fetcher.fetch(server.url("/feed"))
    assert first.etag
    assert first.last_modified
    # When: the feed is fetched again with them
    second = fetcher.fetch(server.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    # Then: both validators were sent, and the unchanged feed came back as a bodiless 304
    sent = last_request_headers(server)
    assert sent["if-none-match"] == first.etag
    assert sent["if-modified-since"] == first.last_modified
    assert second.status == 304
    assert second.body is None
    assert second.truncated is False


def test_a_first_fetch_sends_no_validators(server: LocalServer) -> None:
    server.routes["/feed"] = Feed(BODY)
    Fetcher().fetch(server.url("/feed"))
    sent = last_request_headers(server)
    assert "if-none-match" not in sent
    assert "if-modified-since" not in sent


def test_if_modified_since_alone_gives_304(server: LocalServer) -> None:
    server.routes["/feed"] = Feed(BODY, modified=time.time() - 3600)
    fetcher = Fetcher()
    first = fetcher.fetch(server.url("/feed"))
    second = fetcher.fetch(server.url("/feed"), last_modified=first.last_modified)
    assert "if-none-match" not in last_request_headers(server)
    assert second.status == 304
    assert second.body is None


def test_gzip_is_decoded(server: LocalServer) -> None:
    # Given: a server that always answers gzip-encoded
    compressed = gzip.compress(BODY * 50)
    server.routes["/feed"] = Response(
        200, compressed, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}
    )
    result = Fetcher().fetch(server.url("/feed"))
    assert result.body == BODY * 50
    assert len(compressed) < len(BODY * 50)


def test_gzip_is_asked_for(server: LocalServer) -> None:
    # Given: a server that compresses only when the client accepts gzip
    server.routes["/feed"] = Feed(BODY * 50, gzip=True)
    result = Fetcher().fetch(server.url("/feed"))
    assert "gzip" in last_request_headers(server).get("accept-encoding", "")
    assert result.body == BODY * 50


def test_a_body_over_the_cap_is_cut_at_the_cap(server: LocalServer) -> None:
    body = bytes(range(256)) * 40  # 10,240 bytes
    server.routes["/big"] = Response(200, body, {"Content-Type": "application/rss+xml"})
    result = Fetcher(FetchPolicy(max_bytes=4096)).fetch(server.url("/big"))
    assert result.truncated is True
    assert result.body == body[:4096]


def test_a_body_exactly_at_the_cap_is_not_truncated(server: LocalServer) -> None:
    server.routes["/exact"] = Response(200, b"x" * 4096, {"Content-Type": "text/xml"})
    result = Fetcher(FetchPolicy(max_bytes=4096)).fetch(server.url("/exact"))
    assert result.truncated is False
    assert result.body == b"x" * 4096


def test_a_gzip_bomb_is_cut_at_the_decompressed_cap(server: LocalServer) -> None:
    # Given: 8 MB of zeros, a few KB on the wire
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))
    server.routes["/bomb"] = Response(200, bomb, {"Content-Encoding": "gzip"})
    result = Fetcher(FetchPolicy(max_bytes=100_000)).fetch(server.url("/bomb"))
    assert result.truncated is True
    assert result.body is not None
    assert len(result.body) == 100_000


def test_a_chain_of_permanent_redirects_gives_moved_to(server: LocalServer) -> None:
    server.routes["/a"] = redirect(301, "/b")
    server.routes["/b"] = redirect(308, server.url("/feed"))
    server.routes["/feed"] = Feed(BODY)
    result = Fetcher().fetch(server.url("/a"))
    assert result.status == 200
    assert result.body == BODY
    assert result.url == server.url("/feed")
    assert result.moved_to == server.url("/feed")
    assert [path for _, path, _, _ in server.requests] == ["/a", "/b", "/feed"]


@pytest.mark.parametrize("statuses", [(302,), (301, 302), (307, 301)])
def test_a_temporary_redirect_anywhere_on_the_way_gives_no_moved_to(
    server: LocalServer, statuses: tuple[int, ...]
) -> None:
    for hop, status in enumerate(statuses):
        nxt = f"/hop{hop + 1}" if hop + 1 < len(statuses) else "/feed"
        server.routes[f"/hop{hop}"] = redirect(status, nxt)
    server.routes["/feed"] = Feed(BODY)
    result = Fetcher().fetch(server.url("/hop0"))
    assert result.status == 200
    assert result.url == server.url("/feed")
    assert result.moved_to is None


def test_a_fetch_without_redirects_has_no_moved_to(server: LocalServer) -> None:
    server.routes["/feed"] = Feed(BODY)
    assert Fetcher().fetch(server.url("/feed")).moved_to is None


def test_exactly_max_redirects_is_followed(server: LocalServer) -> None:
    server.routes["/r0"] = redirect(301, "/r1")
    server.routes["/r1"] = redirect(301, "/feed")
    server.routes["/feed"] = Feed(BODY)
    result = Fetcher(FetchPolicy(max_redirects=2)).fetch(server.url("/r0"))
    assert result.status == 200


def test_more_redirects_than_max_redirects_raises(server: LocalServer) -> None:
    for i in range(3):
        server.routes[f"/r{i}"] = redirect(301, f"/r{i + 1}")
    server.routes["/r3"] = Feed(BODY)
    with pytest.raises(FetchError, match="redirects"):
        Fetcher(FetchPolicy(max_redirects=2)).fetch(server.url("/r0"))
    assert len(server.requests) == 3


def test_a_redirect_loop_raises(server: LocalServer) -> None:
    server.routes["/loop"] = redirect(302, "/loop")
    with pytest.raises(FetchError):
        Fetcher(FetchPolicy(max_redirects=3)).fetch(server.url("/loop"))
    assert len(server.requests) == 4


def test_a_redirect_without_location_raises(server: LocalServer) -> None:
    server.routes["/nowhere"] = Response(301, b"", {})
    with pytest.raises(FetchError, match="Location"):
        Fetcher().fetch(server.url("/nowhere"))


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield port


def test_a_connection_to_a_closed_port_raises(closed_port: int) -> None:
    with pytest.raises(FetchError):
        Fetcher(FetchPolicy(connect_timeout=2)).fetch(f"http://127.0.0.1:{closed_port}/feed")


def test_a_refused_connection_is_not_reported_as_a_timeout(closed_port: int) -> None:
    # the message becomes the feed's last_error: ops must see "refused", not "timeout"
    with pytest.raises(FetchError) as caught:
        Fetcher(FetchPolicy(connect_timeout=2)).fetch(f"http://127.0.0.1:{closed_port}/feed")
    assert "refused" in str(caught.value)
    assert "timeout" not in str(caught.value)


def test_an_error_status_gives_the_status_and_no_body(server: LocalServer) -> None:
    server.routes["/gone"] = Response(410, b"gone", {"Content-Type": "text/plain"})
    result = Fetcher().fetch(server.url("/gone"))
    assert result.status == 410
    assert result.body is None
    assert Fetcher().fetch(server.url("/missing")).status == 404


def test_retry_after_seconds_is_parsed(server: LocalServer) -> None:
    server.routes["/busy"] = Response(429, b"", {"Retry-After": "120"})
    result = Fetcher().fetch(server.url("/busy"))
    assert result.status == 429
    assert result.retry_after == 120


def test_retry_after_http_date_is_parsed(server: LocalServer) -> None:
    server.routes["/down"] = Response(
        503, b"", {"Retry-After": formatdate(time.time() + 3600, usegmt=True)}
    )
    result = Fetcher().fetch(server.url("/down"))
    assert result.status == 503
    assert result.retry_after is not None
    assert 3590 <= result.retry_after <= 3600


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120),
        (" 0 ", 0),
        ("Wed, 21 Oct 2015 07:30:00 GMT", 120),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0),  # in the past: retry now
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: int | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after(value, now=now) == expected


def test_cache_control_max_age_is_parsed(server: LocalServer) -> None:
    server.routes["/feed"] = Feed(BODY, extra_headers={"Cache-Control": "public, max-age=900"})
    assert Fetcher().fetch(server.url("/feed")).max_age == 900


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=60", 60),
        ("public, max-age=900, must-revalidate", 900),
        ('private, MAX-AGE = "30"', 30),
        ("s-maxage=600", None),
        ("no-store", None),
        (None, None),
    ],
)
def test_parse_max_age(value: str | None, expected: int | None) -> None:
    assert parse_max_age(value) == expected


def test_a_read_timeout_raises_quickly(server: LocalServer) -> None:
    # Given: a route that answers only after 5 s (or when the test releases it)
    release = threading.Event()

    def stalled(headers: dict[str, str]) -> Response:
        release.wait(5)
        return Response(200, BODY)

    server.routes["/slow"] = stalled
    fetcher = Fetcher(FetchPolicy(read_timeout=0.3))
    started = time.monotonic()
    try:
        # When / Then: the fetch gives up after about the read timeout
        with pytest.raises(FetchError, match="timeout"):
            fetcher.fetch(server.url("/slow"))
    finally:
        release.set()
    assert time.monotonic() - started < 3
