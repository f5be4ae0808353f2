"""Parsing in child processes (tidings.feeds.parsers) against parsing in-process, no network.

The 500 benchmark bodies (feedgen.py) are parsed by 16 threads: in this process
(`InlineParser`), then by `ProcessParser` with 1 and 2 children, each with and without
`gc.freeze()` before the fork. The parent keeps the in-process results alive, as a long-lived
poller keeps its heap, so that a child inherits a heap worth collecting. Reported: wall time,
the children's CPU time, and whether every result equals the in-process one.

Not part of `make bench` (poll_throughput.py measures the poller with a parse process). On
this machine gc.freeze made no difference in speed beyond its drift (three runs: children's
CPU 4.89/6.51/6.09 s with it, 4.47/6.41/5.36 s without, for one child); parsers.py keeps it
for memory, as the gc documentation advises for fork without exec. On 2 cores:
    BOTO_DISABLE_CRT=true .venv/bin/python benchmarks/parse_processes.py [--feeds 500]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from functools import partial

from benchlib import cpu_times
from feedgen import make_feeds

from tidings.feeds.parsers import InlineParser, ParseJob, Parser, ProcessParser
from tidings.feeds.topics import TopicRules

THREADS = 16


@contextmanager
def _without_freeze() -> Iterator[None]:
    freeze, gc.freeze = gc.freeze, lambda: None
    try:
        yield
    finally:
        gc.freeze = freeze


def _timed(make: Callable[[], Parser], jobs: list[ParseJob]) -> tuple[float, float, list[object]]:
    _, children = cpu_times()
    started = time.perf_counter()
    parser = make()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(parser.parse, jobs))
    finally:
        if isinstance(parser, ProcessParser):
            parser.close()  # the children end here, and their CPU is counted
    wall = time.perf_counter() - started
    return wall, cpu_times()[1] - children, results


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--feeds", type=int, default=500)
    feeds = arguments.parse_args().feeds
    rules = TopicRules.load()
    jobs = [
        ParseJob(body, feed_id=feed_id, url=f"http://127.0.0.1/{feed_id}.xml")
        for feed_id, body in make_feeds(feeds).items()
    ]
    wall, _, here = _timed(lambda: InlineParser(rules), jobs)  # kept: the parent's heap
    print(f"{len(jobs)} bodies, {THREADS} threads")
    print(f"in-process: {wall:.2f} s wall")
    for processes in (1, 2):
        for frozen in (True, False):
            with _without_freeze() if not frozen else nullcontext():
                wall, cpu, there = _timed(partial(ProcessParser, rules, processes), jobs)
            print(
                f"{processes} parse process{'es' if processes > 1 else ''}, "
                f"{'with' if frozen else 'without'} gc.freeze: {wall:.2f} s wall, "
                f"children's CPU {cpu:.2f} s, same results: {there == here}"
            )


if __name__ == "__main__":
    main()
