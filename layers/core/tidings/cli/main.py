"""tidings: inspect feeds, preview digests, run the local demo."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from tidings.cli.deployed import StackNotFound
from tidings.cli.ops import add_ops_commands
from tidings.cli.sources import SourceError, read_source
from tidings.feeds.parse import NotAFeed, parse_feed
from tidings.feeds.topics import RulesError, TopicRules
from tidings.store.feeds import FeedExists


def _rules(path: str | None) -> TopicRules:
    return TopicRules.load(path)


def cmd_inspect(args: argparse.Namespace) -> int:
    rules = _rules(args.rules)
    status = 0
    for source in args.sources:
        try:
            body, url, content_type = read_source(source)
            parsed = parse_feed(
                body, feed_id=source, url=url, rules=rules, content_type=content_type
            )
        except (SourceError, NotAFeed) as err:
            status = 1
            if args.json:
                print(json.dumps({"source": source, "error": str(err)}))
            else:
                print(f"{source}: error: {err}", file=sys.stderr)
            continue
        if args.json:
            print(
                json.dumps(
                    {
                        "source": source,
                        "title": parsed.title,
                        "warnings": parsed.warnings,
                        "items": [
                            {
                                k: v
                                for k, v in asdict(item).items()
                                if k not in ("feed_id", "feed_title")
                            }
                            for item in parsed.items
                        ],
                    },
                    ensure_ascii=False,
                )
            )
            continue
        print(f"{parsed.title} ({source}): {len(parsed.items)} items")
        for warning in parsed.warnings:
            print(f"  warning: {warning}")
        for item in parsed.items:
            print(
                f"\n  {item.title}\n    key:       {item.key}\n    link:      {item.link}"
                f"\n    published: {item.published or '-'}"
                f"\n    topics:    {', '.join(item.topics) or '-'}"
                f"\n    summary:   {item.summary[:160]}"
            )
    return status


def cmd_preview(args: argparse.Namespace) -> int:
    from tidings.local.preview import preview  # noqa: PLC0415 - keeps `inspect` fast

    try:
        body, url, content_type = read_source(args.feed)
        written = preview(
            body,
            url=url,
            content_type=content_type,
            rules=_rules(args.rules),
            out=Path(args.out),
            channel=args.channel,
            topics=tuple(t.strip() for t in args.topics.split(",") if t.strip())
            if args.topics
            else ("*",),
            include=tuple(args.keywords or ()),
            exclude=tuple(args.exclude or ()),
        )
    except (SourceError, NotAFeed) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if not written:
        print("no items match these settings: nothing would be sent")
        return 0
    for path in written:
        print(path)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tidings.local.demo import read_feed_list, run_demo  # noqa: PLC0415 - moto loads only here

    sources = list(args.feeds or [])
    if args.feeds_file:
        sources += read_feed_list(Path(args.feeds_file))
    run = run_demo(sources, Path(args.outbox))
    return 0 if run.repeat_emails == run.repeat_slack_messages == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tidings", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    inspect = commands.add_parser("inspect", help="show the items the poller would see")
    inspect.add_argument("sources", nargs="+", metavar="FILE_OR_URL")
    inspect.add_argument("--json", action="store_true", help="one JSON object per feed per line")
    inspect.add_argument("--rules", help="topic rules file (default: the bundled rules)")
    inspect.set_defaults(run=cmd_inspect)

    preview = commands.add_parser("preview", help="render the digest a subscriber would get")
    preview.add_argument("--feed", required=True, metavar="FILE_OR_URL")
    preview.add_argument("--topics", help="comma-separated topic slugs (default: all)")
    preview.add_argument("--keywords", nargs="*", help="include only items matching any of these")
    preview.add_argument("--exclude", nargs="*", help="leave out items matching any of these")
    preview.add_argument("--channel", choices=("email", "slack"), default="email")
    preview.add_argument("--out", required=True, metavar="DIR")
    preview.add_argument("--rules", help="topic rules file (default: the bundled rules)")
    preview.set_defaults(run=cmd_preview)

    demo = commands.add_parser("demo", help="run the whole pipeline locally on emulated AWS")
    source = demo.add_mutually_exclusive_group()
    source.add_argument("--feeds", nargs="+", metavar="URL_OR_FILE")
    source.add_argument("--feeds-file", metavar="FILE", help="one feed per line, or OPML")
    demo.add_argument("--outbox", default="outbox", metavar="DIR")
    demo.set_defaults(run=cmd_demo)

    add_ops_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (RulesError, StackNotFound, FeedExists, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
