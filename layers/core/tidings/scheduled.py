"""The digest run: hourly, send the daily/weekly digests whose local send time has come."""

from __future__ import annotations

import time
from collections.abc import Callable

from tidings.notify import TIME_RESERVE, DeliveryReport, Notifier, Outcome
from tidings.observability import logger
from tidings.settings import NotifierSettings
from tidings.store.deliveries import DigestQueue


class DigestRun:
    def __init__(
        self, notifier: Notifier, queue: DigestQueue, clock: Callable[[], float] = time.time
    ) -> None:
        self.notifier = notifier
        self.queue = queue
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> DigestRun:
        notifier = Notifier.from_settings(settings)
        return cls(notifier, notifier.queue)

    def run(self) -> DeliveryReport:
        """Each due subscriber gets one digest of everything queued for them, then the queue
        is cleared of what was delivered. A failed send leaves the items queued (and still
        due), so the next hourly run tries again; a subscriber who is no longer active gets
        nothing and their queue is dropped. One subscriber's trouble never stops the run."""
        report = DeliveryReport()
        for subscriber_id in self.queue.due_subscribers(int(self.clock())):
            if self.notifier.time_left() < TIME_RESERVE:
                logger.warning("digest run out of time; the rest stay due for the next run")
                break
            try:
                self._send_one(subscriber_id, report)
            except Exception:  # noqa: BLE001 - e.g. throttling: this subscriber waits an hour
                logger.exception("digest failed", subscriber_id=subscriber_id)
                report.send_failures += 1
        return report

    def _send_one(self, subscriber_id: str, report: DeliveryReport) -> None:
        queued = self.queue.pending(subscriber_id)
        subscriber = self.notifier.subscribers.get(subscriber_id)
        if subscriber is None or not subscriber.active:
            logger.info(
                "dropping queued digest of inactive subscriber",
                subscriber_id=subscriber_id,
                items=len(queued),
            )
            self.queue.remove(subscriber_id, [i.uid for i in queued])
            return
        outcome = self.notifier.deliver_digest(subscriber, queued, report)
        if outcome in (Outcome.SENT, Outcome.ALREADY_SENT):
            self.queue.remove(subscriber_id, [i.uid for i in queued])
