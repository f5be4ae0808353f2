"""Delivery channels: SES email and Slack incoming webhooks."""


class SendError(Exception):
    """A send failed. A `permanent` Slack failure (the webhook is gone) marks the subscriber
    broken and is not retried. Everything else, email rejections included (as often our SES
    configuration as the address), goes back to the queue and on to the DLQ and its alarm."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
