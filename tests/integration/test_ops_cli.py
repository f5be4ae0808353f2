"""`tidings feeds|subscribers|redrive --stack NAME` against an emulated deployed stack."""

from __future__ import annotations

import io
import json
from unittest import mock

import pytest

from tidings import aws
from tidings.cli.deployed import OUTPUTS
from tidings.cli.main import main
from tidings.store.feeds import FeedStore
from tidings.store.subscribers import SubscriberStore

WEBHOOK = "https://hooks.slack.example/services/T000/B000/very-secret"


@pytest.fixture
def deployed(stack):
    """A CloudFormation stack named `tidings` whose outputs point at the emulated resources,
    as template.yaml's outputs point at the real ones."""
    values = {
        "FeedsTableName": stack.table("FeedsTable"),
        "SubscribersTableName": stack.table("SubscribersTable"),
        "SubscriptionsTableName": stack.table("SubscriptionsTable"),
        "DeliveriesQueueUrl": stack.queue_url,
        "DeliveriesDeadLetterQueueUrl": stack.dlq_url,
        "PollerFunctionName": "tidings-poller",
    }
    assert set(values) == set(OUTPUTS.values())
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in values.items()},
    }
    aws.client("cloudformation").create_stack(
        StackName="tidings", TemplateBody=json.dumps(template)
    )
    return stack


def run(*argv: str, stdin: str = "") -> int:
    with mock.patch("sys.stdin", io.StringIO(stdin)):
        return main(list(argv))


def test_feeds_add_list_disable_enable_remove(deployed, capsys):
    assert (
        run(
            "feeds",
            "add",
            "--stack",
            "tidings",
            "icmpd",
            "https://www.icmpd.org/rss",
            "--topics",
            "migration",
            "--baseline",
            "3",
        )
        == 0
    )
    feed = FeedStore(deployed.table("FeedsTable")).get("icmpd")
    assert feed is not None and (feed.topics, feed.baseline_items) == (("migration",), 3)
    assert run("feeds", "disable", "--stack", "tidings", "icmpd") == 0
    assert FeedStore(deployed.table("FeedsTable")).get("icmpd").enabled is False
    run("feeds", "list", "--stack", "tidings")
    assert "icmpd                    off https://www.icmpd.org/rss" in capsys.readouterr().out
    assert run("feeds", "enable", "--stack", "tidings", "icmpd") == 0
    assert FeedStore(deployed.table("FeedsTable")).get("icmpd").enabled is True
    assert run("feeds", "add", "--stack", "tidings", "icmpd", "https://x.example/rss") == 2
    assert run("feeds", "remove", "--stack", "tidings", "icmpd") == 0
    assert FeedStore(deployed.table("FeedsTable")).get("icmpd") is None


def test_a_slack_subscriber_keeps_its_webhook_in_secrets_manager_only(deployed, capsys):
    code = run(
        "subscribers",
        "add",
        "--stack",
        "tidings",
        "returns-desk",
        "--slack",
        "--topics",
        "return-monitoring,trafficking",
        stdin=WEBHOOK + "\n",
    )
    assert code == 0
    store = SubscriberStore(
        deployed.table("SubscribersTable"), deployed.table("SubscriptionsTable")
    )
    subscriber = store.get("returns-desk")
    assert subscriber is not None
    assert subscriber.address == "tidings/slack/returns-desk"
    secret = aws.client("secretsmanager").get_secret_value(SecretId=subscriber.address)
    assert secret["SecretString"] == WEBHOOK
    # the URL is in no table and was printed nowhere
    for table in ("SubscribersTable", "SubscriptionsTable"):
        rows = aws.client("dynamodb").scan(TableName=deployed.table(table))["Items"]
        assert "very-secret" not in json.dumps(rows)
    assert "very-secret" not in capsys.readouterr().out


def test_a_webhook_on_the_command_line_is_refused(deployed):
    assert run("subscribers", "add", "--stack", "tidings", "x", "--slack", stdin="") == 2


def test_email_subscriber_with_a_daily_digest_and_status_changes(deployed, capsys):
    assert (
        run(
            "subscribers",
            "add",
            "--stack",
            "tidings",
            "clara",
            "--email",
            "clara@example.org",
            "--topics",
            "diaspora",
            "--cadence",
            "daily",
            "--send-hour",
            "7",
            "--timezone",
            "Europe/Vienna",
        )
        == 0
    )
    assert run("subscribers", "set", "--stack", "tidings", "clara", "suppressed") == 0
    run("subscribers", "list", "--stack", "tidings")
    out = capsys.readouterr().out
    assert "clara                suppressed   clara@example.org" in out
    assert "daily at 07:00 Europe/Vienna" in out
    assert (
        run(
            "subscribers",
            "add",
            "--stack",
            "tidings",
            "bad",
            "--email",
            "b@example.org",
            "--timezone",
            "Mars/Olympus",
        )
        == 2
    )


def test_redrive_moves_dead_letters_back(deployed, capsys):
    sqs = aws.client("sqs")
    for n in range(3):
        sqs.send_message(QueueUrl=deployed.dlq_url, MessageBody=json.dumps({"n": n}))
    assert run("redrive", "--stack", "tidings") == 0
    assert "moved 3 dead letter(s)" in capsys.readouterr().out
    assert deployed.queue_depth(dlq=True) == 0
    bodies = sorted(
        m["Body"]
        for m in sqs.receive_message(QueueUrl=deployed.queue_url, MaxNumberOfMessages=10)[
            "Messages"
        ]
    )
    assert bodies == ['{"n": 0}', '{"n": 1}', '{"n": 2}']


def test_an_unknown_stack_is_a_clear_error(stack, capsys):
    assert run("feeds", "list", "--stack", "nope") == 2
    assert "stack nope" in capsys.readouterr().err
