"""AWS calls per poll, counted with botocore's event hooks (tidings.local.metering.CallCounter).

Design target (DESIGN.md, issue 3): an unchanged feed costs at most one DynamoDB read and one
write and no SNS call; a changed feed with k new items at most 2 + ceil(k/10) calls. Some
calls are shared by the feeds of a run: the query of the due index (once per run), the
BatchGetItem that reads their state and the TransactWriteItems that commits it (one per 100
feeds). They are reported per run and, divided by the feeds, per feed.

Each case is one feed on a fresh emulated stack (so every call in the run is that feed's),
polled once to take its baseline and then again after the change; only the second poll is
counted. The feed server has no latency here: the calls do not depend on it.

Run alone:
    .venv/bin/python benchmarks/aws_calls.py
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from benchlib import table, verdict

from tidings import aws
from tidings.local.httpserver import Feed, LocalServer
from tidings.local.metering import CallCounter
from tidings.local.stack import Stack, emulated_aws
from tidings.model import FeedState
from tidings.poll import Poller
from tidings.store.feeds import FeedStore

DAY = 86401  # past any feed's next_poll_at


def poller_clients() -> list[Any]:
    """Every boto3 client the poller's store and publisher may use (tidings.aws caches them).

    The store has used the resource's client, the plain client or both as the source changed
    (1ce34bb, 3a8ebdb); all are metered, so a call is counted whichever one makes it."""
    clients = [aws.resource("dynamodb").meta.client, aws.client("dynamodb"), aws.client("sns")]
    return list({id(c): c for c in clients}.values())


def with_clock(poller: Poller, clock: Callable[[], float]) -> Poller:
    """The same poller's parts (store, publisher, fetcher and its connection pool, rules,
    intervals) with another clock: what `Poller(store=p.store, ..., clock=...)` builds, but
    without naming the constructor's arguments, which the source is still renaming
    (cadence -> intervals while these benchmarks were written)."""
    later = copy.copy(poller)
    later.clock = clock
    return later


class AwsMeter:
    """tidings' CallCounter, plus what it does not record: which calls are shared by the
    feeds of a run (SHARED) and which are made for one feed, PublishBatch entries sent and
    accepted, and the CPU time spent inside AWS calls (client and emulator), per thread."""

    def __init__(self, clients: list[Any]) -> None:
        self.counter = CallCounter().attach(*clients)
        self.scoped: Counter[tuple[str, str]] = Counter()  # (run | feed, service.Operation)
        self.entries = 0
        self.accepted = 0
        self.cpu = 0.0
        self.wall = 0.0
        self._lock = threading.Lock()
        for client in clients:
            client.meta.events.register("before-parameter-build", self._before)
            client.meta.events.register("after-call", self._after)

    def _before(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        context["bench_started"] = (time.thread_time(), time.perf_counter())
        operation = f"{model.service_model.service_name}.{model.name}"
        scope = "run" if operation in SHARED else "feed"
        with self._lock:
            self.scoped[scope, operation] += 1
            if model.name == "PublishBatch":
                self.entries += len(params.get("PublishBatchRequestEntries", []))

    def _after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        cpu, wall = context.pop("bench_started", (time.thread_time(), time.perf_counter()))
        with self._lock:
            self.cpu += time.thread_time() - cpu
            self.wall += time.perf_counter() - wall
            if model.name == "PublishBatch":
                self.accepted += len(parsed.get("Successful", []))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": dict(self.counter.calls),
                "run_calls": {op: n for (scope, op), n in self.scoped.items() if scope == "run"},
                "feed_calls": {op: n for (scope, op), n in self.scoped.items() if scope == "feed"},
                "entries": self.entries,
                "accepted": self.accepted,
                "cpu": self.cpu,
                "wall": self.wall,
            }

    @staticmethod
    def delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
        def minus(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
            counts = Counter(a)
            counts.subtract(b)
            return {k: v for k, v in sorted(counts.items()) if v}

        return {
            key: minus(after[key], before[key])
            if isinstance(after[key], dict)
            else after[key] - before[key]
            for key in after
        }


def rss(items: list[tuple[str, str]], build: str = "Mon, 01 Dec 2025 10:00:00 +0000") -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<description>About {title}</description>"
        f"<pubDate>Mon, 01 Dec 2025 {10 + i % 10:02d}:00:00 +0000</pubDate></item>"
        for i, (title, link) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Calls</title><link>https://example.org/</link><description>d</description>"
        f"<lastBuildDate>{build}</lastBuildDate>{body}</channel></rss>"
    ).encode()


def items(start: int, count: int) -> list[tuple[str, str]]:
    return [(f"News {n}", f"https://example.org/news/{n}") for n in range(start, start + count)]


READS = {"dynamodb.GetItem", "dynamodb.Query", "dynamodb.Scan", "dynamodb.BatchGetItem"}
# made for many feeds at once (the due query per run; the others per 100 feeds)
SHARED = {"dynamodb.Query", "dynamodb.BatchGetItem", "dynamodb.TransactWriteItems"}
WRITES = {
    "dynamodb.UpdateItem",
    "dynamodb.PutItem",
    "dynamodb.DeleteItem",
    "dynamodb.BatchWriteItem",
    "dynamodb.TransactWriteItems",
}


def _count(calls: dict[str, int], ops: set[str] | None = None, prefix: str = "") -> int:
    return sum(n for op, n in calls.items() if (ops is None or op in ops) and op.startswith(prefix))


def _ops(calls: dict[str, int]) -> str:
    return ", ".join(f"{op.split('.')[1]} {n}" for op, n in sorted(calls.items())) or "none"


@dataclass
class SharedReads:
    """One run over many unchanged feeds: the shared calls, and their share per feed."""

    feeds: int
    run_calls: dict[str, int]
    feed_calls: dict[str, int]

    @property
    def run_reads(self) -> int:
        return _count(self.run_calls, READS)

    @property
    def run_writes(self) -> int:
        return _count(self.run_calls, WRITES)

    @property
    def reads_per_feed(self) -> float:
        return self.run_reads / self.feeds

    @property
    def writes_per_feed(self) -> float:
        return self.run_writes / self.feeds

    @property
    def per_feed(self) -> float:
        return sum(self.run_calls.values()) / self.feeds

    @property
    def ok(self) -> bool:
        reads = _count(self.feed_calls, READS) + self.run_reads
        writes = _count(self.feed_calls, WRITES) + self.run_writes
        sns = _count(self.feed_calls, prefix="sns.")
        return reads <= self.feeds and writes <= self.feeds and sns == 0


@dataclass
class Case:
    name: str
    k: int  # new items in the counted poll
    changed: bool  # the body changed (parsed); otherwise a 304 or the same bytes again
    status: str  # the poller's outcome for the feed
    run_calls: dict[str, int]  # shared calls (SHARED), here all made for this one feed
    feed_calls: dict[str, int]  # made for this feed alone
    published: int  # PublishBatch entries SNS accepted
    queued: int  # messages that reached the SQS deliveries queue

    @property
    def reads(self) -> int:
        return _count(self.feed_calls, READS)

    @property
    def writes(self) -> int:
        return _count(self.feed_calls, WRITES)

    @property
    def sns(self) -> int:
        return _count(self.feed_calls, prefix="sns.")

    @property
    def limit(self) -> int:
        return 2 + math.ceil(self.k / 10) if self.changed else 2

    @property
    def one_feed_run(self) -> int:
        """Every call of a run in which this is the only due feed."""
        return sum(self.run_calls.values()) + sum(self.feed_calls.values())

    def per_feed(self, shared: SharedReads) -> float:
        """The feed's own calls plus its share of the shared calls of a run of many feeds."""
        return sum(self.feed_calls.values()) + shared.per_feed

    def ok(self, shared: SharedReads) -> bool:
        publishes_ok = (
            self.sns == math.ceil(self.k / 10) and self.published == self.queued == self.k
        )
        return (
            self.reads + shared.reads_per_feed <= 1
            and self.writes + shared.writes_per_feed <= 1
            and publishes_ok
            and self.per_feed(shared) <= self.limit
        )


@dataclass
class AwsCallsResult:
    shared: SharedReads
    cases: list[Case] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.shared.ok and all(c.ok(self.shared) for c in self.cases)

    def as_dict(self) -> dict[str, Any]:
        return {
            "shared": asdict(self.shared) | {"per_feed": self.shared.per_feed},
            "cases": [
                asdict(c)
                | {
                    "per_feed": c.per_feed(self.shared),
                    "limit": c.limit,
                    "one_feed_run": c.one_feed_run,
                    "ok": c.ok(self.shared),
                }
                for c in self.cases
            ],
            "ok": self.ok,
        }


@contextmanager
def _emulated_poller() -> Iterator[tuple[Stack, Callable[[int, int], Poller]]]:
    """A fresh stack, and pollers whose clock is `day` days ahead (past next_poll_at)."""
    with emulated_aws() as stack:

        def poller(day: int, concurrency: int) -> Poller:
            base = Poller.from_settings(stack.poller_settings(concurrency=concurrency))
            return with_clock(base, lambda: time.time() + day * DAY)

        yield stack, poller


def _drain(stack: Stack) -> int:
    sqs, count = aws.client("sqs"), 0
    for _ in range(10_000):  # bounded: far more rounds than any case needs
        messages = sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            break
        count += len(messages)
        sqs.delete_message_batch(
            QueueUrl=stack.queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
    return count


def measure_case(server: LocalServer, name: str, k: int, how: str) -> Case:
    """how: 'unchanged' (a 304), 'same-body' (validators ignored, the same bytes again),
    'changed' (k new items; k = 0: only the channel's lastBuildDate changed)."""
    path = f"/{name}.xml"
    old = items(0, 12)
    server.routes[path] = Feed(rss(old), validators=how != "same-body")
    with _emulated_poller() as (stack, poller):
        FeedStore(stack.table("FeedsTable")).add(FeedState(feed_id=name, url=server.url(path)))
        poller(0, 4).run(concurrency=4)  # the baseline: nothing published
        _drain(stack)
        if how == "changed":
            new = list(reversed(items(100, k)))
            server.routes[path] = Feed(rss(new + old, build="Tue, 02 Dec 2025 10:00:00 +0000"))
        counted = poller(1, 4)
        meter = AwsMeter(poller_clients())
        report = counted.run(concurrency=4)
        calls = meter.snapshot()
        return Case(
            name=name,
            k=k,
            changed=how == "changed",
            status=report.outcomes[0].status if report.outcomes else "not polled",
            run_calls=calls["run_calls"],
            feed_calls=calls["feed_calls"],
            published=calls["accepted"],
            queued=_drain(stack),
        )


def measure_shared(server: LocalServer, feeds: int = 500) -> SharedReads:
    """`feeds` unchanged feeds in one run: the run-level reads are paid once for all."""
    server.routes["/shared.xml"] = Feed(rss(items(0, 12)))
    with _emulated_poller() as (stack, poller):
        store = FeedStore(stack.table("FeedsTable"))
        for n in range(feeds):
            store.add(FeedState(feed_id=f"shared-{n:03d}", url=server.url("/shared.xml")))
        poller(0, 16).run(concurrency=16)
        counted = poller(1, 16)
        meter = AwsMeter(poller_clients())
        counted.run(concurrency=16)
        calls = meter.snapshot()
    return SharedReads(feeds=feeds, run_calls=calls["run_calls"], feed_calls=calls["feed_calls"])


def run(shared_feeds: int = 500) -> AwsCallsResult:
    with LocalServer() as server:
        result = AwsCallsResult(shared=measure_shared(server, shared_feeds))
        result.cases.append(measure_case(server, "unchanged-304", 0, "unchanged"))
        result.cases.append(measure_case(server, "unchanged-same-body", 0, "same-body"))
        for k in (0, 1, 10, 11, 25):
            result.cases.append(measure_case(server, f"changed-k{k}", k, "changed"))
    return result


def markdown(result: AwsCallsResult) -> str:
    s = result.shared
    rows = []
    for c in result.cases:
        rule = f"2 + ceil({c.k}/10) = {c.limit}" if c.changed else "1 read + 1 write, no SNS = 2"
        rows.append(
            [
                f"`{c.name}`",
                c.k,
                c.status,
                _ops(c.feed_calls),
                c.reads,
                c.writes,
                c.sns,
                f"{c.published} / {c.queued}",
                f"{c.per_feed(s):.3f}",
                rule,
                "yes" if c.ok(s) else "**NO**",
                f"{c.one_feed_run} ({_ops(c.run_calls)} + own)",
            ]
        )
    return "\n".join(
        [
            f"Shared calls (the due query once per run; BatchGetItem and TransactWriteItems "
            f"once per 100 feeds): one run over {s.feeds} unchanged feeds made "
            f"{_ops(s.run_calls)}: {s.run_reads} reads and {s.run_writes} writes, "
            f"**{s.reads_per_feed:.3f} reads and {s.writes_per_feed:.3f} writes per feed**; "
            f"the feeds' own calls: {_ops(s.feed_calls)}.",
            "",
            "Per-feed cases: one feed on a fresh emulated stack; a baseline poll, then the "
            "counted poll. *Own calls* are made for that feed alone; *per feed* adds its "
            f"share of the shared calls of the {s.feeds}-feed run; *published / queued*: "
            "PublishBatch entries SNS accepted / messages that reached the SQS deliveries "
            "queue. The last column is a run in which this is the only due feed (the shared "
            "calls then fall on it alone).",
            "",
            table(
                [
                    "case",
                    "k",
                    "outcome",
                    "own calls",
                    "own reads",
                    "writes",
                    "SNS calls",
                    "published / queued",
                    "per feed",
                    "limit",
                    "ok",
                    "one-feed run",
                ],
                rows,
            ),
            "",
            f"Target (calls per feed): {verdict(result.ok)}.",
        ]
    )


def main() -> None:
    print(markdown(run()))


if __name__ == "__main__":
    main()
