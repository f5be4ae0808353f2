"""The publisher's wire: the SNS request body is url-encoded once, and is what botocore sends."""

from __future__ import annotations

from typing import Any

import pytest
from botocore import awsrequest

from tidings.bus import publish
from tidings.bus.publish import Publisher
from tidings.model import Item

from .helpers import published

ITEMS = [
    Item("f", f"k{n}", f"Title {n} & more", f"https://e.org/{n}?a=1&b=2", "é ünïcode", None, ("t",))
    for n in range(3)
]


def _send(publisher: Publisher, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, int]:
    """Publish ITEMS; the body botocore sent, and how often it url-encoded one."""
    bodies: list[bytes] = []
    encodings = []
    real_urlencode = awsrequest.urlencode

    def counting(*args: Any, **kwargs: Any) -> str:
        encodings.append(1)
        return real_urlencode(*args, **kwargs)

    def keep(request: Any, **_: Any) -> None:  # botocore leaves a str, the hook bytes
        body = request.body
        bodies.append(body if isinstance(body, bytes) else body.encode())

    monkeypatch.setattr(awsrequest, "urlencode", counting)
    publisher._sns.meta.events.register("before-send.sns.PublishBatch", keep)
    try:
        assert len(publisher.publish(ITEMS).published) == len(ITEMS)
    finally:
        publisher._sns.meta.events.unregister("before-send.sns.PublishBatch", keep)
        monkeypatch.setattr(awsrequest, "urlencode", real_urlencode)
    [body] = bodies
    return body, len(encodings)


def test_a_publish_batch_body_is_encoded_once_to_the_same_bytes(stack, monkeypatch):
    publisher = Publisher(stack.topic_arn)
    once, encoded = _send(publisher, monkeypatch)
    publisher._sns.meta.events.unregister(
        "request-created.sns.PublishBatch", unique_id="tidings-encode-once"
    )
    as_botocore_sends_it, encoded_without = _send(publisher, monkeypatch)
    assert encoded == 1
    assert encoded_without >= 2  # to sign it, to send it (and more with the CRT signer)
    assert once == as_botocore_sends_it
    assert [item.title for item, _ in published(stack)] == [i.title for i in ITEMS] * 2


def test_the_hook_is_registered_once_however_many_publishers(stack, monkeypatch):
    """Publishers share the cached SNS client: a hook per publisher would encode again."""
    calls = []
    original = publish._encode_body_once

    def counting(request: Any, **kwargs: Any) -> None:
        calls.append(1)
        original(request, **kwargs)

    monkeypatch.setattr(publish, "_encode_body_once", counting)
    publishers = [Publisher(stack.topic_arn) for _ in range(3)]
    assert len({id(p._sns) for p in publishers}) == 1
    publishers[0].publish(ITEMS[:1])
    assert calls == [1]
