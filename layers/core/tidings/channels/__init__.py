"""Delivery channels: SES email and Slack incoming webhooks."""


class SendError(Exception):
    """A send failed. `permanent` failures (a deleted webhook, a rejected address) mark the
    subscriber broken and are not retried; the others go back to the queue."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
