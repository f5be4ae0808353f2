"""Golden files: exactly what a subscriber receives from the ICMPD fixture feed.

Each case runs the real path (parse_feed -> match -> compose -> render_email / render_slack)
and compares the output, byte for byte, with a checked-in file under tests/golden/.

To regenerate after an intended change to rendering, run

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_golden.py

which rewrites the files and then still compares (so a regenerate run passes and a normal run
checks). Review the diff of tests/golden/ before committing it.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tidings.digest.compose import compose
from tidings.digest.render import render_email
from tidings.digest.slack import render_slack
from tidings.feeds.parse import parse_feed
from tidings.feeds.topics import TopicRules
from tidings.matching import match
from tidings.model import ALL_TOPICS, Item, Subscriber
from tidings.tokens import unsubscribe_url

GOLDEN = Path(__file__).parent.parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

# Fixed, so the signed unsubscribe link (and with it the whole email) is reproducible.
UNSUBSCRIBE_KEY = b"golden-key"
API_BASE = "https://tidings.example.org"


@dataclass(frozen=True)
class Case:
    name: str
    channel: str
    topics: tuple[str, ...]
    include: tuple[str, ...] = ()


CASES = [
    Case("email-border-management", "email", ("border-management",)),
    Case("email-all-topics", "email", (ALL_TOPICS,)),
    Case("slack-return-monitoring-trafficking", "slack", ("return-monitoring", "trafficking")),
    Case("email-all-topics-training", "email", (ALL_TOPICS,), include=("training",)),
]


@pytest.fixture(scope="module")
def icmpd_items(icmpd_bytes: bytes, rules: TopicRules) -> list[Item]:
    return parse_feed(icmpd_bytes, feed_id="icmpd-news", rules=rules).items


def subscriber_for(case: Case) -> Subscriber:
    address = "reader@example.org" if case.channel == "email" else "golden-webhook"
    return Subscriber(
        f"golden-{case.name}", case.channel, address, topics=case.topics, include=case.include
    )


def received(case: Case, items: list[Item], rules: TopicRules) -> dict[str, str]:
    """File suffix -> content, for what this subscriber would be sent."""
    subscriber = subscriber_for(case)
    following = {topic: {subscriber.subscriber_id: subscriber} for topic in case.topics}
    matched = match(items, following)
    assert subscriber.subscriber_id in matched, f"{case.name}: no items matched"
    digest = compose(subscriber, matched[subscriber.subscriber_id][1], rules.titles)
    if case.channel == "slack":
        messages = [{"text": m.text, "blocks": m.blocks} for m in render_slack(digest)]
        dumped = json.dumps(messages, indent=2, sort_keys=True, ensure_ascii=False)
        return {"slack.json": dumped + "\n"}
    link = unsubscribe_url(API_BASE, subscriber.subscriber_id, UNSUBSCRIBE_KEY)
    rendered = render_email(digest, unsubscribe_url=link)
    return {"html": rendered.html, "txt": rendered.text}


def lines(text: str) -> list[str]:
    """Lines for difflib, marking a missing final newline the way diff(1) does."""
    split = text.splitlines(keepends=True)
    if split and not split[-1].endswith("\n"):
        split[-1] += "\n\\ No newline at end of file\n"
    return split


def check_golden(path: Path, actual: str) -> None:
    data = actual.encode("utf-8")
    if UPDATE:
        path.write_bytes(data)
    assert path.exists(), f"{path} is missing; create it with UPDATE_GOLDEN=1"
    expected = path.read_bytes()
    if expected != data:
        diff = difflib.unified_diff(
            lines(expected.decode("utf-8", "replace")),
            lines(actual),
            fromfile=f"{path.name} (golden)",
            tofile=f"{path.name} (rendered)",
        )
        pytest.fail(
            f"{path.name} differs from the golden file (UPDATE_GOLDEN=1 regenerates it):\n"
            + "".join(diff),
            pytrace=False,
        )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rendered_digest_matches_golden_file(
    case: Case, icmpd_items: list[Item], rules: TopicRules
) -> None:
    outputs = received(case, icmpd_items, rules)
    for suffix, content in outputs.items():
        check_golden(GOLDEN / f"{case.name}.{suffix}", content)
