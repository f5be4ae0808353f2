"""Polite HTTP fetching: conditional GET, timeouts, a size cap while streaming, bounded redirects.

urllib3 is the client: it is already in every Lambda (botocore depends on it), it imports
fast, and it lets us handle redirects ourselves to tell permanent from temporary ones.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import urllib3

from tidings import USER_AGENT

PERMANENT_REDIRECTS = {301, 308}
TEMPORARY_REDIRECTS = {302, 303, 307}
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    connect_timeout: float = 5.0
    read_timeout: float = 20.0  # between two reads
    total_timeout: float = 60.0  # the whole body: a watchdog cuts off a server dripping bytes
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    pool_size: int = 16


@dataclass(frozen=True, slots=True)
class FetchResult:
    status: int
    url: str  # where the body finally came from
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None  # set when every redirect on the way was permanent
    retry_after: int | None = None  # seconds
    max_age: int | None = None  # seconds, from Cache-Control
    truncated: bool = False
    content_type: str | None = None


class FetchError(Exception):
    """The feed could not be fetched at all (DNS, refused, timeout, TLS, redirect loop)."""


def parse_retry_after(value: str | None, now: float | None = None) -> int | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int(when.timestamp() - (time.time() if now is None else now)))


def parse_max_age(cache_control: str | None) -> int | None:
    if not cache_control:
        return None
    match = re.search(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", cache_control, re.I)
    return int(match.group(1)) if match else None


class Fetcher:
    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self._http = urllib3.PoolManager(
            num_pools=max(10, self.policy.pool_size),
            maxsize=self.policy.pool_size,
            retries=False,
            timeout=urllib3.Timeout(
                connect=self.policy.connect_timeout, read=self.policy.read_timeout
            ),
        )

    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        # every request names tidings and asks for gzip (urllib3 would replace, not merge,
        # pool-level headers with these per-request ones)
        headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current, all_permanent, redirected = url, True, False
        private_origin = _is_private(urlsplit(url).hostname or "")
        for _ in range(self.policy.max_redirects + 1):
            try:
                response = self._http.request(
                    "GET", current, headers=headers, redirect=False, preload_content=False
                )
            except urllib3.exceptions.HTTPError as err:
                raise FetchError(_describe(err)) from err
            except ValueError as err:  # urllib3 rejects some malformed URLs this way
                raise FetchError(f"bad url: {err}") from err
            fully_read = False
            try:
                if response.status in PERMANENT_REDIRECTS | TEMPORARY_REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchError(f"HTTP {response.status} without a Location header")
                    all_permanent &= response.status in PERMANENT_REDIRECTS
                    target = urljoin(current, location)
                    refusal = redirect_refusal(current, target, private_origin)
                    if refusal:
                        raise RedirectRefused(f"redirect refused: {refusal}")
                    current, redirected = target, True
                    continue
                body, truncated = (None, False)
                fully_read = response.status == 304  # no body: the connection can be reused
                if response.status == 200:
                    body, truncated = self._read_capped(response)
                    fully_read = not truncated
                return FetchResult(
                    status=response.status,
                    url=current,
                    body=body,
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    moved_to=current if redirected and all_permanent else None,
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                    max_age=parse_max_age(response.headers.get("Cache-Control")),
                    truncated=truncated,
                    content_type=response.headers.get("Content-Type"),
                )
            finally:
                if fully_read:
                    response.release_conn()
                else:  # never read an unbounded body just to reuse the connection
                    response.close()
        raise FetchError(f"more than {self.policy.max_redirects} redirects")

    def _read_capped(self, response: urllib3.BaseHTTPResponse) -> tuple[bytes, bool]:
        """Read the (decompressed) body, stopping at the cap: a gzip bomb stops there too.

        A watchdog shuts the socket at `total_timeout`: the read timeout alone never stops a
        server that drips one byte at a time."""
        chunks: list[bytes] = []
        size = 0
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            response.shutdown()

        watchdog = threading.Timer(self.policy.total_timeout, expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            for chunk in response.stream(64 * 1024, decode_content=True):
                chunks.append(chunk)
                size += len(chunk)
                if size > self.policy.max_bytes:
                    return b"".join(chunks)[: self.policy.max_bytes], True
        except (urllib3.exceptions.HTTPError, OSError) as err:
            if expired.is_set():
                raise FetchError(self._too_slow()) from None
            raise FetchError(_describe(err)) from err
        finally:
            watchdog.cancel()
        if expired.is_set():  # the shutdown can also look like a clean end of the body
            raise FetchError(self._too_slow())
        return b"".join(chunks), False

    def _too_slow(self) -> str:
        return f"timeout: body not received in {self.policy.total_timeout:g} s"


class RedirectRefused(FetchError):
    pass


def _is_private(host: str) -> bool:
    """Loopback, private, link-local (the instance metadata address) or otherwise internal."""
    if not host:
        return True
    try:
        addresses = {ipaddress.ip_address(host.strip("[]"))}
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False  # unresolvable: the request itself will fail with a DNS error
        addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return any(
        a.is_private or a.is_loopback or a.is_link_local or a.is_reserved or a.is_unspecified
        for a in addresses
    )


def redirect_refusal(current: str, target: str, private_origin: bool) -> str | None:
    """Why a redirect may not be followed, or None. A feed's server may send us elsewhere,
    but not to another scheme, not from https to http, and not into internal networks unless
    the operator's own URL was internal."""
    old, new = urlsplit(current), urlsplit(target)
    if new.scheme not in ("http", "https"):
        return f"scheme {new.scheme!r}"
    if old.scheme == "https" and new.scheme == "http":
        return "https to http"
    if not private_origin and _is_private(new.hostname or ""):
        return "internal address"
    return None


def _describe(err: Exception) -> str:
    # order matters: NameResolutionError < NewConnectionError < ConnectTimeoutError in urllib3
    if isinstance(err, urllib3.exceptions.NameResolutionError):
        return "dns: host not found"
    if isinstance(err, urllib3.exceptions.NewConnectionError):
        return "connection refused or unreachable"
    if isinstance(err, urllib3.exceptions.ConnectTimeoutError):
        return "timeout: connect"
    if isinstance(err, urllib3.exceptions.ReadTimeoutError):
        return "timeout: read"
    if isinstance(err, urllib3.exceptions.SSLError):
        return "tls error"
    return f"{type(err).__name__}: {err}"
