"""Ops commands against a deployed stack: feeds, subscribers, poll now, DLQ redrive."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

from tidings.bus.redrive import redrive
from tidings.cli.deployed import Deployed
from tidings.feeds.identity import IDENTITY_STRATEGIES
from tidings.model import CADENCES, STATUSES, FeedState, Subscriber
from tidings.store.feeds import FeedStore
from tidings.store.subscribers import SubscriberStore


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _when(epoch: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(epoch)) if epoch else "-"


def feeds_list(args: argparse.Namespace) -> int:
    for feed in FeedStore(Deployed.find(args.stack).feeds_table).all():
        state = "on " if feed.enabled else "off"
        print(f"{feed.feed_id:24} {state} {feed.url}")
        detail = (
            f"topics: {', '.join(feed.topics) or '-'}; polled {_when(feed.last_polled_at)}; "
            f"next {_when(feed.next_poll_at)}; failures {feed.consecutive_failures}"
        )
        if feed.last_error:
            detail += f"; last error: {feed.last_error}"
        print(f"{'':24}     {detail}")
    return 0


def feeds_add(args: argparse.Namespace) -> int:
    store = FeedStore(Deployed.find(args.stack).feeds_table)
    store.add(
        FeedState(
            feed_id=args.feed_id,
            url=args.url,
            title=args.title or "",
            topics=_csv(args.topics),
            identity=args.identity,
            baseline_items=args.baseline,
        )
    )
    print(
        f"added {args.feed_id}: polled on the next run; its first poll takes a baseline"
        + (f" and sends its newest {args.baseline} items" if args.baseline else "")
    )
    return 0


def feeds_set(args: argparse.Namespace) -> int:
    store = FeedStore(Deployed.find(args.stack).feeds_table)
    if args.action == "remove":
        store.remove(args.feed_id)
    else:
        changes: dict[str, object] = {"enabled": args.action == "enable"}
        if args.action == "enable":  # a re-enabled feed starts afresh, due now
            changes |= {"consecutive_failures": 0, "next_poll_at": 0}
        store.update(args.feed_id, **changes)
    print(f"{args.feed_id}: {args.action}d")
    return 0


def subscribers_list(args: argparse.Namespace) -> int:
    deployed = Deployed.find(args.stack)
    for sub in SubscriberStore(deployed.subscribers_table, deployed.subscriptions_table).all():
        where = sub.address if sub.channel == "email" else f"slack (secret {sub.address})"
        timing = (
            sub.cadence
            if sub.cadence == "immediate"
            else (f"{sub.cadence} at {sub.send_hour:02d}:00 {sub.timezone}")
        )
        print(f"{sub.subscriber_id:20} {sub.status:12} {where}")
        print(
            f"{'':20} topics: {', '.join(sub.topics)}; {timing}"
            + (f"; include {', '.join(sub.include)}" if sub.include else "")
            + (f"; exclude {', '.join(sub.exclude)}" if sub.exclude else "")
        )
    return 0


def subscribers_add(args: argparse.Namespace) -> int:
    deployed = Deployed.find(args.stack)
    if args.email:
        channel, address = "email", args.email
    else:
        url = sys.stdin.readline().strip()  # never on the command line: shell history keeps it
        if not url.startswith("https://"):
            print(
                "error: expected the Slack webhook URL (https://...) on standard input",
                file=sys.stderr,
            )
            return 2
        channel, address = "slack", deployed.store_webhook(args.subscriber_id, url)
    subscriber = Subscriber(
        args.subscriber_id,
        channel,
        address,
        topics=_csv(args.topics) or ("*",),
        include=_csv(args.include),
        exclude=_csv(args.exclude),
        cadence=args.cadence,
        send_hour=args.send_hour,
        timezone=args.timezone,
        weekday=args.weekday,
        status=args.status,
        name=args.name or "",
    )
    SubscriberStore(deployed.subscribers_table, deployed.subscriptions_table).put(subscriber)
    print(f"saved {subscriber.subscriber_id} ({channel}, {subscriber.status})")
    return 0


def subscribers_set(args: argparse.Namespace) -> int:
    deployed = Deployed.find(args.stack)
    store = SubscriberStore(deployed.subscribers_table, deployed.subscriptions_table)
    if args.status == "remove":
        store.remove(args.subscriber_id)
        print(f"{args.subscriber_id}: removed")
        return 0
    current = store.get(args.subscriber_id)
    if current is None:
        print(f"error: no subscriber {args.subscriber_id}", file=sys.stderr)
        return 1
    store.put(replace(current, status=args.status))
    print(f"{args.subscriber_id}: {args.status}")
    return 0


def poll_now(args: argparse.Namespace) -> int:
    summary = Deployed.find(args.stack).poll_now()
    print(", ".join(f"{k} {v}" for k, v in summary.items()))
    return 0


def redrive_dlq(args: argparse.Namespace) -> int:
    deployed = Deployed.find(args.stack)
    result = redrive(
        deployed.deliveries_dead_letter_queue_url, deployed.deliveries_queue_url, limit=args.limit
    )
    print(
        f"moved {result.moved} dead letter(s) back to the deliveries queue"
        + ("; more remain, run again" if result.left else "")
    )
    return 0


def add_ops_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def with_stack(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--stack", required=True, help="the CloudFormation stack name")
        return parser

    feeds = commands.add_parser("feeds", help="manage the feeds of a deployed stack")
    feed_commands = feeds.add_subparsers(dest="feeds_command", required=True)
    with_stack(feed_commands.add_parser("list")).set_defaults(run=feeds_list)
    add = with_stack(feed_commands.add_parser("add"))
    add.add_argument("feed_id")
    add.add_argument("url")
    add.add_argument("--title")
    add.add_argument("--topics", help="default topics of every item, comma-separated")
    add.add_argument("--identity", choices=IDENTITY_STRATEGIES, default="auto")
    add.add_argument(
        "--baseline",
        type=int,
        default=0,
        metavar="N",
        help="send the newest N items on the first poll (default: none)",
    )
    add.set_defaults(run=feeds_add)
    for action in ("enable", "disable", "remove"):
        parser = with_stack(feed_commands.add_parser(action))
        parser.add_argument("feed_id")
        parser.set_defaults(run=feeds_set, action=action)

    subs = commands.add_parser("subscribers", help="manage the subscribers of a deployed stack")
    sub_commands = subs.add_subparsers(dest="subscribers_command", required=True)
    with_stack(sub_commands.add_parser("list")).set_defaults(run=subscribers_list)
    add = with_stack(
        sub_commands.add_parser(
            "add", help="create or replace; a Slack webhook URL is read from standard input"
        )
    )
    add.add_argument("subscriber_id")
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--email", metavar="ADDRESS")
    where.add_argument(
        "--slack",
        action="store_true",
        help="read the webhook URL from stdin and keep it in Secrets Manager",
    )
    add.add_argument("--topics", help="comma-separated topic slugs, or * (default: all)")
    add.add_argument("--include", help="keywords: only items matching any of these")
    add.add_argument("--exclude", help="keywords: never items matching any of these")
    add.add_argument("--cadence", choices=CADENCES, default="immediate")
    add.add_argument("--send-hour", type=int, default=8)
    add.add_argument("--timezone", default="UTC", help="IANA name, e.g. Europe/Vienna")
    add.add_argument("--weekday", type=int, default=0, help="weekly digests: 0 = Monday")
    add.add_argument("--status", choices=STATUSES, default="active")
    add.add_argument("--name")
    add.set_defaults(run=subscribers_add)
    status = with_stack(sub_commands.add_parser("set", help="change status, or remove"))
    status.add_argument("subscriber_id")
    status.add_argument("status", choices=(*STATUSES, "remove"))
    status.set_defaults(run=subscribers_set)

    with_stack(commands.add_parser("poll", help="run the poller now")).set_defaults(run=poll_now)
    again = with_stack(commands.add_parser("redrive", help="move dead letters back to the queue"))
    again.add_argument("--limit", type=int, default=10_000)
    again.set_defaults(run=redrive_dlq)
