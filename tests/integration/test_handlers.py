"""The Lambda handlers themselves (functions/*/app.py), invoked with the sample events."""

from __future__ import annotations

import copy
import json

import pytest

from tidings import aws
from tidings.local.httpserver import Feed, Response
from tidings.local.outbox import sent_emails
from tidings.local.stack import LocalContext
from tidings.model import Subscriber
from tidings.settings import ConfigError
from tidings.store.subscribers import SubscriberStore

from .helpers import add_feed, load_event, load_handler, published, rss

ANA = Subscriber("ana", "email", "ana@example.org", topics=("border-management",))
BEN = Subscriber("ben", "email", "ben@example.org", topics=("*",))


@pytest.fixture
def lambda_env(stack, monkeypatch):
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    return stack


@pytest.fixture
def subscribers(stack) -> SubscriberStore:
    return SubscriberStore(stack.table("SubscribersTable"), stack.table("SubscriptionsTable"))


def slack_subscriber(stack, server, path: str, topics=("return-monitoring",)) -> Subscriber:
    aws.client("secretsmanager").create_secret(Name=f"slack/{path}", SecretString=server.url(path))
    return Subscriber("desk", "slack", f"slack/{path}", topics=topics)


def test_poller_handler_polls_and_publishes(lambda_env, server):
    server.routes["/feed.xml"] = Feed(rss(("Border management news", "https://e.org/1")))
    add_feed(lambda_env, "f", server.url("/feed.xml"), baseline_items=10)
    handler = load_handler("poller")
    summary = handler.lambda_handler(load_event("poller-schedule"), LocalContext())
    assert summary["polled"] == 1 and summary["published"] == 1
    assert [i.title for i, _ in published(lambda_env)] == ["Border management news"]


def test_poller_handler_fails_at_cold_start_without_configuration(monkeypatch):
    monkeypatch.delenv("FEEDS_TABLE", raising=False)
    monkeypatch.delenv("ITEMS_TOPIC_ARN", raising=False)
    with pytest.raises(ConfigError, match="FEEDS_TABLE, ITEMS_TOPIC_ARN"):
        load_handler("poller")


def test_notifier_sends_each_subscriber_one_digest_of_their_topics(lambda_env, subscribers):
    subscribers.put(ANA)
    subscribers.put(BEN)
    handler = load_handler("notifier")
    response = handler.lambda_handler(load_event("notifier-sqs-batch"), LocalContext())
    assert response == {"batchItemFailures": []}
    by_recipient = {str(m["To"]): m for m in sent_emails()}
    assert set(by_recipient) == {"ana@example.org", "ben@example.org"}
    assert by_recipient["ana@example.org"]["Subject"] == "1 new item: Border management"
    assert by_recipient["ben@example.org"]["Subject"].startswith("3 new items: ")


def test_a_malformed_record_is_reported_and_the_rest_delivered(lambda_env, subscribers):
    subscribers.put(BEN)
    event = load_event("notifier-sqs-batch")
    broken = copy.deepcopy(event["Records"][0])
    broken["messageId"] = "broken-1"
    broken["body"] = '{"title": "no feed id, no key"}'
    not_json = copy.deepcopy(broken) | {"messageId": "broken-2", "body": "<xml/>"}
    event["Records"] += [broken, not_json]
    response = load_handler("notifier").lambda_handler(event, LocalContext())
    assert response == {
        "batchItemFailures": [{"itemIdentifier": "broken-1"}, {"itemIdentifier": "broken-2"}]
    }
    [message] = sent_emails()
    assert message["Subject"].startswith("3 new items")


def test_an_inactive_subscriber_gets_nothing(lambda_env, subscribers):
    for status in ("pending", "unsubscribed", "suppressed"):
        subscribers.put(Subscriber(status, "email", f"{status}@example.org", status=status))
    response = load_handler("notifier").lambda_handler(
        load_event("notifier-sqs-batch"), LocalContext()
    )
    assert response == {"batchItemFailures": []}
    assert sent_emails() == []


def test_an_ses_rejection_returns_the_records_to_the_queue(lambda_env, subscribers, monkeypatch):
    monkeypatch.setenv("SENDER_ADDRESS", "not-verified@elsewhere.example.com")
    subscribers.put(ANA)
    response = load_handler("notifier").lambda_handler(
        load_event("notifier-sqs-batch"), LocalContext()
    )
    # only the border-management record went into Ana's failed digest
    assert response == {
        "batchItemFailures": [{"itemIdentifier": "00000001-aaaa-bbbb-cccc-000000000001"}]
    }
    assert sent_emails() == []


def test_a_slack_webhook_that_is_gone_marks_the_subscriber_broken(lambda_env, subscribers, server):
    server.routes["/hook"] = Response(404, b"no_service")
    subscribers.put(slack_subscriber(lambda_env, server, "/hook"))
    response = load_handler("notifier").lambda_handler(
        load_event("notifier-sqs-batch"), LocalContext()
    )
    assert response == {"batchItemFailures": []}  # retrying cannot help; nothing goes back
    stored = subscribers.get("desk")
    assert stored is not None and stored.status == "broken"


def test_a_failing_slack_webhook_returns_the_records_to_the_queue(lambda_env, subscribers, server):
    server.routes["/hook"] = Response(503, b"unavailable")
    subscribers.put(slack_subscriber(lambda_env, server, "/hook"))
    response = load_handler("notifier").lambda_handler(
        load_event("notifier-sqs-batch"), LocalContext()
    )
    assert response == {
        "batchItemFailures": [{"itemIdentifier": "00000002-aaaa-bbbb-cccc-000000000002"}]
    }
    assert len([r for r in server.requests if r[1] == "/hook"]) == 3  # first try + 2 retries


def test_slack_alert_is_block_kit_with_unfurling_off(lambda_env, subscribers, server):
    server.routes["/hook"] = Response(200, b"ok")
    subscribers.put(slack_subscriber(lambda_env, server, "/hook", topics=("*",)))
    load_handler("notifier").lambda_handler(load_event("notifier-sqs-batch"), LocalContext())
    [post] = server.posted_json("/hook")
    assert post["unfurl_links"] is False and post["unfurl_media"] is False
    assert post["blocks"][0]["type"] == "header"
    links = [b["text"]["text"] for b in post["blocks"] if b["type"] == "section"]
    assert len(links) == 3
    assert json.dumps(post).count("icmpd.org//news-centre") == 3


def test_the_notifier_counts_what_it_did_in_metrics(lambda_env, subscribers):
    from tidings.observability import metrics

    subscribers.put(ANA)
    subscribers.put(BEN)
    handler = load_handler("notifier")
    metrics.clear_metrics()
    event = load_event("notifier-sqs-batch")
    event["Records"].append(copy.deepcopy(event["Records"][0]) | {"messageId": "x", "body": "{"})
    handler.process_event(event, handler.NOTIFIER)
    recorded = {name: sum(m["Value"]) for name, m in metrics.metric_set.items()}
    assert recorded["DigestsSentEmail"] == 2
    assert recorded["ItemsDelivered"] == 4
    assert recorded["MalformedDeliveries"] == 1
    assert recorded["SendFailures"] == 0
