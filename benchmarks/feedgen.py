"""500 distinct, realistic RSS 2.0 feeds, generated deterministically (same seed, same bytes).

Each feed has its own publisher, site, title and 10-20 items with a title, a link, a guid
(permalink or opaque, varying by feed), a pubDate, an HTML description, sometimes categories
and `content:encoded`. Item dates are fixed (not "now") so every run serves the same bytes.

Run alone to write the feeds to benchmarks/.work/feeds/ and print their sizes:
    .venv/bin/python benchmarks/feedgen.py [--count 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from benchlib import work_dir

SEED = 20251128
EPOCH = dt.datetime(2025, 11, 20, 9, 0, tzinfo=dt.UTC)  # the newest item is at most this recent

ORGS = [
    "Centre for Migration Studies",
    "Border Policy Institute",
    "European Labour Observatory",
    "Harbour City Council",
    "Open Data Foundation",
    "Riverside Health Trust",
    "Alpine Research Network",
    "Coastal Ports Authority",
    "Institute for Rural Affairs",
    "Digital Rights Watch",
    "Federal Statistics Office",
    "Northern Energy Agency",
    "University Press Office",
    "Climate Adaptation Forum",
    "Regional Transport Board",
    "Diaspora Development Fund",
    "Humanitarian Response Unit",
    "Public Library Service",
    "Science Museum Trust",
    "Water Resources Board",
]
REGIONS = [
    "Western Balkans",
    "Silk Routes",
    "Mediterranean",
    "Sahel",
    "Baltic",
    "Danube region",
    "Central Asia",
    "Eastern Partnership",
    "North Africa",
    "Caucasus",
    "Iberia",
    "Nordic",
]
SUBJECTS = [
    "border management",
    "labour migration",
    "return monitoring",
    "human trafficking",
    "diaspora engagement",
    "remittances",
    "legal pathways",
    "migration policy",
    "data protection",
    "public transport",
    "flood resilience",
    "renewable energy",
    "vocational training",
    "digital services",
    "public health",
    "skills shortages",
    "integration programmes",
    "visa facilitation",
]
TITLE_TEMPLATES = [
    "{org} launches new programme on {subject} in the {region}",
    "Ministers meet in {city} to discuss {subject}",
    "New report: {subject} trends in the {region}, {year}",
    "Call for proposals: {subject} pilot projects ({region})",
    "{city} hosts regional conference on {subject}",
    "Training for officials on {subject} concludes in {city}",
    "Experts review progress on {subject} after {n} months",
    "Statement on {subject} following talks in {city}",
    "{n} partners sign memorandum on {subject}",
    "Vacancy: programme officer, {subject} ({city})",
    "Podcast episode {n}: what next for {subject}?",
    "Survey results on {subject} published for the {region}",
]
CITIES = [
    "Vienna",
    "Skopje",
    "Tunis",
    "Baku",
    "Tbilisi",
    "Brussels",
    "Istanbul",
    "Dakar",
    "Lisbon",
    "Tallinn",
    "Amman",
    "Sarajevo",
    "Rabat",
    "Almaty",
    "Warsaw",
    "Valletta",
]
SENTENCES = [
    "The meeting brought together {n} representatives of national authorities and "
    "international partners.",
    "Participants agreed on a joint work plan for the coming {n} months.",
    "The initiative is funded by the European Union and implemented with local partners in {city}.",
    "A follow-up workshop is planned for early {year}.",
    "The report draws on interviews with {n} practitioners across the {region}.",
    "Officials stressed the importance of {subject} for regional cooperation.",
    "The project team presented preliminary findings on {subject} and invited comments.",
    "Further details, including the agenda and presentations, are available on the event page.",
    "More than {n} applications were received in the first round.",
    "The next steps include a peer review and a public consultation in {city}.",
]
CATEGORIES = ["News", "Events", "Publications", "Press release", "Vacancies", "Projects"]


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())[:80]


def _fill(template: str, rng: random.Random, subject: str, region: str) -> str:
    return template.format(
        org=rng.choice(ORGS),
        subject=subject,
        region=region,
        city=rng.choice(CITIES),
        year=rng.choice([2024, 2025, 2026]),
        n=rng.randint(3, 120),
    )


def make_feed(index: int, seed: int = SEED) -> bytes:
    """Feed number `index`: the same bytes for the same (index, seed), different per index."""
    rng = random.Random(seed * 1000 + index)
    org = ORGS[index % len(ORGS)]
    domain = f"{_slug(org)}-{index:03d}.example.org"
    section = rng.choice(["news", "press", "blog", "updates", "media-centre"])
    site = f"https://{domain}/"
    permalink_guids = index % 3 != 0  # a third of the feeds use opaque guids
    with_content = index % 4 == 0  # a quarter also carry content:encoded
    newest = EPOCH - dt.timedelta(hours=rng.randint(0, 240), minutes=rng.randint(0, 59))
    items = []
    when = newest
    for number in range(rng.randint(10, 20)):
        subject, region = rng.choice(SUBJECTS), rng.choice(REGIONS)
        title = _fill(rng.choice(TITLE_TEMPLATES), rng, subject, region)
        article = 10_000 + index * 100 + number
        link = f"{site}{section}/{when:%Y/%m}/{_slug(title)}-{article}"
        guid = (
            f'<guid isPermaLink="true">{escape(link)}</guid>'
            if permalink_guids
            else f'<guid isPermaLink="false">{domain}-{article}-{rng.getrandbits(32):08x}</guid>'
        )
        paragraphs = [
            " ".join(
                _fill(s, rng, subject, region) for s in rng.sample(SENTENCES, rng.randint(2, 4))
            )
            for _ in range(rng.randint(1, 3))
        ]
        description = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        categories = "".join(
            f"<category>{escape(c)}</category>" for c in rng.sample(CATEGORIES, rng.randint(0, 2))
        )
        content = (
            "<content:encoded><![CDATA["
            + description
            + f'<p><a href="{escape(link)}">Read the full article</a></p>'
            + "]]></content:encoded>"
            if with_content
            else ""
        )
        items.append(
            f"<item><title>{escape(title)}</title><link>{escape(link)}</link>{guid}"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(description)}</description>{categories}{content}</item>"
        )
        when -= dt.timedelta(hours=rng.randint(3, 96), minutes=rng.randint(0, 59))
    title = f"{org} - {section.replace('-', ' ').title()} #{index:03d}"
    channel = (
        f"<title>{escape(title)}</title><link>{site}</link>"
        f"<description>Latest {section} from the {escape(org)}</description>"
        f"<language>en</language><lastBuildDate>{format_datetime(newest)}</lastBuildDate>"
        f"<generator>feedgen {index}</generator>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel>{channel}{''.join(items)}</channel></rss>\n"
    ).encode()


def make_feeds(count: int = 500, seed: int = SEED) -> dict[str, bytes]:
    """feed_id -> body, for feed-000 .. feed-{count-1}."""
    return {f"feed-{i:03d}": make_feed(i, seed) for i in range(count)}


def write_feeds(feeds: dict[str, bytes], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.xml"):
        old.unlink()
    for feed_id, body in feeds.items():
        (directory / f"{feed_id}.xml").write_bytes(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args()
    feeds = make_feeds(args.count)
    directory = work_dir("feeds")
    write_feeds(feeds, directory)
    sizes = sorted(len(b) for b in feeds.values())
    items = sum(body.count(b"<item>") for body in feeds.values())
    print(
        f"{len(feeds)} feeds, {items} items in {directory}; body size min {sizes[0]} B, "
        f"median {sizes[len(sizes) // 2]} B, max {sizes[-1]} B"
    )


if __name__ == "__main__":
    main()
