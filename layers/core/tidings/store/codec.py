"""Python values <-> DynamoDB's typed JSON, for code that uses the low-level client.

The client (not the boto3 resource) is what the poller uses: it is thread-safe, and creating
it at cold start costs a fraction of a resource.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def encode(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items()}


def decode(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}
