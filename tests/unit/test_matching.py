"""Matching items to subscribers: topics, keyword include/exclude filters, status."""

from __future__ import annotations

import pytest

from tidings.matching import match, wants
from tidings.model import ALL_TOPICS, STATUSES, Item, Subscriber


def make_item(
    key: str = "k1",
    *,
    title: str = "A title",
    summary: str = "",
    topics: tuple[str, ...] = ("border-management",),
) -> Item:
    return Item(
        feed_id="icmpd",
        key=key,
        title=title,
        link=f"https://example.org/{key}",
        summary=summary,
        published="2019-12-06T11:55:59+00:00",
        topics=topics,
    )


def make_sub(
    sub_id: str = "s1",
    *,
    topics: tuple[str, ...] = (ALL_TOPICS,),
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    status: str = "active",
) -> Subscriber:
    return Subscriber(
        subscriber_id=sub_id,
        channel="email",
        address=f"{sub_id}@example.com",
        topics=topics,
        include=include,
        exclude=exclude,
        status=status,
    )


def following_of(*subs: Subscriber) -> dict[str, dict[str, Subscriber]]:
    """The topic index the store would return: topic -> subscriber_id -> subscriber."""
    index: dict[str, dict[str, Subscriber]] = {}
    for sub in subs:
        for topic in sub.topics:
            index.setdefault(topic, {})[sub.subscriber_id] = sub
    return index


# --- wants(): keyword filters ---------------------------------------------------------------


def test_no_filters_wants_everything() -> None:
    assert wants(make_sub(), make_item(title="anything at all"))


@pytest.mark.parametrize(
    "title",
    ["Forced RETURN monitoring", "forced return monitoring", "FoRcEd ReTuRn in Rome"],
)
def test_include_is_case_insensitive(title: str) -> None:
    sub = make_sub(include=("Forced Return",))
    assert wants(sub, make_item(title=title))


def test_include_matches_whole_words_only() -> None:
    # Given: a subscriber who only wants items about "return"
    sub = make_sub(include=("return",))
    # Then: inflections and longer words that merely contain it do not match
    assert not wants(sub, make_item(title="Migrants returned home"))
    assert not wants(sub, make_item(title="Returning talents"))
    assert not wants(sub, make_item(title="A nonreturn policy"))
    # ... but the word itself does, at either end of the text and next to punctuation
    assert wants(sub, make_item(title="Return"))
    assert wants(sub, make_item(title="Monitoring of forced-return (return)."))


def test_include_phrase_matches_across_any_whitespace_but_not_partial_words() -> None:
    sub = make_sub(include=("border management",))
    assert wants(sub, make_item(title="Integrated Border   Management launched"))
    assert wants(sub, make_item(title="Integrated Border\tManagement launched"))
    assert not wants(sub, make_item(title="border managements"))
    assert not wants(sub, make_item(title="border and management"))


def test_include_looks_at_the_summary_too() -> None:
    sub = make_sub(include=("diaspora",))
    item = make_item(title="Inaugural consultation in Lisbon", summary="EUDiF met the DIASPORA")
    assert wants(sub, item)


def test_include_any_of_several_keywords() -> None:
    sub = make_sub(include=("trafficking", "smuggling"))
    assert wants(sub, make_item(title="Migrant smuggling routes"))
    assert wants(sub, make_item(title="Victims of trafficking"))
    assert not wants(sub, make_item(title="Labour migration"))


def test_keywords_are_literal_not_regular_expressions() -> None:
    # Given: a keyword holding regex metacharacters
    sub = make_sub(include=("C++",))
    # Then: it matches literally, and "." is not a wildcard
    assert wants(sub, make_item(title="Training in C++ for officers"))
    assert not wants(sub, make_item(title="Training in Cxx for officers"))
    dotted = make_sub(include=("e.u.",))
    assert not wants(dotted, make_item(title="exu policy"))


def test_exclude_is_case_insensitive_and_word_aware() -> None:
    sub = make_sub(exclude=("Press Release",))
    assert not wants(sub, make_item(title="PRESS RELEASE: Vienna Migration Conference"))
    assert wants(sub, make_item(title="Press releases archive"))  # not the whole phrase
    assert wants(sub, make_item(title="Project News: launch"))


def test_exclude_wins_over_include() -> None:
    sub = make_sub(include=("migration",), exclude=("conference",))
    assert wants(sub, make_item(title="Labour migration"))
    assert not wants(sub, make_item(title="Vienna Migration Conference"))
    assert not wants(sub, make_item(title="Migration", summary="at the conference"))


def test_blank_keywords_are_ignored() -> None:
    sub = make_sub(include=("", "   "))
    assert wants(sub, make_item(title="anything"))


# --- match(): topics, all-topics, status ----------------------------------------------------


def test_item_reaches_topic_and_all_topics_subscribers_only() -> None:
    # Given: one subscriber per topic and one who follows everything
    border = make_sub("border", topics=("border-management",))
    trafficking = make_sub("trafficking", topics=("trafficking",))
    everyone = make_sub("everyone", topics=(ALL_TOPICS,))
    item = make_item(topics=("border-management",))
    # When
    result = match([item], following_of(border, trafficking, everyone))
    # Then
    assert set(result) == {"border", "everyone"}
    assert result["border"] == (border, [item])
    assert result["everyone"] == (everyone, [item])


def test_item_with_several_followed_topics_is_delivered_once() -> None:
    # Given: a subscriber following two topics, also listed under "*"
    sub = make_sub("s1", topics=("border-management", "return-monitoring", ALL_TOPICS))
    item = make_item(topics=("border-management", "return-monitoring"))
    # When
    result = match([item], following_of(sub))
    # Then
    assert list(result) == ["s1"]
    assert result["s1"][1] == [item]


def test_the_same_item_twice_in_a_batch_is_delivered_once() -> None:
    sub = make_sub("s1", topics=("border-management",))
    item = make_item("same")
    result = match([item, item, make_item("other")], following_of(sub))
    assert [i.key for i in result["s1"][1]] == ["same", "other"]


def test_items_keep_their_batch_order_per_subscriber() -> None:
    sub = make_sub("s1")
    items = [make_item(f"k{n}", topics=(f"t{n}",)) for n in range(5)]
    result = match(items, following_of(sub))
    assert result["s1"][1] == items


def test_item_with_an_unfollowed_topic_reaches_nobody_but_all_topics() -> None:
    sub = make_sub("s1", topics=("diaspora",))
    result = match([make_item(topics=("trafficking",))], following_of(sub))
    assert result == {}


def test_keyword_filters_apply_within_match() -> None:
    picky = make_sub("picky", include=("diaspora",))
    easy = make_sub("easy")
    items = [make_item("a", title="Diaspora consultation"), make_item("b", title="Border")]
    result = match(items, following_of(picky, easy))
    assert [i.key for i in result["picky"][1]] == ["a"]
    assert [i.key for i in result["easy"][1]] == ["a", "b"]


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "active"])
def test_inactive_subscribers_get_nothing(status: str) -> None:
    # Given: an inactive subscriber following the item's topic and all topics
    inactive = make_sub("off", topics=("border-management", ALL_TOPICS), status=status)
    active = make_sub("on", topics=("border-management",))
    # When
    result = match([make_item()], following_of(inactive, active))
    # Then
    assert "off" not in result
    assert "on" in result


# --- Subscriber validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("channel", "sms"),
        ("channel", ""),
        ("cadence", "hourly"),
        ("status", "deleted"),
        ("send_hour", 24),
        ("send_hour", -1),
        ("topics", ()),
    ],
)
def test_subscriber_rejects_invalid_values(field: str, value: object) -> None:
    fields: dict[str, object] = {
        "subscriber_id": "s1",
        "channel": "email",
        "address": "a@example.com",
        field: value,
    }
    with pytest.raises(ValueError, match=field if field != "topics" else "topic"):
        Subscriber(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("hour", [0, 23])
def test_subscriber_accepts_send_hour_bounds(hour: int) -> None:
    assert Subscriber("s1", "slack", "secret-ref", send_hour=hour).send_hour == hour
