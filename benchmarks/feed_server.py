"""The benchmark feeds served by tidings' own LocalServer, in a process of its own.

A separate process, like a real remote server: its request handling does not compete for
the GIL with the poller being measured, and rss2email (another process) reaches it the same
way. Every route is a `tidings.local.httpserver.Feed`, which answers conditional GETs
(ETag / If-None-Match) with 304. `/__stats` returns the requests seen so far as JSON.

The server stops by itself: after --max-seconds, or (with --stop-on-stdin-eof, as the
benchmarks start it) as soon as its parent closes stdin.

Run alone (serves benchmarks/.work/feeds/*.xml, see feedgen.py, for at most 10 minutes):
    .venv/bin/python benchmarks/feed_server.py --latency 0.1 --max-seconds 600
"""

from __future__ import annotations

import argparse
import json
import select
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchlib import BENCH, WORK

from tidings.local.httpserver import Feed, LocalServer, Response

STATS_PATH = "/__stats"
# socketserver's default listen backlog is 5: a burst of 16-64 new connections overflows it,
# the kernel drops SYNs and the clients retry after 1 s, so the benchmark would measure TCP
# retransmission timers. A real server listens with a deep backlog; so does this one (set in
# this process only, before LocalServer binds).
LISTEN_BACKLOG = 1024


def feed_path(feed_id: str) -> str:
    return f"/feeds/{feed_id}.xml"


def _stats(server: LocalServer) -> Any:
    def respond(_: dict[str, str]) -> Response:
        requests = list(server.requests)  # a copy: other handler threads keep appending
        statuses: Counter[str] = Counter()
        conditional = 0
        for _method, path, headers, _body in requests:
            route = server.routes.get(path.split("?")[0])
            if isinstance(route, Feed):
                # what the Feed answered: it is a pure function of the request headers
                statuses[str(route.respond(headers).status)] += 1
                conditional += "if-none-match" in headers or "if-modified-since" in headers
            elif path != STATS_PATH:
                statuses["404"] += 1
        payload = {
            "requests": sum(statuses.values()),
            "statuses": dict(statuses),
            "conditional": conditional,
        }
        return Response(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    return respond


def serve(feeds_dir: Path, latency: float, max_seconds: float, watch_stdin: bool) -> None:
    ThreadingHTTPServer.request_queue_size = LISTEN_BACKLOG
    server = LocalServer(latency=latency)
    for path in sorted(feeds_dir.glob("*.xml")):
        server.routes[feed_path(path.stem)] = Feed(path.read_bytes())
    server.routes[STATS_PATH] = _stats(server)
    stop = threading.Event()

    def watch_parent() -> None:  # EOF on stdin: the parent is done (or gone)
        try:
            while sys.stdin.buffer.read(1024):
                pass
        finally:
            stop.set()

    with server:
        print(f"READY {server.base_url} {len(server.routes) - 1}", flush=True)
        if watch_stdin:
            threading.Thread(target=watch_parent, daemon=True).start()
        stop.wait(timeout=max_seconds)


class FeedServer:
    """Parent side: start the server process, ask it for stats, stop it."""

    def __init__(self, feeds_dir: Path, latency: float = 0.1, max_seconds: float = 1800) -> None:
        self.feeds_dir, self.latency, self.max_seconds = feeds_dir, latency, max_seconds
        self.base_url = ""
        self.routes = 0
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> FeedServer:
        self._process = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
            [
                sys.executable,
                str(BENCH / "feed_server.py"),
                "--feeds-dir",
                str(self.feeds_dir),
                "--latency",
                str(self.latency),
                "--max-seconds",
                str(self.max_seconds),
                "--stop-on-stdin-eof",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], 30)
        line = self._process.stdout.readline().decode() if ready else ""
        if not line.startswith("READY "):
            self.__exit__()
            raise RuntimeError(f"feed server did not start: {line!r}")
        _, self.base_url, routes = line.split()
        self.routes = int(routes)
        return self

    def url(self, feed_id: str) -> str:
        return self.base_url + feed_path(feed_id)

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.base_url + STATS_PATH, timeout=30) as response:
            data: dict[str, Any] = json.loads(response.read())
            return data

    def __exit__(self, *exc: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The requests seen between two stats snapshots."""
    statuses = {
        status: after["statuses"].get(status, 0) - before["statuses"].get(status, 0)
        for status in after["statuses"]
    }
    return {
        "requests": after["requests"] - before["requests"],
        "statuses": {s: n for s, n in statuses.items() if n},
        "conditional": after["conditional"] - before["conditional"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds-dir", type=Path, default=WORK / "feeds")
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument(
        "--stop-on-stdin-eof", action="store_true", help="stop when stdin closes (the parent)"
    )
    args = parser.parse_args()
    if not any(args.feeds_dir.glob("*.xml")):
        sys.exit(f"no feeds in {args.feeds_dir}: run benchmarks/feedgen.py first")
    started = time.monotonic()
    serve(args.feeds_dir, args.latency, args.max_seconds, args.stop_on_stdin_eof)
    print(f"stopped after {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
