"""The notifier: items from one SQS batch in, one digest per subscriber out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from tidings.bus.events import deliveries
from tidings.channels import SendError, secrets
from tidings.channels.email import EmailChannel, Envelope, build_message, digest_id
from tidings.channels.slack import SlackChannel
from tidings.digest.compose import Digest, compose
from tidings.digest.render import render_email
from tidings.digest.slack import render_slack
from tidings.feeds.topics import TopicRules
from tidings.matching import match
from tidings.model import Item, Subscriber
from tidings.observability import logger, metrics
from tidings.settings import NotifierSettings
from tidings.store.subscribers import SubscriberStore
from tidings.tokens import unsubscribe_url


@dataclass(slots=True)
class DeliveryReport:
    digests: Counter[str] = field(default_factory=Counter)  # per channel
    items_delivered: int = 0
    failed_items: set[str] = field(default_factory=set)  # item uids to hand back to the queue
    send_failures: int = 0
    broken: list[str] = field(default_factory=list)  # subscribers whose channel is gone


class Notifier:
    def __init__(
        self,
        *,
        settings: NotifierSettings,
        subscribers: SubscriberStore,
        email: EmailChannel,
        slack: SlackChannel,
        topic_titles: Mapping[str, str],
        token_key: bytes,
    ) -> None:
        self.settings = settings
        self.subscribers = subscribers
        self.email = email
        self.slack = slack
        self.topic_titles = topic_titles
        self.token_key = token_key

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> Notifier:
        return cls(
            settings=settings,
            subscribers=SubscriberStore(settings.subscribers_table, settings.subscriptions_table),
            email=EmailChannel(settings.ses_configuration_set or None),
            slack=SlackChannel(secrets.resolve),
            topic_titles=TopicRules.load(settings.topic_rules_path or None).titles,
            token_key=secrets.resolve(settings.token_secret_name).encode(),
        )

    def deliver(self, items: Sequence[Item]) -> DeliveryReport:
        report = DeliveryReport()
        unique = list({item.uid: item for item in items}.values())
        following = self.subscribers.following({t for item in unique for t in item.topics})
        for subscriber, matched in match(unique, following).values():
            digest = compose(subscriber, matched, self.topic_titles)
            try:
                self.send(digest)
            except SendError as err:
                report.send_failures += 1
                if err.permanent and subscriber.channel == "slack":
                    self.subscribers.set_status(subscriber.subscriber_id, "broken")
                    report.broken.append(subscriber.subscriber_id)
                    logger.error(
                        "slack webhook gone, subscriber marked broken",
                        subscriber_id=subscriber.subscriber_id,
                        error=str(err),
                    )
                    continue
                report.failed_items.update(item.uid for item in matched)
                logger.warning(
                    "send failed",
                    subscriber_id=subscriber.subscriber_id,
                    channel=subscriber.channel,
                    error=str(err),
                )
                continue
            report.digests[subscriber.channel] += 1
            report.items_delivered += len(matched)
        return report

    def send(self, digest: Digest) -> None:
        subscriber = digest.subscriber
        if not subscriber.active:  # never send to anyone who is not active
            return
        if subscriber.channel == "slack":
            self.slack.send(subscriber.address, render_slack(digest))
            return
        self.email.send(
            self.email_message(digest), self.settings.sender_address, subscriber.address
        )

    def email_message(self, digest: Digest) -> EmailMessage:
        subscriber: Subscriber = digest.subscriber
        link = unsubscribe_url(
            self.settings.unsubscribe_base_url, subscriber.subscriber_id, self.token_key
        )
        rendered = render_email(digest, unsubscribe_url=link, app_name=self.settings.app_name)
        envelope = Envelope(
            sender=self.settings.sender_address,
            to=subscriber.address,
            digest_id=digest_id(subscriber.subscriber_id, [i.uid for i in digest.items]),
            list_id=self.settings.list_id,
            unsubscribe_url=link,
            unsubscribe_mailto=self.settings.unsubscribe_mailto,
        )
        return build_message(rendered, envelope)


def process_event(event: dict[str, Any], notifier: Notifier) -> dict[str, Any]:
    """An SQS batch in, the partial-batch response out (ReportBatchItemFailures).

    A malformed record and every record whose items could not be sent are reported as
    failures: SQS retries them and, after maxReceiveCount, moves them to the DLQ.
    """
    records = list(deliveries(event))
    failures = [r.message_id for r in records if r.item is None]
    for record in records:
        if record.item is None:
            logger.error("malformed delivery", message_id=record.message_id, error=record.error)
    items = [r.item for r in records if r.item is not None]
    report = notifier.deliver(items)
    failures += [r.message_id for r in records if r.item and r.item.uid in report.failed_items]

    metrics.add_metric("MalformedDeliveries", MetricUnit.Count, len(records) - len(items))
    for channel, count in report.digests.items():
        metrics.add_metric(f"DigestsSent{channel.capitalize()}", MetricUnit.Count, count)
    metrics.add_metric("ItemsDelivered", MetricUnit.Count, report.items_delivered)
    metrics.add_metric("SendFailures", MetricUnit.Count, report.send_failures)
    logger.info(
        "batch delivered",
        records=len(records),
        failed=len(failures),
        digests=dict(report.digests),
        items_delivered=report.items_delivered,
    )
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failures]}
