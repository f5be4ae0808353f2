"""The unsubscribe endpoint behind every digest's link and List-Unsubscribe header.

GET shows a page with a confirm button and changes nothing: mail scanners and link previews
fetch GET links, and must not unsubscribe anyone. POST unsubscribes: the button, or a mail
client's RFC 8058 one-click POST (body `List-Unsubscribe=One-Click`). Both need the signed
token from the link; a bad or missing token changes nothing and says so.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from tidings.channels import secrets
from tidings.observability import logger, metrics
from tidings.settings import UnsubscribeSettings
from tidings.store.subscribers import SubscriberStore
from tidings.tokens import verify

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>body{{font:16px/1.5 Arial,Helvetica,sans-serif;max-width:32rem;margin:3rem auto;
padding:0 1rem;color:#111827}}button{{font:inherit;padding:.6rem 1.2rem;cursor:pointer}}</style>
</head><body><h1>{title}</h1>{body}</body></html>"""


def page(title: str, body: str, status: int = 200) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.TEXT_HTML,
        body=_PAGE.format(title=escape(title), body=body),
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


class Unsubscriber:
    def __init__(self, subscribers: SubscriberStore, token_key: bytes) -> None:
        self.subscribers = subscribers
        self.token_key = token_key

    @classmethod
    def from_settings(cls, settings: UnsubscribeSettings) -> Unsubscriber:
        return cls(
            SubscriberStore(settings.subscribers_table, settings.subscriptions_table),
            secrets.resolve(settings.token_secret_name).encode(),
        )

    def valid(self, subscriber_id: str, token: str) -> bool:
        return bool(subscriber_id) and verify(subscriber_id, token, self.token_key)

    def unsubscribe(self, subscriber_id: str) -> bool:
        """True when the subscriber exists (and is now, or already was, unsubscribed)."""
        subscriber = self.subscribers.get(subscriber_id)
        if subscriber is None:
            return False
        if subscriber.status != "unsubscribed":
            self.subscribers.put(replace(subscriber, status="unsubscribed"))
            metrics.add_metric("Unsubscribed", "Count", 1)
            logger.info("unsubscribed", subscriber_id=subscriber_id)
        return True


def build_app(unsubscriber: Unsubscriber) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()

    def link_params() -> tuple[str, str]:
        query = app.current_event.query_string_parameters or {}
        return query.get("s", ""), query.get("t", "")

    @app.get("/unsubscribe")
    def confirm_page() -> Response[str]:
        subscriber_id, token = link_params()
        if not unsubscriber.valid(subscriber_id, token):
            return page(
                "Link not valid",
                "<p>This unsubscribe link is incomplete or "
                "not valid. Use the link from the latest email.</p>",
                400,
            )
        action = f"?s={escape(subscriber_id)}&amp;t={escape(token)}"
        return page(
            "Unsubscribe?",
            "<p>You will get no more digests at this address.</p>"
            f'<form method="post" action="{action}"><button type="submit">'
            "Unsubscribe</button></form>",
        )

    @app.post("/unsubscribe")
    def unsubscribe() -> Response[str]:
        subscriber_id, token = link_params()
        if not unsubscriber.valid(subscriber_id, token):
            return page("Link not valid", "<p>Nothing was changed.</p>", 400)
        if not unsubscriber.unsubscribe(subscriber_id):
            return page("Already gone", "<p>There is no subscription for this link.</p>", 404)
        return page("Unsubscribed", "<p>You will get no more digests. Sorry to see you go.</p>")

    return app
