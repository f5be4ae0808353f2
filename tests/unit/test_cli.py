"""The `tidings` command without AWS: inspect, preview, feed lists."""

from __future__ import annotations

import email
import email.policy
import json

from tests.conftest import FIXTURES
from tidings.cli.main import main
from tidings.local.demo import feed_id_for, read_feed_list


def test_inspect_several_feeds_as_json_lines_with_warnings_and_errors(
    tmp_path, icmpd_bytes, capsys
):
    icmpd = tmp_path / "icmpd.xml"
    icmpd.write_bytes(icmpd_bytes)
    undated = FIXTURES / "feeds" / "undated-entries.rss.xml"
    html = FIXTURES / "feeds" / "not-a-feed-html-page.html"
    code = main(["inspect", str(icmpd), str(undated), str(html), "--json"])
    assert code == 1  # one source was not a feed
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    first, second, third = lines
    assert len(first["items"]) == 10
    assert first["title"] == "www.icmpd.org" and first["warnings"] == []
    assert set(first["items"][0]) == {
        "key",
        "title",
        "link",
        "summary",
        "published",
        "topics",
        "categories",
    }
    assert any("no date" in w for w in second["warnings"])
    assert "not a feed" in third["error"]


def test_inspect_prints_readable_items(tmp_path, icmpd_bytes, capsys):
    icmpd = tmp_path / "icmpd.xml"
    icmpd.write_bytes(icmpd_bytes)
    assert main(["inspect", str(icmpd)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("www.icmpd.org (")
    assert "topics:    trafficking" in out
    assert "key:       https://www.icmpd.org/news-centre/news-detail/" in out


def test_preview_email_writes_the_message_and_its_parts(tmp_path, icmpd_bytes, capsys):
    feed = tmp_path / "icmpd.xml"
    feed.write_bytes(icmpd_bytes)
    out = tmp_path / "preview"
    assert (
        main(["preview", "--feed", str(feed), "--topics", "border-management", "--out", str(out)])
        == 0
    )
    message = email.message_from_bytes(
        (out / "digest.eml").read_bytes(), policy=email.policy.default
    )
    assert message["Subject"] == "2 new items: Border management"
    assert "Integrated Border Management" in (out / "digest.html").read_text()
    assert "Unsubscribe" in (out / "digest.txt").read_text()


def test_preview_slack_with_keywords(tmp_path, icmpd_bytes):
    feed = tmp_path / "icmpd.xml"
    feed.write_bytes(icmpd_bytes)
    out = tmp_path / "preview"
    assert (
        main(
            [
                "preview",
                "--feed",
                str(feed),
                "--channel",
                "slack",
                "--keywords",
                "training",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    message = json.loads((out / "slack-01.json").read_text())
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert len(sections) == 2 and all("FReM III" in s for s in sections)


def test_preview_with_no_match_sends_nothing(tmp_path, icmpd_bytes, capsys):
    feed = tmp_path / "icmpd.xml"
    feed.write_bytes(icmpd_bytes)
    assert (
        main(
            [
                "preview",
                "--feed",
                str(feed),
                "--topics",
                "no-such-topic",
                "--out",
                str(tmp_path / "p"),
            ]
        )
        == 0
    )
    assert "nothing would be sent" in capsys.readouterr().out
    assert not (tmp_path / "p").exists()


def test_feed_lists_read_plain_lines_and_opml(tmp_path):
    plain = tmp_path / "feeds.txt"
    plain.write_text("# comment\nhttps://a.example/rss\n\nfeeds/local.xml\n")
    assert read_feed_list(plain) == ["https://a.example/rss", "feeds/local.xml"]
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline text="A" type="rss" xmlUrl="https://a.example/rss"/>'
        '<outline text="B"><outline text="C" type="rss" xmlUrl="https://c.example/feed"/>'
        "</outline></body></opml>"
    )
    assert read_feed_list(opml) == ["https://a.example/rss", "https://c.example/feed"]
    assert feed_id_for("https://www.icmpd.org/news.xml", 0) == "news"
    assert feed_id_for("https://c.example/", 2) == "c-example-2"
