"""Slack Block Kit digests, built with slack-sdk's block models (which validate limits).

Every piece of feed text is escaped for mrkdwn (&, <, >), so a title holding `<!channel>`,
`<@U123>` or `<https://evil|click>` renders as text and pings or links nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from tidings.digest.compose import Digest
from tidings.digest.render import human_date, safe_url
from tidings.feeds.text import one_line, shorten
from tidings.model import Item

MAX_BLOCKS = 50
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
SUMMARY_LIMIT = 280


def escape(text: str) -> str:
    """Slack's three mrkdwn control characters, escaped as Slack documents."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Budgets that keep a section under 3000 characters whatever the feed sends:
# title 600 + summary 800 (both after escaping) + link 1500 + markup < 3000
TITLE_BUDGET = 600
SUMMARY_BUDGET = 800
MAX_LINK = 1500


def fit(text: str, budget: int) -> str:
    """Escape `text`, shortening the raw text (so no entity is ever cut) until it fits."""
    limit = min(len(text), budget)
    while True:
        escaped = escape(shorten(text, limit))
        if len(escaped) <= budget:
            return escaped
        limit -= max(1, (len(escaped) - budget) // 4)


def _link(url: str, label: str) -> str:
    url = safe_url(url)
    if not url or len(url) > MAX_LINK:
        return f"*{label}*"
    # `|`, `<` and `>` would end the link target early: percent-encode them; `&` is escaped
    url = escape(quote(url, safe=":/?#[]@!$&'()*+,;=%~-._"))
    return f"*<{url}|{label}>*"


def _item_blocks(item: Item) -> list[Block]:
    text = _link(item.link, fit(one_line(item.title), TITLE_BUDGET))
    if item.summary:
        text += "\n" + fit(shorten(item.summary, SUMMARY_LIMIT), SUMMARY_BUDGET)
    context = fit(one_line(item.feed_title) or item.feed_id, 300)
    if item.published:
        context += f" · {human_date(item.published)}"
    return [
        SectionBlock(text=MarkdownTextObject(text=text, verbatim=True)),
        ContextBlock(elements=[MarkdownTextObject(text=context, verbatim=True)]),
    ]


@dataclass(frozen=True, slots=True)
class SlackMessage:
    text: str  # notification fallback
    blocks: list[dict[str, Any]]


def _topic_label(title: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=f"*{fit(title, 200)}*", verbatim=True)])


def render_slack(digest: Digest) -> list[SlackMessage]:
    """One or more messages of at most 50 blocks: a long digest is split between items,
    never cut mid-item (Slack rejects a message over the limit rather than truncating it)."""
    bodies: list[list[Block]] = [[]]
    room = MAX_BLOCKS - 1  # the header
    for group in digest.groups:
        labelled = False
        for item in group.items:
            blocks = _item_blocks(item)
            if not labelled or not bodies[-1]:
                blocks = [
                    *([DividerBlock()] if bodies[-1] else []),
                    _topic_label(group.title),
                    *blocks,
                ]
            if len(bodies[-1]) + len(blocks) > room:
                bodies.append([])
                blocks = [_topic_label(group.title), *_item_blocks(item)]
            bodies[-1].extend(blocks)
            labelled = True
    messages = []
    for number, body in enumerate(bodies, start=1):
        suffix = "" if len(bodies) == 1 else f" ({number}/{len(bodies)})"
        header = shorten(one_line(digest.subject), HEADER_LIMIT - len(suffix)) + suffix
        blocks = [HeaderBlock(text=PlainTextObject(text=header)), *body]
        messages.append(SlackMessage(text=escape(header), blocks=[b.to_dict() for b in blocks]))
    return messages
