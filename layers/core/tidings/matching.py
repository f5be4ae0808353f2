"""Which subscribers get which items: topics, then keyword filters, then status."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from tidings.feeds.topics import keyword_pattern
from tidings.model import ALL_TOPICS, Item, Subscriber


@lru_cache(maxsize=4096)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    return keyword_pattern(words)


def wants(subscriber: Subscriber, item: Item) -> bool:
    """Keyword filters on title and summary: include any of (if given), exclude all of."""
    text = f"{item.title}\n{item.summary}"
    include, exclude = _pattern(subscriber.include), _pattern(subscriber.exclude)
    if include is not None and not include.search(text):
        return False
    return exclude is None or not exclude.search(text)


def match(
    items: Iterable[Item], following: Mapping[str, Mapping[str, Subscriber]]
) -> dict[str, tuple[Subscriber, list[Item]]]:
    """subscriber_id -> (subscriber, the items for them), each item at most once per subscriber."""
    matched: dict[str, tuple[Subscriber, list[Item]]] = {}
    everyone = following.get(ALL_TOPICS, {})
    seen: set[tuple[str, str]] = set()
    for item in items:
        candidates: dict[str, Subscriber] = dict(everyone)
        for topic in item.topics:
            candidates.update(following.get(topic, {}))
        for sub_id, sub in candidates.items():
            if not sub.active or (sub_id, item.uid) in seen or not wants(sub, item):
                continue
            seen.add((sub_id, item.uid))
            matched.setdefault(sub_id, (sub, []))[1].append(item)
    return matched
