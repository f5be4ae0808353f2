"""Render, without sending, exactly what one subscriber would get from a feed."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from tidings.channels.email import Envelope, build_message, digest_id
from tidings.digest.compose import compose
from tidings.digest.render import render_email
from tidings.digest.slack import render_slack
from tidings.feeds.parse import parse_feed
from tidings.feeds.topics import TopicRules
from tidings.matching import match
from tidings.model import ALL_TOPICS, Subscriber
from tidings.tokens import unsubscribe_url


def preview(
    body: bytes,
    *,
    url: str,
    rules: TopicRules,
    out: Path,
    channel: str = "email",
    topics: tuple[str, ...] = (ALL_TOPICS,),
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    content_type: str | None = None,
) -> list[Path]:
    parsed = parse_feed(body, feed_id="preview", url=url, rules=rules, content_type=content_type)
    address = "reader@example.org" if channel == "email" else "preview-webhook"
    subscriber = Subscriber(
        "preview", channel, address, topics=topics, include=include, exclude=exclude
    )
    following = {topic: {"preview": subscriber} for topic in topics}
    matched = match(parsed.items, following)
    if not matched:
        return []
    digest = compose(subscriber, matched["preview"][1], rules.titles)
    out.mkdir(parents=True, exist_ok=True)
    if channel == "slack":
        paths = []
        for number, message in enumerate(render_slack(digest), start=1):
            path = out / f"slack-{number:02d}.json"
            path.write_text(
                json.dumps(
                    {"text": message.text, "blocks": message.blocks}, indent=2, ensure_ascii=False
                )
                + "\n",
                "utf-8",
            )
            paths.append(path)
        return paths
    link = unsubscribe_url("https://tidings.example.org", "preview", secrets.token_bytes(16))
    rendered = render_email(digest, unsubscribe_url=link)
    envelope = Envelope(
        "tidings <tidings@example.org>",
        address,
        digest_id("preview", [i.uid for i in digest.items]),
        "preview <preview.tidings.example.org>",
        link,
        "mailto:tidings@example.org?subject=unsubscribe",
    )
    paths = [out / "digest.eml", out / "digest.html", out / "digest.txt"]
    paths[0].write_bytes(build_message(rendered, envelope).as_bytes())
    paths[1].write_text(rendered.html, "utf-8")
    paths[2].write_text(rendered.text, "utf-8")
    return paths
