"""Publish new items to the SNS items topic, ten per PublishBatch call."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tidings import aws
from tidings.model import Item

BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024
# Room left for attributes and the JSON envelope when a message must be cut to fit.
MAX_MESSAGE_BYTES = 200 * 1024


@dataclass(slots=True)
class PublishResult:
    published: list[Item] = field(default_factory=list)
    failed: list[tuple[Item, str]] = field(default_factory=list)


def encode(item: Item) -> str:
    """The item as a message under the size limit: the summary is cut, the item never dropped."""
    body = json.dumps(item.to_message(), ensure_ascii=False, separators=(",", ":"))
    size = len(body.encode())
    if size <= MAX_MESSAGE_BYTES:
        return body
    excess = size - MAX_MESSAGE_BYTES
    summary = item.summary.encode()[: max(0, len(item.summary.encode()) - excess - 16)]
    shorter = replace(item, summary=summary.decode(errors="ignore") + "…")
    body = json.dumps(shorter.to_message(), ensure_ascii=False, separators=(",", ":"))
    if len(body.encode()) > MAX_MESSAGE_BYTES:  # a giant title or link: cut those too
        shorter = replace(shorter, title=shorter.title[:500], link=shorter.link[:2000], summary="")
        body = json.dumps(shorter.to_message(), ensure_ascii=False, separators=(",", ":"))
    return body


def _batches(entries: list[tuple[Item, str]]) -> list[list[tuple[Item, str]]]:
    batches: list[list[tuple[Item, str]]] = []
    current: list[tuple[Item, str]] = []
    size = 0
    for entry in entries:
        entry_size = len(entry[1].encode()) + 1024  # attributes and overhead
        if current and (len(current) == BATCH_ENTRIES or size + entry_size > MAX_BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(entry)
        size += entry_size
    if current:
        batches.append(current)
    return batches


def _encode_body_once(request: Any, **_: Any) -> None:
    """botocore url-encodes a query-protocol body (SNS's) again each time the body is read:
    to sign it, then to send it. Reading it once here, before the signer, leaves the
    encoded bytes in its place: the same bytes, encoded once. A PublishBatch body is 10-30
    KB of percent-encoded JSON, and encoding it is most of the call's CPU."""
    request.data = request.body


class Publisher:
    def __init__(self, topic_arn: str) -> None:
        self._topic_arn = topic_arn
        self._sns = aws.client("sns")
        self._sns.meta.events.register_first(
            "request-created.sns.PublishBatch", _encode_body_once, unique_id="tidings-encode-once"
        )

    def publish(self, items: Sequence[Item]) -> PublishResult:
        """Publish items; per-entry failures are returned, not raised, so that only the
        items SNS accepted are committed as seen and the rest are retried next poll."""
        result = PublishResult()
        for batch in _batches([(item, encode(item)) for item in items]):
            entries = [
                {
                    "Id": str(index),
                    "Message": body,
                    "MessageAttributes": {
                        "topics": {
                            "DataType": "String.Array",
                            "StringValue": json.dumps(list(item.topics) or ["untagged"]),
                        },
                        "feed_id": {"DataType": "String", "StringValue": item.feed_id},
                    },
                }
                for index, (item, body) in enumerate(batch)
            ]
            response = self._sns.publish_batch(
                TopicArn=self._topic_arn, PublishBatchRequestEntries=entries
            )
            ok = {entry["Id"] for entry in response.get("Successful", [])}
            errors = {
                e["Id"]: e.get("Message") or e.get("Code", "failed")
                for e in response.get("Failed", [])
            }
            for index, (item, _) in enumerate(batch):
                if str(index) in ok:
                    result.published.append(item)
                else:
                    result.failed.append((item, errors.get(str(index), "no answer for entry")))
        return result
