"""Table definitions: the emulated stack creates tables from these, and
tests/unit/test_template.py proves template.yaml declares exactly the same ones."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TableSpec:
    logical_id: str  # the resource name in template.yaml
    env_var: str  # the function environment variable that carries the table name
    partition_key: str
    sort_key: str | None = None
    ttl_attribute: str | None = None

    def key_schema(self) -> list[dict[str, str]]:
        keys = [{"AttributeName": self.partition_key, "KeyType": "HASH"}]
        if self.sort_key:
            keys.append({"AttributeName": self.sort_key, "KeyType": "RANGE"})
        return keys

    def attribute_definitions(self) -> list[dict[str, str]]:
        names = [self.partition_key, *([self.sort_key] if self.sort_key else [])]
        return [{"AttributeName": n, "AttributeType": "S"} for n in names]


FEEDS = TableSpec("FeedsTable", "FEEDS_TABLE", "feed_id")
SUBSCRIBERS = TableSpec("SubscribersTable", "SUBSCRIBERS_TABLE", "subscriber_id")
# topic -> subscriber_id, with the fields the notifier needs copied in, so matching is one
# query per topic and never a scan of all subscribers.
SUBSCRIPTIONS = TableSpec("SubscriptionsTable", "SUBSCRIPTIONS_TABLE", "topic", "subscriber_id")

TABLES = (FEEDS, SUBSCRIBERS, SUBSCRIPTIONS)
