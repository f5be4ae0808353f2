"""Composing a digest: grouping by topic, ordering, and the subject line."""

from __future__ import annotations

from tidings.digest.compose import SUBJECT_LIMIT, compose
from tidings.feeds.parse import parse_feed
from tidings.feeds.topics import TopicRules
from tidings.model import ALL_TOPICS, Item, Subscriber

TITLES = {"alpha": "Alpha news", "beta": "Beta news", "gamma": "Gamma news"}


def make_item(
    key: str,
    topics: tuple[str, ...],
    published: str | None = "2024-01-01T00:00:00+00:00",
    title: str = "",
) -> Item:
    return Item(
        feed_id="f",
        key=key,
        title=title or f"Item {key}",
        link=f"https://example.org/{key}",
        summary="",
        published=published,
        topics=topics,
    )


def subscriber(*topics: str) -> Subscriber:
    return Subscriber("s1", "email", "a@example.com", topics=topics or (ALL_TOPICS,))


def test_groups_follow_rule_order_not_arrival_order() -> None:
    # Given: items arriving gamma, alpha, beta
    items = [make_item("g", ("gamma",)), make_item("a", ("alpha",)), make_item("b", ("beta",))]
    # When
    digest = compose(subscriber(), items, TITLES)
    # Then: groups in the order the rules define the topics, with their titles
    assert [g.topic for g in digest.groups] == ["alpha", "beta", "gamma"]
    assert [g.title for g in digest.groups] == ["Alpha news", "Beta news", "Gamma news"]


def test_unknown_topics_come_after_rule_topics() -> None:
    items = [make_item("x", ("zzz-extra",)), make_item("a", ("alpha",))]
    digest = compose(subscriber(), items, TITLES)
    assert [g.topic for g in digest.groups] == ["alpha", "zzz-extra"]
    assert digest.groups[1].title == "Zzz extra"


def test_each_item_once_under_its_first_topic_in_rule_order() -> None:
    # Given: an item in gamma and alpha (topics listed out of rule order)
    item = make_item("multi", ("gamma", "alpha"))
    # When
    digest = compose(subscriber(), [item, make_item("g", ("gamma",))], TITLES)
    # Then: it appears once, under alpha
    assert digest.items.count(item) == 1
    groups = {g.topic: [i.key for i in g.items] for g in digest.groups}
    assert groups == {"alpha": ["multi"], "gamma": ["g"]}


def test_each_item_goes_under_the_first_topic_the_subscriber_follows() -> None:
    # Given: a subscriber following only beta and gamma; the item is in alpha and gamma
    item = make_item("m", ("alpha", "gamma"))
    # When
    digest = compose(subscriber("beta", "gamma"), [item], TITLES)
    # Then: filed under gamma (alpha is not followed), once
    assert [(g.topic, len(g.items)) for g in digest.groups] == [("gamma", 1)]


def test_newest_first_within_a_group_undated_last() -> None:
    items = [
        make_item("old", ("alpha",), "2019-11-05T08:43:49+00:00"),
        make_item("undated", ("alpha",), None),
        make_item("new", ("alpha",), "2019-12-06T11:55:59+00:00"),
        make_item("mid", ("alpha",), "2019-11-20T10:51:02+01:00"),
    ]
    digest = compose(subscriber(), items, TITLES)
    assert [i.key for i in digest.groups[0].items] == ["new", "mid", "old", "undated"]


def test_offsets_are_compared_as_instants() -> None:
    # 10:00+02:00 is 08:00 UTC, earlier than 09:00 UTC
    items = [
        make_item("early", ("alpha",), "2024-01-01T10:00:00+02:00"),
        make_item("late", ("alpha",), "2024-01-01T09:00:00+00:00"),
    ]
    digest = compose(subscriber(), items, TITLES)
    assert [i.key for i in digest.items] == ["late", "early"]


def test_icmpd_digest_groups_every_item_once(icmpd_bytes: bytes, rules: TopicRules) -> None:
    # Given: the ICMPD fixture, parsed with the bundled rules
    items = parse_feed(icmpd_bytes, feed_id="icmpd", rules=rules).items
    # When: composed for an all-topics subscriber
    digest = compose(subscriber(), items, rules.titles)
    # Then: each of the ten items once; groups in rule order; newest first within each
    assert sorted(i.key for i in digest.items) == sorted(i.key for i in items)
    order = list(rules.titles)
    positions = [order.index(g.topic) for g in digest.groups]
    assert positions == sorted(positions)
    for group in digest.groups:
        dates = [i.published for i in group.items]
        assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]


# --- subject --------------------------------------------------------------------------------


def test_subject_singular() -> None:
    digest = compose(subscriber(), [make_item("a", ("alpha",))], TITLES)
    assert digest.subject == "1 new item: Alpha news"


def test_subject_plural_lists_topic_titles_in_group_order() -> None:
    items = [make_item("b", ("beta",)), make_item("a", ("alpha",)), make_item("a2", ("alpha",))]
    digest = compose(subscriber(), items, TITLES)
    assert digest.subject == "3 new items: Alpha news, Beta news"


def test_subject_has_no_line_breaks_from_titles() -> None:
    # Given: a topic title and item titles carrying CR/LF and other line separators
    titles = {"alpha": "Alpha\r\nBcc: victim@example.com", "beta": "Beta\u2028news\x0b"}
    items = [
        make_item("a", ("alpha",), title="Evil\r\nX-Injected: yes"),
        make_item("b", ("beta",), title="Line\nbreak"),
    ]
    # When
    digest = compose(subscriber(), items, titles)
    # Then: subject and preheader are single lines
    for line in (digest.subject, digest.preheader):
        assert "\r" not in line
        assert "\n" not in line
        assert "\u2028" not in line
        assert "\x0b" not in line
    assert digest.subject.startswith("2 new items: Alpha Bcc: victim@example.com")


def test_subject_is_at_most_150_chars_with_many_long_topics() -> None:
    titles = {f"t{n}": f"A rather long topic title number {n}" for n in range(12)}
    items = [make_item(f"k{n}", (f"t{n}",)) for n in range(12)]
    digest = compose(subscriber(), items, titles)
    assert SUBJECT_LIMIT == 150
    assert len(digest.subject) <= 150
    assert digest.subject.startswith("12 new items: A rather long topic title number 0")
    assert digest.subject.endswith("…")


def test_subject_with_one_huge_title_is_cut() -> None:
    titles = {"alpha": "x" * 500}
    digest = compose(subscriber(), [make_item("a", ("alpha",))], titles)
    assert len(digest.subject) <= 150
    assert digest.subject.startswith("1 new item: xxx")
