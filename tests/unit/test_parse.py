"""Feed bytes to normalised items: identity, dates, plain text, recovery and hostile XML."""

from pathlib import Path

import pytest

from tidings.feeds.parse import SUMMARY_LIMIT, NotAFeed, ParsedFeed, parse_feed
from tidings.feeds.topics import TopicRules

FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"


def parse_fixture(name: str, rules: TopicRules, **kwargs: str) -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), feed_id="test", rules=rules, **kwargs)


def all_text(parsed: ParsedFeed) -> str:
    """Everything a parsed feed would carry onwards to a reader."""
    parts = [parsed.title, parsed.link]
    for item in parsed.items:
        parts += [item.key, item.title, item.link, item.summary, *item.categories]
    return "\n".join(parts)


# --- the ICMPD fixture ---


def test_icmpd_items_are_keyed_by_normalised_link_and_keep_the_original_link(
    icmpd_bytes: bytes, rules: TopicRules
) -> None:
    parsed = parse_feed(icmpd_bytes, feed_id="icmpd", rules=rules)
    assert len(parsed.items) == 10
    assert parsed.warnings == []
    for item in parsed.items:
        # Then: the key has a single slash after the host, the shown link keeps the feed's `//`
        assert item.key.startswith("https://www.icmpd.org/news-centre/news-detail/")
        assert item.link.startswith("https://www.icmpd.org//news-centre/news-detail/")
        assert item.key == item.link.replace(".org//", ".org/")
        assert item.feed_id == "icmpd"
        assert item.feed_title == "www.icmpd.org"
    assert len({item.key for item in parsed.items}) == 10


def test_icmpd_published_dates_are_iso_utc(icmpd_bytes: bytes, rules: TopicRules) -> None:
    parsed = parse_feed(icmpd_bytes, feed_id="icmpd", rules=rules)
    # pubDate "Fri, 06 Dec 2019 12:55:59 +0100" is 11:55:59 in UTC
    assert parsed.items[0].published == "2019-12-06T11:55:59+00:00"
    assert parsed.items[-1].published == "2019-11-05T08:43:49+00:00"
    assert all(item.published and item.published.endswith("+00:00") for item in parsed.items)


def test_icmpd_summaries_are_plain_text_teasers(icmpd_bytes: bytes, rules: TopicRules) -> None:
    parsed = parse_feed(icmpd_bytes, feed_id="icmpd", rules=rules)
    assert parsed.items[0].summary == (
        "On the 1-3 December 2019, ICMPD welcomed Deputy Ministers of Finance, "
        "Defence, Transport and..."
    )
    for item in parsed.items:
        assert "<" not in item.summary, item.key
        assert "\n" not in item.summary, item.key
        assert 0 < len(item.summary) <= SUMMARY_LIMIT, item.key


# --- not a feed ---


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("not-a-feed-html-page.html", None),
        ("not-a-feed-html-page.html", "text/html; charset=utf-8"),
        ("not-a-feed-json-error.json", None),
        ("not-a-feed-json-error.json", "application/json"),
    ],
)
def test_an_html_page_or_json_error_is_not_a_feed(
    name: str, content_type: str | None, rules: TopicRules
) -> None:
    body = (FEEDS / name).read_bytes()
    with pytest.raises(NotAFeed, match="not a feed"):
        parse_feed(body, feed_id="test", rules=rules, content_type=content_type)


def test_an_empty_body_is_not_a_feed(rules: TopicRules) -> None:
    with pytest.raises(NotAFeed):
        parse_feed(b"", feed_id="test", rules=rules)


# --- recovery and warnings ---


@pytest.mark.parametrize(
    "name", ["malformed-unescaped-ampersand.rss.xml", "malformed-missing-closing-tag.rss.xml"]
)
def test_malformed_but_recoverable_xml_still_yields_its_items(name: str, rules: TopicRules) -> None:
    parsed = parse_fixture(name, rules)
    # Then: all three items survive, with their own titles, links and dates
    first, second, third = parsed.items
    assert first.key == "https://news.example.org/items/1"
    assert second.key.startswith("https://news.example.org/items/2")
    assert second.title.startswith("Diaspora")
    assert third.key == "https://news.example.org/items/3"
    assert third.title == "Return monitors meet in Rome"
    assert all(item.published for item in parsed.items)
    # And: the recovery is reported
    assert any("malformed" in warning for warning in parsed.warnings)


def test_entries_without_dates_warn_and_have_no_published(rules: TopicRules) -> None:
    parsed = parse_fixture("undated-entries.rss.xml", rules)
    dated, undated = parsed.items
    assert dated.published == "2019-11-05T08:43:49+00:00"
    assert undated.published is None
    assert parsed.warnings == ["1 of 2 entries have no date"]


def test_duplicate_keys_keep_the_first_entry_and_warn(rules: TopicRules) -> None:
    parsed = parse_fixture("duplicate-entry-keys.rss.xml", rules)
    assert [item.title for item in parsed.items] == ["First copy", "Another article"]
    assert parsed.items[0].key == "https://news.example.org/news/launch"
    assert parsed.warnings == [
        "1 duplicate entry key(s), kept the first of each: https://news.example.org/news/launch"
    ]


# --- hostile XML ---


@pytest.mark.parametrize("name", ["xxe-external-dtd.rss.xml", "xxe-external-entity.rss.xml"])
def test_external_entities_read_no_file(name: str, rules: TopicRules) -> None:
    parsed = parse_fixture(name, rules)
    assert len(parsed.items) == 1
    assert "root:" not in all_text(parsed)


def test_external_dtd_and_entities_pointing_at_a_real_file_are_not_loaded(
    tmp_path: Path, rules: TopicRules
) -> None:
    # Given: a local file holding a marker, and a DTD that would define &leak; as that marker
    secret = tmp_path / "secret.txt"
    secret.write_text("MARKER-FROM-FILE", "utf-8")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "MARKER-FROM-DTD">', "utf-8")
    body = (
        '<?xml version="1.0"?><!DOCTYPE rss SYSTEM "'
        + dtd.as_uri()
        + '" [<!ENTITY file SYSTEM "'
        + secret.as_uri()
        + '">]>\n<rss version="2.0"><channel><title>t</title><item>'
        "<title>a &file; b &leak; c</title><link>https://evil.example/1</link>"
        "<description>&file; &leak;</description></item></channel></rss>"
    ).encode()
    # When: it is parsed
    parsed = parse_feed(body, feed_id="test", rules=rules)
    # Then: neither file was read
    text = all_text(parsed)
    assert "MARKER-FROM-FILE" not in text
    assert "MARKER-FROM-DTD" not in text
    assert parsed.items[0].link == "https://evil.example/1"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", ["billion-laughs.rss.xml", "entity-expansion-30k.rss.xml"])
def test_nested_internal_entities_expand_nothing(name: str, rules: TopicRules) -> None:
    # Given: entities declared on the prolog line, each ten times the one before
    # When: parsed (the timeout fails the test if expansion runs away)
    parsed = parse_fixture(name, rules)
    # Then: the item is there, and no "lol" was multiplied into it
    assert [item.link for item in parsed.items] == ["https://evil.example/1"]
    text = all_text(parsed)
    expanded = "lollol" in text
    assert not expanded, f"entities were expanded: {len(text):,} characters of text"
    assert len(parsed.items[0].title) < 100


# --- Atom and relative links ---


def test_an_atom_feed_parses_with_ids_dates_categories_and_plain_text(
    rules: TopicRules,
) -> None:
    parsed = parse_fixture(
        "atom-relative-links.atom.xml", rules, url="https://blog.example.org/feeds/atom.xml"
    )
    assert parsed.title == "Migration & mobility blog"
    assert parsed.link == "https://blog.example.org/"
    first, second = parsed.items
    assert first.key == "tag:blog.example.org,2019:posts/1"
    assert first.title == "Integrated Border Management in the Silk Routes"
    assert first.link == "https://blog.example.org/posts/ibm-silk-routes"
    assert first.summary == "Deputy ministers met in Vienna & agreed a plan."
    assert first.published == "2019-12-06T11:55:59+00:00"
    assert first.categories == ("Border Management",)
    assert first.topics == ("border-management",)
    # an entry with only <updated> and xhtml <content> still gets a date and a summary
    assert second.published == "2019-11-21T18:46:23+00:00"
    assert second.summary == "Diaspora consultation in Lisbon."
    assert second.link == "https://other.example.net/abs"
    assert parsed.warnings == []


def test_relative_links_resolve_against_the_url_passed_in(rules: TopicRules) -> None:
    parsed = parse_fixture("relative-links.rss.xml", rules, url="https://e.example/sub/feed.xml")
    root_relative, path_relative = parsed.items
    assert root_relative.link == "https://e.example/news//detail/1"
    assert root_relative.key == "https://e.example/news/detail/1"
    assert path_relative.link == "https://e.example/sub/detail/2"
    assert parsed.link == "https://e.example/"


def test_without_a_url_relative_links_stay_relative(rules: TopicRules) -> None:
    parsed = parse_fixture("relative-links.rss.xml", rules)
    assert parsed.items[1].link == "detail/2"


def test_default_topics_and_title_override_are_applied(
    icmpd_bytes: bytes, rules: TopicRules
) -> None:
    parsed = parse_feed(
        icmpd_bytes,
        feed_id="icmpd",
        rules=rules,
        default_topics=("ICMPD News",),
        title_override="ICMPD\r\nBcc: x@example.com",
    )
    assert parsed.title == "ICMPD Bcc: x@example.com"
    assert all("icmpd-news" in item.topics for item in parsed.items)
    assert all(item.feed_title == parsed.title for item in parsed.items)


def test_a_doctype_after_a_long_comment_is_still_stripped(rules: TopicRules) -> None:
    # the DOCTYPE sits beyond the first 4 kB of the prolog: it must not reach the XML parser
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 6))
    body = (
        '<?xml version="1.0"?><!--' + "x" * 5000 + "-->"
        f'<!DOCTYPE rss [<!ENTITY l0 "lol">{laughs}]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&l5;</title>'
        "<link>https://e.org/1</link></item></channel></rss>"
    ).encode()
    parsed = parse_feed(body, feed_id="f", rules=rules)
    assert "lollol" not in parsed.items[0].title


def test_feed_controlled_fields_are_bounded(rules: TopicRules) -> None:
    categories = "".join(f"<category>{'c' * 500}{n}</category>" for n in range(100))
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel>'
        f"<title>{'T' * 5000}</title><item><title>x</title><guid>{'g' * 5000}</guid>"
        f"<link>https://e.org/{'p' * 5000}</link>{categories}</item></channel></rss>"
    ).encode()
    parsed = parse_feed(body, feed_id="f", rules=rules)
    [item] = parsed.items
    assert len(parsed.title) <= 300 and len(item.feed_title) <= 300
    assert len(item.categories) == 20 and all(len(c) <= 100 for c in item.categories)
    assert item.key.startswith("sha256:") and len(item.key) < 100
    assert item.link == ""  # a cut link would lead nowhere
