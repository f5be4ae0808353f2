"""SlackChannel against a local webhook sink: success, permanent and transient failures,
retries, and the webhook URL (a secret) never showing up in an error."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tidings.channels import SendError
from tidings.channels.slack import SlackChannel
from tidings.digest.compose import compose
from tidings.digest.slack import SlackMessage, render_slack
from tidings.local.httpserver import LocalServer, Response
from tidings.model import Item, Subscriber

HOOK = "/services/T0000/B0000/XXXXSECRETXXXX"
SECRET_PART = "XXXXSECRETXXXX"
REF = "slack/webhooks/team-a"


def messages(count: int = 1) -> list[SlackMessage]:
    sub = Subscriber("s1", "slack", REF)
    items = [
        Item(
            "f",
            f"k{n}",
            f"Item {n}",
            f"https://example.org/{n}",
            "Summary",
            "2024-01-01T00:00:00+00:00",
            ("alpha",),
        )
        for n in range(count)
    ]
    return render_slack(compose(sub, items, {"alpha": "Alpha"}))


def channel(server: LocalServer, retries: int = 2) -> SlackChannel:
    return SlackChannel(lambda ref: server.url(HOOK), timeout=5, retries=retries)


def sequence(*responses: Response) -> Callable[[dict[str, str]], Response]:
    """A route answering with each response in turn, then repeating the last."""
    calls = {"n": 0}

    def route(headers: dict[str, str]) -> Response:
        index = min(calls["n"], len(responses) - 1)
        calls["n"] += 1
        return responses[index]

    return route


def ok() -> Response:
    return Response(200, b"ok", {"Content-Type": "text/plain"})


def assert_no_secret(err: SendError, server: LocalServer) -> None:
    for text in (str(err), repr(err), *map(str, err.args)):
        assert server.url(HOOK) not in text
        assert SECRET_PART not in text
        assert HOOK not in text


def test_ok_posts_blocks_without_unfurling(server: LocalServer) -> None:
    # Given: a webhook that answers 200 ok
    server.routes[HOOK] = ok()
    resolved: list[str] = []

    def resolve(ref: str) -> str:
        resolved.append(ref)
        return server.url(HOOK)

    sent = messages()
    # When
    SlackChannel(resolve).send(REF, sent)
    # Then: the resolver got the subscriber's reference, and the payload is the blocks
    assert resolved == [REF]
    posted = server.posted_json(HOOK)
    assert len(posted) == 1
    assert posted[0]["blocks"] == sent[0].blocks
    assert posted[0]["text"] == sent[0].text
    assert posted[0]["unfurl_links"] is False
    assert posted[0]["unfurl_media"] is False
    _, _, headers, _ = server.requests[0]
    assert headers["content-type"].startswith("application/json")


def test_every_message_of_a_split_digest_is_posted_in_order(server: LocalServer) -> None:
    server.routes[HOOK] = ok()
    sent = messages(40)
    assert len(sent) > 1
    channel(server).send(REF, sent)
    posted = server.posted_json(HOOK)
    assert [p["blocks"] for p in posted] == [m.blocks for m in sent]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, b"no_service"),
        (410, b"channel_is_archived"),
        (403, b"invalid_token"),
        (403, b"action_prohibited"),
        (400, b"channel_not_found"),
    ],
)
def test_gone_webhook_is_a_permanent_failure(server: LocalServer, status: int, body: bytes) -> None:
    server.routes[HOOK] = Response(status, body, {"Content-Type": "text/plain"})
    with pytest.raises(SendError) as caught:
        channel(server).send(REF, messages())
    assert caught.value.permanent is True
    assert str(status) in str(caught.value)
    assert body.decode() in str(caught.value)
    assert len(server.requests) == 1  # not retried
    assert_no_secret(caught.value, server)


def test_server_error_then_ok_succeeds_after_a_retry(server: LocalServer) -> None:
    # Given: a webhook that fails once with 500, then accepts
    server.routes[HOOK] = sequence(Response(500, b"internal_error"), ok())
    # When / Then: send returns normally, after two attempts with the same payload
    sent = messages()
    assert channel(server).send(REF, sent) is None
    posted = server.posted_json(HOOK)
    assert len(posted) == 2
    assert posted[0] == posted[1]
    assert posted[1]["blocks"] == sent[0].blocks


def test_persistent_503_is_a_transient_failure(server: LocalServer) -> None:
    server.routes[HOOK] = Response(503, b"service_unavailable")
    with pytest.raises(SendError) as caught:
        channel(server, retries=1).send(REF, messages())
    assert caught.value.permanent is False
    assert "503" in str(caught.value)
    assert len(server.requests) == 2  # the first attempt and one retry
    assert_no_secret(caught.value, server)


def test_rate_limited_then_ok_succeeds(server: LocalServer) -> None:
    server.routes[HOOK] = sequence(
        Response(429, b"rate_limited", {"Retry-After": "0"}),
        ok(),
    )
    channel(server).send(REF, messages())
    assert len(server.posted_json(HOOK)) == 2


def test_unreachable_webhook_is_a_transient_failure() -> None:
    # Given: a port where nothing listens any more
    with LocalServer() as gone:
        url = gone.url(HOOK)
    # When
    with pytest.raises(SendError) as caught:
        SlackChannel(lambda ref: url, timeout=5, retries=0).send(REF, messages())
    # Then
    assert caught.value.permanent is False
    assert url not in str(caught.value)
    assert SECRET_PART not in str(caught.value)


def test_resolver_failure_is_a_transient_failure(server: LocalServer) -> None:
    def broken(ref: str) -> str:
        raise RuntimeError(f"cannot read {server.url(HOOK)}")

    with pytest.raises(SendError) as caught:
        SlackChannel(broken).send(REF, messages())
    assert caught.value.permanent is False
    assert "RuntimeError" in str(caught.value)
    assert_no_secret(caught.value, server)
    assert server.requests == []


def test_webhook_secret_that_is_not_an_http_url_gives_send_error(server: LocalServer) -> None:
    # Given: a mis-stored secret: the webhook URL without its scheme
    secret = "hooks.slack.example" + HOOK
    # When / Then: a SendError (the notifier's contract), and the secret is not in it
    with pytest.raises(SendError) as caught:
        SlackChannel(lambda ref: secret).send(REF, messages())
    assert SECRET_PART not in str(caught.value)
