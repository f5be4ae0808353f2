"""The bundled ICMPD news fixture is a faithful, parseable RSS 2.0 feed."""

import re
from importlib.resources import files

import feedparser
import pytest

BASE = "https://www.icmpd.org//news-centre/news-detail/"

EXPECTED_LINKS = [
    BASE + slug
    for slug in (
        "icmpd-supporting-afghanistan-develop-a-national-strategy-and-action-plan-"
        "for-integrated-border-manag/",
        "project-news-frem-iii-develops-a-fundamental-rights-and-forced-return-"
        "monitoring-training-concept-f/",
        "project-news-high-level-event-on-public-communication-on-migration-"
        "for-a-new-balanced-narrative-in/",
        "project-news-launch-of-the-integrated-border-management-project/",
        "vienna-migration-conference-2019-initiates-discussion-on-the-most-"
        "critical-issues-in-migration-polic/",
        "project-news-eudifs-inaugural-diaspora-consultation-in-lisbon/",
        "press-releasevienna-migration-conference-2019-presenting-icmpds-70-"
        "recommendations-for-eu-migrati/",
        "project-news-frem-iii-organises-a-training-for-forced-return-monitors-in-rome/",
        "project-news-mieux-presents-standard-operating-procedures-to-protect-"
        "victims-of-trafficking/",
        "project-news-retaining-international-and-domestic-talents-"
        "consultation-meeting-in-vilnius/",
    )
]

EXPECTED_PUBDATES = [
    "Fri, 06 Dec 2019 12:55:59 +0100",
    "Mon, 02 Dec 2019 17:55:13 +0100",
    "Fri, 29 Nov 2019 12:19:28 +0100",
    "Thu, 28 Nov 2019 16:03:23 +0100",
    "Mon, 25 Nov 2019 15:28:38 +0100",
    "Thu, 21 Nov 2019 18:46:23 +0100",
    "Wed, 20 Nov 2019 10:51:02 +0100",
    "Mon, 18 Nov 2019 16:25:30 +0100",
    "Tue, 12 Nov 2019 15:02:49 +0100",
    "Tue, 05 Nov 2019 09:43:49 +0100",
]


@pytest.fixture(scope="module")
def parsed() -> feedparser.FeedParserDict:
    # Given: the fixture shipped inside the tidings.local package
    raw = (files("tidings.local") / "fixtures" / "icmpd-news.xml").read_bytes()
    # When: it is parsed from bytes, exactly as a fetched response body would be
    return feedparser.parse(raw)


def test_feed_is_well_formed(parsed: feedparser.FeedParserDict) -> None:
    # Then: no parser complaints, the channel is recognised, and all ten items are present
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "www.icmpd.org"
    assert len(parsed.entries) == 10


def test_links_and_pubdates_are_kept_verbatim(parsed: feedparser.FeedParserDict) -> None:
    # Then: links keep the real double slash after the host, and dates are untouched strings
    assert [e.link for e in parsed.entries] == EXPECTED_LINKS
    assert [e.published for e in parsed.entries] == EXPECTED_PUBDATES
    assert all(e.get("published_parsed") for e in parsed.entries)


def test_descriptions_are_plain_teasers_and_content_is_full_html(
    parsed: feedparser.FeedParserDict,
) -> None:
    for entry in parsed.entries:
        # Then: the <description> is a plain-text teaser ending in "..."
        assert entry.summary.endswith("..."), entry.link
        assert not re.search(r"<[^>]+>", entry.summary), entry.link
        # And: <content:encoded> carries the longer, full article as HTML
        assert entry.content, entry.link
        assert entry.content[0].type == "text/html"
        assert len(entry.content[0].value) > len(entry.summary), entry.link


def test_entries_have_no_guid_or_categories(parsed: feedparser.FeedParserDict) -> None:
    # Then: like the real feed, nothing to dedupe on but the link
    for entry in parsed.entries:
        assert "id" not in entry, entry.link
        assert "tags" not in entry, entry.link


def test_first_item_title(parsed: feedparser.FeedParserDict) -> None:
    assert parsed.entries[0].title == (
        "ICMPD supporting Afghanistan develop a National Strategy and Action Plan "
        "for Integrated Border Management"
    )
