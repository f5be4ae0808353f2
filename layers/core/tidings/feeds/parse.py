"""Bytes in, normalised items out. feedparser does the parsing; it is never handed a URL."""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from tidings.feeds.identity import entry_key
from tidings.feeds.text import html_to_text, one_line, shorten
from tidings.feeds.topics import TopicRules
from tidings.model import Item

SUMMARY_LIMIT = 600
# Everything a feed controls is bounded, so no message outgrows SNS (256 KB), no state
# outgrows DynamoDB (400 KB) and no item fans out to thousands of topic queries.
TITLE_LIMIT = 500
FEED_TITLE_LIMIT = 300
LINK_LIMIT = 2000
KEY_LIMIT = 1000
MAX_CATEGORIES = 20
CATEGORY_LIMIT = 100
MAX_ENTRIES = 10_000
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
# A DOCTYPE anywhere in the prolog, with its internal subset. feedparser strips only
# declarations that start a line; one sharing a line with <?xml ...?> would reach the XML
# parser, which expands its entities (billion laughs). Feeds never need a DTD.
_DOCTYPE = re.compile(rb"<!DOCTYPE(?:[^\[>]|\[[^\]]*\])*>", re.IGNORECASE)


class NotAFeed(ValueError):
    """The body parsed to nothing feed-like (an HTML page, a JSON error, garbage)."""


@dataclass(slots=True)
class ParsedFeed:
    title: str
    link: str
    items: list[Item]
    warnings: list[str] = field(default_factory=list)
    ttl_minutes: int | None = None


def _iso(struct: time.struct_time | None) -> str | None:
    if struct is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), tz=UTC).isoformat()
    except (ValueError, OverflowError, OSError):  # year 0, year 99999: no usable date
        return None


def _strip_doctype(body: bytes) -> bytes:
    """Remove any DOCTYPE from the prolog (everything before the first element)."""
    first = _FIRST_ELEMENT.search(body)
    end = first.start() if first else len(body)
    return _DOCTYPE.sub(b"", body[:end]) + body[end:]


def _bounded_link(link: str) -> str:
    return link if len(link) <= LINK_LIMIT else ""  # a cut link would lead nowhere


def _bounded_key(key: str) -> str:
    return key if len(key) <= KEY_LIMIT else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _absolute(base: str, ref: str) -> str:
    try:
        return urljoin(base, ref) if base and ref else ref
    except ValueError:  # an unparsable reference (a bad IPv6 host): not a link
        return ""


def _resolve_urls(entry: Any, url: str) -> None:
    """Relative links against the feed's URL, as feedparser would with a base URL: the link,
    and the guid when it is a permalink (RSS `isPermaLink`, the default)."""
    if entry.get("link"):
        entry["link"] = _absolute(url, str(entry["link"]))
    if entry.get("id") and entry.get("guidislink"):
        entry["id"] = _absolute(url, str(entry["id"]))


def _date(entry: Any) -> time.struct_time | None:
    # `in` first: feedparser warns when asked for a missing updated_parsed
    updated = entry["updated_parsed"] if "updated_parsed" in entry else None  # noqa: SIM401
    return entry.get("published_parsed") or updated


def _summary(entry: Any) -> str:
    raw = entry.get("summary") or ""
    if not raw and entry.get("content"):
        raw = entry["content"][0].get("value", "")
    return shorten(html_to_text(raw), SUMMARY_LIMIT)


def parse_feed(
    body: bytes,
    *,
    feed_id: str,
    url: str = "",
    rules: TopicRules,
    default_topics: tuple[str, ...] = (),
    identity: str = "auto",
    title_override: str = "",
    content_type: str | None = None,
) -> ParsedFeed:
    """Parse one feed body. Raises NotAFeed when nothing feed-like was found.

    `url` resolves relative links; `content_type` is the server's, when there was a server.
    """
    body = _strip_doctype(body)
    headers = {}
    if content_type:
        headers["content-type"] = content_type
    elif url:
        headers["content-type"] = "application/xml"  # a file: let the XML declare its encoding
    # No HTML sanitising or URI rewriting inside content: tidings never passes feed HTML on
    # (summaries become plain text in html_to_text), and skipping both halves the parse time.
    # No base URL either: feedparser re-joins its base at every element, a fifth of the parse
    # time; the few URLs tidings keeps are resolved against `url` below instead.
    parsed = feedparser.parse(
        body, response_headers=headers or None, sanitize_html=False, resolve_relative_uris=False
    )
    channel = parsed.get("feed", {})
    entries = parsed.get("entries", [])
    if not parsed.get("version") and not entries:
        reason = parsed.get("bozo_exception")
        raise NotAFeed(f"not a feed: {reason}" if reason else "not a feed: no RSS/Atom content")

    warnings: list[str] = []
    if parsed.get("bozo"):
        warnings.append(f"malformed feed recovered: {parsed.get('bozo_exception')}")
    feed_title = shorten(
        one_line(title_override or html_to_text(channel.get("title", "")) or url), FEED_TITLE_LIMIT
    )
    if len(entries) > MAX_ENTRIES:
        warnings.append(f"{len(entries)} entries: only the first {MAX_ENTRIES} are read")
        entries = entries[:MAX_ENTRIES]

    items: list[Item] = []
    keys: set[str] = set()
    duplicates: list[str] = []
    undated = 0
    for entry in entries:
        _resolve_urls(entry, url)
        key = _bounded_key(entry_key(entry, identity))
        if key in keys:
            duplicates.append(key)
            continue
        keys.add(key)
        title = shorten(one_line(html_to_text(entry.get("title", ""))), TITLE_LIMIT) or "(untitled)"
        summary = _summary(entry)
        published = _iso(_date(entry))
        undated += published is None
        categories = tuple(
            shorten(one_line(t.get("term", "")), CATEGORY_LIMIT)
            for t in entry.get("tags", [])[:MAX_CATEGORIES]
            if t.get("term")
        )
        items.append(
            Item(
                feed_id=feed_id,
                key=key,
                title=title,
                link=_bounded_link(str(entry.get("link") or "")),
                summary=summary,
                published=published,
                topics=rules.classify(title, summary, categories, default_topics),
                categories=categories,
                feed_title=feed_title,
            )
        )
    if duplicates:
        warnings.append(
            f"{len(duplicates)} duplicate entry key(s), kept the first of each: "
            + shorten(duplicates[0], 200)
        )
    if undated:
        warnings.append(f"{undated} of {len(items)} entries have no date")

    ttl = channel.get("ttl")
    return ParsedFeed(
        title=feed_title,
        link=_absolute(url, str(channel.get("link") or "")),
        items=items,
        warnings=warnings,
        ttl_minutes=int(ttl) if isinstance(ttl, str) and ttl.isdigit() else None,
    )
