"""Small builders shared by the integration tests."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

from tests.conftest import ROOT
from tidings import aws
from tidings.bus.publish import Publisher
from tidings.feeds.fetch import Fetcher, FetchPolicy
from tidings.feeds.topics import TopicRules
from tidings.local.stack import Stack
from tidings.model import FeedState, Item
from tidings.poll import Poller, PollIntervals
from tidings.store.feeds import FeedStore


def rss(*items: tuple[str, str], title: str = "Test feed") -> bytes:
    """A small RSS 2.0 document; items are (title, link), newest first (28 Dec, 27 Dec, ...)."""
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><description>About {t}</description>"
        f"<pubDate>{28 - i % 28:02d} Dec 2025 10:00:00 +0000</pubDate></item>"
        for i, (t, link) in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.org/</link><description>d</description>{body}</channel></rss>"
    ).encode()


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_poller(
    stack: Stack, clock: Callable[[], float], publisher: Publisher | None = None, **policy: float
) -> Poller:
    return Poller(
        store=FeedStore(stack.table("FeedsTable")),
        publisher=publisher or Publisher(stack.topic_arn),
        fetcher=Fetcher(FetchPolicy(**policy)),  # type: ignore[arg-type]
        rules=TopicRules.load(),
        intervals=PollIntervals(default=900, minimum=300, maximum=86400),
        clock=clock,
    )


def add_feed(stack: Stack, feed_id: str, url: str, **options: object) -> None:
    FeedStore(stack.table("FeedsTable")).add(FeedState(feed_id=feed_id, url=url, **options))  # type: ignore[arg-type]


def feed(stack: Stack, feed_id: str) -> FeedState:
    state = FeedStore(stack.table("FeedsTable")).get(feed_id)
    assert state is not None
    return state


def published(stack: Stack) -> list[tuple[Item, dict[str, str]]]:
    """Drain the deliveries queue: every item the poller published, with its attributes."""
    sqs = aws.client("sqs")
    found = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=stack.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return found
        for m in messages:
            attributes = {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()}
            found.append((Item.from_message(json.loads(m["Body"])), attributes))
            sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=m["ReceiptHandle"])


def load_handler(name: str) -> ModuleType:
    """Import functions/<name>/app.py as Lambda would: a fresh module, settings from the env."""
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"tidings_handler_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_event(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())
