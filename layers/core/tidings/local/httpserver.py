"""Small threaded HTTP servers on 127.0.0.1: a feed server and a Slack webhook sink."""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Feed:
    """A feed document served with validators, honouring conditional GET like a good server."""

    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    validators: bool = True
    modified: float = field(default_factory=time.time)
    gzip: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def respond(self, headers: dict[str, str]) -> Response:
        if self.validators:
            last_modified = formatdate(self.modified, usegmt=True)
            validator_headers = {"ETag": self.etag, "Last-Modified": last_modified}
            if headers.get("if-none-match") == self.etag:
                return Response(304, b"", validator_headers)
            since = headers.get("if-modified-since")
            if since and "if-none-match" not in headers:
                try:
                    if int(self.modified) <= parsedate_to_datetime(since).timestamp():
                        return Response(304, b"", validator_headers)
                except (TypeError, ValueError):
                    pass
        else:
            validator_headers = {}
        body = self.body
        out = {"Content-Type": self.content_type, **validator_headers, **self.extra_headers}
        if self.gzip and "gzip" in headers.get("accept-encoding", ""):
            body = gzip.compress(body)
            out["Content-Encoding"] = "gzip"
        return Response(200, body, out)


Route = Feed | Response | Callable[[dict[str, str]], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default backlog of 5 drops connections under concurrency

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hangs up mid-response (a size cap, a timeout test) is not an error here
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalServer:
    """Serves `routes` (path -> Feed | Response | callable) and records every request."""

    def __init__(self, latency: float = 0.0) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.latency = latency
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                with owner._lock:
                    owner.requests.append((self.command, self.path, headers, body))
                if owner.latency:
                    time.sleep(owner.latency)
                route = owner.routes.get(self.path.split("?")[0])
                if route is None:
                    response = Response(404, b"not found", {"Content-Type": "text/plain"})
                elif isinstance(route, Feed):
                    response = route.respond(headers)
                elif isinstance(route, Response):
                    response = route
                else:
                    response = route(headers)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_POST = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test and demo output clean

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def posted_json(self, path: str) -> list[Any]:
        with self._lock:
            return [json.loads(b) for m, p, _, b in self.requests if m == "POST" and p == path]

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
