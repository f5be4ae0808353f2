"""Feeds table: configuration and polling state, one item per feed."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from tidings import aws
from tidings.model import FeedState

_FIELDS = (
    "url",
    "title",
    "identity",
    "etag",
    "last_modified",
    "body_hash",
    "last_error",
)
_INT_FIELDS = (
    "baseline_items",
    "version",
    "next_poll_at",
    "consecutive_failures",
    "last_polled_at",
)


_serializer = TypeSerializer()


class StaleFeed(Exception):
    """Another poller committed this feed first; this run's result for it is discarded."""


class FeedExists(Exception):
    pass


def to_item(feed: FeedState) -> dict[str, Any]:
    item: dict[str, Any] = {"feed_id": feed.feed_id, "enabled": feed.enabled}
    for name in _FIELDS:
        value = getattr(feed, name)
        if value is not None:
            item[name] = value
    for name in _INT_FIELDS:
        value = getattr(feed, name)
        if value is not None:
            item[name] = value
    if feed.topics:
        item["topics"] = list(feed.topics)
    if feed.seen:
        item["seen"] = feed.seen
    return item


def from_item(item: dict[str, Any]) -> FeedState:
    def integer(name: str, default: int | None = 0) -> int | None:
        value = item.get(name)
        return int(value) if isinstance(value, (int, Decimal)) else default

    seen = item.get("seen", b"")
    return FeedState(
        feed_id=str(item["feed_id"]),
        url=str(item["url"]),
        title=str(item.get("title", "")),
        topics=tuple(item.get("topics", ())),
        enabled=bool(item.get("enabled", True)),
        identity=str(item.get("identity", "auto")),
        baseline_items=integer("baseline_items") or 0,
        etag=item.get("etag"),
        last_modified=item.get("last_modified"),
        body_hash=item.get("body_hash"),
        seen=bytes(seen.value if hasattr(seen, "value") else seen),
        version=integer("version") or 0,
        next_poll_at=integer("next_poll_at") or 0,
        consecutive_failures=integer("consecutive_failures") or 0,
        last_error=item.get("last_error"),
        last_polled_at=integer("last_polled_at", None),
    )


class FeedStore:
    def __init__(self, table_name: str) -> None:
        self._table = aws.resource("dynamodb").Table(table_name)
        self._client = aws.client("dynamodb")

    def add(self, feed: FeedState) -> None:
        try:
            self._table.put_item(
                Item=to_item(feed), ConditionExpression="attribute_not_exists(feed_id)"
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise FeedExists(feed.feed_id) from None
            raise

    def get(self, feed_id: str) -> FeedState | None:
        item = self._table.get_item(Key={"feed_id": feed_id}, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def _scan(self, **kwargs: Any) -> Iterator[FeedState]:
        while True:
            page = self._table.scan(**kwargs)
            yield from (from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def all(self) -> list[FeedState]:
        return sorted(self._scan(), key=lambda f: f.feed_id)

    def due(self, now: int) -> list[FeedState]:
        """Enabled feeds whose next poll time has come, most overdue first.

        One paginated scan per run, shared by all feeds (a feed table is small); a feed
        costs no read of its own.
        """
        due = self._scan(FilterExpression=Attr("enabled").eq(True) & Attr("next_poll_at").lte(now))
        return sorted(due, key=lambda f: (f.next_poll_at, f.feed_id))

    def commit(self, feed: FeedState, disable: bool = False) -> FeedState:
        """Write the feed's polling state if nobody else has since the version we read.

        Only state fields are written, so an operator's concurrent edit of the feed's
        configuration (title, topics, enabled) is never overwritten by a poll.
        """
        expected = feed.version
        state = {
            "url": feed.url,
            "etag": feed.etag,
            "last_modified": feed.last_modified,
            "body_hash": feed.body_hash,
            "seen": feed.seen or None,
            "version": expected + 1,
            "next_poll_at": feed.next_poll_at,
            "consecutive_failures": feed.consecutive_failures,
            "last_error": feed.last_error,
            "last_polled_at": feed.last_polled_at,
        }
        if disable:
            state["enabled"] = False
        to_set = {k: v for k, v in state.items() if v is not None}
        to_remove = [k for k, v in state.items() if v is None]
        expression = "SET " + ", ".join(f"#{k} = :{k}" for k in to_set)
        if to_remove:
            expression += " REMOVE " + ", ".join(f"#{k}" for k in to_remove)
        names = {f"#{k}": k for k in state} | {"#version": "version", "#feed_id": "feed_id"}
        values = {f":{k}": _serializer.serialize(v) for k, v in to_set.items()}
        values[":expected"] = _serializer.serialize(expected)
        condition = "attribute_exists(#feed_id) AND " + (
            "#version = :expected"
            if expected
            else "(attribute_not_exists(#version) OR #version = :expected)"
        )
        try:
            # the low-level client: commits run on the poller's threads, and boto3 resource
            # objects (self._table) are not thread-safe; clients are
            self._client.update_item(
                TableName=self._table.name,
                Key={"feed_id": {"S": feed.feed_id}},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ConditionExpression=condition,
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleFeed(feed.feed_id) from None
            raise
        feed.version = expected + 1
        if disable:
            feed.enabled = False
        return feed

    def update(self, feed_id: str, **changes: Any) -> None:
        """Operator edits (enable, disable, retitle); version-free on purpose."""
        names = {f"#{k}": k for k in changes}
        values = {f":{k}": v for k, v in changes.items()}
        self._table.update_item(
            Key={"feed_id": feed_id},
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in changes),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ConditionExpression="attribute_exists(feed_id)",
        )

    def remove(self, feed_id: str) -> None:
        self._table.delete_item(Key={"feed_id": feed_id})
