"""Topic classification: feed defaults, the entry's own categories, and keyword/regex rules.

Rules live in a TOML file (see the README, "Topic rules"); the bundled `rules.toml` holds the
ICMPD rules. Keywords match case-insensitively on whole words in the title and summary;
`patterns` are regular expressions, matched as written.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path


def slugify(label: str) -> str:
    """`Border Management` and `border_management` are the same topic: `border-management`.

    Latin text is folded to ASCII (`Straße` -> `strasse`); text in other scripts keeps its
    letters (`Миграция` -> `миграция`) rather than vanishing.
    """
    folded = label.casefold()
    ascii_label = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_label).strip("-")
    return slug or re.sub(r"[\W_]+", "-", folded).strip("-")


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive, word-aware pattern for a list of keywords or phrases."""
    words = [k.strip() for k in keywords if k.strip()]
    if not words:
        return None
    alternatives = "|".join(r"\s+".join(re.escape(part) for part in word.split()) for word in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def keyword_anchors(keywords: Iterable[str]) -> tuple[str, ...]:
    """The keywords' first words, lower-cased: text that contains none of them cannot match
    the keyword pattern, and a substring test is far cheaper than the regex (which tries
    every position). Empty, so never used, when a word is not ASCII: there case-insensitive
    matching and `str.lower` part ways (the long s matches `s`, for example)."""
    anchors = {k.split()[0].lower() for k in keywords if k.strip()}
    return tuple(sorted(anchors)) if all(a.isascii() for a in anchors) else ()


@dataclass(frozen=True, slots=True)
class TopicRule:
    topic: str
    title: str
    keywords: re.Pattern[str] | None
    patterns: tuple[re.Pattern[str], ...]
    anchors: tuple[str, ...] = ()  # see keyword_anchors

    def matches(self, text: str, lowered: str | None = None, patterns: bool = True) -> bool:
        """`lowered`: the text lower-cased, when it is ASCII (see keyword_anchors);
        `patterns=False`: the caller knows that none of the patterns matches."""
        if self.keywords is not None and self._may_match(lowered) and self.keywords.search(text):
            return True
        return patterns and any(p.search(text) for p in self.patterns)

    def _may_match(self, lowered: str | None) -> bool:
        if lowered is None or not self.anchors:
            return True
        return any(anchor in lowered for anchor in self.anchors)


class RulesError(ValueError):
    """The topic rules file is not usable; the message says where."""


def any_of(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One pattern that matches wherever one of these does: a single scan of the text instead
    of one per pattern. None when they cannot be joined without changing their meaning
    (groups, which back-references number; global flags, which must come first)."""
    patterns = list(patterns)
    if not patterns or any(p.groups or p.flags & ~re.UNICODE for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns))
    except re.error:
        return None


@dataclass(frozen=True, slots=True)
class TopicRules:
    rules: tuple[TopicRule, ...]
    _any_pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_any_pattern", any_of(p for r in self.rules for p in r.patterns))

    @property
    def titles(self) -> dict[str, str]:
        return {r.topic: r.title for r in self.rules}

    def classify(
        self,
        title: str,
        summary: str,
        categories: Iterable[str] = (),
        defaults: Iterable[str] = (),
    ) -> tuple[str, ...]:
        """Sorted, de-duplicated topic slugs for one entry."""
        text = f"{title}\n{summary}"
        lowered = text.lower() if text.isascii() else None
        patterns = self._any_pattern is None or self._any_pattern.search(text) is not None
        found = {slugify(t) for t in [*defaults, *categories]}
        found.update(rule.topic for rule in self.rules if rule.matches(text, lowered, patterns))
        found.discard("")
        return tuple(sorted(found))

    @classmethod
    def from_toml(cls, text: str, source: str = "rules") -> TopicRules:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise RulesError(f"{source}: {err}") from None
        topics = data.get("topics", {})
        if not isinstance(topics, dict):
            raise RulesError(f"{source}: [topics] must be a table of topic tables")
        rules = []
        for name, spec in topics.items():
            if not isinstance(spec, dict):
                raise RulesError(f"{source}: topics.{name} must be a table")
            slug = slugify(name)
            if not slug:
                raise RulesError(f"{source}: topics.{name} has no usable slug")
            for key in ("keywords", "patterns"):
                values = spec.get(key, [])
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise RulesError(f"{source}: topics.{name}.{key} must be a list of strings")
            try:
                patterns = tuple(re.compile(p) for p in spec.get("patterns", []))
            except re.error as err:
                raise RulesError(f"{source}: topics.{name}: bad pattern: {err}") from None
            rules.append(
                TopicRule(
                    topic=slug,
                    title=str(spec.get("title") or name.replace("-", " ").capitalize()),
                    keywords=keyword_pattern(spec.get("keywords", [])),
                    patterns=patterns,
                    anchors=keyword_anchors(spec.get("keywords", [])),
                )
            )
        return cls(tuple(rules))

    @classmethod
    def load(cls, path: str | Path | None = None) -> TopicRules:
        """Rules from a file, or the bundled default rules when no path is given."""
        if path is None:
            text = resources.files("tidings.feeds").joinpath("rules.toml").read_text("utf-8")
            return cls.from_toml(text, "tidings/feeds/rules.toml")
        try:
            text = Path(path).read_text("utf-8")
        except OSError as err:
            raise RulesError(f"cannot read topic rules {path}: {err.strerror}") from None
        return cls.from_toml(text, str(path))
