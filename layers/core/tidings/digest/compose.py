"""What goes into one digest: the items a subscriber gets, grouped by topic, and its subject."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tidings.feeds.text import one_line, shorten
from tidings.model import Item, Subscriber

SUBJECT_LIMIT = 150


@dataclass(frozen=True, slots=True)
class TopicGroup:
    topic: str
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    subscriber: Subscriber
    groups: tuple[TopicGroup, ...]
    following: str = ""  # why the reader gets this: their topics and filters, in words

    @property
    def headline(self) -> str:
        count = len(self.items)
        return f"{count} new item" + ("" if count == 1 else "s")

    @property
    def items(self) -> list[Item]:
        return [item for group in self.groups for item in group.items]

    @property
    def subject(self) -> str:
        titles = ", ".join(g.title for g in self.groups)
        return shorten(one_line(f"{self.headline}: {titles}"), SUBJECT_LIMIT)

    @property
    def preheader(self) -> str:
        return shorten(one_line(" · ".join(i.title for i in self.items[:3])), 140)


def topic_title(topic: str, titles: Mapping[str, str]) -> str:
    return titles.get(topic) or topic.replace("-", " ").capitalize()


def _newest_first(item: Item) -> tuple[float, str]:
    when = datetime.fromisoformat(item.published).timestamp() if item.published else 0.0
    return (-when, item.title)


def compose(subscriber: Subscriber, items: Sequence[Item], titles: Mapping[str, str]) -> Digest:
    """Group items under topics, each item once: under the first of its topics (in the order
    the rules define them) that the subscriber follows."""
    order = {topic: index for index, topic in enumerate(titles)}
    groups: dict[str, list[Item]] = {}
    for item in sorted(items, key=_newest_first):
        wanted = [t for t in item.topics if subscriber.all_topics or t in subscriber.topics]
        wanted.sort(key=lambda t: (order.get(t, len(order)), t))
        groups.setdefault(wanted[0] if wanted else "other", []).append(item)
    ordered = sorted(groups, key=lambda t: (order.get(t, len(order)), t))
    return Digest(
        subscriber=subscriber,
        groups=tuple(TopicGroup(t, topic_title(t, titles), tuple(groups[t])) for t in ordered),
        following=describe_following(subscriber, titles),
    )


def describe_following(subscriber: Subscriber, titles: Mapping[str, str]) -> str:
    if subscriber.all_topics:
        what = "all topics"
    else:
        what = ", ".join(topic_title(t, titles) for t in subscriber.topics)
    sentence = f"You receive this because you follow {what}"
    if subscriber.include:
        sentence += f", only items mentioning {' or '.join(subscriber.include)}"
    if subscriber.exclude:
        sentence += f", never items mentioning {' or '.join(subscriber.exclude)}"
    when = {"daily": "a daily digest", "weekly": "a weekly digest"}.get(subscriber.cadence)
    return sentence + (f", as {when}." if when else ".")
