"""`tidings demo` end to end: emulated AWS, the ICMPD feed over local HTTP, real outputs."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys

import pytest

from tidings.cli.main import main
from tidings.local.demo import run_demo

pytestmark = pytest.mark.e2e

BORDER_TITLES = {
    "ICMPD supporting Afghanistan develop a National Strategy and Action Plan for "
    "Integrated Border Management",
    "Project News: Launch of the Integrated Border Management project",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    outbox = tmp_path_factory.mktemp("outbox")
    lines: list[str] = []
    return run_demo(outbox_dir=outbox, echo=lines.append), lines


def read(path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_first_poll_publishes_all_ten_items_and_sends_three_digests(demo):
    run, lines = demo
    assert run.first.published == 10
    assert (run.emails, run.slack_messages) == (2, 1)
    assert run.daily_emails == 1  # Clara's, at 08:00 Vienna time
    assert run.dead_letters == 0
    assert any("10 new item(s) published" in line for line in lines)


def test_second_poll_sends_nothing(demo):
    run, lines = demo
    assert run.second.published == 0
    assert run.second.summary()["unchanged"] == 1
    assert (run.repeat_emails, run.repeat_slack_messages) == (0, 0)
    assert any(line.startswith("poll 2:") and "0 new item(s)" in line for line in lines)


def test_outbox_holds_mime_emails_with_html_and_text_parts(demo):
    run, _ = demo
    assert len(run.outbox.emails) == 3
    for eml in run.outbox.emails:
        message = read(eml)
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        assert eml.with_suffix(".html").read_text().startswith("<!DOCTYPE html>")
        assert "Unsubscribe" in eml.with_suffix(".txt").read_text()
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_each_subscriber_gets_only_their_topics(demo):
    run, _ = demo
    by_recipient = {str(read(p)["To"]): p for p in run.outbox.emails}
    ana_html = by_recipient["ana@partner.example.org"].with_suffix(".html").read_text()
    ben_text = by_recipient["ben@partner.example.org"].with_suffix(".txt").read_text()
    for title in BORDER_TITLES:
        assert title in ana_html
    assert "FReM" not in ana_html and "EUDiF" not in ana_html
    assert ben_text.count("https://www.icmpd.org//news-centre/") == 10
    clara = read(by_recipient["clara@partner.example.org"])
    assert (
        clara["Subject"] == "4 new items: Diaspora and development, Migration policy and dialogue"
    )


def test_slack_message_is_block_kit_for_return_monitoring_and_trafficking(demo):
    run, _ = demo
    [path] = run.outbox.slack
    message = json.loads(path.read_text())
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert len(sections) == 3
    assert sum("FReM III" in s for s in sections) == 2
    assert sum("trafficking" in s for s in sections) == 1
    assert message["blocks"][0]["text"]["text"] == (
        "3 new items: Return monitoring, Trafficking in human beings"
    )


def test_the_cli_demo_runs_on_a_feeds_file(tmp_path, icmpd_bytes, capsys):
    feed_file = tmp_path / "icmpd.xml"
    feed_file.write_bytes(icmpd_bytes)
    listing = tmp_path / "feeds.txt"
    listing.write_text(f"# the ICMPD news centre\n{feed_file}\n")
    assert main(["demo", "--feeds-file", str(listing), "--outbox", str(tmp_path / "out")]) == 0
    output = capsys.readouterr().out
    assert "poll 1: 1 feed(s) polled" in output
    assert len(list((tmp_path / "out").glob("*.eml"))) == 3


def test_the_installed_console_script_inspects_the_fixture(icmpd_bytes, tmp_path):
    feed_file = tmp_path / "icmpd.xml"
    feed_file.write_bytes(icmpd_bytes)
    tidings = f"{sys.prefix}/bin/tidings"
    result = subprocess.run(
        [tidings, "inspect", str(feed_file), "--json"], capture_output=True, text=True, check=True
    )
    [line] = result.stdout.splitlines()
    feed = json.loads(line)
    assert len(feed["items"]) == 10
    assert feed["items"][0]["topics"] == ["border-management"]
