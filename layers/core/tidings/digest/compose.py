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

    @property
    def items(self) -> list[Item]:
        return [item for group in self.groups for item in group.items]

    @property
    def subject(self) -> str:
        count = len(self.items)
        titles = ", ".join(g.title for g in self.groups)
        noun = "item" if count == 1 else "items"
        return shorten(one_line(f"{count} new {noun}: {titles}"), SUBJECT_LIMIT)

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
    )
