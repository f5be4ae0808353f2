"""The MIME message we hand to SES: structure, list headers, identity, header safety; and the
signed unsubscribe tokens its links carry."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage, Message
from urllib.parse import parse_qs, urlsplit

import pytest

from tidings import tokens
from tidings.channels.email import Envelope, build_message, digest_id
from tidings.digest.compose import compose
from tidings.digest.render import RenderedEmail, render_email
from tidings.model import Item, Subscriber

SENDER = "Tidings <digests@news.tidings.example>"
MAILTO = "mailto:digests@news.tidings.example?subject=unsubscribe"
KEY = b"k" * 32


def envelope(
    *, digest: str = "d" * 32, unsubscribe_url: str = "https://api.tidings.example/u?s=1&t=x"
) -> Envelope:
    return Envelope(
        sender=SENDER,
        to="reader@example.com",
        digest_id=digest,
        list_id="tidings digests <digests.tidings.example>",
        unsubscribe_url=unsubscribe_url,
        unsubscribe_mailto=MAILTO,
    )


RENDERED = RenderedEmail(
    subject="2 new items: Border management",
    html="<!DOCTYPE html><html><body><p>Caf\u00e9 &amp; news</p></body></html>",
    text="Caf\u00e9 & news\n",
)


def reparse(message: EmailMessage) -> Message:
    """What a receiving MTA would see: the bytes, parsed back."""
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)


def header_block(message: EmailMessage) -> str:
    raw = message.as_bytes()
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii")


# --- structure ------------------------------------------------------------------------------


def test_multipart_alternative_text_then_html() -> None:
    parsed = reparse(build_message(RENDERED, envelope()))
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())  # type: ignore[attr-defined]
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    # (the SMTP policy puts CRLF line endings on the wire)
    assert parts[0].get_content().replace("\r\n", "\n") == RENDERED.text
    assert parts[1].get_content().replace("\r\n", "\n").rstrip("\n") == RENDERED.html
    assert all(p.get_content_charset() == "utf-8" for p in parts)


def test_basic_headers() -> None:
    parsed = reparse(build_message(RENDERED, envelope()))
    assert parsed["From"] == SENDER
    assert parsed["To"] == "reader@example.com"
    assert parsed["Subject"] == RENDERED.subject
    assert parsed["Date"]
    assert parsed["List-Id"] == "tidings digests <digests.tidings.example>"


# --- list headers (RFC 2369, RFC 8058) ------------------------------------------------------


def test_list_unsubscribe_has_https_and_mailto() -> None:
    parsed = reparse(build_message(RENDERED, envelope()))
    value = str(parsed["List-Unsubscribe"])
    assert "<https://api.tidings.example/u?s=1&t=x>" in value
    assert f"<{MAILTO}>" in value
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_long_list_unsubscribe_url_is_not_rfc2047_encoded() -> None:
    # Given: a realistically long unsubscribe URL (long subscriber id and token)
    url = "https://abcdefghij.execute-api.eu-central-1.amazonaws.com/unsubscribe?" + (
        "s=" + "sub-" + "0123456789" * 12 + "&t=" + "A" * 32
    )
    # When
    message = build_message(RENDERED, envelope(unsubscribe_url=url))
    headers = header_block(message)
    # Then: the raw header carries the URL verbatim, on one line, never as an encoded-word
    line = next(h for h in headers.split("\r\n") if h.startswith("List-Unsubscribe:"))
    assert f"<{url}>" in line
    assert f"<{MAILTO}>" in line
    assert "=?" not in headers.split("Subject:")[0] + line
    assert str(reparse(message)["List-Unsubscribe"]) == f"<{url}>, <{MAILTO}>"


# --- identity -------------------------------------------------------------------------------


def test_message_id_is_stable_per_digest_id() -> None:
    first = build_message(RENDERED, envelope(digest="a" * 32))
    again = build_message(RENDERED, envelope(digest="a" * 32))
    other = build_message(RENDERED, envelope(digest="b" * 32))
    assert first["Message-ID"] == again["Message-ID"] == f"<{'a' * 32}@news.tidings.example>"
    assert other["Message-ID"] != first["Message-ID"]


def test_digest_id_ignores_item_order_but_not_content_or_subscriber() -> None:
    uids = ["u1", "u2", "u3"]
    assert digest_id("s1", uids) == digest_id("s1", list(reversed(uids)))
    assert digest_id("s1", uids) != digest_id("s2", uids)
    assert digest_id("s1", uids) != digest_id("s1", uids[:2])
    assert len(digest_id("s1", uids)) == 32


def test_digest_id_from_item_uids_independent_of_batch_order() -> None:
    items = [Item("f", f"k{n}", f"T{n}", f"https://e.org/{n}", "", None, ("a",)) for n in range(4)]
    forward = digest_id("s1", [i.uid for i in items])
    backward = digest_id("s1", [i.uid for i in reversed(items)])
    assert forward == backward


# --- header injection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "News\r\nBcc: victim@example.com",
        "News\nBcc: victim@example.com",
        "News\rBcc: victim@example.com",
        "News\r\n\r\n<html>body injection",
        "News\u2028Bcc: victim@example.com",
        "News\x0bBcc: victim@example.com\x85X-Evil: 1",
    ],
)
def test_subject_cannot_inject_headers(subject: str) -> None:
    # Given: a rendered email whose subject carries line breaks from feed text
    rendered = RenderedEmail(subject=subject, html=RENDERED.html, text=RENDERED.text)
    # When: built and parsed back from the bytes SES would send
    parsed = reparse(build_message(rendered, envelope()))
    # Then: there is no injected header, the subject is one line, the body is intact
    assert parsed["Bcc"] is None
    assert parsed["X-Evil"] is None
    assert parsed.get_content_type() == "multipart/alternative"
    assert "\n" not in str(parsed["Subject"])
    assert "\r" not in str(parsed["Subject"])
    assert str(parsed["Subject"]).startswith("News ")


def test_topic_title_with_crlf_cannot_inject_headers_end_to_end() -> None:
    # Given: a topic title and an item title from feed text with CR/LF
    sub = Subscriber("s1", "email", "reader@example.com")
    item = Item("f", "k", "Title\r\nBcc: x@example.com", "https://e.org/", "", None, ("evil",))
    digest = compose(sub, [item], {"evil": "Evil\r\nBcc: victim@example.com"})
    # When
    rendered = render_email(digest, unsubscribe_url="https://api.tidings.example/u?s=s1&t=x")
    parsed = reparse(build_message(rendered, envelope()))
    # Then
    assert parsed["Bcc"] is None
    assert str(parsed["Subject"]) == "1 new item: Evil Bcc: victim@example.com"


def test_non_ascii_subject_round_trips() -> None:
    rendered = RenderedEmail(
        subject="3 new items: Migration \u2013 Caf\u00e9 \u00fcber alles " + "x" * 120,
        html=RENDERED.html,
        text=RENDERED.text,
    )
    parsed = reparse(build_message(rendered, envelope()))
    assert str(parsed["Subject"]) == rendered.subject


# --- tokens ---------------------------------------------------------------------------------


def test_token_round_trip() -> None:
    token = tokens.sign("sub-1", KEY)
    assert tokens.verify("sub-1", token, KEY)
    assert token == tokens.sign("sub-1", KEY)  # deterministic
    assert "=" not in token
    assert "/" not in token
    assert "+" not in token


def test_token_rejected_for_another_subscriber_key_or_purpose() -> None:
    token = tokens.sign("sub-1", KEY)
    assert not tokens.verify("sub-2", token, KEY)
    assert not tokens.verify("sub-1", token, b"another key")
    assert not tokens.verify("sub-1", token, KEY, purpose="confirm")
    assert not tokens.verify("sub-1", token[:-1], KEY)
    assert not tokens.verify("sub-1", "", KEY)


def test_token_verify_rejects_non_ascii_garbage() -> None:
    # A token arrives from a query string anyone can write; garbage must be a plain "no"
    assert tokens.verify("sub-1", "\u00e9t\u00e9", KEY) is False


def test_unsubscribe_url_carries_subscriber_and_token() -> None:
    url = tokens.unsubscribe_url("https://api.tidings.example/prod/", "sub 1&x=y", KEY)
    parts = urlsplit(url)
    assert parts.scheme == "https"
    assert parts.netloc == "api.tidings.example"
    assert parts.path == "/prod/unsubscribe"
    query = parse_qs(parts.query)
    assert query == {"s": ["sub 1&x=y"], "t": [tokens.sign("sub 1&x=y", KEY)]}
    assert tokens.verify(query["s"][0], query["t"][0], KEY)
