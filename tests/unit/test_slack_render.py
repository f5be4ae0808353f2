"""Slack Block Kit digests: escaping, Slack's limits, splitting long digests."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from tidings.digest.compose import Digest, compose
from tidings.digest.slack import (
    HEADER_LIMIT,
    MAX_BLOCKS,
    SECTION_LIMIT,
    SlackMessage,
    escape,
    render_slack,
)
from tidings.feeds.parse import parse_feed
from tidings.feeds.topics import TopicRules
from tidings.model import Item, Subscriber

SUBSCRIBER = Subscriber("sub-1", "slack", "slack/webhook/team")
LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>")


def make_item(
    key: str,
    *,
    title: str = "",
    link: str = "",
    summary: str = "A short summary.",
    topics: tuple[str, ...] = ("alpha",),
    day: int = 1,
    feed_title: str = "Example feed",
) -> Item:
    return Item(
        feed_id="f",
        key=key,
        title=title or f"Item {key}",
        link=link or f"https://example.org/items/{key}",
        summary=summary,
        published=f"2024-01-{day:02d}T12:00:00+00:00",
        topics=topics,
        feed_title=feed_title,
    )


def texts(value: Any) -> Iterator[str]:
    """Every "text" string anywhere in a block structure."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str):
                yield inner
            else:
                yield from texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from texts(inner)


def all_texts(messages: list[SlackMessage]) -> list[str]:
    return [t for m in messages for t in texts(m.blocks)] + [m.text for m in messages]


def assert_within_limits(messages: list[SlackMessage]) -> None:
    for message in messages:
        assert 1 <= len(message.blocks) <= MAX_BLOCKS
        assert message.blocks[0]["type"] == "header"
        assert len(message.blocks[0]["text"]["text"]) <= HEADER_LIMIT
        for block in message.blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= SECTION_LIMIT
            # slack-sdk's own models accept every block (to_dict() validates limits)
            parsed = Block.parse(block)
            assert parsed is not None
            assert parsed.to_dict() == block


def big_digest(titles: dict[str, str] | None = None) -> tuple[Digest, list[Item]]:
    """60 items spread over the topics (by default, 5 topics)."""
    titles = titles or {f"t{n}": f"Topic {n}" for n in range(5)}
    topics = list(titles)
    items = [
        make_item(
            f"k{n:02d}",
            topics=(topics[n % len(topics)],),
            day=n % 28 + 1,
            summary="Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8,
        )
        for n in range(60)
    ]
    return compose(SUBSCRIBER, items, titles), items


# --- escape ---------------------------------------------------------------------------------


def test_escape_the_three_control_characters() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("&lt;") == "&amp;lt;"  # already-escaped text stays literal
    assert escape("plain *text* _ok_") == "plain *text* _ok_"


# --- hostile feed text ----------------------------------------------------------------------


def test_mentions_and_links_in_a_title_are_neutralised() -> None:
    # Given: a title trying to ping the channel, a user, and smuggle a link
    title = "<!channel> hi <@U123> <https://evil.example|click>"
    item = make_item(
        "evil",
        title=title,
        summary="<!here> and <!subteam^S1> <https://evil.example/2|more>",
        feed_title="<!everyone> feed",
    )
    # When
    messages = render_slack(compose(SUBSCRIBER, [item], {"alpha": "Alpha"}))
    # Then: no block text holds the control sequences, only their escaped forms
    found = all_texts(messages)
    joined = "\n".join(found)
    for raw in ("<!channel>", "<@U123>", "<https://evil", "<!here>", "<!subteam", "<!everyone>"):
        assert raw not in joined
    assert "&lt;!channel&gt; hi &lt;@U123&gt; &lt;https://evil.example|click&gt;" in joined
    assert "&lt;!here&gt;" in joined
    assert "&lt;!everyone&gt; feed" in joined
    # and the only Slack link is the item's own
    links = [m.group(1) for t in found for m in LINK.finditer(t)]
    assert links == ["https://example.org/items/evil"]
    assert_within_limits(messages)


def test_mrkdwn_sections_are_verbatim() -> None:
    messages = render_slack(compose(SUBSCRIBER, [make_item("a")], {"alpha": "Alpha"}))
    sections = [b for b in messages[0].blocks if b["type"] == "section"]
    assert sections
    assert all(b["text"].get("verbatim") is True for b in sections)


@pytest.mark.parametrize(
    "link",
    [
        "https://example.org/a|<!channel>",
        "https://example.org/a>|<!channel> x",
        "https://example.org/a?q=1|2&x=<y>",
        "https://example.org/a b\n|c",
    ],
)
def test_link_cannot_break_out_of_link_syntax(link: str) -> None:
    # Given: an item whose link carries `|`, `>` or `<`
    item = make_item("l", title="Safe title", link=link)
    # When
    messages = render_slack(compose(SUBSCRIBER, [item], {"alpha": "Alpha"}))
    section = next(b for b in messages[0].blocks if b["type"] == "section")
    text = section["text"]["text"]
    # Then: exactly one well-formed link, whose label is the title, whose target is the URL
    matches = list(LINK.finditer(text))
    assert len(matches) == 1
    target, label = matches[0].groups()
    assert label == "Safe title"
    assert target.startswith("https://example.org/a")
    assert not set("|<> \n") & set(target)
    assert "<!channel>" not in text
    assert text.count("<") == 1
    assert text.count(">") == 1


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,x", "ftp://x/y", ""])
def test_non_http_link_is_not_linked(link: str) -> None:
    item = Item("f", "l", "No link here", link, "", None, ("alpha",))
    messages = render_slack(compose(SUBSCRIBER, [item], {"alpha": "Alpha"}))
    joined = "\n".join(all_texts(messages))
    assert "*No link here*" in joined
    assert not LINK.search(joined)
    assert "javascript:" not in joined


def test_unfurl_is_not_smuggled_into_blocks() -> None:
    messages = render_slack(compose(SUBSCRIBER, [make_item("a")], {"alpha": "Alpha"}))
    for message in messages:
        for block in message.blocks:
            assert "unfurl_links" not in block
            assert "unfurl_media" not in block


# --- limits ---------------------------------------------------------------------------------


def test_icmpd_digest_is_one_valid_message(icmpd_bytes: bytes, rules: TopicRules) -> None:
    items = parse_feed(icmpd_bytes, feed_id="icmpd", rules=rules).items
    messages = render_slack(compose(SUBSCRIBER, items, rules.titles))
    assert len(messages) == 1
    assert_within_limits(messages)
    links = Counter(m.group(1) for t in all_texts(messages) for m in LINK.finditer(t))
    assert set(links) == {i.link for i in items}
    assert set(links.values()) == {1}


def test_long_title_summary_and_feed_title_stay_within_limits() -> None:
    # Given: texts that grow five-fold when escaped
    item = make_item(
        "big",
        title="&" * 2000,
        summary="<>" * 3000,
        feed_title="&" * 400,
        link="https://example.org/" + "p" * 1500,
    )
    # When
    messages = render_slack(compose(SUBSCRIBER, [item], {"alpha": "A" * 400}))
    # Then
    assert_within_limits(messages)


def test_sixty_items_split_into_several_valid_messages_each_item_once() -> None:
    # Given: 60 items over 5 topics
    digest, items = big_digest()
    # When
    messages = render_slack(digest)
    # Then: more than one message, each valid, and every item linked exactly once overall
    assert len(messages) > 1
    assert_within_limits(messages)
    links = Counter(m.group(1) for t in all_texts(messages) for m in LINK.finditer(t))
    assert links == Counter(i.link for i in items)
    # ... in digest order, never splitting an item's section from its context
    ordered = [m.group(1) for msg in messages for t in texts(msg.blocks) for m in LINK.finditer(t)]
    assert ordered == [i.link for i in digest.items]
    for message in messages:
        types = [b["type"] for b in message.blocks]
        for index, kind in enumerate(types):
            if kind == "section":
                assert types[index + 1] == "context"


def test_each_split_message_starts_with_its_topic_label() -> None:
    digest, _ = big_digest()
    messages = render_slack(digest)
    titles = {g.title for g in digest.groups}
    for message in messages:
        first = message.blocks[1]
        assert first["type"] == "context"
        assert first["elements"][0]["text"].strip("*") in titles


@pytest.mark.parametrize("bundled_titles", [False, True], ids=["short-subject", "icmpd-subject"])
def test_split_messages_are_numbered_in_their_headers(
    rules: TopicRules, bundled_titles: bool
) -> None:
    # Given: 60 items over short topic titles, or over all the bundled ICMPD topics (whose
    # titles make the subject close to the 150-character header limit)
    digest, _ = big_digest(rules.titles if bundled_titles else None)
    # When
    messages = render_slack(digest)
    # Then: every part says which part it is, within the header limit
    headers = [m.blocks[0]["text"]["text"] for m in messages]
    assert len(messages) > 1
    for number, header in enumerate(headers, start=1):
        assert len(header) <= HEADER_LIMIT
        assert header.endswith(f"({number}/{len(messages)})"), header
    assert len(set(headers)) == len(headers)


def test_fallback_text_is_escaped_header() -> None:
    messages = render_slack(compose(SUBSCRIBER, [make_item("a")], {"alpha": "R&D <team>"}))
    assert messages[0].text == "1 new item: R&amp;D &lt;team&gt;"
    assert messages[0].blocks[0]["text"]["text"] == "1 new item: R&D <team>"
