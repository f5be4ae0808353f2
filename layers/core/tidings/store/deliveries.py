"""DigestQueue (items waiting for a daily/weekly digest) and Deliveries (what was sent)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from tidings import aws
from tidings.model import Item
from tidings.observability import logger
from tidings.store.pages import rows

SENDING, SENT = "sending", "sent"


@dataclass(slots=True)
class Claim:
    claimed: list[str] = field(default_factory=list)  # ours to send now
    sent: list[str] = field(default_factory=list)  # delivered before: skip
    busy: list[str] = field(default_factory=list)  # another invocation is sending: retry later


class DeliveryLedger:
    """(subscriber, item) pairs: claimed while sending, then marked sent.

    A claim is a conditional write, so two invocations holding the same item (an SQS
    duplicate, a poller re-publish in another batch) cannot both send it: the second finds
    it `sending` (retry later) or `sent` (skip). A claim left by a crash expires with its
    lease and can be taken again.
    """

    def __init__(self, table_name: str) -> None:
        self._table = aws.resource("dynamodb").Table(table_name)

    def claim(
        self, subscriber_id: str, uids: Iterable[str], now: int, lease: int, expires_at: int
    ) -> Claim:
        result = Claim()
        for uid in uids:
            try:
                self._table.put_item(
                    Item={
                        "subscriber_id": subscriber_id,
                        "item_uid": uid,
                        "state": SENDING,
                        "lease_until": now + lease,
                        "expires_at": expires_at,
                    },
                    ConditionExpression=Attr("subscriber_id").not_exists()
                    | (Attr("state").eq(SENDING) & Attr("lease_until").lt(now)),
                )
            except ClientError as err:
                if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                row = self._table.get_item(
                    Key={"subscriber_id": subscriber_id, "item_uid": uid}, ConsistentRead=True
                ).get("Item", {})
                (result.sent if row.get("state", SENT) == SENT else result.busy).append(uid)
                continue
            result.claimed.append(uid)
        return result

    def mark_sent(self, subscriber_id: str, uids: Iterable[str], expires_at: int) -> None:
        with self._table.batch_writer(overwrite_by_pkeys=["subscriber_id", "item_uid"]) as batch:
            for uid in uids:
                batch.put_item(
                    Item={
                        "subscriber_id": subscriber_id,
                        "item_uid": uid,
                        "state": SENT,
                        "expires_at": expires_at,
                    }
                )

    def release(self, subscriber_id: str, uids: Iterable[str]) -> None:
        """Give claims back after a failed send, so the retry can take them at once."""
        with self._table.batch_writer() as batch:
            for uid in uids:
                batch.delete_item(Key={"subscriber_id": subscriber_id, "item_uid": uid})


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
        due = rows(
            self._table.query,
            IndexName="due",
            KeyConditionExpression=Key("queue").eq("pending") & Key("due_at").lte(now),
            ProjectionExpression="subscriber_id",
        )
        return sorted({row["subscriber_id"] for row in due})

    def pending(self, subscriber_id: str) -> list[Item]:
        items: list[Item] = []
        queued = rows(
            self._table.query,
            KeyConditionExpression=Key("subscriber_id").eq(subscriber_id),
            ConsistentRead=True,
        )
        for row in queued:
            try:
                items.append(Item.from_message(json.loads(row["item"])))
            except (ValueError, KeyError, TypeError):  # one bad row must not block the rest
                logger.error(
                    "unreadable queued item dropped",
                    subscriber_id=subscriber_id,
                    item_uid=row.get("item_uid"),
                )
                self.remove(subscriber_id, [str(row.get("item_uid"))])
        return items

    def remove(self, subscriber_id: str, uids: Iterable[str]) -> None:
        with self._table.batch_writer() as batch:
            for uid in uids:
                batch.delete_item(Key={"subscriber_id": subscriber_id, "item_uid": uid})
