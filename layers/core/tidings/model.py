"""The values that travel between the poller, the bus and the notifier."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MESSAGE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Item:
    """One feed entry, normalised: what the poller publishes and the notifier renders."""

    feed_id: str
    key: str
    title: str
    link: str
    summary: str
    published: str | None  # ISO 8601 in UTC, or None when the feed gave no date
    topics: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    feed_title: str = ""

    @property
    def uid(self) -> str:
        """Short, stable identity across feeds: the unit of exactly-once delivery."""
        digest = hashlib.blake2b(f"{self.feed_id}\n{self.key}".encode(), digest_size=12)
        return digest.hexdigest()

    def to_message(self) -> dict[str, Any]:
        return {
            "v": MESSAGE_VERSION,
            "feed_id": self.feed_id,
            "feed_title": self.feed_title,
            "key": self.key,
            "title": self.title,
            "link": self.link,
            "summary": self.summary,
            "published": self.published,
            "topics": list(self.topics),
            "categories": list(self.categories),
        }

    @classmethod
    def from_message(cls, data: Any) -> Item:
        """Rebuild an item from a bus message; raises ValueError on anything malformed."""
        if not isinstance(data, dict):
            raise ValueError("item message is not a JSON object")
        try:
            feed_id, key = data["feed_id"], data["key"]
            title, link = data["title"], data["link"]
        except KeyError as missing:
            raise ValueError(f"item message lacks {missing}") from None
        for name, value in (("feed_id", feed_id), ("key", key), ("title", title), ("link", link)):
            if not isinstance(value, str) or (name in {"feed_id", "key"} and not value):
                raise ValueError(f"item message field {name!r} is not a usable string")
        topics = data.get("topics") or []
        categories = data.get("categories") or []
        if not all(isinstance(t, str) for t in [*topics, *categories]):
            raise ValueError("item message topics/categories must be strings")
        return cls(
            feed_id=feed_id,
            key=key,
            title=title,
            link=link,
            summary=str(data.get("summary") or ""),
            published=_utc_iso(data.get("published")),
            topics=tuple(topics),
            categories=tuple(categories),
            feed_title=str(data.get("feed_title") or ""),
        )


@dataclass(slots=True)
class FeedState:
    """A feed's configuration and polling state, as kept in the Feeds table."""

    feed_id: str
    url: str
    title: str = ""
    topics: tuple[str, ...] = ()
    enabled: bool = True
    identity: str = "auto"  # auto (guid, link, content hash) | link | content
    baseline_items: int = 0  # on the first poll, notify the newest N items (0: none)
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    seen: bytes = b""  # packed 8-byte digests of item keys, newest first (see feeds.seen)
    version: int = 0
    next_poll_at: int = 0  # epoch seconds
    consecutive_failures: int = 0
    last_error: str | None = None
    last_polled_at: int | None = None
    baselined: bool = False  # the first successful parse took the baseline


ALL_TOPICS = "*"
CHANNELS = ("email", "slack")
CADENCES = ("immediate", "daily", "weekly")
STATUSES = ("pending", "active", "unsubscribed", "suppressed", "broken")


@dataclass(frozen=True, slots=True)
class Subscriber:
    """Who gets what, how and when."""

    subscriber_id: str
    channel: str  # email | slack
    # email: the address. slack: the name of the Secrets Manager secret holding the webhook
    # URL; the URL itself is never stored here.
    address: str
    topics: tuple[str, ...] = (ALL_TOPICS,)
    include: tuple[str, ...] = ()  # keyword filters: any of these must match, if given
    exclude: tuple[str, ...] = ()  # ... and none of these
    cadence: str = "immediate"
    send_hour: int = 8
    timezone: str = "UTC"
    weekday: int = 0  # for weekly digests: 0 = Monday
    status: str = "active"
    name: str = ""

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, not {self.channel!r}")
        if self.cadence not in CADENCES:
            raise ValueError(f"cadence must be one of {CADENCES}, not {self.cadence!r}")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if not 0 <= self.send_hour <= 23:
            raise ValueError("send_hour must be 0..23")
        if not self.topics:
            raise ValueError("a subscriber needs at least one topic (or '*' for all)")
        if self.channel == "email" and not _plausible_address(self.address):
            raise ValueError(f"not an email address: {self.address!r}")
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) .. 6 (Sunday)")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None

    @property
    def all_topics(self) -> bool:
        return ALL_TOPICS in self.topics

    @property
    def active(self) -> bool:
        return self.status == "active"


def _utc_iso(value: Any) -> str | None:
    """An ISO 8601 time in UTC, or None; a time without an offset is taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("item message field 'published' is not a string")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"item message field 'published' is not ISO 8601: {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat()


def _plausible_address(address: str) -> bool:
    """One bare address, no display name, nothing that could break a header."""
    if any(c in address for c in "\r\n\0<>,;") or address != address.strip():
        return False
    name, parsed = parseaddr(address)
    local, _, domain = parsed.partition("@")
    return not name and parsed == address and bool(local) and "." in domain
