"""Feed HTML to safe plain text: summaries are text, never raw feed markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "blockquote",
    "section",
    "article",
    "header",
    "footer",
    "pre",
}
_SKIP_TAGS = {"script", "style", "head", "title", "template", "noscript"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skipping:
            self._skipping -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment, whitespace folded, control characters removed."""
    if "<" not in markup and "&" not in markup:  # plain text already: skip the HTML parser
        return re.sub(r"\s+", " ", _CONTROL.sub(" ", markup)).strip()
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    text = _CONTROL.sub(" ", "".join(extractor.parts))
    return re.sub(r"\s+", " ", text).strip()


def one_line(text: str) -> str:
    """Text that is safe in a single-line context (a subject, a header): no CR/LF/controls."""
    return re.sub(
        r"\s+", " ", _CONTROL.sub(" ", text.replace("\r", " ").replace("\n", " "))
    ).strip()


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut with an ellipsis; never exceeds `limit`."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    cut = text[: limit - 1]
    if not text[limit - 1].isspace():  # the cut fell inside a word: drop that word
        space = cut.rfind(" ")
        if space > limit // 2:
            cut = cut[:space]
    return cut.rstrip(" ,;:.-…") + "…"
