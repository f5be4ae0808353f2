"""`tidings demo`: the whole pipeline on this machine, against emulated AWS.

Feeds are served from a local HTTP server, the poller publishes to the emulated SNS topic,
the SQS queue feeds the notifier batch by batch as Lambda would, SES (emulated) accepts the
emails and a local HTTP sink plays Slack. What was sent is written to the outbox.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from aws_lambda_powertools.utilities.typing import LambdaContext

from tidings import aws
from tidings.cadence import next_send_at
from tidings.local.httpserver import Feed, LocalServer, Response
from tidings.local.outbox import Outbox, sent_emails, write_outbox
from tidings.local.stack import LocalContext, Stack, emulated_aws
from tidings.model import FeedState, Subscriber
from tidings.notify import Notifier, process_event
from tidings.observability import logger
from tidings.poll import Poller, PollReport
from tidings.scheduled import DigestRun
from tidings.store.feeds import FeedStore
from tidings.store.subscribers import SubscriberStore

# A new feed normally takes a silent baseline; the demo wants to show digests on first poll.
DEMO_BASELINE_ITEMS = 1000
SLACK_CHANNEL = "returns-desk"
EXAMPLE_SUBSCRIBERS = (
    Subscriber(
        "ana",
        "email",
        "ana@partner.example.org",
        topics=("border-management",),
        name="Ana, border management desk",
    ),
    Subscriber("ben", "email", "ben@partner.example.org", topics=("*",), name="Ben, all topics"),
    Subscriber(
        "clara",
        "email",
        "clara@partner.example.org",
        topics=("migration-policy-dialogue", "diaspora"),
        cadence="daily",
        send_hour=8,
        timezone="Europe/Vienna",
        name="Clara, a daily digest at 08:00 Vienna time",
    ),
    Subscriber(
        "returns-desk",
        "slack",
        "tidings/slack/returns-desk",
        topics=("return-monitoring", "trafficking"),
        name="#returns-desk on Slack",
    ),
)


def icmpd_fixture() -> bytes:
    return resources.files("tidings.local").joinpath("fixtures/icmpd-news.xml").read_bytes()


def read_feed_list(path: Path) -> list[str]:
    """One feed URL or file per line (# comments allowed), or an OPML file's xmlUrl outlines."""
    text = path.read_text("utf-8")
    if "<opml" in text[:500].lower():
        return re.findall(r'xmlUrl\s*=\s*"([^"]+)"', text)
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def feed_id_for(source: str, index: int) -> str:
    parts = urlsplit(source)
    name = Path(parts.path).stem if parts.path.strip("/") else parts.netloc
    slug = re.sub(r"[^a-z0-9]+", "-", (name or "feed").lower()).strip("-")[:40]
    return f"{slug or 'feed'}-{index}" if index else (slug or "feed")


@dataclass(slots=True)
class DemoRun:
    first: PollReport
    second: PollReport
    emails: int
    slack_messages: int
    daily_emails: int
    repeat_emails: int
    repeat_slack_messages: int
    outbox: Outbox
    dead_letters: int


def _register_feeds(stack: Stack, server: LocalServer, sources: Sequence[str]) -> list[str]:
    feeds = FeedStore(stack.table("FeedsTable"))
    ids = []
    for index, source in enumerate(sources):
        if urlsplit(source).scheme in ("http", "https"):
            url = source
        else:
            path = f"/feeds/{index}.xml"
            server.routes[path] = Feed(Path(source).read_bytes())
            url = server.url(path)
        feed_id = feed_id_for(source, index)
        feeds.add(FeedState(feed_id=feed_id, url=url, baseline_items=DEMO_BASELINE_ITEMS))
        ids.append(feed_id)
    return ids


def _register_subscribers(stack: Stack, server: LocalServer) -> None:
    server.routes[f"/slack/{SLACK_CHANNEL}"] = Response(200, b"ok", {"Content-Type": "text/plain"})
    # the webhook URL lives in Secrets Manager; the subscriber only names the secret
    aws.client("secretsmanager").create_secret(
        Name="tidings/slack/returns-desk", SecretString=server.url(f"/slack/{SLACK_CHANNEL}")
    )
    store = SubscriberStore(stack.table("SubscribersTable"), stack.table("SubscriptionsTable"))
    for subscriber in EXAMPLE_SUBSCRIBERS:
        store.put(subscriber)


def run_demo(
    sources: Sequence[str] = (),
    outbox_dir: Path = Path("outbox"),
    echo: Callable[[str], Any] = print,
) -> DemoRun:
    logger.setLevel("WARNING")  # the summary below says what happened; warnings still show
    with emulated_aws("tidings-demo") as stack, LocalServer() as server:
        if not sources:
            server.routes["/icmpd/news.xml"] = Feed(icmpd_fixture())
            sources = [server.url("/icmpd/news.xml")]
        feed_ids = _register_feeds(stack, server, sources)
        _register_subscribers(stack, server)
        poller = Poller.from_settings(stack.poller_settings())
        notifier = Notifier.from_settings(stack.notifier_settings())
        notifier.register_lambda_context(cast(LambdaContext, LocalContext()))

        def deliver(event: dict[str, Any]) -> dict[str, Any]:
            return process_event(event, notifier)

        def slack_posts() -> list[dict[str, Any]]:
            return server.posted_json(f"/slack/{SLACK_CHANNEL}")

        echo(
            f"tidings demo: emulated AWS in-process, {len(feed_ids)} feed(s) via {server.base_url}"
        )
        first = poller.run()
        stack.drain(deliver)
        emails, slack = len(sent_emails()), len(slack_posts())
        echo(_describe_poll("poll 1", first))
        echo(f"  sent now: {emails} email digest(s), {slack} Slack message(s)")

        # the daily subscriber's digest, when their local send hour comes
        daily = next(s for s in EXAMPLE_SUBSCRIBERS if s.cadence == "daily")
        send_at = next_send_at(daily, datetime.now(UTC)).timestamp()
        DigestRun(notifier, notifier.queue, clock=lambda: send_at).run()
        daily_emails = len(sent_emails()) - emails
        echo(
            f"daily digest at {daily.send_hour:02d}:00 {daily.timezone}: "
            f"{daily_emails} email digest(s)"
        )
        outbox = write_outbox(outbox_dir, [(SLACK_CHANNEL, post) for post in slack_posts()])
        for path in [*outbox.emails, *outbox.slack]:
            echo(f"    {path}")

        later = send_at + poller.intervals.maximum + 1  # every feed is due again
        second = Poller(
            store=poller.store,
            publisher=poller.publisher,
            fetcher=poller.fetcher,
            rules=poller.rules,
            intervals=poller.intervals,
            clock=lambda: later,
        ).run()
        stack.drain(deliver)
        DigestRun(notifier, notifier.queue, clock=lambda: later + 7 * 86400).run()
        repeat_emails = len(sent_emails()) - emails - daily_emails
        repeat_slack = len(slack_posts()) - slack
        echo(_describe_poll("poll 2", second))
        echo(f"  sent: {repeat_emails} email digest(s), {repeat_slack} Slack message(s)")
        dead = stack.queue_depth(dlq=True)
        echo(
            f"outbox: {outbox.folder.resolve()} ({len(outbox.emails)} emails, "
            f"{len(outbox.slack)} Slack messages); dead letters: {dead}"
        )
        return DemoRun(
            first, second, emails, slack, daily_emails, repeat_emails, repeat_slack, outbox, dead
        )


def _describe_poll(label: str, report: PollReport) -> str:
    s = report.summary()
    states = ", ".join(
        f"{k} {v}"
        for k, v in s.items()
        if k in ("new", "unchanged", "baseline", "failed", "gone") and v
    )
    line = (
        f"{label}: {s['polled']} feed(s) polled ({states}), {s['published']} new item(s) published"
    )
    for outcome in report.outcomes:
        if outcome.error:
            line += f"\n  {outcome.feed_id}: {outcome.error}"
    return line
