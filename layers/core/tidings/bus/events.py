"""SQS delivery events (raw SNS delivery) to items, with powertools' event data classes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent

from tidings.model import Item


@dataclass(frozen=True, slots=True)
class Delivery:
    message_id: str
    item: Item | None
    error: str | None = None


def deliveries(event: dict[str, Any]) -> Iterator[Delivery]:
    """One Delivery per SQS record; a malformed record carries its error instead of an item."""
    for record in SQSEvent(event).records:
        try:
            body = json.loads(record.body)
            if isinstance(body, dict) and body.get("Type") == "Notification":
                # raw delivery is off (a misconfigured subscription): unwrap the SNS envelope
                body = json.loads(body["Message"])
            yield Delivery(record.message_id, Item.from_message(body))
        except (ValueError, KeyError, TypeError) as err:
            yield Delivery(record.message_id, None, f"{type(err).__name__}: {err}")
