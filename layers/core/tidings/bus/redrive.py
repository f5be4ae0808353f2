"""Move dead letters back to the deliveries queue, after the cause has been fixed."""

from __future__ import annotations

from dataclasses import dataclass

from tidings import aws


@dataclass(frozen=True, slots=True)
class RedriveResult:
    moved: int
    left: bool  # True when the limit stopped the move before the DLQ was empty


def redrive(dlq_url: str, queue_url: str, limit: int = 10_000) -> RedriveResult:
    """Send each dead letter to the queue again, then delete it from the DLQ.

    Send-then-delete: a crash in between leaves a copy in both queues, and the notifier's
    exactly-once delivery absorbs the duplicate; nothing is lost.
    """
    sqs = aws.client("sqs")
    moved = 0
    while moved < limit:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, limit - moved),
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return RedriveResult(moved, left=False)
        for message in messages:
            attributes = message.get("MessageAttributes", {})
            sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=message["Body"],
                **({"MessageAttributes": attributes} if attributes else {}),
            )
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return RedriveResult(moved, left=True)
