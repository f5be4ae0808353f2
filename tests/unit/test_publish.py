"""SNS messages stay under the size limits: summaries are cut, items never dropped."""

from __future__ import annotations

import json

from tidings.bus.publish import (
    BATCH_ENTRIES,
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    _batches,
    encode,
)
from tidings.model import Item


def item(n: int, summary: str = "short", title: str = "Title") -> Item:
    return Item("f", f"k{n}", f"{title} {n}", f"https://e.org/{n}", summary, None, ("t",))


def test_a_small_item_is_encoded_whole():
    assert Item.from_message(json.loads(encode(item(1)))) == item(1)


def test_a_huge_summary_is_cut_to_fit_and_the_item_kept():
    big = item(1, summary="é" * 300_000)  # 600 KB of UTF-8
    body = encode(big)
    assert len(body.encode()) <= MAX_MESSAGE_BYTES
    decoded = Item.from_message(json.loads(body))
    assert (decoded.key, decoded.title, decoded.link) == (big.key, big.title, big.link)
    assert decoded.summary.endswith("…") and len(decoded.summary) > 1000


def test_a_huge_title_is_cut_too():
    body = encode(item(1, title="x" * 400_000))
    assert len(body.encode()) <= MAX_MESSAGE_BYTES
    assert Item.from_message(json.loads(body)).key == "k1"


def test_batches_hold_at_most_ten_entries_and_256_kb():
    entries = [(item(n), encode(item(n, summary="s" * 60_000))) for n in range(25)]
    batches = _batches(entries)
    assert [e for b in batches for e in b] == entries  # order kept, nothing dropped
    for batch in batches:
        assert len(batch) <= BATCH_ENTRIES
        assert sum(len(body.encode()) + 1024 for _, body in batch) <= MAX_BATCH_BYTES
    small = _batches([(item(n), encode(item(n))) for n in range(25)])
    assert [len(b) for b in small] == [10, 10, 5]
