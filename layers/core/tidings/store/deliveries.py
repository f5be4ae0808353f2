"""DigestQueue (items waiting for a daily/weekly digest) and Deliveries (what was sent)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.conditions import Key

from tidings import aws
from tidings.model import Item

Pair = tuple[str, str]  # (subscriber_id, item uid)
_BATCH_GET = 100


class DeliveryLedger:
    """(subscriber, item) pairs already delivered, so nothing reaches anyone twice."""

    def __init__(self, table_name: str) -> None:
        self._table = aws.resource("dynamodb").Table(table_name)
        self._dynamodb = aws.resource("dynamodb")

    def delivered(self, pairs: Iterable[Pair]) -> set[Pair]:
        """The subset of `pairs` already delivered: one BatchGetItem per 100 pairs."""
        wanted = sorted(set(pairs))
        found: set[Pair] = set()
        for start in range(0, len(wanted), _BATCH_GET):
            keys = [
                {"subscriber_id": s, "item_uid": u} for s, u in wanted[start : start + _BATCH_GET]
            ]
            request: dict[str, Any] = {
                self._table.name: {"Keys": keys, "ProjectionExpression": "subscriber_id, item_uid"}
            }
            while request:
                response = self._dynamodb.batch_get_item(RequestItems=request)
                for row in response["Responses"].get(self._table.name, []):
                    found.add((row["subscriber_id"], row["item_uid"]))
                request = response.get("UnprocessedKeys") or {}
        return found

    def record(self, pairs: Iterable[Pair], expires_at: int) -> None:
        with self._table.batch_writer(overwrite_by_pkeys=["subscriber_id", "item_uid"]) as batch:
            for subscriber_id, uid in pairs:
                batch.put_item(
                    Item={"subscriber_id": subscriber_id, "item_uid": uid, "expires_at": expires_at}
                )


class DigestQueue:
    """Items waiting for a subscriber's daily or weekly digest."""

    def __init__(self, table_name: str) -> None:
        self._table = aws.resource("dynamodb").Table(table_name)

    def enqueue(
        self, subscriber_id: str, items: Iterable[Item], due_at: int, expires_at: int
    ) -> None:
        """Idempotent: the same item queued twice is one row."""
        with self._table.batch_writer(overwrite_by_pkeys=["subscriber_id", "item_uid"]) as batch:
            for item in items:
                batch.put_item(
                    Item={
                        "subscriber_id": subscriber_id,
                        "item_uid": item.uid,
                        "item": json.dumps(item.to_message(), ensure_ascii=False),
                        "queue": "pending",
                        "due_at": due_at,
                        "expires_at": expires_at,
                    }
                )

    def due_subscribers(self, now: int) -> list[str]:
        """Subscribers with at least one item whose send time has come (the sparse index)."""
        kwargs: dict[str, Any] = {
            "IndexName": "due",
            "KeyConditionExpression": Key("queue").eq("pending") & Key("due_at").lte(now),
            "ProjectionExpression": "subscriber_id",
        }
        found: set[str] = set()
        while True:
            page = self._table.query(**kwargs)
            found.update(row["subscriber_id"] for row in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(found)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def pending(self, subscriber_id: str) -> list[Item]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("subscriber_id").eq(subscriber_id),
            "ConsistentRead": True,
        }
        items: list[Item] = []
        while True:
            page = self._table.query(**kwargs)
            items.extend(
                Item.from_message(json.loads(row["item"])) for row in page.get("Items", [])
            )
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def remove(self, subscriber_id: str, uids: Iterable[str]) -> None:
        with self._table.batch_writer() as batch:
            for uid in uids:
                batch.delete_item(Key={"subscriber_id": subscriber_id, "item_uid": uid})
