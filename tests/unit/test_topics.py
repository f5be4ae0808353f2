"""Topic classification: rules from TOML, whole-word keywords, categories and feed defaults."""

import re
from pathlib import Path

import pytest

from tidings.feeds.parse import parse_feed
from tidings.feeds.topics import RulesError, TopicRules, any_of, slugify

ICMPD_TOPICS = [
    ("border-management",),
    ("return-monitoring",),
    ("migration-policy-dialogue",),
    ("border-management",),
    ("migration-policy-dialogue",),
    ("diaspora",),
    ("migration-policy-dialogue",),
    ("return-monitoring",),
    ("trafficking",),
    ("labour-migration",),
]

TECH_RULES = """
[topics.ibm]
title = "IBM"
patterns = ['\\bIBM\\b']

[topics.talent]
keywords = ["talent", "skills shortage"]
"""


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("Border Management", "border-management"),
        ("border_management", "border-management"),
        ("  Migration & Asylum!  ", "migration-asylum"),
        ("Diaspora/Development", "diaspora-development"),
        ("Café Société", "cafe-societe"),
        ("Labour-Migration 2019", "labour-migration-2019"),
        ("---", ""),
    ],
)
def test_slugify(label: str, slug: str) -> None:
    assert slugify(label) == slug


def test_keywords_match_case_insensitively_on_whole_words() -> None:
    rules = TopicRules.from_toml(TECH_RULES)
    assert rules.classify("TALENT wanted", "") == ("talent",)
    assert rules.classify("", "a Skills\nShortage in Vienna") == ("talent",)
    assert rules.classify("Talented people", "") == ()
    assert rules.classify("untalent", "") == ()


def _every_regex(rules: TopicRules, text: str) -> tuple[str, ...]:
    """Classification the slow way: every keyword pattern and every pattern, each searched."""
    return tuple(
        sorted(
            r.topic
            for r in rules.rules
            if (r.keywords and r.keywords.search(text)) or any(p.search(text) for p in r.patterns)
        )
    )


def test_the_prefilters_never_change_a_classification(rules: TopicRules) -> None:
    """Anchors skip a keyword regex when no keyword's first word is in the text, and one
    joined scan skips the patterns when none can match; they must only ever skip regexes
    that would not have matched (non-ASCII text bypasses the anchors)."""
    texts = [
        "BORDER   MANAGEMENT in the Western Balkans",
        "Return\nmonitoring of forced-return operations",
        "Readmission talks",
        "A conference on the narrative on migration",
        "Smuggling OF migrants, and Diaspora remittances",
        "borderline cases of talented managers",
        "IBM and FReM; THB, VoTs and EUDiF",
        "ibm, frem, thb",
        "",
    ]
    assert all(rule.anchors for rule in rules.rules if rule.keywords)
    assert rules._any_pattern is not None
    for text in texts:
        assert rules.classify(text, "") == _every_regex(rules, f"{text}\n"), text
    # the long s: IGNORECASE matches it to "s", lower() does not; non-ASCII text is not
    # prefiltered, so the regex still sees it
    smuggling = TopicRules.from_toml('[topics.s]\nkeywords = ["smuggling"]')
    assert smuggling.rules[0].anchors == ("smuggling",)
    assert smuggling.classify("\u017fmuggling", "") == ("s",)


@pytest.mark.parametrize("pattern", [r"(\w)\1", r"(?i)ibm", r"(?P<x>a)"])
def test_patterns_with_groups_or_global_flags_are_not_joined(pattern: str) -> None:
    assert any_of([re.compile(r"\bIBM\b"), re.compile(pattern)]) is None


def test_patterns_joined_match_where_one_of_them_does() -> None:
    joined = any_of([re.compile(r"\bIBM\b"), re.compile(r"\bVoTs?\b")])
    assert joined is not None
    assert [bool(joined.search(t)) for t in ("IBM", "VoTs here", "IBMX", "votes")] == [
        True,
        True,
        False,
        False,
    ]


def test_a_keyword_whose_first_word_is_not_ascii_gets_no_anchors() -> None:
    rules = TopicRules.from_toml('[topics.x]\nkeywords = ["Straße", "road"]')
    assert rules.rules[0].anchors == ()
    assert rules.classify("STRASSE", "") == ()  # not folded: the regex alone decides
    assert rules.classify("die straße", "") == ("x",)


def test_patterns_match_as_written_and_respect_word_boundaries() -> None:
    rules = TopicRules.from_toml(TECH_RULES)
    assert rules.classify("IBM Silk Routes", "") == ("ibm",)
    assert rules.classify("IBMX launch", "") == ()
    assert rules.classify("ibm", "") == ()  # regex patterns are not case-folded


def test_bundled_rules_do_not_stretch_talent_to_talented(rules: TopicRules) -> None:
    assert "labour-migration" not in rules.classify("A talented negotiator", "")
    assert "labour-migration" in rules.classify("Retaining talents", "")
    assert "border-management" not in rules.classify("IBMX rollout", "")


def test_the_icmpd_fixture_is_classified_item_by_item(
    icmpd_bytes: bytes, rules: TopicRules
) -> None:
    # When: the fixture is parsed with the bundled rules
    parsed = parse_feed(icmpd_bytes, feed_id="icmpd", rules=rules)
    # Then: each item lands in exactly its one expected topic
    assert [item.topics for item in parsed.items] == ICMPD_TOPICS


def test_categories_and_feed_defaults_are_added_as_slugs() -> None:
    rules = TopicRules.from_toml(TECH_RULES)
    topics = rules.classify(
        "Talent news",
        "",
        categories=["Border Management", "Labour_Migration", "  "],
        defaults=["ICMPD News"],
    )
    assert topics == ("border-management", "icmpd-news", "labour-migration", "talent")


def test_bundled_rules_have_titles(rules: TopicRules) -> None:
    assert rules.titles["border-management"] == "Border management"
    assert set(rules.titles) == {t for (t,) in ICMPD_TOPICS}


def test_a_bad_regex_raises_rules_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "my-rules.toml"
    path.write_text("[topics.broken]\npatterns = ['(unclosed']\n", "utf-8")
    with pytest.raises(RulesError, match=r"my-rules\.toml.*topics\.broken.*bad pattern"):
        TopicRules.load(path)


def test_a_non_table_topic_raises_rules_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "flat.toml"
    path.write_text('[topics]\nborder = "border management"\n', "utf-8")
    with pytest.raises(RulesError, match=r"flat\.toml.*topics\.border must be a table"):
        TopicRules.load(path)


def test_invalid_toml_raises_rules_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text("[topics.x\nkeywords = [\n", "utf-8")
    with pytest.raises(RulesError, match=r"typo\.toml"):
        TopicRules.load(path)


def test_a_missing_rules_file_raises_rules_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(RulesError, match=r"nowhere\.toml"):
        TopicRules.load(missing)


@pytest.mark.parametrize(
    "spec",
    ['keywords = "talent"', "keywords = [1]", 'patterns = "IBM"', "patterns = [1]"],
    ids=["keywords-string", "keywords-number", "patterns-string", "patterns-number"],
)
def test_keywords_and_patterns_that_are_not_lists_of_strings_raise_rules_error(
    spec: str,
) -> None:
    # Given: a rules file where a list was written as a bare string (or holds a number)
    text = f"[topics.x]\n{spec}\n"
    # Then: the file is rejected, rather than iterating the string letter by letter
    # ("talent" would become the keywords t, a, l, e, n, t and match the word "a")
    with pytest.raises(RulesError, match=r"my\.toml.*topics\.x"):
        TopicRules.from_toml(text, "my.toml")
