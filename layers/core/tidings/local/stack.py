"""Emulated AWS in-process (moto), built from the same definitions as template.yaml."""

from __future__ import annotations

import json
import os
import secrets as random_secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from tidings import aws
from tidings.settings import NotifierSettings, PollerSettings
from tidings.store.schema import TABLES

REGION = "eu-central-1"
SENDER = "tidings@news.example.org"
# template.yaml: VisibilityTimeout = 6 x the notifier's timeout; maxReceiveCount = 5
NOTIFIER_TIMEOUT = 300
MAX_RECEIVE_COUNT = 5
_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Tidings",
    "POWERTOOLS_DEV": "false",
    "POWERTOOLS_METRICS_DISABLED": "true",  # no EMF lines on a laptop
}


@dataclass(frozen=True, slots=True)
class LocalContext:
    """Enough of a Lambda context for powertools' decorators."""

    function_name: str = "tidings-local"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:tidings-local"
    aws_request_id: str = "local-request"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass(frozen=True, slots=True)
class Stack:
    tables: dict[str, str]  # logical id -> table name
    topic_arn: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    token_secret: str

    def table(self, logical_id: str) -> str:
        return self.tables[logical_id]

    def poller_settings(self, **overrides: Any) -> PollerSettings:
        return PollerSettings(
            feeds_table=self.tables["FeedsTable"], items_topic_arn=self.topic_arn, **overrides
        )

    def notifier_settings(self, **overrides: Any) -> NotifierSettings:
        values: dict[str, Any] = {
            "subscribers_table": self.tables["SubscribersTable"],
            "subscriptions_table": self.tables["SubscriptionsTable"],
            "digest_queue_table": self.tables["DigestQueueTable"],
            "deliveries_table": self.tables["DeliveriesTable"],
            "idempotency_table": self.tables["IdempotencyTable"],
            "sender_address": f"ICMPD news via tidings <{SENDER}>",
            "unsubscribe_base_url": "https://tidings.example.org",
            "token_secret_name": self.token_secret,
            "list_id": "ICMPD news digests <icmpd.news.example.org>",
            **overrides,
        }
        return NotifierSettings(**values)

    def environment(self) -> dict[str, str]:
        """The environment template.yaml gives the functions, pointing at this stack."""
        poller, notifier = self.poller_settings(), self.notifier_settings()
        return {
            "FEEDS_TABLE": poller.feeds_table,
            "ITEMS_TOPIC_ARN": poller.items_topic_arn,
            "SUBSCRIBERS_TABLE": notifier.subscribers_table,
            "SUBSCRIPTIONS_TABLE": notifier.subscriptions_table,
            "DIGEST_QUEUE_TABLE": notifier.digest_queue_table,
            "DELIVERIES_TABLE": notifier.deliveries_table,
            "IDEMPOTENCY_TABLE": notifier.idempotency_table,
            "SENDER_ADDRESS": notifier.sender_address,
            "UNSUBSCRIBE_BASE_URL": notifier.unsubscribe_base_url,
            "TOKEN_SECRET_NAME": notifier.token_secret_name,
            "LIST_ID": notifier.list_id,
        }

    # -- the event source mapping, emulated ------------------------------------------------

    def receive_batch(self, max_messages: int = 10) -> dict[str, Any]:
        """One SQS event as Lambda would build it from the deliveries queue."""
        sqs = aws.client("sqs")
        received = sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max_messages,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {
                        name: {"stringValue": a.get("StringValue"), "dataType": a["DataType"]}
                        for name, a in m.get("MessageAttributes", {}).items()
                    },
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": REGION,
                }
                for m in received
            ]
        }

    def drain(
        self, handler: Callable[[dict[str, Any]], dict[str, Any]], max_rounds: int = 50
    ) -> int:
        """Feed the queue to `handler` batch by batch, deleting what it did not report as
        failed and making failures visible again, as the event source mapping does.
        Returns the number of batches handled."""
        sqs = aws.client("sqs")
        batches = 0
        for _ in range(max_rounds):
            event = self.receive_batch()
            if not event["Records"]:
                break
            batches += 1
            response = handler(event)
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
            for record in event["Records"]:
                if record["messageId"] in failed:
                    sqs.change_message_visibility(
                        QueueUrl=self.queue_url,
                        ReceiptHandle=record["receiptHandle"],
                        VisibilityTimeout=0,
                    )
                else:
                    sqs.delete_message(
                        QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"]
                    )
        return batches

    def queue_depth(self, dlq: bool = False) -> int:
        attributes = aws.client("sqs").get_queue_attributes(
            QueueUrl=self.dlq_url if dlq else self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


def create_stack(prefix: str = "tidings") -> Stack:
    dynamodb = aws.client("dynamodb")
    tables = {}
    for spec in TABLES:
        name = f"{prefix}-{spec.logical_id}"
        indexes = (
            {"GlobalSecondaryIndexes": spec.global_secondary_indexes()} if spec.indexes else {}
        )
        dynamodb.create_table(
            TableName=name,
            KeySchema=spec.key_schema(),
            AttributeDefinitions=spec.attribute_definitions(),
            BillingMode="PAY_PER_REQUEST",
            **indexes,
        )
        if spec.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
        tables[spec.logical_id] = name

    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic_arn = sns.create_topic(Name=f"{prefix}-items")["TopicArn"]
    dlq_url = sqs.create_queue(QueueName=f"{prefix}-deliveries-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=f"{prefix}-deliveries",
        Attributes={
            "VisibilityTimeout": str(6 * NOTIFIER_TIMEOUT),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
            ),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )

    aws.client("sesv2").create_email_identity(EmailIdentity=SENDER.split("@")[1])
    aws.client("ses").verify_email_identity(EmailAddress=SENDER)
    token_secret = f"{prefix}/unsubscribe-token-key"
    aws.client("secretsmanager").create_secret(
        Name=token_secret, SecretString=random_secrets.token_urlsafe(32)
    )
    return Stack(tables, topic_arn, queue_url, queue_arn, dlq_url, token_secret)


@contextmanager
def emulated_aws(prefix: str = "tidings") -> Iterator[Stack]:
    """Start moto in-process, create the stack, and hand it over; everything ends on exit."""
    with mock.patch.dict(os.environ, _ENV), mock_aws():
        _forget_clients()
        try:
            yield create_stack(prefix)
        finally:
            _forget_clients()


def _forget_clients() -> None:
    aws.reset()
    # powertools' parameters keep their own clients and a value cache; a new stack has new secrets
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    parameters.base.DEFAULT_PROVIDERS.clear()  # type: ignore[attr-defined]
