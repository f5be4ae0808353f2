"""Slack digests through the subscriber's incoming webhook, with slack-sdk's retry handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from tidings.channels import SendError
from tidings.digest.slack import SlackMessage

_QUIET = logging.getLogger("tidings.slack_sdk")
_QUIET.setLevel(logging.WARNING)
_QUIET.propagate = False

# Answers that mean the webhook is gone for good: stop retrying, mark the subscriber broken.
_GONE_BODIES = {
    "no_service",
    "channel_not_found",
    "channel_is_archived",
    "no_team",
    "invalid_token",
    "action_prohibited",
    "team_disabled",
}


class SlackChannel:
    def __init__(
        self, resolve_webhook: Callable[[str], str], timeout: int = 10, retries: int = 2
    ) -> None:
        self._resolve = resolve_webhook
        self._timeout = timeout
        self._retries = retries

    def send(self, webhook_ref: str, messages: Sequence[SlackMessage]) -> None:
        try:
            url = self._resolve(webhook_ref)
        except Exception as err:
            raise SendError(f"slack webhook secret unreadable: {type(err).__name__}") from err
        client = WebhookClient(
            url,
            timeout=self._timeout,
            logger=_QUIET,  # slack-sdk logs the URL (a secret) at DEBUG
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=self._retries),
                RateLimitErrorRetryHandler(max_retry_count=self._retries),
                ServerErrorRetryHandler(max_retry_count=self._retries),
            ],
        )
        for message in messages:
            try:
                response = client.send(
                    text=message.text, blocks=message.blocks, unfurl_links=False, unfurl_media=False
                )
            except Exception as err:  # noqa: BLE001 - slack-sdk and urllib errors may quote the URL
                raise SendError(f"slack webhook unreachable: {type(err).__name__}") from None
            if response.status_code == 200:
                continue
            body = (response.body or "").strip()
            gone = response.status_code in (404, 410) or body in _GONE_BODIES
            # the URL is a secret: report the status and Slack's one-word answer only
            raise SendError(f"slack webhook {response.status_code} {body[:40]}", permanent=gone)
