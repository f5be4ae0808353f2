"""Entry identity: the normalised link and the key that decides "new" versus "seen"."""

import pytest

from tidings.feeds.identity import content_hash, entry_key, normalise_link

ICMPD_LINK = (
    "https://www.icmpd.org//news-centre/news-detail/"
    "project-news-launch-of-the-integrated-border-management-project/"
)


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("HTTPS://WWW.Example.COM/Path", "https://www.example.com/Path"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
    ],
    ids=[
        "scheme-and-host-lowercased-path-case-kept",
        "http-default-port-dropped",
        "https-default-port-dropped",
        "non-default-port-kept",
        "port-80-is-not-default-for-https",
        "fragment-dropped",
        "empty-path-becomes-slash",
    ],
)
def test_normalise_link(link: str, expected: str) -> None:
    assert normalise_link(link) == expected


def test_double_slashes_in_the_icmpd_path_are_folded() -> None:
    assert normalise_link(ICMPD_LINK) == (
        "https://www.icmpd.org/news-centre/news-detail/"
        "project-news-launch-of-the-integrated-border-management-project/"
    )
    assert normalise_link("https://example.com/a///b//c/") == "https://example.com/a/b/c/"


def test_tracking_parameters_are_dropped_and_the_rest_kept_in_order() -> None:
    link = (
        "https://example.com/story?utm_source=rss&id=7&utm_medium=feed&page=2"
        "&fbclid=abc&gclid=xyz&lang=en&UTM_Campaign=x"
    )
    assert normalise_link(link) == "https://example.com/story?id=7&page=2&lang=en"


def test_a_parameter_that_only_looks_like_tracking_is_kept() -> None:
    assert normalise_link("https://example.com/?utm=1&xfbclid=2") == (
        "https://example.com/?utm=1&xfbclid=2"
    )


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_an_empty_link_normalises_to_empty(blank: str) -> None:
    assert normalise_link(blank) == ""


def test_an_ipv6_host_keeps_its_brackets() -> None:
    # Given: two different IPv6 URLs, one with a port and one without
    with_port = "https://[2001:db8::1]:8443/a"
    other_host = "https://[2001:db8::1:8443]/a"
    # Then: the normalised links are still URLs, and still different
    assert normalise_link(with_port) == "https://[2001:db8::1]:8443/a"
    assert normalise_link(with_port) != normalise_link(other_host)


# --- entry_key ---

GUID = "tag:example.com,2019:item-1"
LINK = "https://Example.com//news/1?utm_source=rss"
NORMALISED = "https://example.com/news/1"


def test_auto_prefers_the_guid() -> None:
    entry = {"id": GUID, "link": LINK, "title": "T", "summary": "S"}
    assert entry_key(entry) == GUID
    assert entry_key(entry, "auto") == GUID


def test_auto_uses_the_normalised_link_when_there_is_no_guid() -> None:
    assert entry_key({"link": LINK, "title": "T"}) == NORMALISED
    # a blank guid counts as no guid
    assert entry_key({"id": "  ", "link": LINK, "title": "T"}) == NORMALISED


def test_auto_hashes_the_content_when_there_is_neither_guid_nor_link() -> None:
    entry = {"title": "T", "content": [{"value": "<p>full text</p>"}], "summary": "teaser"}
    key = entry_key(entry)
    assert key.startswith("sha256:")
    assert key == content_hash("T", "<p>full text</p>")
    # without content, the summary is hashed
    assert entry_key({"title": "T", "summary": "teaser"}) == content_hash("T", "teaser")


def test_content_keys_differ_when_the_content_differs() -> None:
    one = entry_key({"title": "T", "summary": "first"})
    two = entry_key({"title": "T", "summary": "second"})
    assert one != two


def test_link_strategy_ignores_the_guid() -> None:
    entry = {"id": GUID, "link": LINK, "title": "T", "summary": "S"}
    assert entry_key(entry, "link") == NORMALISED


def test_link_strategy_falls_back_to_the_content_hash() -> None:
    entry = {"id": GUID, "title": "T", "summary": "S"}
    assert entry_key(entry, "link") == content_hash("T", "S")


def test_content_strategy_ignores_guid_and_link() -> None:
    entry = {"id": GUID, "link": LINK, "title": "T", "summary": "S"}
    assert entry_key(entry, "content") == content_hash("T", "S")


def test_an_unknown_strategy_raises_value_error() -> None:
    with pytest.raises(ValueError, match="identity strategy"):
        entry_key({"link": LINK}, "guid")


def test_entries_differing_only_in_tracking_parameters_share_a_key() -> None:
    # Given: the same article reached from two campaigns
    from_newsletter = {"title": "A", "link": ICMPD_LINK + "?utm_source=newsletter&utm_medium=email"}
    from_facebook = {"title": "A", "link": ICMPD_LINK + "?fbclid=IwAR0abc#top"}
    # Then: one identity, so the second is not announced again
    assert entry_key(from_newsletter) == entry_key(from_facebook) == normalise_link(ICMPD_LINK)


def test_entries_with_different_real_parameters_keep_different_keys() -> None:
    assert entry_key({"link": "https://example.com/?p=1"}) != entry_key(
        {"link": "https://example.com/?p=2"}
    )
