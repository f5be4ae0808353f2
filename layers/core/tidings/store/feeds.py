"""Feeds table: configuration and polling state, one item per feed."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from tidings import aws
from tidings.model import FeedState
from tidings.store.codec import decode, encode
from tidings.store.pages import rows

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


# Enabled feeds carry poll_queue = POLL_QUEUE: the partition key of the sparse "due" index.
POLL_QUEUE = "enabled"


class StaleFeed(Exception):
    """Another poller committed this feed first; this run's result for it is discarded."""


class FeedExists(Exception):
    pass


def to_item(feed: FeedState) -> dict[str, Any]:
    item: dict[str, Any] = {
        "feed_id": feed.feed_id,
        "enabled": feed.enabled,
        "baselined": feed.baselined,
    }
    if feed.enabled:
        item["poll_queue"] = POLL_QUEUE
    for name in (*_FIELDS, *_INT_FIELDS):
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
        # feeds stored before the flag existed: a seen-set means the baseline was taken
        baselined=bool(item.get("baselined", bool(seen))),
    )


# (feed, disable, moved): one feed's state to commit, as `FeedStore.commit` takes it
StateWrite = tuple[FeedState, bool, bool]
TRANSACT_ITEMS = 100  # DynamoDB's limit per TransactWriteItems call
TRANSACT_BYTES = 3_000_000  # of the 4 MB a call may carry, with room for names and values
TRANSACT_ATTEMPTS = 5
_STALE = "ConditionalCheckFailed"


def _chunks(writes: Sequence[StateWrite]) -> Iterator[list[StateWrite]]:
    """Calls within DynamoDB's limits: 100 actions, 4 MB (the seen-sets are the bulk)."""
    chunk: list[StateWrite] = []
    size = 0
    for write in writes:
        weight = len(write[0].seen) + 4096
        if chunk and (len(chunk) == TRANSACT_ITEMS or size + weight > TRANSACT_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(write)
        size += weight
    if chunk:
        yield chunk


def _state_update(table: str, feed: FeedState, disable: bool, moved: bool) -> dict[str, Any]:
    """The conditional update that commits one feed's polling state (see `FeedStore.commit`)."""
    expected = feed.version
    state: dict[str, Any] = {
        "baselined": feed.baselined,
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
        state["poll_queue"] = None  # out of the due index
    if moved:
        state["url"] = feed.url
    condition = "attribute_exists(#feed_id) AND " + (
        "#version = :expected"
        if expected
        else "(attribute_not_exists(#version) OR #version = :expected)"
    )
    return _update_request(table, feed.feed_id, state, condition, {":expected": expected})


def _committed(feed: FeedState, disable: bool) -> None:
    feed.version += 1
    if disable:
        feed.enabled = False


def _update_request(
    table: str,
    feed_id: str,
    changes: dict[str, Any],
    condition: str,
    condition_values: dict[str, Any],
    *,
    bump_version: bool = False,
) -> dict[str, Any]:
    """SET the changes that have a value, REMOVE those that are None."""
    to_set = {k: v for k, v in changes.items() if v is not None}
    assignments = [f"#{k} = :{k}" for k in to_set]
    values = {f":{k}": v for k, v in to_set.items()} | condition_values
    if bump_version:
        assignments.append("#version = if_not_exists(#version, :zero) + :one")
        values |= {":zero": 0, ":one": 1}
    expression = "SET " + ", ".join(assignments)
    removed = [f"#{k}" for k, v in changes.items() if v is None]
    if removed:
        expression += " REMOVE " + ", ".join(removed)
    return {
        "TableName": table,
        "Key": {"feed_id": {"S": feed_id}},
        "UpdateExpression": expression,
        "ExpressionAttributeNames": {f"#{k}": k for k in changes}
        | {"#version": "version", "#feed_id": "feed_id"},
        "ExpressionAttributeValues": encode(values),
        "ConditionExpression": condition,
    }


class FeedStore:
    """Only the low-level client: commits run on the poller's threads, and boto3 resource
    objects are not thread-safe (clients are)."""

    def __init__(self, table_name: str) -> None:
        self._name = table_name
        self._client = aws.client("dynamodb")

    def add(self, feed: FeedState) -> None:
        try:
            self._client.put_item(
                TableName=self._name,
                Item=encode(to_item(feed)),
                ConditionExpression="attribute_not_exists(feed_id)",
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise FeedExists(feed.feed_id) from None
            raise

    def get(self, feed_id: str) -> FeedState | None:
        item = self._client.get_item(
            TableName=self._name, Key={"feed_id": {"S": feed_id}}, ConsistentRead=True
        ).get("Item")
        return from_item(decode(item)) if item else None

    def all(self) -> list[FeedState]:
        feeds = (from_item(decode(r)) for r in rows(self._client.scan, TableName=self._name))
        return sorted(feeds, key=lambda f: f.feed_id)

    def due_ids(self, now: int) -> list[str]:
        """Enabled feeds whose next poll time has come, most overdue first: a query of the
        sparse "due" index (only enabled feeds carry `poll_queue`; it holds just the keys),
        so a run never reads the seen-sets of feeds that are not due."""
        due_keys = rows(
            self._client.query,
            TableName=self._name,
            IndexName="due",
            KeyConditionExpression="poll_queue = :queue AND next_poll_at <= :now",
            ExpressionAttributeValues=encode({":queue": POLL_QUEUE, ":now": now}),
        )
        return [row["feed_id"]["S"] for row in due_keys]

    def load(self, ids: list[str]) -> list[FeedState]:
        """Full state of these feeds, in the order given: one BatchGetItem per 100."""
        order = {feed_id: n for n, feed_id in enumerate(ids)}
        feeds = [from_item(decode(row)) for row in self._batch_get(ids)]
        return sorted(feeds, key=lambda f: order[f.feed_id])

    def _batch_get(self, ids: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), 100):
            keys = [{"feed_id": {"S": i}} for i in ids[start : start + 100]]
            request: dict[str, Any] = {self._name: {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(8):
                response = self._client.batch_get_item(RequestItems=request)
                found.extend(response["Responses"].get(self._name, []))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(2.0, 0.05 * 2**attempt))  # throttled: back off, then retry
        return found

    def commit(self, feed: FeedState, disable: bool = False, moved: bool = False) -> FeedState:
        """Write the feed's polling state if nobody else has since the version we read.

        Only state fields are written (the URL only when the feed moved permanently), so an
        operator's edit of the configuration is never overwritten by a poll; an operator edit
        bumps the version, so a poll that read the feed before the edit is discarded.
        """
        try:
            self._client.update_item(**_state_update(self._name, feed, disable, moved))
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleFeed(feed.feed_id) from None
            raise
        _committed(feed, disable)
        return feed

    def commit_many(self, writes: Sequence[StateWrite]) -> set[str]:
        """`commit` for many feeds, up to 100 per TransactWriteItems call: one round trip
        instead of a hundred. Returns the ids of the feeds found stale (their state is not
        written); every other feed is committed, or this raises.

        A transaction is all or nothing, so a stale feed cancels its whole call; the call is
        then repeated without the feeds the cancellation reasons name.
        """
        stale: set[str] = set()
        for chunk in _chunks(writes):
            stale |= self._transact(chunk)
        return stale

    def _transact(self, writes: list[StateWrite]) -> set[str]:
        stale: set[str] = set()
        for attempt in range(TRANSACT_ATTEMPTS):
            if not writes:
                return stale
            actions = [{"Update": _state_update(self._name, *w)} for w in writes]
            try:
                self._client.transact_write_items(TransactItems=actions)
            except ClientError as err:
                if err.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
                if len(reasons) != len(writes):
                    raise
                found = {w[0].feed_id for w, r in zip(writes, reasons, strict=True) if r == _STALE}
                if not found:  # a conflicting transaction or throttling: wait, then again
                    time.sleep(min(1.0, 0.05 * 2**attempt))
                stale |= found
                writes = [w for w in writes if w[0].feed_id not in found]
                continue
            for feed, disable, _ in writes:
                _committed(feed, disable)
            return stale
        raise RuntimeError(f"feed state not written after {TRANSACT_ATTEMPTS} attempts")

    def update(self, feed_id: str, **changes: Any) -> None:
        """Operator edits (enable, disable, retitle, move). The version is bumped, so a poll
        that read the feed before this edit cannot overwrite it: the poll's commit is stale."""
        if "enabled" in changes:
            changes["poll_queue"] = POLL_QUEUE if changes["enabled"] else None
        self._client.update_item(
            **_update_request(
                self._name, feed_id, changes, "attribute_exists(#feed_id)", {}, bump_version=True
            )
        )

    def remove(self, feed_id: str) -> None:
        self._client.delete_item(TableName=self._name, Key={"feed_id": {"S": feed_id}})
