"""Email digest rendering: HTML (escaped, CSS inlined, mobile-ready) and plain text."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from tidings.digest.compose import Digest, compose
from tidings.digest.render import RenderedEmail, render_email, safe_url
from tidings.feeds.parse import parse_feed
from tidings.feeds.topics import TopicRules
from tidings.model import Item, Subscriber

UNSUBSCRIBE = "https://api.tidings.example/unsubscribe?s=sub-1&t=abcDEF123"


class Elements(HTMLParser):
    """Every start tag with its attributes, and all text."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def with_class(self, name: str) -> list[dict[str, str | None]]:
        return [a for _, a in self.tags if name in (a.get("class") or "").split()]

    def hrefs(self) -> list[str]:
        return [a["href"] for t, a in self.tags if t == "a" and a.get("href") is not None]  # type: ignore[misc]


SUBSCRIBER = Subscriber("sub-1", "email", "reader@example.com")


@pytest.fixture(scope="module")
def icmpd_items(icmpd_bytes: bytes, rules: TopicRules) -> list[Item]:
    return parse_feed(icmpd_bytes, feed_id="icmpd", rules=rules).items


@pytest.fixture(scope="module")
def icmpd_digest(icmpd_items: list[Item], rules: TopicRules) -> Digest:
    return compose(SUBSCRIBER, icmpd_items, rules.titles)


@pytest.fixture(scope="module")
def rendered(icmpd_digest: Digest) -> RenderedEmail:
    return render_email(icmpd_digest, unsubscribe_url=UNSUBSCRIBE)


def hostile_digest() -> Digest:
    items = [
        Item(
            feed_id="evil",
            key="k1",
            title="<script>alert(1)</script>",
            link="javascript:alert(1)",
            summary='Look <img src=x onerror="alert(2)"> here',
            published="2024-01-01T00:00:00+00:00",
            topics=("alpha",),
            feed_title="<b>Evil feed</b>",
        ),
        Item(
            feed_id="evil",
            key="k2",
            title="Tom & Jerry",
            link=" JavaScript:alert(3)",
            summary="",
            published=None,
            topics=("alpha",),
        ),
        Item(
            feed_id="evil",
            key="k3",
            title="Data link",
            link="data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==",
            summary="",
            published=None,
            topics=("alpha",),
        ),
    ]
    return compose(SUBSCRIBER, items, {"alpha": "Alpha"})


# --- HTML part ------------------------------------------------------------------------------


def test_html_has_every_item_title_and_link(
    rendered: RenderedEmail, icmpd_items: list[Item]
) -> None:
    page = Elements(rendered.html)
    text = "".join(page.text)
    hrefs = page.hrefs()
    for item in icmpd_items:
        assert item.title in text
        assert item.link in hrefs
        assert f'href="{html.escape(item.link)}"' in rendered.html


def test_html_groups_under_topic_titles(rendered: RenderedEmail, icmpd_digest: Digest) -> None:
    topics = Elements(rendered.html).with_class("topic")
    assert len(topics) == len(icmpd_digest.groups)
    for group in icmpd_digest.groups:
        assert f">{html.escape(group.title)}</td>" in rendered.html


def test_html_styles_are_inlined(rendered: RenderedEmail) -> None:
    # Given the rendered HTML, parsed
    page = Elements(rendered.html)
    # Then: every element the <style> block targets by class carries a style= attribute
    for name in ("item", "topic", "item-title", "meta", "summary", "footer", "headline", "brand"):
        elements = page.with_class(name)
        assert elements, name
        for attrs in elements:
            assert attrs.get("style"), f".{name} has no inline style"
    # ... with the rule's declarations copied in (premailer inlined, not just left as <style>)
    for attrs in page.with_class("item"):
        assert "padding:14px 24px" in (attrs["style"] or "").replace(": ", ":")
    body = [a for t, a in page.tags if t == "body"]
    assert body
    assert "background:#f3f4f6" in (body[0].get("style") or "").replace(": ", ":")


def test_html_container_keeps_outlook_width(rendered: RenderedEmail) -> None:
    # Outlook desktop ignores max-width: the 600px column must survive as the width attribute
    containers = Elements(rendered.html).with_class("container")
    assert len(containers) == 1
    assert containers[0].get("width") == "600"


def test_html_is_mobile_ready_with_a_preheader(
    rendered: RenderedEmail, icmpd_digest: Digest
) -> None:
    page = Elements(rendered.html)
    viewports = [a for t, a in page.tags if t == "meta" and a.get("name") == "viewport"]
    assert len(viewports) == 1
    assert "width=device-width" in (viewports[0].get("content") or "")
    preheaders = page.with_class("preheader")
    assert len(preheaders) == 1
    assert "display:none" in (preheaders[0].get("style") or "").replace(": ", ":")
    assert icmpd_digest.items[0].title in icmpd_digest.preheader
    match = re.search(r'class="preheader"[^>]*>([^<]*)</div>', rendered.html)
    assert match
    assert html.unescape(match.group(1)) == icmpd_digest.preheader


def test_html_has_the_unsubscribe_link(rendered: RenderedEmail) -> None:
    assert UNSUBSCRIBE in Elements(rendered.html).hrefs()
    assert 'href="https://api.tidings.example/unsubscribe?s=sub-1&amp;t=abcDEF123"' in (
        rendered.html
    )


def test_html_subject_matches_digest(rendered: RenderedEmail, icmpd_digest: Digest) -> None:
    assert rendered.subject == icmpd_digest.subject
    assert f"<title>{html.escape(icmpd_digest.subject)}</title>" in rendered.html


def test_hostile_title_and_summary_are_escaped() -> None:
    # When: a digest with markup in title, summary and feed title is rendered
    out = render_email(hostile_digest(), unsubscribe_url=UNSUBSCRIBE)
    page = Elements(out.html)
    # Then: no executable markup made it through, only its escaped text
    assert "<script" not in out.html.lower()
    assert "<img" not in out.html.lower()
    assert "<b>Evil" not in out.html
    assert not [t for t, _ in page.tags if t in ("script", "img")]
    assert not [k for _, a in page.tags for k in a if k.startswith("on")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out.html
    assert "&lt;img src=x onerror=" in out.html
    assert "Tom &amp; Jerry" in out.html
    assert "<script>alert(1)</script>" in "".join(page.text)


def test_non_http_links_are_not_emitted_as_href() -> None:
    out = render_email(hostile_digest(), unsubscribe_url=UNSUBSCRIBE)
    hrefs = Elements(out.html).hrefs()
    assert hrefs == [UNSUBSCRIBE]  # only the footer link; no item link became an href
    assert "javascript:" not in out.html.lower()
    assert "data:text/html" not in out.html
    # the titles are still shown, as text
    assert "Data link" in out.html


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a", "https://example.org/a"),
        ("  HTTP://example.org/a ", "HTTP://example.org/a"),
        ("javascript:alert(1)", ""),
        ("JaVaScRiPt:alert(1)", ""),
        ("data:text/html,hi", ""),
        ("vbscript:msgbox", ""),
        ("//example.org/no-scheme", ""),
        ("", ""),
    ],
)
def test_safe_url(url: str, expected: str) -> None:
    assert safe_url(url) == expected


# --- text part ------------------------------------------------------------------------------


def test_text_has_titles_links_and_no_tags(
    rendered: RenderedEmail, icmpd_items: list[Item]
) -> None:
    unwrapped = " ".join(rendered.text.split())  # long titles wrap at 76 columns
    for item in icmpd_items:
        assert item.title in unwrapped
        assert item.link in rendered.text
    assert not re.search(r"</?[a-zA-Z][^>]*>", rendered.text)
    assert "&amp;" not in rendered.text
    assert f"Unsubscribe: {UNSUBSCRIBE}" in rendered.text


def test_text_is_not_html_escaped() -> None:
    out = render_email(hostile_digest(), unsubscribe_url=UNSUBSCRIBE)
    assert "* Tom & Jerry" in out.text
    assert "&amp;" not in out.text
    assert out.text.startswith(out.subject + "\n")
