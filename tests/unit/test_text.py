"""Feed markup to plain text, single-line text, and shortening."""

import pytest

from tidings.feeds.text import html_to_text, one_line, shorten


def test_tags_are_dropped_and_blocks_become_spaces() -> None:
    markup = "<p>Hello <b>world</b></p><p>Next<br>line</p><ul><li>one</li><li>two</li></ul>"
    assert html_to_text(markup) == "Hello world Next line one two"


def test_script_and_style_content_is_dropped() -> None:
    markup = (
        "<style>p { color: red }</style><p>Visible</p>"
        "<SCRIPT type='text/javascript'>alert('x')</SCRIPT> text"
        "<script>if (a < b) { document.write('<p>no</p>') }</script>"
    )
    assert html_to_text(markup) == "Visible text"


def test_entities_are_decoded() -> None:
    assert html_to_text("Fish &amp; chips &lt;3 &eacute;t&eacute; &#8364;5 &#x2013; A&nbsp;B") == (
        "Fish & chips <3 été €5 \u2013 A B"
    )


def test_escaped_markup_stays_text() -> None:
    # an entity-escaped tag is text the feed meant to show, not markup to run or drop
    assert html_to_text("&lt;script&gt;x&lt;/script&gt;") == "<script>x</script>"


def test_whitespace_is_folded_and_trimmed() -> None:
    assert html_to_text("  lots \t of\n\n\r\n   space  ") == "lots of space"


def test_control_characters_are_removed() -> None:
    text = html_to_text("a\x00b\x07c\x1bd\x7fe\x85f\u2028g\u2029h")
    assert text == "a b c d e f g h"
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text)


def test_comments_are_not_text() -> None:
    assert html_to_text("<!-- hidden -->shown") == "shown"


def test_one_line_removes_line_breaks_and_controls() -> None:
    result = one_line("Subject\r\nBcc: victim@example.com\nX\rY\x0bZ\u2028end")
    assert "\r" not in result
    assert "\n" not in result
    assert result == "Subject Bcc: victim@example.com X Y Z end"


def test_shorten_leaves_short_text_alone() -> None:
    assert shorten("short text", 10) == "short text"
    assert shorten("", 5) == ""


def test_shorten_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    text = "Vienna Migration Conference 2019 initiates discussion"
    result = shorten(text, 30)
    assert result == "Vienna Migration Conference…"
    assert len(result) <= 30


def test_shorten_drops_trailing_punctuation_before_the_ellipsis() -> None:
    assert shorten("Border management, return monitoring and more", 22) == "Border management…"


def test_shorten_cuts_a_single_long_word_mid_word() -> None:
    assert shorten("Donaudampfschifffahrtsgesellschaft", 10) == "Donaudamp…"


SENTENCE = "The Integrated Border Management concept calls for cooperation between all actors"


@pytest.mark.parametrize("limit", range(1, len(SENTENCE) + 2))
def test_shorten_never_exceeds_the_limit(limit: int) -> None:
    result = shorten(SENTENCE, limit)
    assert len(result) <= limit
    if limit < len(SENTENCE):
        assert result.endswith("…")
        assert SENTENCE.startswith(result[:-1])
    else:
        assert result == SENTENCE


def test_shorten_to_a_zero_limit_gives_empty_text() -> None:
    # "never exceeds `limit`" holds at the edge too: there is no room even for the ellipsis
    assert shorten("anything at all", 0) == ""
