"""Subscribers table (the record) and Subscriptions table (topic -> subscriber index).

Every subscription row carries a copy of the subscriber fields the notifier needs, so
matching an item costs one query per topic on the item, never a scan of all subscribers.
This module is the only writer of both tables and keeps them in step with a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, replace
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeSerializer

from tidings import aws
from tidings.model import ALL_TOPICS, Subscriber
from tidings.observability import logger
from tidings.store.pages import rows

_serializer = TypeSerializer()
_MAX_TRANSACTION = 100


def to_item(sub: Subscriber) -> dict[str, Any]:
    item = asdict(sub)
    for name in ("topics", "include", "exclude"):
        item[name] = list(item[name])
    return item


def from_item(item: dict[str, Any]) -> Subscriber:
    values = {k: v for k, v in item.items() if k in Subscriber.__dataclass_fields__}
    for name in ("topics", "include", "exclude"):
        values[name] = tuple(values.get(name) or ())
    for name in ("send_hour", "weekday"):
        if isinstance(values.get(name), Decimal):
            values[name] = int(values[name])
    return Subscriber(**values)


class SubscriberStore:
    def __init__(self, subscribers_table: str, subscriptions_table: str) -> None:
        dynamodb = aws.resource("dynamodb")
        self._subscribers = dynamodb.Table(subscribers_table)
        self._subscriptions = dynamodb.Table(subscriptions_table)
        self._client = aws.client("dynamodb")

    def get(self, subscriber_id: str) -> Subscriber | None:
        item = self._subscribers.get_item(
            Key={"subscriber_id": subscriber_id}, ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def all(self) -> list[Subscriber]:
        found = (from_item(row) for row in rows(self._subscribers.scan))
        return sorted(found, key=lambda s: s.subscriber_id)

    def put(self, sub: Subscriber) -> None:
        """Create or replace a subscriber and its index rows, atomically."""
        previous = self.get(sub.subscriber_id)
        stale = set(previous.topics) - set(sub.topics) if previous else set()
        record = to_item(sub)
        ops: list[dict[str, Any]] = [self._put(self._subscribers.name, record)]
        ops += [self._put(self._subscriptions.name, {**record, "topic": t}) for t in sub.topics]
        ops += [
            {
                "Delete": {
                    "TableName": self._subscriptions.name,
                    "Key": self._key({"topic": t, "subscriber_id": sub.subscriber_id}),
                }
            }
            for t in sorted(stale)
        ]
        if len(ops) > _MAX_TRANSACTION:
            raise ValueError(f"a subscriber may follow at most {_MAX_TRANSACTION - 1} topics")
        self._client.transact_write_items(TransactItems=ops)

    def set_status(self, subscriber_id: str, status: str) -> Subscriber:
        sub = self.get(subscriber_id)
        if sub is None:
            raise KeyError(subscriber_id)
        updated = replace(sub, status=status)
        self.put(updated)
        return updated

    def remove(self, subscriber_id: str) -> None:
        sub = self.get(subscriber_id)
        if sub is None:
            return
        ops = [
            {
                "Delete": {
                    "TableName": self._subscribers.name,
                    "Key": self._key({"subscriber_id": subscriber_id}),
                }
            }
        ]
        ops += [
            {
                "Delete": {
                    "TableName": self._subscriptions.name,
                    "Key": self._key({"topic": t, "subscriber_id": subscriber_id}),
                }
            }
            for t in sub.topics
        ]
        self._client.transact_write_items(TransactItems=ops)

    def following(self, topics: Iterable[str]) -> dict[str, dict[str, Subscriber]]:
        """topic -> {subscriber_id: subscriber} for each topic and for all-topics subscribers.

        One query per topic (plus result pages); subscribers are read from the index rows.
        """
        return {t: {s.subscriber_id: s for s in self._query(t)} for t in {*topics, ALL_TOPICS}}

    def _query(self, topic: str) -> Iterator[Subscriber]:
        for row in rows(self._subscriptions.query, KeyConditionExpression=Key("topic").eq(topic)):
            try:
                yield from_item(row)
            except (ValueError, TypeError):  # one corrupt row must not block everyone
                logger.error(
                    "unreadable subscription skipped",
                    topic=topic,
                    subscriber_id=row.get("subscriber_id"),
                )

    @staticmethod
    def _key(values: dict[str, str]) -> dict[str, Any]:
        return {k: _serializer.serialize(v) for k, v in values.items()}

    @classmethod
    def _put(cls, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": table, "Item": cls._key(item)}}
