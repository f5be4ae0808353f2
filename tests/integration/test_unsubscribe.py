"""The unsubscribe endpoint (functions/api): GET asks, POST (or RFC 8058 one-click) acts."""

from __future__ import annotations

import copy

import pytest

from tidings.channels import secrets
from tidings.local.stack import LocalContext
from tidings.model import Subscriber
from tidings.store.subscribers import SubscriberStore
from tidings.tokens import sign

from .helpers import load_event, load_handler

ANA = Subscriber("ana", "email", "ana@example.org", topics=("border-management",))


@pytest.fixture
def api(stack, monkeypatch):
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    store = SubscriberStore(stack.table("SubscribersTable"), stack.table("SubscriptionsTable"))
    store.put(ANA)
    key = secrets.resolve(stack.token_secret).encode()
    return load_handler("api"), store, key


def call(handler, name: str, subscriber_id: str, token: str) -> dict:
    event = copy.deepcopy(load_event(name))
    event["queryStringParameters"] = {"s": subscriber_id, "t": token}
    event["rawQueryString"] = f"s={subscriber_id}&t={token}"
    return handler.lambda_handler(event, LocalContext())


def test_the_page_asks_and_changes_nothing(api):
    handler, store, key = api
    response = call(handler, "unsubscribe-page", "ana", sign("ana", key))
    assert response["statusCode"] == 200
    assert '<form method="post"' in response["body"]
    assert store.get("ana").status == "active"


def test_one_click_post_unsubscribes_and_the_index_follows(api):
    handler, store, key = api
    response = call(handler, "unsubscribe-one-click", "ana", sign("ana", key))
    assert response["statusCode"] == 200 and "Unsubscribed" in response["body"]
    assert store.get("ana").status == "unsubscribed"
    # the topic index carries the status too, so the notifier skips Ana at once
    following = store.following(["border-management"])["border-management"]
    assert following["ana"].status == "unsubscribed"
    # and a second click is harmless
    assert call(handler, "unsubscribe-one-click", "ana", sign("ana", key))["statusCode"] == 200


@pytest.mark.parametrize(
    ("subscriber_id", "token"),
    [("ana", "forged"), ("ana", ""), ("", "x"), ("ana", "été"), ("ben", "for-ana")],
)
def test_a_bad_token_changes_nothing(api, subscriber_id, token):
    handler, store, key = api
    if token == "for-ana":
        token = sign("ana", key)  # a valid token, but for someone else
    for name in ("unsubscribe-page", "unsubscribe-one-click"):
        response = call(handler, name, subscriber_id, token)
        assert response["statusCode"] == 400
    assert store.get("ana").status == "active"


def test_an_unknown_subscriber_with_a_valid_token_is_told_so(api):
    handler, _, key = api
    response = call(handler, "unsubscribe-one-click", "ghost", sign("ghost", key))
    assert response["statusCode"] == 404


def test_the_page_escapes_what_it_echoes(api):
    handler, store, key = api
    sneaky = 'x"><script>alert(1)</script>'
    store.put(Subscriber(sneaky, "email", "s@example.org"))
    body = call(handler, "unsubscribe-page", sneaky, sign(sneaky, key))["body"]
    assert "<script>alert(1)</script>" not in body
