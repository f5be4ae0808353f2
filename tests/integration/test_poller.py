"""The poller against emulated AWS and feeds served over local HTTP."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
import time

import pytest

from tidings import aws
from tidings import poll as poll_module
from tidings.bus.publish import Publisher, PublishResult
from tidings.feeds import parsers
from tidings.feeds.seen import SeenSet
from tidings.local.httpserver import Feed, Response
from tidings.local.metering import CallCounter
from tidings.model import Item
from tidings.store.feeds import FeedStore

from .helpers import Clock, add_feed, feed, make_poller, published, rss

ONE = ("First news", "https://example.org/news/1")
TWO = ("Second news", "https://example.org/news/2")
THREE = ("Border management talks", "https://example.org/news/3")


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_new_feed_takes_a_silent_baseline_then_publishes_only_what_is_new(stack, server, clock):
    # Given a feed with two items, polled once
    server.routes["/feed.xml"] = Feed(rss(TWO, ONE))
    add_feed(stack, "f", server.url("/feed.xml"))
    poller = make_poller(stack, clock)
    first = poller.run()
    assert first.summary()["baseline"] == 1
    assert published(stack) == []
    # When a third item appears and the feed is due again
    server.routes["/feed.xml"] = Feed(rss(THREE, TWO, ONE))
    clock.advance(901)
    second = poller.run()
    # Then exactly that item is published, with its topics as a message attribute
    items = published(stack)
    assert [item.title for item, _ in items] == ["Border management talks"]
    assert json.loads(items[0][1]["topics"]) == ["border-management"]
    assert items[0][1]["feed_id"] == "f"
    assert second.summary()["new"] == 1


def test_baseline_items_publishes_the_newest_n_on_first_poll(stack, server, clock):
    server.routes["/feed.xml"] = Feed(rss(THREE, TWO, ONE))
    add_feed(stack, "f", server.url("/feed.xml"), baseline_items=2)
    make_poller(stack, clock).run()
    assert sorted(item.title for item, _ in published(stack)) == [
        "Border management talks",
        "Second news",
    ]
    assert len(SeenSet(feed(stack, "f").seen)) == 3  # the third is baseline, never sent later


def test_a_feed_that_is_not_due_is_not_fetched(stack, server, clock):
    server.routes["/feed.xml"] = Feed(rss(ONE))
    add_feed(stack, "f", server.url("/feed.xml"))
    poller = make_poller(stack, clock)
    poller.run()
    clock.advance(60)
    assert poller.run().outcomes == []
    assert len(server.requests) == 1


def test_not_modified_costs_no_parse_no_publish_and_one_write(stack, server, clock, monkeypatch):
    server.routes["/feed.xml"] = Feed(rss(ONE))
    add_feed(stack, "f", server.url("/feed.xml"))
    poller = make_poller(stack, clock)
    poller.run()
    parses = []
    monkeypatch.setattr("tidings.feeds.parsers.parse_feed", lambda *a, **k: parses.append(1))
    counter = CallCounter().attach(
        aws.resource("dynamodb").meta.client, aws.client("dynamodb"), aws.client("sns")
    )
    clock.advance(901)
    report = poller.run()
    assert report.summary()["unchanged"] == 1
    assert server.requests[-1][2]["if-none-match"] == server.routes["/feed.xml"].etag
    assert parses == []
    assert counter.total("sns") == 0
    # the state write: one transaction, shared by up to 100 feeds
    assert counter.calls["dynamodb.TransactWriteItems"] == 1
    assert "dynamodb.UpdateItem" not in counter.calls
    # shared by all feeds of the run: one query of the due index, one BatchGetItem per 100
    assert (counter.calls["dynamodb.Query"], counter.calls["dynamodb.BatchGetItem"]) == (1, 1)
    assert "dynamodb.Scan" not in counter.calls


def test_a_server_ignoring_validators_is_skipped_by_body_hash(stack, server, clock, monkeypatch):
    server.routes["/feed.xml"] = Feed(rss(ONE), validators=False)
    add_feed(stack, "f", server.url("/feed.xml"))
    poller = make_poller(stack, clock)
    poller.run()
    parses = []
    monkeypatch.setattr("tidings.feeds.parsers.parse_feed", lambda *a, **k: parses.append(1))
    clock.advance(901)
    assert poller.run().summary()["unchanged"] == 1
    assert parses == []
    assert "if-none-match" not in server.requests[-1][2]


def test_a_broken_feed_never_stops_the_others(stack, server, clock):
    server.routes["/good.xml"] = Feed(rss(TWO, ONE))
    server.routes["/html"] = Response(
        200, b"<html><body>Moved to our new site</body></html>", {"Content-Type": "text/html"}
    )
    server.routes["/error"] = Response(500, b"oops")
    add_feed(stack, "good", server.url("/good.xml"), baseline_items=5)
    add_feed(stack, "html", server.url("/html"))
    add_feed(stack, "error", server.url("/error"))
    add_feed(stack, "refused", "http://127.0.0.1:9/feed.xml")
    report = make_poller(stack, clock).run()
    by_feed = {o.feed_id: o for o in report.outcomes}
    assert by_feed["good"].published == 2
    assert {by_feed[f].status for f in ("html", "error", "refused")} == {"failed"}
    assert "not a feed" in (by_feed["html"].error or "")
    assert by_feed["error"].error == "HTTP 500"
    for feed_id in ("html", "error", "refused"):
        state = feed(stack, feed_id)
        assert state.consecutive_failures == 1
        assert state.last_error
        assert state.next_poll_at == int(clock.now) + 900


def test_failures_back_off_exponentially_and_recover(stack, server, clock):
    server.routes["/feed.xml"] = Response(503, b"busy")
    add_feed(stack, "f", server.url("/feed.xml"))
    poller = make_poller(stack, clock)
    delays = []
    for _ in range(3):
        poller.run()
        state = feed(stack, "f")
        delays.append(state.next_poll_at - int(clock.now))
        clock.now = state.next_poll_at
    assert delays == [900, 1800, 3600]
    server.routes["/feed.xml"] = Feed(rss(ONE))
    poller.run()
    state = feed(stack, "f")
    assert (state.consecutive_failures, state.last_error) == (0, None)


def test_retry_after_is_honoured(stack, server, clock):
    server.routes["/feed.xml"] = Response(429, b"slow down", {"Retry-After": "7200"})
    add_feed(stack, "f", server.url("/feed.xml"))
    make_poller(stack, clock).run()
    assert feed(stack, "f").next_poll_at == int(clock.now) + 7200


def test_gone_disables_the_feed_and_says_so(stack, server, clock):
    server.routes["/feed.xml"] = Response(410, b"gone")
    add_feed(stack, "f", server.url("/feed.xml"))
    report = make_poller(stack, clock).run()
    state = feed(stack, "f")
    assert report.outcomes[0].status == "gone"
    assert state.enabled is False
    assert "410" in (state.last_error or "")
    clock.advance(10 * 86400)
    assert make_poller(stack, clock).run().outcomes == []


@pytest.mark.parametrize(
    ("status", "moves"), [(301, True), (308, True), (302, False), (307, False)]
)
def test_only_permanent_redirects_update_the_stored_url(stack, server, clock, status, moves):
    server.routes["/new.xml"] = Feed(rss(ONE))
    server.routes["/old.xml"] = Response(status, b"", {"Location": "/new.xml"})
    add_feed(stack, "f", server.url("/old.xml"))
    make_poller(stack, clock).run()
    expected = server.url("/new.xml") if moves else server.url("/old.xml")
    assert feed(stack, "f").url == expected


def test_feed_ttl_and_max_age_slow_polling_within_bounds(stack, server, clock):
    body = rss(ONE).replace(b"<description>d</description>", b"<ttl>120</ttl>")
    server.routes["/ttl.xml"] = Feed(body)
    server.routes["/age.xml"] = Feed(rss(ONE), extra_headers={"Cache-Control": "max-age=999999"})
    add_feed(stack, "ttl", server.url("/ttl.xml"))
    add_feed(stack, "age", server.url("/age.xml"))
    make_poller(stack, clock).run()
    assert feed(stack, "ttl").next_poll_at == int(clock.now) + 7200
    assert feed(stack, "age").next_poll_at == int(clock.now) + 86400  # capped at the maximum


def test_an_item_that_leaves_the_feed_and_returns_is_not_sent_again(stack, server, clock):
    server.routes["/feed.xml"] = Feed(rss(TWO, ONE))
    add_feed(stack, "f", server.url("/feed.xml"))
    poller = make_poller(stack, clock)
    poller.run()
    for items in [(THREE, TWO), (THREE, TWO, ONE)]:  # ONE drops out, then comes back
        server.routes["/feed.xml"] = Feed(rss(*items))
        clock.advance(901)
        poller.run()
    assert [item.title for item, _ in published(stack)] == ["Border management talks"]


def test_an_item_edited_in_place_is_not_sent_again(stack, server, clock):
    server.routes["/feed.xml"] = Feed(rss(ONE))
    add_feed(stack, "f", server.url("/feed.xml"))
    poller = make_poller(stack, clock)
    poller.run()
    server.routes["/feed.xml"] = Feed(rss(("First news (updated)", ONE[1])))
    clock.advance(901)
    assert poller.run().published == 0
    assert published(stack) == []


class FailingFirstPublisher(Publisher):
    """The real SNS publisher, except that the named items fail the first time."""

    def __init__(self, topic_arn: str, fail_titles: set[str]) -> None:
        super().__init__(topic_arn)
        self.fail_titles = set(fail_titles)

    def publish(self, items):  # type: ignore[no-untyped-def]
        failing = [i for i in items if i.title in self.fail_titles]
        result: PublishResult = super().publish([i for i in items if i not in failing])
        result.failed.extend((i, "InternalError") for i in failing)
        self.fail_titles.clear()
        return result


def test_items_that_fail_to_publish_are_retried_on_the_next_poll(stack, server, clock):
    server.routes["/feed.xml"] = Feed(rss(TWO, ONE))
    add_feed(stack, "f", server.url("/feed.xml"), baseline_items=5)
    publisher = FailingFirstPublisher(stack.topic_arn, {"Second news"})
    poller = make_poller(stack, clock, publisher=publisher)
    first = poller.run()
    assert (first.outcomes[0].published, first.outcomes[0].unpublished) == (1, 1)
    assert feed(stack, "f").etag is None  # so the next poll cannot be a 304
    clock.advance(901)
    poller.run()
    assert [item.title for item, _ in published(stack)] == ["First news", "Second news"]


def test_overlapping_runs_cannot_both_commit_a_feed(stack, server, clock):
    server.routes["/feed.xml"] = Feed(rss(ONE))
    add_feed(stack, "f", server.url("/feed.xml"))
    store = FeedStore(stack.table("FeedsTable"))
    stale_copy = store.get("f")
    assert stale_copy is not None
    make_poller(stack, clock).run()  # another run commits first
    outcome = make_poller(stack, clock).poll(stale_copy)
    assert outcome.status == "stale"
    assert feed(stack, "f").version == 1


def test_feeds_not_reached_before_the_deadline_stay_due(stack, server, clock):
    for n in range(3):
        server.routes[f"/{n}.xml"] = Feed(rss(ONE))
        add_feed(stack, f"f{n}", server.url(f"/{n}.xml"))
    report = make_poller(stack, clock).run(concurrency=1, time_left=lambda: 10, reserve=25)
    assert report.outcomes == []
    assert sorted(report.not_reached) == ["f0", "f1", "f2"]
    assert all(feed(stack, f"f{n}").next_poll_at == 0 for n in range(3))


def test_the_deadline_stops_new_feeds_mid_run_and_the_rest_stay_due(stack, server, clock):
    for n in range(4):
        server.routes[f"/{n}.xml"] = Feed(rss(ONE))
        add_feed(stack, f"f{n}", server.url(f"/{n}.xml"))
    checks = iter([60.0, 60.0])  # time for two feeds, then less than the reserve

    report = make_poller(stack, clock).run(
        concurrency=1, time_left=lambda: next(checks, 10.0), reserve=25
    )
    assert [o.status for o in report.outcomes] == ["baseline", "baseline"]
    polled = {o.feed_id for o in report.outcomes}
    assert sorted(polled | set(report.not_reached)) == ["f0", "f1", "f2", "f3"]
    assert len(report.not_reached) == 2
    # the two polled are committed; the two not reached are still due
    assert all((feed(stack, f).version == 1) == (f in polled) for f in ("f0", "f1", "f2", "f3"))
    assert all(feed(stack, f).next_poll_at == 0 for f in report.not_reached)


def test_due_feeds_are_read_a_page_at_a_time_and_all_are_polled(stack, server, clock, monkeypatch):
    monkeypatch.setattr(poll_module, "LOAD_PAGE", 2)
    for n in range(5):
        server.routes[f"/{n}.xml"] = Feed(rss(ONE))
        add_feed(stack, f"f{n}", server.url(f"/{n}.xml"))
    counter = CallCounter().attach(aws.client("dynamodb"))
    report = make_poller(stack, clock).run(concurrency=2)
    assert report.summary()["baseline"] == 5
    assert report.not_reached == []
    assert counter.calls["dynamodb.BatchGetItem"] == 3  # pages of 2, 2 and 1


def test_feed_state_is_written_a_transaction_per_batch(stack, server, clock, monkeypatch):
    monkeypatch.setattr(poll_module, "TRANSACT_ITEMS", 2)
    monkeypatch.setattr("tidings.store.feeds.TRANSACT_ITEMS", 2)
    for n in range(5):
        server.routes[f"/{n}.xml"] = Feed(rss(ONE))
        add_feed(stack, f"f{n}", server.url(f"/{n}.xml"))
    batches = []

    class Recording(FeedStore):
        def commit_many(self, writes):
            batches.append(len(writes))
            return super().commit_many(writes)

    poller = make_poller(stack, clock)
    poller.store = Recording(stack.table("FeedsTable"))
    counter = CallCounter().attach(aws.client("dynamodb"))
    report = poller.run(concurrency=2)
    assert report.summary()["baseline"] == 5
    # written as each batch fills, on the worker threads; the last, partial one at the end
    assert batches == [2, 2, 1]
    assert counter.calls["dynamodb.TransactWriteItems"] == 3
    assert all(feed(stack, f"f{n}").version == 1 for n in range(5))
    assert all(feed(stack, f"f{n}").next_poll_at == int(clock.now) + 900 for n in range(5))


def test_a_stale_feed_in_a_batch_is_discarded_and_the_others_committed(stack, server, clock):
    for n in range(3):
        server.routes[f"/{n}.xml"] = Feed(rss(ONE))
        add_feed(stack, f"f{n}", server.url(f"/{n}.xml"))
    store = FeedStore(stack.table("FeedsTable"))

    class EditedDuringThePoll(FeedStore):
        """The operator edits f1 after the poller read it, before its state is written."""

        def load(self, ids):
            feeds = super().load(ids)
            store.update("f1", title="Renamed by the operator")
            return feeds

    poller = make_poller(stack, clock)
    poller.store = EditedDuringThePoll(stack.table("FeedsTable"))
    counter = CallCounter().attach(aws.client("dynamodb"))
    report = poller.run(concurrency=3)
    # the transaction is cancelled by f1's condition, then repeated without f1
    assert counter.calls["dynamodb.TransactWriteItems"] == 2
    assert counter.calls["dynamodb.UpdateItem"] == 1  # the operator's edit, nothing else
    assert {o.feed_id: o.status for o in report.outcomes} == {
        "f0": "baseline",
        "f1": "stale",
        "f2": "baseline",
    }
    assert [feed(stack, f).version for f in ("f0", "f1", "f2")] == [1, 1, 1]
    assert feed(stack, "f1").title == "Renamed by the operator"
    assert not feed(stack, "f1").baselined  # the poll's state was not written over the edit


def test_a_failed_batch_write_falls_back_to_feed_by_feed(stack, server, clock):
    for n in range(2):
        server.routes[f"/{n}.xml"] = Feed(rss(ONE))
        add_feed(stack, f"f{n}", server.url(f"/{n}.xml"))

    class TransactionsRefused(FeedStore):
        def commit_many(self, writes):
            raise RuntimeError("transactions unavailable")

    poller = make_poller(stack, clock)
    poller.store = TransactionsRefused(stack.table("FeedsTable"))
    report = poller.run(concurrency=2)
    assert report.summary()["baseline"] == 2
    assert [feed(stack, f).version for f in ("f0", "f1")] == [1, 1]


def test_a_feed_whose_state_cannot_be_written_is_failed_and_stays_due(stack, server, clock):
    server.routes["/0.xml"] = Feed(rss(ONE))
    add_feed(stack, "f0", server.url("/0.xml"))

    class Unwritable(FeedStore):
        def commit_many(self, writes):
            raise RuntimeError("transactions unavailable")

        def commit(self, feed, disable=False, moved=False):
            raise RuntimeError("throttled")

    poller = make_poller(stack, clock)
    poller.store = Unwritable(stack.table("FeedsTable"))
    [outcome] = poller.run().outcomes
    assert outcome.status == "failed"
    assert "state not saved" in (outcome.error or "")
    assert feed(stack, "f0").next_poll_at == 0


def test_changed_feeds_are_processed_by_a_bounded_number_of_threads(
    stack, server, clock, monkeypatch
):
    monkeypatch.setattr(poll_module, "PROCESSING_AT_ONCE", 2)
    for n in range(6):
        server.routes[f"/{n}.xml"] = Feed(rss(ONE))
        add_feed(stack, f"f{n}", server.url(f"/{n}.xml"))
    real_parse, lock = parsers.parse_feed, threading.Lock()
    inside, most = [0], [0]

    def parse(body, **kwargs):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)  # long enough for the other fetched feeds to queue up
        try:
            return real_parse(body, **kwargs)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(parsers, "parse_feed", parse)
    report = make_poller(stack, clock).run(concurrency=6)
    assert report.summary()["baseline"] == 6
    assert most[0] == 2


def test_published_messages_are_items(stack, server, clock):
    server.routes["/feed.xml"] = Feed(rss(ONE))
    add_feed(stack, "f", server.url("/feed.xml"), baseline_items=1)
    make_poller(stack, clock).run()
    [(item, _)] = published(stack)
    assert isinstance(item, Item)
    assert (item.feed_id, item.key, item.link) == ("f", ONE[1], ONE[1])
    assert item.published == "2025-12-28T10:00:00+00:00"


def test_a_ten_thousand_item_feed_commits_far_below_the_item_size_limit(stack, server, clock):
    # Given a feed of 10,000 items, polled for its baseline
    items = [(f"News {n}", f"https://example.org/news/{n}") for n in range(10_000)]
    server.routes["/big.xml"] = Feed(rss(*items))
    add_feed(stack, "big", server.url("/big.xml"))
    report = make_poller(stack, clock).run()
    # Then the state commits, every key is remembered, and the item stays small
    assert report.outcomes[0].status == "baseline"
    raw = aws.client("dynamodb").get_item(
        TableName=stack.table("FeedsTable"), Key={"feed_id": {"S": "big"}}
    )["Item"]
    assert len(raw["seen"]["B"]) == 80_000  # 8 bytes a key
    others = {k: v for k, v in raw.items() if k != "seen"}
    assert len(json.dumps(others)) < 2_000  # the rest of the item is small
    assert len(SeenSet(feed(stack, "big").seen)) == 10_000


def test_an_oversized_body_is_cut_at_the_cap_and_reported(stack, server, clock):
    items = [(f"News {n}", f"https://example.org/news/{n}") for n in range(200)]
    server.routes["/big.xml"] = Feed(rss(*items))
    add_feed(stack, "big", server.url("/big.xml"), baseline_items=500)
    report = make_poller(stack, clock, max_bytes=8192).run()
    [outcome] = report.outcomes
    assert "body cut at 8192 bytes" in outcome.warnings
    assert 0 < outcome.published < 200  # what arrived before the cap is still used


def test_an_unexpected_crash_in_one_feed_is_contained(stack, server, clock, monkeypatch):
    # Given two feeds, and a parser that crashes on one of them (a bug, a throttled call...)
    server.routes["/poison.xml"] = Feed(rss(ONE, title="Poison"))
    server.routes["/good.xml"] = Feed(rss(TWO))
    add_feed(stack, "poison", server.url("/poison.xml"), baseline_items=5)
    add_feed(stack, "good", server.url("/good.xml"), baseline_items=5)
    real_parse = parsers.parse_feed

    def parse(body, **kwargs):
        if b"Poison" in body:
            raise RuntimeError("parser bug")
        return real_parse(body, **kwargs)

    monkeypatch.setattr(parsers, "parse_feed", parse)
    report = make_poller(stack, clock).run(concurrency=1)
    # Then the other feed is polled and published; the crash is recorded on its feed only
    by_feed = {o.feed_id: o for o in report.outcomes}
    assert by_feed["good"].published == 1
    assert by_feed["poison"].status == "failed"
    state = feed(stack, "poison")
    assert state.last_error == "RuntimeError: parser bug"
    assert state.next_poll_at == int(clock.now) + 900


def test_a_date_out_of_the_calendar_is_no_date(stack, server, clock):
    poison = rss(ONE).replace(b"28 Dec 2025 10:00:00 +0000", b"0000-01-01T00:00:00Z")
    server.routes["/feed.xml"] = Feed(poison)
    add_feed(stack, "f", server.url("/feed.xml"), baseline_items=5)
    make_poller(stack, clock).run()
    [(item, _)] = published(stack)
    assert item.published is None


def test_a_new_feed_whose_first_poll_fails_still_takes_a_silent_baseline(stack, server, clock):
    server.routes["/feed.xml"] = Response(503, b"maintenance")
    add_feed(stack, "f", server.url("/feed.xml"))
    poller = make_poller(stack, clock)
    poller.run()
    server.routes["/feed.xml"] = Feed(rss(TWO, ONE))
    clock.advance(86400)
    assert poller.run().outcomes[0].status == "baseline"
    assert published(stack) == []


def test_an_operator_edit_during_a_poll_wins(stack, server, clock):
    server.routes["/feed.xml"] = Feed(rss(ONE))
    add_feed(stack, "f", server.url("/feed.xml"))
    store = FeedStore(stack.table("FeedsTable"))
    read_by_poller = store.get("f")
    assert read_by_poller is not None
    store.update("f", url=server.url("/moved.xml"))  # the operator edits meanwhile
    outcome = make_poller(stack, clock).poll(read_by_poller)
    assert outcome.status == "stale"
    assert feed(stack, "f").url == server.url("/moved.xml")


def test_with_parse_processes_feeds_are_parsed_in_a_child_with_the_same_results(
    stack, server, clock, monkeypatch
):
    # Given feeds polled by a poller that parses in one child process
    server.routes["/a.xml"] = Feed(rss(TWO, ONE))
    server.routes["/b.xml"] = Feed(rss(ONE))
    add_feed(stack, "a", server.url("/a.xml"))
    add_feed(stack, "b", server.url("/b.xml"))
    poller = make_poller(stack, clock)
    poller.parse_processes = 1
    parsed_here, real = [], parsers.parse_feed

    def parse_feed(body, **options):  # only calls in this process land in parsed_here
        parsed_here.append(options["feed_id"])
        return real(body, **options)

    monkeypatch.setattr(parsers, "parse_feed", parse_feed)
    assert poller.run().summary()["baseline"] == 2
    server.routes["/a.xml"] = Feed(rss(THREE, TWO, ONE))
    clock.advance(901)
    report = poller.run()
    # Then the new item is published with its topics, as when parsing in-process
    [(item, attributes)] = published(stack)
    assert (item.feed_id, item.title) == ("a", "Border management talks")
    assert json.loads(attributes["topics"]) == ["border-management"]
    assert report.summary()["new"] == 1
    # and none of it was parsed in this process; no child outlives the run
    assert parsed_here == []
    assert multiprocessing.active_children() == []


def test_a_parse_process_that_dies_fails_that_feed_alone(stack, server, clock, monkeypatch):
    # Given two feeds, the first of which kills the parse process
    server.routes["/poison.xml"] = Feed(rss(ONE, title="Poison"))
    server.routes["/good.xml"] = Feed(rss(TWO))
    add_feed(stack, "a-poison", server.url("/poison.xml"), baseline_items=5)
    add_feed(stack, "b-good", server.url("/good.xml"), baseline_items=5)
    parsed_here, real = [], parsers.parse_feed

    def parse_feed(body, **options):
        parsed_here.append(options["feed_id"])  # lands only when called in this process
        if b"Poison" in body:
            os._exit(9)  # the child ends mid-parse, as when it runs out of memory
        return real(body, **options)

    monkeypatch.setattr(parsers, "parse_feed", parse_feed)
    poller = make_poller(stack, clock)
    poller.parse_processes = 1
    report = poller.run(concurrency=1)
    # Then the other feed is parsed here, once the child is gone, and published
    by_feed = {o.feed_id: o for o in report.outcomes}
    assert parsed_here == ["b-good"]
    assert by_feed["b-good"].published == 1
    # and the poison's feed failed, with backoff, to be tried again later
    assert by_feed["a-poison"].status == "failed"
    state = feed(stack, "a-poison")
    assert state.last_error.startswith("ParserError: the parser process died (exit code 9)")
    assert state.next_poll_at == int(clock.now) + 900


def test_when_no_parse_process_can_be_forked_the_poller_parses_itself(
    stack, server, clock, monkeypatch, caplog
):
    server.routes["/feed.xml"] = Feed(rss(TWO, ONE))
    add_feed(stack, "f", server.url("/feed.xml"), baseline_items=5)

    def no_fork():
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(os, "fork", no_fork)
    poller = make_poller(stack, clock)
    poller.parse_processes = 1
    report = poller.run()
    assert report.summary()["baseline"] == 1
    assert sorted(item.title for item, _ in published(stack)) == ["First news", "Second news"]
    assert "parse processes not started" in caplog.text


@pytest.mark.parametrize("processes", [0, 1])
def test_the_gil_is_handed_over_less_often_only_while_parsing_here(
    stack, server, clock, monkeypatch, processes
):
    default = sys.getswitchinterval()
    server.routes["/feed.xml"] = Feed(rss(ONE))
    add_feed(stack, "f", server.url("/feed.xml"), baseline_items=1)
    poller = make_poller(stack, clock)
    poller.parse_processes = processes
    during, publish = [], poller.publisher.publish

    def publishing(items):
        during.append(sys.getswitchinterval())
        return publish(items)

    monkeypatch.setattr(poller.publisher, "publish", publishing)
    poller.run()
    assert during == [pytest.approx(poll_module.GIL_HANDOVER if processes == 0 else default)]
    assert sys.getswitchinterval() == default  # restored
