"""Daily and weekly digests: queued by the notifier, sent by the hourly digest run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tidings import aws
from tidings.local.outbox import sent_emails
from tidings.local.stack import LocalContext
from tidings.model import Item, Subscriber
from tidings.notify import Notifier
from tidings.scheduled import DigestRun
from tidings.store.subscribers import SubscriberStore

from .helpers import load_event, load_handler

# Monday 30 November 2026, 06:30 UTC = 07:30 in Vienna; Clara's digest is due at 07:00 UTC
MONDAY_0630 = datetime(2026, 11, 30, 6, 30, tzinfo=UTC).timestamp()
SEND_TIME = datetime(2026, 11, 30, 7, 0, tzinfo=UTC).timestamp()
CLARA = Subscriber(
    "clara",
    "email",
    "clara@example.org",
    topics=("border-management",),
    cadence="daily",
    send_hour=8,
    timezone="Europe/Vienna",
)


def news(n: int) -> Item:
    return Item("f", f"k{n}", f"News {n}", f"https://e.org/{n}", "s", None, ("border-management",))


@pytest.fixture
def notifier(stack) -> Notifier:
    SubscriberStore(stack.table("SubscribersTable"), stack.table("SubscriptionsTable")).put(CLARA)
    built = Notifier.from_settings(stack.notifier_settings())
    built.clock = lambda: MONDAY_0630
    built.register_lambda_context(LocalContext())
    return built


def run_at(notifier: Notifier, when: float):
    return DigestRun(notifier, notifier.queue, clock=lambda: when).run()


def test_items_wait_for_the_local_send_hour_then_go_as_one_digest(notifier):
    report = notifier.deliver([news(1), news(2)])
    assert (report.items_queued, sum(report.digests.values())) == (2, 0)
    assert sent_emails() == []
    assert run_at(notifier, SEND_TIME - 60).digests == {}  # 07:59 in Vienna: not yet
    assert run_at(notifier, SEND_TIME).digests == {"email": 1}
    [message] = sent_emails()
    assert message["Subject"] == "2 new items: Border management"
    assert notifier.queue.pending("clara") == []
    # the next hour: nothing new, nothing sent
    assert run_at(notifier, SEND_TIME + 3600).digests == {}
    assert len(sent_emails()) == 1


def test_an_item_republished_after_its_digest_went_is_not_sent_again(notifier):
    notifier.deliver([news(1)])
    run_at(notifier, SEND_TIME)
    notifier.deliver([news(1)])  # a poller re-publish, queued again
    assert run_at(notifier, SEND_TIME + 86400).digests == {}
    assert len(sent_emails()) == 1
    assert notifier.queue.pending("clara") == []


def test_an_unsubscribed_reader_gets_no_digest_and_the_queue_is_dropped(notifier):
    notifier.deliver([news(1)])
    notifier.subscribers.set_status("clara", "unsubscribed")
    assert run_at(notifier, SEND_TIME).digests == {}
    assert sent_emails() == []
    assert notifier.queue.pending("clara") == []


def test_a_failed_digest_stays_queued_and_goes_out_on_the_next_run(notifier, stack):
    notifier.deliver([news(1)])
    verified_sender = notifier.settings.sender_address
    notifier.settings = stack.notifier_settings(sender_address="nobody@unverified.example.com")
    report = run_at(notifier, SEND_TIME)
    assert report.send_failures == 1 and sent_emails() == []
    assert [i.title for i in notifier.queue.pending("clara")] == ["News 1"]
    notifier.settings = stack.notifier_settings(sender_address=verified_sender)
    assert run_at(notifier, SEND_TIME + 3600).digests == {"email": 1}


def test_the_digest_handler_runs_on_its_schedule_event(stack, notifier, monkeypatch):
    notifier.deliver([news(1)])
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    handler = load_handler("digest")
    handler.RUN.clock = lambda: SEND_TIME
    summary = handler.lambda_handler(load_event("poller-schedule"), LocalContext())
    assert summary == {"digests": {"email": 1}, "items": 1, "failures": 0}
    assert len(sent_emails()) == 1


def test_one_subscribers_trouble_does_not_stop_the_run(notifier, stack, monkeypatch):
    # Given two daily subscribers due at the same time, and an unreadable queued row for one
    zed = Subscriber(
        "zed",
        "email",
        "zed@example.org",
        topics=("border-management",),
        cadence="daily",
        send_hour=8,
        timezone="Europe/Vienna",
    )
    notifier.subscribers.put(zed)
    notifier.deliver([news(1)])
    aws.client("dynamodb").put_item(
        TableName=stack.table("DigestQueueTable"),
        Item={
            "subscriber_id": {"S": "clara"},
            "item_uid": {"S": "broken"},
            "item": {"S": "{not json"},
            "queue": {"S": "pending"},
            "due_at": {"N": str(int(SEND_TIME))},
        },
    )
    real_get = notifier.subscribers.get

    def flaky_get(subscriber_id):
        if subscriber_id == "clara":
            raise RuntimeError("throttled")
        return real_get(subscriber_id)

    monkeypatch.setattr(notifier.subscribers, "get", flaky_get)
    report = run_at(notifier, SEND_TIME)
    # Then Zed still gets a digest, and Clara's items wait for the next run
    assert [str(m["To"]) for m in sent_emails()] == ["zed@example.org"]
    assert report.send_failures == 1
    monkeypatch.setattr(notifier.subscribers, "get", real_get)
    run_at(notifier, SEND_TIME + 3600)
    assert sorted(str(m["To"]) for m in sent_emails()) == ["clara@example.org", "zed@example.org"]
