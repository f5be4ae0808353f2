"""Fan-out of one batch of new items to many subscribers (issue 4).

One batch of 20 new items (1-2 topics each) to 10,000 immediate email subscribers spread
over 8 topics (1-3 each, a few with keyword filters), delivered by one `Notifier.deliver`
call. Two fresh processes, one after the other, so that each RSS figure is its own:

`emulated` - the benchmark as the issue specifies it: moto in-process, the whole fan-out.
  Digests sent per second (wall and CPU of `deliver`) and where the time goes: inside AWS
  calls (and inside moto alone, which on AWS is a network wait), reading + matching, compose,
  render_email (and its CSS inlining), build_message. Every AWS call, by operation and table:
  tidings' CallCounter on every client the notifier calls (powertools' idempotency layer
  builds its own), cross-checked against a count of every botocore API call in the process,
  against the design (one Query per topic of the batch plus the all-topics index `*`, one
  conditional PutItem claim per (subscriber, item), one BatchWriteItem per digest marking its
  claims sent, powertools Idempotency's PutItem + UpdateItem per digest, one SES SendEmail
  per digest). The process's peak RSS (VmHWM, its high-water mark reset through
  /proc/self/clear_refs just before `deliver`) is reported too, but it holds moto: every
  table and every email sent.

`standin` - the notifier without moto, for what the Lambda limit applies to. The same
  notifier, built as in Lambda, with every AWS call answered at botocore's `before-send`
  (where moto answers) from canned HTTP responses: Query pages of the same subscription rows
  (cut at 1 MB as DynamoDB does), a success for every write and send. botocore still
  serialises each request and parses each response. Two `deliver` calls, each stopped by the
  notifier's own time budget (what is left is handed back, as in Lambda): the first plain
  (peak RSS, RSS every 250 digests, the notifier's CPU per digest with no emulator), the
  second under tracemalloc (peak Python heap: the subscribers read and matched, plus the
  largest single digest). In between, rendering alone: compose + Notifier.email_message +
  as_bytes for a sample of digests. The 256 MB target is judged on this process's peak RSS
  in the first `deliver` (the canned responses, a few MB, stay in it: a conservative figure).

Peak RSS is VmHWM from /proc/self/status, not getrusage's ru_maxrss: on Linux a process
started with fork + exec inherits its parent's ru_maxrss (the kernel carries the old memory
map's high-water mark over at exec), and clear_refs does not reset that part. Under `make
bench` the parent (run.py) has already run the in-process poll benchmarks, so ru_maxrss gave
both workers the parent's peak (1173 MB), not their own.

Setup is not timed in the fan-out: SubscriberStore.put (a transaction) is timed for the
first 50 subscribers and, after the fan-out, for 3 more on the full tables; moto deep-copies
every table a transaction touches, so the rest are written with batch_writer, in the same
item shape (to_item; one Subscriptions row per topic with the same fields plus `topic`).

Run alone:
    .venv/bin/python benchmarks/fanout.py                    # 10,000 subscribers, 20 items
    .venv/bin/python benchmarks/fanout.py --subscribers 500  # a quick smoke test
    (--items 20 --topics 8 by default; --json PATH also writes the raw figures)
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import inspect
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import table, verdict

from tidings.model import ALL_TOPICS, Item, Subscriber

LAMBDA_MB = 256
SEED = 4
MB = 1024 * 1024
PAGE_BYTES = 1024 * 1024  # DynamoDB returns at most 1 MB of items per Query page
PUT_SAMPLE, PUT_SAMPLE_FULL = 50, 3
TOPIC_SLUGS = (
    "border-management",
    "return-monitoring",
    "trafficking",
    "diaspora",
    "labour-migration",
    "migration-policy-dialogue",
    "asylum-and-protection",
    "climate-and-mobility",
)
SUBJECTS = {
    "border-management": ("integrated border management", "border crossing points"),
    "return-monitoring": ("forced-return monitoring", "readmission procedures"),
    "trafficking": ("trafficking in human beings", "migrant smuggling"),
    "diaspora": ("diaspora engagement", "remittances and investment"),
    "labour-migration": ("labour migration", "legal pathways and skills partnerships"),
    "migration-policy-dialogue": ("migration policy", "the regional migration dialogue"),
    "asylum-and-protection": ("asylum systems", "reception capacity"),
    "climate-and-mobility": ("climate-induced mobility", "disaster displacement"),
}
PLACES = (
    ("Morocco", "Rabat"),
    ("Tunisia", "Tunis"),
    ("Libya", "Tripoli"),
    ("Jordan", "Amman"),
    ("Lebanon", "Beirut"),
    ("Georgia", "Tbilisi"),
    ("Nigeria", "Abuja"),
    ("Senegal", "Dakar"),
    ("Pakistan", "Islamabad"),
    ("Bangladesh", "Dhaka"),
    ("Ukraine", "Kyiv"),
    ("Moldova", "Chisinau"),
)
TITLES = (
    "{country} and ICMPD launch a new programme on {subject}",
    "Regional workshop in {city} on {subject}",
    "Webinar: what the new EU pact means for {subject} in {country}",
    "{country} hosts an expert meeting on {subject}",
    "New study maps {subject} along the routes through {country}",
    "Training of {country}'s officials on {subject} concludes in {city}",
)
SENTENCES = (
    "Officials from {country} and {partners} partner states met in {city} to discuss "
    "{subject} and to agree on the next steps for the coming year.",
    "The {months}-month project, funded by the European Union, supports the national "
    "authorities with training, equipment and peer exchange.",
    "Participants reviewed the lessons learned since {since} and identified gaps in data "
    "collection, coordination and long-term funding.",
    "A joint report with recommendations will be presented to the ministerial conference "
    "in {month}.",
    "ICMPD's office in {city} coordinates the activities together with local authorities "
    "and civil society organisations.",
)
MONTHS = ("March", "May", "June", "September", "October", "December")
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # a call the stand-in misses fails here, locally
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


# -- the data: the same in every process (seeded) -----------------------------------------


def topic_slugs(count: int) -> list[str]:
    return [*TOPIC_SLUGS, *(f"topic-{n}" for n in range(len(TOPIC_SLUGS), count))][:count]


def make_items(count: int, topics: list[str]) -> list[Item]:
    """Realistic news items: a title, a summary of about 300 characters, 1-2 topics."""
    rng = random.Random(f"{SEED}-items")
    start = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    items = []
    for n in range(count):
        chosen = tuple(rng.sample(topics, min(len(topics), rng.randint(1, 2))))
        country, city = rng.choice(PLACES)
        words = {
            "country": country,
            "city": city,
            "subject": rng.choice(SUBJECTS.get(chosen[0], (chosen[0].replace("-", " "),))),
            "partners": rng.randint(3, 12),
            "months": rng.choice((18, 24, 36, 48)),
            "since": rng.randint(2016, 2023),
            "month": rng.choice(MONTHS),
        }
        title = rng.choice(TITLES).format(**words)
        sentences = rng.sample(SENTENCES, len(SENTENCES))
        summary = ""
        while len(summary) < 260:
            summary = f"{summary} {sentences.pop().format(**words)}".strip()
        slug = "-".join(title.lower().replace(":", "").replace("'", "").split()[:8])
        link = f"https://www.icmpd.org/news/{slug}-{n}"
        items.append(
            Item(
                feed_id="icmpd-news",
                key=link,
                title=title,
                link=link,
                summary=summary,
                published=(start - timedelta(minutes=37 * n)).isoformat(),
                topics=chosen,
                categories=(),
                feed_title="ICMPD news centre",
            )
        )
    return items


def make_subscribers(count: int, topics: list[str]) -> list[Subscriber]:
    """1-3 topics each; about 4% only want items naming a country, 2% no webinars."""
    rng = random.Random(f"{SEED}-subscribers")
    subscribers = []
    for n in range(count):
        chosen = tuple(rng.sample(topics, min(len(topics), rng.randint(1, 3))))
        roll = rng.random()
        include = (rng.choice(PLACES)[0],) if roll < 0.04 else ()
        exclude = ("webinar",) if 0.04 <= roll < 0.06 else ()
        subscribers.append(
            Subscriber(
                subscriber_id=f"sub-{n:06d}",
                channel="email",
                address=f"sub{n}@example.org",
                topics=chosen,
                include=include,
                exclude=exclude,
                cadence="immediate",
                status="active",
                name=f"Subscriber {n}",
            )
        )
    return subscribers


# -- process facts and timing -------------------------------------------------------------


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    return float("nan")


def rss_mb() -> float:
    """The current resident set size (VmRSS)."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM) since exec or the last reset_peak_rss. Not
    ru_maxrss, which after fork + exec also holds the parent's peak (see the docstring)."""
    return _status_mb("VmHWM")


def reset_peak_rss() -> bool:
    """Reset the high-water mark that VmHWM reports to the current RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def release_freed_memory() -> None:
    """Collect garbage and hand freed heap back to the OS (glibc), so that RSS shows what
    is alive, not what the benchmark's own setup left behind."""
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def log(message: str) -> None:
    print(f"[fanout {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Stopwatch:
    """Wall and CPU time per named phase, for wrapping functions the notifier calls."""

    def __init__(self) -> None:
        self.wall: Counter[str] = Counter()
        self.cpu: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.wall[name] += time.perf_counter() - wall
                self.cpu[name] += time.process_time() - cpu
                self.calls[name] += 1

        return timed

    def figures(self) -> dict[str, dict[str, float]]:
        return {
            name: {"wall": self.wall[name], "cpu": self.cpu[name], "calls": self.calls[name]}
            for name in self.calls
        }


@contextmanager
def patched(target: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, original)


def phase_timers(watch: Stopwatch) -> ExitStack:
    """Time the pieces `Notifier.deliver` calls through tidings.notify's module globals."""
    import tidings.digest.render
    import tidings.notify

    stack = ExitStack()
    for module, name in (
        (tidings.notify, "match"),
        (tidings.notify, "compose"),
        (tidings.notify, "render_email"),
        (tidings.digest.render, "inline_css"),
        (tidings.notify, "build_message"),
    ):
        stack.enter_context(patched(module, name, watch.wrap(name, getattr(module, name))))
    return stack


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values) or [0.0]
    return {
        "p50": ordered[len(ordered) // 2],
        "p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        "max": ordered[-1],
    }


@dataclass
class Countdown:
    """A Lambda context: a fixed budget (`seconds`) or, by default, time without end."""

    seconds: float = 1e9
    function_name: str = "tidings-bench"
    memory_limit_in_mb: int = LAMBDA_MB
    invoked_function_arn: str = "arn:aws:lambda:eu-central-1:123456789012:function:bench"
    aws_request_id: str = "bench-request"

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


# -- AWS calls ------------------------------------------------------------------------------


class AwsMeter:
    """Every botocore API call of the process, by service.Operation and table, with the time
    spent in calls (client side + the answer) and in the answer alone (moto's stubber, or
    the stand-in: where AWS would be a network round trip)."""

    def __init__(self, tables: dict[str, str]) -> None:
        self.logical = {name: logical for logical, name in tables.items()}
        self.calls: Counter[str] = Counter()
        self.by_table: Counter[tuple[str, str]] = Counter()
        self.call_wall = self.call_cpu = self.answer_wall = self.answer_cpu = 0.0

    @contextmanager
    def metering(self, answerer: tuple[Any, str] | None = None) -> Iterator[AwsMeter]:
        """`answerer`: the (class, method) that answers requests, to time it."""
        from botocore.client import BaseClient

        make_api_call, meter = BaseClient._make_api_call, self

        def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
            meter.record(client.meta.service_model.service_name, operation, params)
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return make_api_call(client, operation, params)
            finally:
                meter.call_wall += time.perf_counter() - wall
                meter.call_cpu += time.process_time() - cpu

        with ExitStack() as stack:
            stack.enter_context(patched(BaseClient, "_make_api_call", counted))
            if answerer:
                owner, name = answerer
                answer = getattr(owner, name)

                def answering(*args: Any, **kwargs: Any) -> Any:
                    wall, cpu = time.perf_counter(), time.process_time()
                    try:
                        return answer(*args, **kwargs)
                    finally:
                        meter.answer_wall += time.perf_counter() - wall
                        meter.answer_cpu += time.process_time() - cpu

                stack.enter_context(patched(owner, name, answering))
            yield self

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        self.calls[f"{service}.{operation}"] += 1
        tables = [params["TableName"]] if "TableName" in params else []
        tables += list(params.get("RequestItems", {}))
        for name in tables or ["-"]:
            self.by_table[operation, self.logical.get(name, name)] += 1

    def figures(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "by_table": {f"{op} {name}": n for (op, name), n in sorted(self.by_table.items())},
            "call_wall": self.call_wall,
            "call_cpu": self.call_cpu,
            "answer_wall": self.answer_wall,
            "answer_cpu": self.answer_cpu,
        }


def notifier_clients(notifier: Any) -> list[Any]:
    """Every boto3 client the notifier calls: tidings.aws's cached ones and the client
    powertools' DynamoDBPersistenceLayer builds for itself (in the idempotent wrapper's
    closure; found through the garbage collector should powertools move it)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from tidings import aws

    clients = [aws.client("dynamodb"), aws.resource("dynamodb").meta.client, aws.client("sesv2")]
    layer = inspect.getclosurevars(notifier._send_once).nonlocals.get("persistence_store")
    layers = [layer] if isinstance(layer, DynamoDBPersistenceLayer) else []
    layers = layers or [o for o in gc.get_objects() if isinstance(o, DynamoDBPersistenceLayer)]
    clients += [found.client for found in layers]
    return list({id(c): c for c in clients}.values())


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's size of a typed item (attribute names + values), as its 1 MB page uses."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":  # about one byte per two significant digits, plus one
        return len(data.strip("-").replace(".", "").strip("0") or "0") // 2 + 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in data.items())
    return 1  # BOOL, NULL


class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


class StandIn:
    """AWS for the notifier, answered in-process at botocore's before-send from canned
    responses: no emulator, so the process holds only the notifier (and these responses)."""

    def __init__(self, subscribers: list[Subscriber], subscriptions_table: str) -> None:
        self.table = subscriptions_table
        self.pages: dict[tuple[str, str], bytes] = {}  # (topic, start key) -> response body
        ordered = sorted(subscribers, key=lambda s: s.subscriber_id)  # the range key's order
        for topic in sorted({t for sub in subscribers for t in sub.topics}):
            self._paginate(topic, [sub for sub in ordered if topic in sub.topics])
        self.page_bytes = sum(len(body) for body in self.pages.values())
        self.empty = json.dumps({"Items": [], "Count": 0, "ScannedCount": 0}).encode()
        self.clients: list[Any] = []

    def _paginate(self, topic: str, subscribers: list[Subscriber]) -> None:
        """One topic's rows, serialised one at a time (few live objects: the benchmark's
        own data must not inflate the RSS measured), in pages of at most 1 MB."""
        from boto3.dynamodb.types import TypeSerializer

        from tidings.store.subscribers import to_item

        serialize = TypeSerializer().serialize
        start, last, size, page = "", "", 0, []
        for sub in subscribers:
            row = {k: serialize(v) for k, v in {**to_item(sub), "topic": topic}.items()}
            row_size = item_size(row)
            if page and size + row_size > PAGE_BYTES:
                self.pages[topic, start] = self._page(page, topic, last)
                start, page, size = last, [], 0
            page.append(json.dumps(row))
            size += row_size
            last = sub.subscriber_id
        self.pages[topic, start] = self._page(page, topic, None)

    @staticmethod
    def _page(rows: list[str], topic: str, last: str | None) -> bytes:
        more = {"topic": {"S": topic}, "subscriber_id": {"S": last}} if last else None
        tail = f', "LastEvaluatedKey": {json.dumps(more)}' if more else ""
        count = len(rows)
        body = f'{{"Items": [{", ".join(rows)}], "Count": {count}, "ScannedCount": {count}{tail}}}'
        return body.encode()

    def attach(self, clients: list[Any]) -> StandIn:
        for client in clients:
            client.meta.events.register("before-send", self._handler)
        self.clients = clients
        return self

    def _handler(self, **kwargs: Any) -> Any:
        return self.answer(**kwargs)  # looked up per call, so that AwsMeter can time it

    def answer(self, request: Any, event_name: str = "", **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        operation = event_name.rsplit(".", 1)[-1]
        if operation == "SendEmail":
            body = json.dumps({"MessageId": str(uuid.uuid4())}).encode()
            headers = {"content-type": "application/json"}
        else:
            body = self._dynamodb(operation, json.loads(request.body or b"{}"))
            headers = {"content-type": "application/x-amz-json-1.0"}
        headers["x-amzn-requestid"] = str(uuid.uuid4())
        return AWSResponse(request.url, 200, headers, _Body(body))

    def _dynamodb(self, operation: str, params: dict[str, Any]) -> bytes:
        if operation == "Query" and params.get("TableName") == self.table:
            (value,) = params["ExpressionAttributeValues"].values()
            start = params.get("ExclusiveStartKey", {}).get("subscriber_id", {}).get("S", "")
            return self.pages.get((value["S"], start), self.empty)
        if operation == "BatchWriteItem":
            return b'{"UnprocessedItems": {}}'
        if operation in {"PutItem", "UpdateItem", "DeleteItem", "GetItem"}:
            return b"{}"  # a success; GetItem: no such item (the benchmark expects none)
        raise RuntimeError(f"the stand-in does not answer DynamoDB {operation}")


# -- the emulated run ------------------------------------------------------------------------


def populate(stack: Any, subscribers: list[Subscriber]) -> float:
    """Subscribers and their topic index rows, with batch_writer, in SubscriberStore's item
    shape (to_item; one Subscriptions row per topic with the same fields plus `topic`)."""
    from tidings import aws
    from tidings.store.subscribers import to_item

    dynamodb = aws.resource("dynamodb")
    started = time.perf_counter()
    with (
        dynamodb.Table(stack.table("SubscribersTable")).batch_writer() as records,
        dynamodb.Table(stack.table("SubscriptionsTable")).batch_writer() as index,
    ):
        for sub in subscribers:
            record = to_item(sub)
            records.put_item(Item=record)
            for topic in sub.topics:
                index.put_item(Item={**record, "topic": topic})
    return time.perf_counter() - started


def time_puts(store: Any, subscribers: list[Subscriber]) -> float:
    started = time.perf_counter()
    for sub in subscribers:
        store.put(sub)
    return (time.perf_counter() - started) / max(1, len(subscribers))


def worker_emulated(subscribers: int, items: int, topics: int) -> dict[str, Any]:
    from moto.core.botocore_stubber import BotocoreStubber

    from tidings.local.metering import CallCounter
    from tidings.local.outbox import sent_raw_emails
    from tidings.local.stack import LocalContext, emulated_aws
    from tidings.notify import Notifier
    from tidings.store.subscribers import SubscriberStore

    subs = make_subscribers(subscribers, topic_slugs(topics))
    batch = make_items(items, topic_slugs(topics))
    with emulated_aws("bench") as stack:
        store = SubscriberStore(stack.table("SubscribersTable"), stack.table("SubscriptionsTable"))
        sample = min(PUT_SAMPLE, len(subs) // 4)
        put_empty = time_puts(store, subs[:sample])
        log(
            f"{sample} SubscriberStore.put ({put_empty * 1000:.0f} ms each); batch_writer for "
            f"{len(subs) - sample}"
        )
        setup = populate(stack, subs[sample:])
        notifier = Notifier.from_settings(stack.notifier_settings())
        notifier.register_lambda_context(LocalContext(remaining_ms=10**9))
        clients = notifier_clients(notifier)
        counter = CallCounter().attach(*clients)
        meter, watch = AwsMeter(stack.tables), Stopwatch()
        digest_walls: list[float] = []
        notifier.deliver_digest = _timed_each(notifier.deliver_digest, digest_walls)
        notifier.subscribers.following = watch.wrap("following", notifier.subscribers.following)
        gc.collect()
        rss_before, reset = rss_mb(), reset_peak_rss()
        log(f"delivering {len(batch)} items to {len(subs)} subscribers (emulated AWS)")
        with meter.metering((BotocoreStubber, "__call__")), phase_timers(watch):
            started, cpu = time.perf_counter(), time.process_time()
            report = notifier.deliver(batch)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak, rss_after = peak_rss_mb(), rss_mb()
        counter.detach(*clients)
        raw = sent_raw_emails()
        log(
            f"{sum(report.digests.values())} digests in {wall:.1f} s; timing "
            f"{PUT_SAMPLE_FULL} SubscriberStore.put on the full tables"
        )
        put_full = time_puts(store, subs[-PUT_SAMPLE_FULL:])
        return {
            "setup": {
                "batch_writer": setup,
                "put_empty": put_empty,
                "put_full": put_full,
                "put_sample": sample,
            },
            "wall": wall,
            "cpu": cpu,
            "phases": watch.figures(),
            "aws": meter.figures(),
            "counter": dict(counter.calls),
            "clients_metered": len(clients),
            "digest_wall": spread(digest_walls),
            "subscribers_matched": len(digest_walls),
            **_report(report),
            "topics_in_batch": sorted({t for item in batch for t in item.topics}),
            "topics_per_item": statistics.mean(len(item.topics) for item in batch),
            "summary_chars": statistics.mean(len(item.summary) for item in batch),
            "ses_stored": {
                "messages": len(raw),
                "mb": sum(len(r) for r in raw) / MB,
                "mean_bytes": statistics.mean(len(r) for r in raw) if raw else 0,
            },
            "rss": {"before": rss_before, "peak": peak, "after": rss_after, "reset": reset},
        }


def _timed_each(function: Callable[..., Any], walls: list[float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            walls.append(time.perf_counter() - started)

    return timed


def _report(report: Any) -> dict[str, Any]:
    return {
        "digests": dict(report.digests),
        "items_delivered": report.items_delivered,
        "duplicates_skipped": report.duplicates_skipped,
        "send_failures": report.send_failures,
        "handed_back": len(report.failed_items),
    }


# -- the stand-in run -------------------------------------------------------------------------


def build_standin_notifier() -> Any:
    """The notifier as Lambda builds it (its clients, powertools' persistence layer), with a
    fixed token key instead of the Secrets Manager lookup."""
    from tidings.channels import secrets
    from tidings.channels.email import EmailChannel
    from tidings.channels.slack import SlackChannel
    from tidings.feeds.topics import TopicRules
    from tidings.notify import Notifier
    from tidings.settings import NotifierSettings
    from tidings.store.deliveries import DeliveryLedger, DigestQueue
    from tidings.store.subscribers import SubscriberStore

    settings = NotifierSettings(
        subscribers_table="bench-SubscribersTable",
        subscriptions_table="bench-SubscriptionsTable",
        digest_queue_table="bench-DigestQueueTable",
        deliveries_table="bench-DeliveriesTable",
        idempotency_table="bench-IdempotencyTable",
        sender_address="ICMPD news via tidings <tidings@news.example.org>",
        unsubscribe_base_url="https://tidings.example.org",
        token_secret_name="bench/unsubscribe-token-key",  # noqa: S106 - a name, never read
        list_id="ICMPD news digests <icmpd.news.example.org>",
    )
    return Notifier(
        settings=settings,
        subscribers=SubscriberStore(settings.subscribers_table, settings.subscriptions_table),
        email=EmailChannel(),
        slack=SlackChannel(secrets.resolve),
        topic_titles=TopicRules.load(None).titles,
        token_key=b"bench-token-key-of-32-bytes-----",
        ledger=DeliveryLedger(settings.deliveries_table),
        queue=DigestQueue(settings.digest_queue_table),
    )


def render_one(notifier: Any, sub: Subscriber, items: list[Item], compose: Any) -> int:
    """What a send renders: compose, Notifier.email_message, the MIME bytes SES is given."""
    from tidings.channels.email import digest_id

    digest = compose(sub, items, notifier.topic_titles)
    key = digest_id(sub.subscriber_id, sorted(i.uid for i in items))
    return len(notifier.email_message(digest, key).as_bytes())


def worker_standin(
    subscribers: int,
    items: int,
    topics: int,
    *,
    seconds: float,
    traced_seconds: float,
    sample: int,
) -> dict[str, Any]:
    os.environ.update(FAKE_AWS_ENV)
    rss_start = rss_mb()
    import tidings.notify
    from tidings.digest.compose import compose
    from tidings.matching import match
    from tidings.notify import TIME_RESERVE

    notifier = build_standin_notifier()
    assert "moto" not in sys.modules, "the stand-in process must not hold the emulator"
    rss_imports = rss_mb()
    batch = make_items(items, topic_slugs(topics))
    first = make_subscribers(1, topic_slugs(topics))[0]
    render_one(notifier, first, batch[:8], compose)  # templates compiled, premailer loaded
    rss_runtime = rss_mb()

    subs = make_subscribers(subscribers, topic_slugs(topics))
    standin = StandIn(subs, notifier.settings.subscriptions_table)
    standin.attach(notifier_clients(notifier))
    local: dict[str, dict[str, Subscriber]] = {ALL_TOPICS: {}}
    for sub in subs:
        for topic in sub.topics:
            local.setdefault(topic, {})[sub.subscriber_id] = sub
    chosen = list(match(batch, local).values())
    chosen = chosen[:: max(1, len(chosen) // sample)][:sample]
    del subs, local  # the benchmark's own copies: the notifier reads its subscribers itself
    release_freed_memory()

    # 1. plain: RSS and the notifier's own time per digest
    rss_trend: list[tuple[int, float]] = []
    walls: list[float] = []
    deliver_one = _timed_each(notifier.deliver_digest, walls)

    def deliver_digest(*args: Any, **kwargs: Any) -> Any:
        if len(walls) % 250 == 0:
            rss_trend.append((len(walls), rss_mb()))
        return deliver_one(*args, **kwargs)

    notifier.deliver_digest = deliver_digest
    notifier.register_lambda_context(Countdown(seconds + TIME_RESERVE))
    meter, watch = AwsMeter({}), Stopwatch()
    notifier.subscribers.following = watch.wrap("following", notifier.subscribers.following)
    release_freed_memory()
    rss_before, reset = rss_mb(), reset_peak_rss()
    log(f"stand-in: delivering for at most {seconds:.0f} s, no emulator")
    with meter.metering((StandIn, "answer")), phase_timers(watch):
        started, cpu = time.perf_counter(), time.process_time()
        report = notifier.deliver(batch)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    rss_trend.append((len(walls), rss_mb()))
    peak = peak_rss_mb()
    plain = {
        "budget": seconds,
        "wall": wall,
        "cpu": cpu,
        "phases": watch.figures(),
        "aws": meter.figures(),
        "digest_wall": spread(walls),
        **_report(report),
        "rss": {"before": rss_before, "peak": peak, "trend": rss_trend, "reset": reset},
    }
    log(f"stand-in: {sum(report.digests.values())} digests in {wall:.1f} s")

    # 2. rendering alone
    render_watch = Stopwatch()
    with phase_timers(render_watch):
        timed_compose = tidings.notify.compose
        started, cpu = time.perf_counter(), time.process_time()
        sizes = [render_one(notifier, sub, its, timed_compose) for sub, its in chosen]
        render_wall, render_cpu = time.perf_counter() - started, time.process_time() - cpu

    # 3. under tracemalloc: the notifier's Python heap
    traced = traced_deliver(notifier, deliver_one, batch, traced_seconds + TIME_RESERVE)
    return {
        "standin_pages": {"count": len(standin.pages), "mb": standin.page_bytes / MB},
        "rss": {"start": rss_start, "imports": rss_imports, "runtime": rss_runtime},
        "plain": plain,
        "render": {
            "digests": len(chosen),
            "wall": render_wall,
            "cpu": render_cpu,
            "phases": render_watch.figures(),
            "message_bytes": statistics.mean(sizes),
            "items_per_digest": statistics.mean(len(its) for _, its in chosen),
        },
        "traced": traced,
    }


def traced_deliver(
    notifier: Any, deliver_one: Callable[..., Any], batch: list[Item], budget: float
) -> dict[str, Any]:
    """One more `deliver` under tracemalloc: the peak while reading, what stays alive for
    the whole fan-out once read and matched, and the most one digest adds on top."""
    import tidings.notify

    marks: dict[str, float] = {}
    transients: list[float] = []
    peak = [0.0]
    original_match = tidings.notify.match

    def match(*args: Any, **kwargs: Any) -> Any:
        matched = original_match(*args, **kwargs)
        marks["after_match"], marks["peak_read_match"] = tracemalloc.get_traced_memory()
        return matched

    def deliver_digest(*args: Any, **kwargs: Any) -> Any:
        current, top = tracemalloc.get_traced_memory()
        peak[0] = max(peak[0], top)
        tracemalloc.reset_peak()
        try:
            return deliver_one(*args, **kwargs)
        finally:
            top = tracemalloc.get_traced_memory()[1]
            transients.append(top - current)
            peak[0] = max(peak[0], top)

    notifier.deliver_digest = deliver_digest
    notifier.register_lambda_context(Countdown(budget))
    gc.collect()
    log(f"stand-in: delivering under tracemalloc for at most {budget:.0f} s")
    with patched(tidings.notify, "match", match):
        tracemalloc.start()
        started = time.perf_counter()
        report = notifier.deliver(batch)
        wall = time.perf_counter() - started
        current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    after_match = marks.get("after_match", 0.0)
    return {
        "wall": wall,
        "digests": sum(report.digests.values()),
        "peak": max(peak[0], top) / MB,
        "peak_read_match": marks.get("peak_read_match", 0.0) / MB,
        "after_match": after_match / MB,
        "digest_transient_max": max(transients, default=0.0) / MB,
        "digest_transient_mean": statistics.mean(transients or [0.0]) / MB,
        "retained_at_end": current / MB,
    }


# -- the benchmark --------------------------------------------------------------------------


def _worker(mode: str, out: Path, options: list[str], timeout: float) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", mode, "--out", str(out)]
    log(f"worker {mode}: {' '.join(options)}")
    subprocess.run(  # noqa: S603 - this file, with our own options
        [*command, *options], check=True, timeout=timeout, stdout=sys.stderr
    )
    return dict(json.loads(out.read_text()))


def run(
    subscribers: int = 10_000,
    items: int = 20,
    topics: int = 8,
    *,
    standin_seconds: float = 45,
    traced_seconds: float = 60,
    render_sample: int = 200,
    timeout: float = 3600,
) -> dict[str, Any]:
    """The fan-out figures, from two fresh processes: the stand-in, then the emulated run."""
    started = time.perf_counter()
    loads = [os.getloadavg()[0]]
    scale = ["--subscribers", str(subscribers), "--items", str(items), "--topics", str(topics)]
    result: dict[str, Any] = {
        "scale": {"subscribers": subscribers, "items": items, "topics": topics},
    }
    with tempfile.TemporaryDirectory(prefix="tidings-fanout-") as scratch:
        folder = Path(scratch)
        budgets = ["--seconds", str(standin_seconds), "--traced-seconds", str(traced_seconds)]
        result["standin"] = _worker(
            "standin",
            folder / "standin.json",
            [*scale, *budgets, "--render-sample", str(render_sample)],
            timeout,
        )
        result["emulated"] = _worker("emulated", folder / "emulated.json", scale, timeout)
    loads.append(os.getloadavg()[0])
    result["load"] = loads
    result["elapsed"] = time.perf_counter() - started
    result["checks"] = checks(result)
    return result


def expected_calls(emulated: dict[str, Any]) -> dict[str, int]:
    digests = sum(emulated["digests"].values())
    return {
        "Query SubscriptionsTable": len(emulated["topics_in_batch"]) + 1,  # + the "*" index
        "PutItem DeliveriesTable": emulated["items_delivered"],
        "BatchWriteItem DeliveriesTable": digests,
        "PutItem IdempotencyTable": digests,
        "UpdateItem IdempotencyTable": digests,
        "SendEmail -": digests,
    }


def checks(result: dict[str, Any]) -> dict[str, Any]:
    emulated, standin = result["emulated"], result["standin"]
    digests = sum(emulated["digests"].values())
    expected = expected_calls(emulated)
    by_table = emulated["aws"]["by_table"]
    unexpected = {k: n for k, n in by_table.items() if k not in expected}
    query = "Query SubscriptionsTable"
    return {
        "digests": digests,
        "all_sent": digests == emulated["subscribers_matched"] and not emulated["handed_back"],
        "counter_complete": emulated["counter"] == emulated["aws"]["calls"],
        "idempotency_per_digest": by_table.get("PutItem IdempotencyTable") == digests
        and by_table.get("UpdateItem IdempotencyTable") == digests,
        "ses_stored": emulated["ses_stored"]["messages"] == digests,
        "calls_ok": not unexpected
        and by_table.get(query, 0) <= expected[query]
        and all(by_table.get(k, 0) == n for k, n in expected.items() if k != query),
        "unexpected": unexpected,
        "memory_ok": standin["plain"]["rss"]["peak"] <= LAMBDA_MB,
    }


def _mb(value: float) -> str:
    return f"{value:.0f} MB"


def _rate(count: float, seconds: float) -> str:
    return f"{count / seconds:.1f}/s" if seconds > 0 else "-"


def _ms(seconds: float, count: float) -> str:
    return f"{seconds / count * 1000:.1f} ms" if count else "-"


def markdown(result: dict[str, Any]) -> str:
    scale, emulated, standin, c = (result[k] for k in ("scale", "emulated", "standin", "checks"))
    plain, render, traced = standin["plain"], standin["render"], standin["traced"]
    digests, items, pairs = c["digests"], scale["items"], emulated["items_delivered"]
    by_table, aws = emulated["aws"]["by_table"], emulated["aws"]
    queries = by_table.get("Query SubscriptionsTable", 0)
    dynamodb_calls = sum(n for k, n in by_table.items() if k != "SendEmail -")
    standin_digests = sum(plain["digests"].values())
    setup = emulated["setup"]
    sections = [
        "## Fan-out of one batch (issue 4)",
        "",
        f"{items} new items ({emulated['topics_per_item']:.1f} topics each on average, "
        f"summaries of {emulated['summary_chars']:.0f} characters) to "
        f"{scale['subscribers']:,} immediate email subscribers over {scale['topics']} topics "
        f"(1-3 each, 6% with keyword filters), in one `Notifier.deliver` call: "
        f"{emulated['subscribers_matched']:,} subscribers matched, {digests:,} digests sent"
        f"{'' if c['all_sent'] else ' (NOT all: see handed_back)'}, {pairs:,} (subscriber, "
        f"item) pairs, {pairs / max(1, digests):.1f} items per digest, "
        f"{emulated['ses_stored']['mean_bytes'] / 1024:.0f} KB per email. Setup, untimed: "
        f"`SubscriberStore.put` {setup['put_empty'] * 1000:.0f} ms per subscriber on empty "
        f"tables, {setup['put_full'] * 1000:,.0f} ms on the full ones (moto deep-copies every "
        f"table in a transaction), so {setup['put_sample']} went through it and the rest "
        f"through batch_writer ({setup['batch_writer']:.0f} s).",
        "",
        "**Targets**",
        "",
        table(
            ["target", "measured", "verdict"],
            [
                [
                    f"fits a {LAMBDA_MB} MB Lambda (judged on RSS, what Lambda limits)",
                    f"peak RSS {_mb(plain['rss']['peak'])} for the notifier without moto "
                    f"(stand-in AWS; tracemalloc heap peak {_mb(traced['peak'])}); the "
                    f"emulated process, moto's tables and sent mail included: "
                    f"{_mb(emulated['rss']['peak'])}",
                    verdict(c["memory_ok"]),
                ],
                [
                    "DynamoDB: <= 1 Query per topic, plus the idempotency writes",
                    f"{queries} Query for the batch's {len(emulated['topics_in_batch'])} "
                    f"topics + `*` ({queries / items:.2f} per item); every other call as "
                    f"designed ({dynamodb_calls:,} DynamoDB calls)"
                    + (f"; unexpected: {c['unexpected']}" if c["unexpected"] else ""),
                    verdict(c["calls_ok"]),
                ],
                [
                    "SES: one SendEmail per digest",
                    f"{by_table.get('SendEmail -', 0):,} for {digests:,} digests; moto holds "
                    f"{emulated['ses_stored']['messages']:,}",
                    verdict(by_table.get("SendEmail -", 0) == digests and c["ses_stored"]),
                ],
            ],
        ),
        "",
        "**Throughput** (wall time, CPU in parentheses)",
        "",
        table(
            ["what", "time", "per digest", "digests/s"],
            [
                *_time_rows(emulated, digests, "`deliver`, emulated AWS (moto)"),
                [
                    "`deliver` less the time inside moto",
                    f"{emulated['wall'] - aws['answer_wall']:.1f} s",
                    _ms(emulated["wall"] - aws["answer_wall"], digests),
                    _rate(digests, emulated["wall"] - aws["answer_wall"]),
                ],
                *_time_rows(
                    plain,
                    standin_digests,
                    f"`deliver`, stand-in AWS, no emulator ({standin_digests:,} digests in "
                    f"a {plain['budget']:.0f} s budget)",
                ),
                [
                    f"rendering alone, no AWS ({render['digests']} digests: compose, "
                    "email_message, as_bytes)",
                    f"{render['wall']:.2f} s ({render['cpu']:.2f} s)",
                    _ms(render["wall"], render["digests"]),
                    _rate(render["digests"], render["wall"]),
                ],
            ],
        ),
        "",
        f"One digest in the emulated `deliver`: p50 "
        f"{emulated['digest_wall']['p50'] * 1000:.0f} ms, p95 "
        f"{emulated['digest_wall']['p95'] * 1000:.0f} ms, max "
        f"{emulated['digest_wall']['max'] * 1000:.0f} ms; "
        f"{(sum(aws['calls'].values()) - queries) / max(1, digests):.1f} AWS calls per "
        "digest, one after the other (on AWS, that many network round trips).",
        "",
        f"**AWS calls**, emulated run (tidings' CallCounter on the notifier's "
        f"{emulated['clients_metered']} clients, powertools' own included; it agrees with a "
        f"count of every botocore call in the process: "
        f"{'yes' if c['counter_complete'] else 'NO'}). moto cuts Query pages at 1 MB; the "
        "stand-in, paging the same rows by DynamoDB's item-size rule, needed "
        f"{_standin_queries(standin)} Queries:",
        "",
        table(
            ["operation", "table", "calls", "per item", "per digest", "design"],
            [
                [
                    op,
                    name if name != "-" else "(SES)",
                    f"{n:,}",
                    f"{n / items:,.2f}",
                    f"{n / max(1, digests):.2f}",
                    _expectation(f"{op} {name}", expected_calls(emulated)),
                ]
                for key, n in by_table.items()
                for op, name in [key.split(" ", 1)]
            ],
        ),
        "",
        "**Memory**",
        "",
        table(
            ["measure", "value", "what it holds"],
            [
                [
                    "notifier process, stand-in AWS: peak RSS in `deliver` (VmHWM)",
                    _mb(plain["rss"]["peak"]),
                    f"RSS {_mb(standin['rss']['imports'])} after imports and clients, "
                    f"{_mb(standin['rss']['runtime'])} after a first digest, "
                    f"{_mb(plain['rss']['before'])} before `deliver` (with the stand-in's "
                    f"{standin['standin_pages']['mb']:.0f} MB of canned Query pages); "
                    + _trend(plain["rss"]["trend"])
                    + ("" if plain["rss"]["reset"] else " (peak NOT reset: includes setup)"),
                ],
                [
                    "notifier process, stand-in AWS: tracemalloc peak in `deliver`",
                    _mb(traced["peak"]),
                    f"{_mb(traced['after_match'])} alive once subscribers are read and "
                    f"matched (peak while reading {_mb(traced['peak_read_match'])}); one digest "
                    f"adds at most {traced['digest_transient_max']:.1f} MB "
                    f"({traced['digests']:,} digests traced)",
                ],
                [
                    "emulated process: peak RSS in `deliver` (VmHWM)",
                    _mb(emulated["rss"]["peak"]),
                    f"moto included: RSS {_mb(emulated['rss']['before'])} before, "
                    f"{_mb(emulated['rss']['after'])} after; the emails moto keeps are "
                    f"{emulated['ses_stored']['mb']:.0f} MB of text alone"
                    + ("" if emulated["rss"]["reset"] else " (peak NOT reset: includes setup)"),
                ],
            ],
        ),
        "",
        f"Run: {result['elapsed']:.0f} s in all; load average {result['load'][0]:.2f} at "
        f"start, {result['load'][1]:.2f} at end.",
    ]
    return "\n".join(sections) + "\n"


def _time_rows(run: dict[str, Any], digests: int, label: str) -> list[list[str]]:
    phases, aws = run["phases"], run["aws"]

    def wall(*names: str) -> float:
        return sum(float(phases.get(n, {}).get("wall", 0.0)) for n in names)

    rendering = wall("compose", "render_email", "build_message")
    rest = run["wall"] - aws["call_wall"] - rendering - wall("match")
    return [
        [
            label,
            f"{run['wall']:.1f} s ({run['cpu']:.1f} s)",
            _ms(run["wall"], digests),
            _rate(digests, run["wall"]),
        ],
        [
            "- in AWS calls (botocore + the answer)",
            f"{aws['call_wall']:.1f} s, answering {aws['answer_wall']:.1f} s",
            _ms(aws["call_wall"], digests),
            "",
        ],
        [
            "- compose + render_email + build_message",
            f"{rendering:.1f} s (of which CSS inlining {wall('inline_css'):.1f} s)",
            _ms(rendering, digests),
            "",
        ],
        [
            "- reading the subscribers (`following`: its Queries, in the line above, and "
            "the rows made Subscribers)",
            f"{wall('following'):.1f} s",
            "",
            "",
        ],
        [
            "- matching; the rest (powertools, ledger, notifier code)",
            f"{wall('match'):.2f} s; {rest:.1f} s",
            _ms(rest, digests),
            "",
        ],
    ]


def _standin_queries(standin: dict[str, Any]) -> int:
    calls = standin["plain"]["aws"]["calls"]
    return int(calls.get("dynamodb.Query", 0))


def _trend(trend: list[list[float]]) -> str:
    if len(trend) < 2:
        return ""
    (first_n, first), (last_n, last) = trend[0], trend[-1]
    return (
        f"RSS {first:.0f} MB when digest {first_n + 1:,} starts (subscribers read), "
        f"{last:.0f} MB after digest {last_n:,}"
    )


def _expectation(key: str, expected: dict[str, int]) -> str:
    if key not in expected:
        return "none"
    if key.startswith("Query"):
        return f"<= {expected[key]} (one per topic + `*`)"
    return {
        "PutItem DeliveriesTable": "1 per (subscriber, item)",
        "BatchWriteItem DeliveriesTable": "1 per digest",
        "PutItem IdempotencyTable": "1 per digest",
        "UpdateItem IdempotencyTable": "1 per digest",
        "SendEmail -": "1 per digest",
    }[key]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--topics", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=45, help="stand-in deliver budget")
    parser.add_argument("--traced-seconds", type=float, default=60, help="tracemalloc budget")
    parser.add_argument("--render-sample", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--worker", choices=("standin", "emulated"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    scale = (args.subscribers, args.items, args.topics)
    if args.worker:
        if args.worker == "standin":
            figures = worker_standin(
                *scale,
                seconds=args.seconds,
                traced_seconds=args.traced_seconds,
                sample=args.render_sample,
            )
        else:
            figures = worker_emulated(*scale)
        args.out.write_text(json.dumps(figures, indent=1))
        return 0
    result = run(
        *scale,
        standin_seconds=args.seconds,
        traced_seconds=args.traced_seconds,
        render_sample=args.render_sample,
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
