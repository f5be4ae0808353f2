"""Signed unsubscribe tokens (HMAC-SHA256), verifiable by the subscription API."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode


def sign(subscriber_id: str, secret: bytes, purpose: str = "unsubscribe") -> str:
    mac = hmac.new(secret, f"{purpose}:{subscriber_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")


def verify(subscriber_id: str, token: str, secret: bytes, purpose: str = "unsubscribe") -> bool:
    # compare bytes: compare_digest refuses non-ASCII str, and a token is attacker input
    expected = sign(subscriber_id, secret, purpose).encode()
    return hmac.compare_digest(expected, token.encode("utf-8", "replace"))


def unsubscribe_url(base_url: str, subscriber_id: str, secret: bytes) -> str:
    query = urlencode({"s": subscriber_id, "t": sign(subscriber_id, secret)})
    return f"{base_url.rstrip('/')}/unsubscribe?{query}"
