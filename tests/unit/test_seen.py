"""The packed seen-set: what a feed has published, bounded, never forgetting what is in the feed."""

from tidings.feeds.seen import DIGEST_SIZE, SeenSet, digest, merge, unpack


def keys(packed: bytes, *candidates: str) -> list[str]:
    """The candidates that `packed` holds, in the order they are packed."""
    by_digest = {digest(k): k for k in candidates}
    return [by_digest[d] for d in unpack(packed) if d in by_digest]


def test_a_first_poll_records_every_newly_seen_key() -> None:
    packed = merge(b"", current=["a", "b", "c"], newly_seen=["a", "b", "c"])
    assert keys(packed, "a", "b", "c") == ["a", "b", "c"]
    assert len(packed) == 3 * DIGEST_SIZE


def test_keys_still_in_the_feed_are_all_kept() -> None:
    # Given: a, b, c were seen; the feed now has d (new, published), a and b
    packed = merge(b"", ["a", "b", "c"], ["a", "b", "c"])
    # When: merged with a large memory for departed keys
    packed = merge(packed, current=["d", "a", "b"], newly_seen=["d"], keep_recent=10)
    # Then: nothing is lost, and the new key is first
    assert keys(packed, "a", "b", "c", "d") == ["d", "a", "b", "c"]


def test_a_current_key_is_never_dropped_even_with_keep_recent_zero() -> None:
    packed = merge(b"", ["a", "b", "c"], ["a", "b", "c"])
    packed = merge(packed, current=["x", "a", "b", "c"], newly_seen=["x"], keep_recent=0)
    seen = SeenSet(packed)
    assert all(k in seen for k in ["x", "a", "b", "c"])
    assert len(seen) == 4


def test_departed_keys_are_remembered_up_to_keep_recent_then_forgotten_oldest_first() -> None:
    # Given: a feed of 3 that has already rotated one item out (c)
    packed = merge(b"", ["a", "b", "c"], ["a", "b", "c"])
    packed = merge(packed, ["d", "a", "b"], ["d"], keep_recent=2)
    assert keys(packed, "a", "b", "c", "d") == ["d", "a", "b", "c"]
    # When: two more items push b and then a out, with room for two departed keys
    packed = merge(packed, ["e", "d", "a"], ["e"], keep_recent=2)
    assert keys(packed, "a", "b", "c", "d", "e") == ["e", "d", "a", "b", "c"]
    packed = merge(packed, ["f", "e", "d"], ["f"], keep_recent=2)
    # Then: the two most recent departures (a, b) stay; the oldest (c) is forgotten
    seen = SeenSet(packed)
    assert "a" in seen
    assert "b" in seen
    assert "c" not in seen
    assert keys(packed, "a", "b", "c", "d", "e", "f") == ["f", "e", "d", "a", "b"]


def test_keep_recent_zero_forgets_a_departed_key_at_once() -> None:
    packed = merge(b"", ["a", "b"], ["a", "b"])
    packed = merge(packed, ["b"], [], keep_recent=0)
    assert "a" not in SeenSet(packed)
    assert "b" in SeenSet(packed)


def test_a_key_not_newly_seen_and_not_seen_before_is_not_added() -> None:
    # Given: a, b seen; the feed gained n1 and n2 but only n1 was published (n2's publish failed)
    packed = merge(b"", ["a", "b"], ["a", "b"])
    packed = merge(packed, current=["n2", "n1", "a", "b"], newly_seen=["n1"])
    # Then: n2 is not marked seen, so the next poll retries it
    seen = SeenSet(packed)
    assert "n1" in seen
    assert "n2" not in seen


def test_merging_the_same_key_twice_stores_it_once() -> None:
    packed = merge(b"", ["a"], ["a", "a"])
    packed = merge(packed, ["a"], ["a"])
    assert len(packed) == DIGEST_SIZE


def test_seen_set_membership() -> None:
    published = ["https://example.com/1", "urn:2"]
    seen = SeenSet(merge(b"", published, published))
    assert "https://example.com/1" in seen
    assert "urn:2" in seen
    assert "https://example.com/3" not in seen
    assert digest("urn:2") not in seen  # only string keys are members
    assert len(seen) == 2
    assert len(SeenSet(b"")) == 0


def test_a_ten_thousand_item_seen_set_fits_easily_in_a_dynamodb_item() -> None:
    # Given: a feed with 10,000 items, all seen, that then rotates completely
    first = [f"https://example.com/news/{i}" for i in range(10_000)]
    second = [f"https://example.com/news/{i}" for i in range(10_000, 20_000)]
    packed = merge(b"", first, first)
    assert len(packed) == 80_000
    packed = merge(packed, second, second)
    # Then: 10,000 current keys + the default 1,000 remembered departures
    assert len(packed) == 88_000
    assert len(packed) < 100_000  # below 100 KB: under a quarter of DynamoDB's 400 KB item limit
    assert len(SeenSet(packed)) == 11_000
