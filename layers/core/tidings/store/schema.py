"""Table definitions: the emulated stack creates tables from these, and
tests/unit/test_template.py proves template.yaml declares exactly the same ones."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str | None = None
    projection: str = "ALL"

    def key_schema(self) -> list[dict[str, str]]:
        return _keys(self.partition_key, self.sort_key)


@dataclass(frozen=True, slots=True)
class TableSpec:
    logical_id: str  # the resource name in template.yaml
    env_var: str  # the function environment variable that carries the table name
    partition_key: str
    sort_key: str | None = None
    ttl_attribute: str | None = None
    indexes: tuple[IndexSpec, ...] = ()
    # key attributes that are numbers; all others are strings
    number_attributes: frozenset[str] = field(default_factory=frozenset)

    def key_schema(self) -> list[dict[str, str]]:
        return _keys(self.partition_key, self.sort_key)

    def attribute_definitions(self) -> list[dict[str, str]]:
        names = [self.partition_key, self.sort_key]
        for index in self.indexes:
            names += [index.partition_key, index.sort_key]
        unique = sorted({n for n in names if n})
        return [
            {"AttributeName": n, "AttributeType": "N" if n in self.number_attributes else "S"}
            for n in unique
        ]

    def global_secondary_indexes(self) -> list[dict[str, object]]:
        return [
            {
                "IndexName": i.name,
                "KeySchema": i.key_schema(),
                "Projection": {"ProjectionType": i.projection},
            }
            for i in self.indexes
        ]


def _keys(partition: str, sort: str | None) -> list[dict[str, str]]:
    keys = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort:
        keys.append({"AttributeName": sort, "KeyType": "RANGE"})
    return keys


# The sparse "due" index holds enabled feeds only (poll_queue is removed when disabled):
# the poller queries it for what is due instead of scanning every feed's seen-set.
FEEDS = TableSpec(
    "FeedsTable",
    "FEEDS_TABLE",
    "feed_id",
    indexes=(IndexSpec("due", "poll_queue", "next_poll_at", projection="KEYS_ONLY"),),
    number_attributes=frozenset({"next_poll_at"}),
)
SUBSCRIBERS = TableSpec("SubscribersTable", "SUBSCRIBERS_TABLE", "subscriber_id")
# topic -> subscriber_id, with the fields the notifier needs copied in, so matching is one
# query per topic and never a scan of all subscribers.
SUBSCRIPTIONS = TableSpec("SubscriptionsTable", "SUBSCRIPTIONS_TABLE", "topic", "subscriber_id")
# Items waiting for a daily or weekly digest. The sparse "due" index (every row carries
# queue = "pending") lets the digest function find what is due without a scan.
DIGEST_QUEUE = TableSpec(
    "DigestQueueTable",
    "DIGEST_QUEUE_TABLE",
    "subscriber_id",
    "item_uid",
    ttl_attribute="expires_at",
    indexes=(IndexSpec("due", "queue", "due_at"),),
    number_attributes=frozenset({"due_at"}),
)
# (subscriber, item) pairs already delivered: what makes a re-published or re-batched item
# reach a subscriber once. Rows expire well after any redelivery could bring the item back.
DELIVERIES = TableSpec(
    "DeliveriesTable", "DELIVERIES_TABLE", "subscriber_id", "item_uid", ttl_attribute="expires_at"
)
# powertools Idempotency records for digest sends (its default key and TTL attribute names)
IDEMPOTENCY = TableSpec("IdempotencyTable", "IDEMPOTENCY_TABLE", "id", ttl_attribute="expiration")

TABLES = (FEEDS, SUBSCRIBERS, SUBSCRIPTIONS, DIGEST_QUEUE, DELIVERIES, IDEMPOTENCY)
