"""The notifier: items in, one digest per subscriber out, each (subscriber, item) once.

Exactly once, on top of at-least-once delivery everywhere (SNS, SQS, a poller re-publish):
1. each (subscriber, item) pair is *claimed* in the Deliveries ledger with a conditional
   write before anything is sent: a pair already sent is skipped, a pair another invocation
   is sending right now is retried later, whatever batch the item comes back in;
2. the send itself runs under powertools Idempotency, keyed by the digest (subscriber and
   item set), so a crash after sending and before the claims are marked sent does not send
   again when the same batch is redelivered after the claims' lease;
3. the claims are marked sent after the send (a failure here is logged, never retried).
A crash in the middle of the provider call itself (SES accepted, the process died before
powertools recorded it) can still repeat one digest once the in-progress record expires:
no email or webhook API offers a two-phase commit.
"""

from __future__ import annotations

import enum
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from tidings.bus.events import deliveries
from tidings.cadence import next_send_at
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
from tidings.store.deliveries import DeliveryLedger, DigestQueue
from tidings.store.subscribers import SubscriberStore
from tidings.tokens import unsubscribe_url

DAY = 86400
# Longer than any way an item can come back: SQS retention (4 days), the DLQ (14 days)
# and a redrive from it.
IDEMPOTENCY_EXPIRY = 15 * DAY
LEDGER_EXPIRY = 30 * DAY
QUEUE_EXPIRY = 10 * DAY  # a weekly digest plus slack for a failing channel


TIME_RESERVE = 10.0  # seconds kept back at the end of an invocation
DEFAULT_LEASE = 120  # seconds a claim is held when the invocation's deadline is unknown


class Outcome(enum.Enum):
    SENT = "sent"
    ALREADY_SENT = "already sent"
    BUSY = "busy elsewhere"  # some items are being sent by another invocation
    FAILED = "failed"
    BROKEN = "broken"
    SKIPPED = "skipped"


@dataclass(slots=True)
class DeliveryReport:
    digests: Counter[str] = field(default_factory=Counter)  # per channel
    items_delivered: int = 0
    items_queued: int = 0  # for daily/weekly digests
    duplicates_skipped: int = 0
    failed_items: set[str] = field(default_factory=set)  # item uids to hand back to the queue
    send_failures: int = 0
    broken: list[str] = field(default_factory=list)  # subscribers whose channel is gone

    def record_metrics(self) -> None:
        for channel, count in self.digests.items():
            metrics.add_metric(f"DigestsSent{channel.capitalize()}", MetricUnit.Count, count)
        metrics.add_metric("ItemsDelivered", MetricUnit.Count, self.items_delivered)
        metrics.add_metric("ItemsQueued", MetricUnit.Count, self.items_queued)
        metrics.add_metric("DuplicatesSkipped", MetricUnit.Count, self.duplicates_skipped)
        metrics.add_metric("SendFailures", MetricUnit.Count, self.send_failures)
        metrics.add_metric("SubscribersBroken", MetricUnit.Count, len(self.broken))


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
        ledger: DeliveryLedger,
        queue: DigestQueue,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.subscribers = subscribers
        self.email = email
        self.slack = slack
        self.topic_titles = topic_titles
        self.token_key = token_key
        self.ledger = ledger
        self.queue = queue
        self.clock = clock
        self.time_left: Callable[[], float] = lambda: float("inf")
        self.idempotency = IdempotencyConfig(
            event_key_jmespath="digest_id", expires_after_seconds=IDEMPOTENCY_EXPIRY
        )
        self._send_once = idempotent_function(
            data_keyword_argument="request",
            persistence_store=DynamoDBPersistenceLayer(table_name=settings.idempotency_table),
            config=self.idempotency,
        )(self._send)

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> Notifier:
        return cls(
            settings=settings,
            subscribers=SubscriberStore(settings.subscribers_table, settings.subscriptions_table),
            email=EmailChannel(),
            slack=SlackChannel(secrets.resolve),
            topic_titles=TopicRules.load(settings.topic_rules_path or None).titles,
            token_key=secrets.resolve(settings.token_secret_name).encode(),
            ledger=DeliveryLedger(settings.deliveries_table),
            queue=DigestQueue(settings.digest_queue_table),
        )

    def register_lambda_context(self, context: LambdaContext) -> None:
        """Idempotency records, claims and the time budget follow the invocation's deadline."""
        self.idempotency.register_lambda_context(context)
        self.time_left = lambda: context.get_remaining_time_in_millis() / 1000

    def lease_seconds(self) -> int:
        """A claim outlives this invocation by a little, never a redelivery cycle."""
        left = self.time_left()
        return DEFAULT_LEASE if left == float("inf") else int(left) + 30

    # -- a batch of new items ---------------------------------------------------------------

    def deliver(self, items: Sequence[Item]) -> DeliveryReport:
        """Immediate subscribers get one digest each now; daily/weekly ones get items queued."""
        report = DeliveryReport()
        unique = list({item.uid: item for item in items}.values())
        following = self.subscribers.following({t for item in unique for t in item.topics})
        now = int(self.clock())
        for subscriber, its_items in match(unique, following).values():
            if self.time_left() < TIME_RESERVE:  # hand the rest back before Lambda times out
                report.failed_items.update(item.uid for item in its_items)
                continue
            if subscriber.cadence == "immediate":
                self.deliver_digest(subscriber, its_items, report)
                continue
            due = next_send_at(subscriber, datetime.fromtimestamp(now, UTC))
            self.queue.enqueue(
                subscriber.subscriber_id, its_items, int(due.timestamp()), now + QUEUE_EXPIRY
            )
            report.items_queued += len(its_items)
        return report

    def deliver_digest(
        self, subscriber: Subscriber, items: Sequence[Item], report: DeliveryReport
    ) -> Outcome:
        """Send one digest of the items not yet delivered to this subscriber, exactly once.

        Never raises for one subscriber's trouble: a failure is counted, logged and its items
        handed back (report.failed_items), so the other subscribers of the batch still get
        theirs."""
        if not subscriber.active:  # never send to anyone who is not active
            return Outcome.SKIPPED
        now = int(self.clock())
        sid = subscriber.subscriber_id
        by_uid = {item.uid: item for item in items}
        try:
            claim = self.ledger.claim(
                sid, sorted(by_uid), now, self.lease_seconds(), now + LEDGER_EXPIRY
            )
        except Exception as err:  # noqa: BLE001 - e.g. throttling: retry this subscriber later
            return self._failed(subscriber, items, report, f"ledger: {type(err).__name__}", False)
        report.duplicates_skipped += len(claim.sent)
        if claim.busy:
            report.failed_items.update(claim.busy)  # being sent elsewhere: look again later
        if not claim.claimed:
            return Outcome.BUSY if claim.busy else Outcome.ALREADY_SENT
        pending = [by_uid[uid] for uid in claim.claimed]
        outcome = self._send_claimed(subscriber, pending, claim.claimed, report)
        return Outcome.BUSY if outcome is Outcome.SENT and claim.busy else outcome

    def _send_claimed(
        self, subscriber: Subscriber, items: list[Item], claimed: list[str], report: DeliveryReport
    ) -> Outcome:
        sid = subscriber.subscriber_id
        try:
            self._send_digest(subscriber, items)
        except SendError as err:
            self._release(sid, claimed)
            return self._failed(subscriber, items, report, str(err), err.permanent)
        except IdempotencyAlreadyInProgressError:
            return self._failed(subscriber, items, report, "already in progress", False)
        except Exception as err:  # noqa: BLE001 - a provider or library error: this subscriber only
            logger.exception("send crashed", subscriber_id=sid)
            self._release(sid, claimed)
            return self._failed(subscriber, items, report, type(err).__name__, False)
        try:
            self.ledger.mark_sent(sid, claimed, int(self.clock()) + LEDGER_EXPIRY)
        except Exception:  # noqa: BLE001 - sent already: never fail the batch for the record
            logger.exception("delivery sent but not recorded", subscriber_id=sid)
            metrics.add_metric("LedgerWriteFailures", MetricUnit.Count, 1)
        report.digests[subscriber.channel] += 1
        report.items_delivered += len(items)
        return Outcome.SENT

    def _send_digest(self, subscriber: Subscriber, items: Sequence[Item]) -> None:
        digest = compose(subscriber, items, self.topic_titles)
        uids = sorted(item.uid for item in items)
        request = {
            "digest_id": digest_id(subscriber.subscriber_id, uids),
            "subscriber_id": subscriber.subscriber_id,
            "items": uids,
        }
        self._send_once(request=request, digest=digest)

    def _release(self, subscriber_id: str, uids: list[str]) -> None:
        try:
            self.ledger.release(subscriber_id, uids)
        except Exception:  # noqa: BLE001 - the claims then expire with their lease
            logger.exception("claims not released", subscriber_id=subscriber_id)

    def _failed(
        self,
        subscriber: Subscriber,
        items: Sequence[Item],
        report: DeliveryReport,
        error: str,
        permanent: bool,
    ) -> Outcome:
        report.send_failures += 1
        if permanent and subscriber.channel == "slack":
            try:
                self.subscribers.set_status(subscriber.subscriber_id, "broken")
            except Exception:  # noqa: BLE001 - still never retried; the log says why
                logger.exception("could not mark subscriber broken")
            report.broken.append(subscriber.subscriber_id)
            logger.error(
                "slack webhook gone, subscriber marked broken",
                subscriber_id=subscriber.subscriber_id,
                error=error,
            )
            return Outcome.BROKEN
        # Email failures, permanent or not, go back to the queue and on to the DLQ: an SES
        # rejection is as often our configuration (identity, sandbox) as the address.
        report.failed_items.update(item.uid for item in items)
        logger.warning(
            "send failed",
            subscriber_id=subscriber.subscriber_id,
            channel=subscriber.channel,
            error=error,
        )
        return Outcome.FAILED

    # -- sending ----------------------------------------------------------------------------

    def _send(self, *, request: dict[str, Any], digest: Digest) -> dict[str, Any]:
        """The idempotent unit: runs once per digest_id (see the module docstring)."""
        subscriber = digest.subscriber
        if subscriber.channel == "slack":
            messages = render_slack(digest)
            self.slack.send(subscriber.address, messages)
            return {"channel": "slack", "messages": len(messages)}
        message = self.email_message(digest, request["digest_id"])
        ses_id = self.email.send(message, self.settings.sender_address, subscriber.address)
        return {"channel": "email", "ses_message_id": ses_id}

    def email_message(self, digest: Digest, digest_key: str) -> EmailMessage:
        subscriber: Subscriber = digest.subscriber
        link = unsubscribe_url(
            self.settings.unsubscribe_base_url, subscriber.subscriber_id, self.token_key
        )
        rendered = render_email(digest, unsubscribe_url=link, app_name=self.settings.app_name)
        envelope = Envelope(
            sender=self.settings.sender_address,
            to=subscriber.address,
            digest_id=digest_key,  # the same digest always gets the same Message-ID
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
    report.record_metrics()
    logger.info(
        "batch delivered",
        records=len(records),
        failed=len(failures),
        digests=dict(report.digests),
        items_delivered=report.items_delivered,
        items_queued=report.items_queued,
        duplicates_skipped=report.duplicates_skipped,
    )
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failures]}
