"""At-least-once in (SNS, SQS, poller re-publish), exactly one message per subscriber out."""

from __future__ import annotations

import pytest

from tidings import aws
from tidings.bus.publish import Publisher
from tidings.local.httpserver import Response
from tidings.local.outbox import sent_emails
from tidings.local.stack import LocalContext
from tidings.model import Item, Subscriber
from tidings.notify import Notifier, process_event
from tidings.store.subscribers import SubscriberStore


def item(n: int, topic: str = "border-management") -> Item:
    return Item(
        feed_id="f",
        key=f"https://example.org/news/{n}",
        title=f"News {n}",
        link=f"https://example.org/news/{n}",
        summary=f"Summary {n}",
        published=f"2026-11-0{n}T10:00:00+00:00",
        topics=(topic,),
        feed_title="Example",
    )


@pytest.fixture
def notifier(stack) -> Notifier:
    store = SubscriberStore(stack.table("SubscribersTable"), stack.table("SubscriptionsTable"))
    store.put(Subscriber("ana", "email", "ana@example.org", topics=("border-management",)))
    built = Notifier.from_settings(stack.notifier_settings())
    built.register_lambda_context(LocalContext())
    return built


def batch_of(stack, *items: Item) -> dict:
    """Publish through the real topic and read the SQS event Lambda would get."""
    result = Publisher(stack.topic_arn).publish(list(items))
    assert not result.failed
    event = stack.receive_batch()
    assert len(event["Records"]) == len(items)
    return event


def subjects() -> list[str]:
    return [str(m["Subject"]) for m in sent_emails()]


def test_the_same_batch_delivered_twice_sends_once(stack, notifier):
    event = batch_of(stack, item(1), item(2))
    assert process_event(event, notifier) == {"batchItemFailures": []}
    assert process_event(event, notifier) == {"batchItemFailures": []}
    assert subjects() == ["2 new items: Border management"]


def test_a_batch_redelivered_with_one_more_item_sends_only_that_item(stack, notifier):
    process_event(batch_of(stack, item(1), item(2)), notifier)
    process_event(batch_of(stack, item(1), item(2), item(3)), notifier)
    assert subjects() == ["2 new items: Border management", "1 new item: Border management"]
    assert "News 3" in sent_emails()[1].get_body(("plain",)).get_content()
    assert "News 1" not in sent_emails()[1].get_body(("plain",)).get_content()


def test_a_poller_republish_in_another_batch_sends_once(stack, notifier):
    process_event(batch_of(stack, item(1)), notifier)
    process_event(batch_of(stack, item(1)), notifier)  # the poller crashed before its commit
    assert len(sent_emails()) == 1


def test_the_same_item_twice_in_one_batch_is_one_item(stack, notifier):
    process_event(batch_of(stack, item(1), item(1)), notifier)
    assert subjects() == ["1 new item: Border management"]


class ProcessDied(BaseException):
    """Stands for the Lambda being killed: not an Exception, so nothing catches it."""


def test_a_crash_after_sending_and_before_acknowledging_sends_once(stack, notifier, monkeypatch):
    # Given a send that succeeds, then the process dies before it records the delivery
    event = batch_of(stack, item(1), item(2))
    original = notifier.ledger.mark_sent
    monkeypatch.setattr(notifier.ledger, "mark_sent", _die)
    with pytest.raises(ProcessDied):
        process_event(event, notifier)
    assert len(sent_emails()) == 1
    # When SQS redelivers the unacknowledged batch, after the dead invocation's claims expired
    monkeypatch.setattr(notifier.ledger, "mark_sent", original)
    later = notifier.clock() + 3600
    notifier.clock = lambda: later
    assert process_event(event, notifier) == {"batchItemFailures": []}
    # Then the idempotent send does not repeat, and the ledger now knows
    assert len(sent_emails()) == 1
    assert process_event(event, notifier) == {"batchItemFailures": []}
    assert len(sent_emails()) == 1


def _die(*_: object, **__: object) -> None:
    raise ProcessDied


def test_an_item_being_sent_by_another_invocation_is_retried_not_duplicated(stack, notifier):
    # Given another invocation has claimed item 1 for Ana and is sending it right now
    now = int(notifier.clock())
    notifier.ledger.claim("ana", [item(1).uid], now, lease=120, expires_at=now + 86400)
    event = batch_of(stack, item(1), item(2))
    # When this invocation gets a batch with items 1 and 2
    response = process_event(event, notifier)
    # Then it sends item 2 only, and hands item 1's record back for a later look
    assert subjects() == ["1 new item: Border management"]
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        event["Records"][0]["messageId"]
    ]
    # and once the other invocation has recorded its send, the retry skips item 1
    notifier.ledger.mark_sent("ana", [item(1).uid], now + 86400)
    assert process_event(event, notifier) == {"batchItemFailures": []}
    assert len(sent_emails()) == 1


def test_a_ledger_failure_after_the_send_does_not_fail_the_batch(stack, notifier, monkeypatch):
    def throttled(*_: object, **__: object) -> None:
        raise RuntimeError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(notifier.ledger, "mark_sent", throttled)
    assert process_event(batch_of(stack, item(1)), notifier) == {"batchItemFailures": []}
    assert len(sent_emails()) == 1


def test_a_corrupt_subscription_row_does_not_block_the_others(stack, notifier):
    aws.client("dynamodb").put_item(
        TableName=stack.table("SubscriptionsTable"),
        Item={
            "topic": {"S": "border-management"},
            "subscriber_id": {"S": "bad"},
            "channel": {"S": "email"},
            "address": {"S": "bad@example.org"},
            "timezone": {"S": "Europe/Viena"},
        },
    )
    assert process_event(batch_of(stack, item(1)), notifier) == {"batchItemFailures": []}
    assert [str(m["To"]) for m in sent_emails()] == ["ana@example.org"]


def test_a_failed_send_for_one_subscriber_does_not_resend_to_another(stack, notifier, server):
    # Given Ana (email) and a Slack channel on the same topic; Slack is down
    server.routes["/hook"] = Response(503, b"down")
    aws.client("secretsmanager").create_secret(Name="slack/desk", SecretString=server.url("/hook"))
    notifier.subscribers.put(
        Subscriber("desk", "slack", "slack/desk", topics=("border-management",))
    )
    event = batch_of(stack, item(1))
    failed = process_event(event, notifier)["batchItemFailures"]
    assert [f["itemIdentifier"] for f in failed] == [event["Records"][0]["messageId"]]
    # When Slack recovers and the record comes back
    attempts_while_down = len(server.posted_json("/hook"))
    server.routes["/hook"] = Response(200, b"ok")
    assert process_event(event, notifier) == {"batchItemFailures": []}
    # Then Slack got it once and Ana was not sent it again
    assert len(server.posted_json("/hook")) == attempts_while_down + 1
    assert len(sent_emails()) == 1
