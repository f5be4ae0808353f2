"""The poller: due feeds in, new items published, feed state committed (in that order).

Publish first, then commit: a crash in between re-publishes on the next run and the
idempotent notifier absorbs it; the reverse order would lose items.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from aws_lambda_powertools.metrics import MetricUnit

from tidings.bus.publish import Publisher, PublishResult
from tidings.feeds import seen as seen_set
from tidings.feeds.fetch import Fetcher, FetchError, FetchPolicy, FetchResult
from tidings.feeds.parse import NotAFeed
from tidings.feeds.parsers import InlineParser, ParseJob, Parser, ProcessParser
from tidings.feeds.topics import TopicRules
from tidings.model import FeedState, Item
from tidings.observability import logger, metrics
from tidings.settings import PollerSettings
from tidings.store.feeds import TRANSACT_ITEMS, FeedStore, StaleFeed, StateWrite


@dataclass(frozen=True, slots=True)
class PollIntervals:
    default: int = 900
    minimum: int = 300
    maximum: int = 86400

    def after_success(self, ttl_minutes: int | None = None, max_age: int | None = None) -> int:
        """The feed's own hints (RSS ttl, Cache-Control max-age) may slow us down, within bounds."""
        wanted = max(self.default, (ttl_minutes or 0) * 60, max_age or 0)
        return min(max(wanted, self.minimum), self.maximum)

    def after_failure(self, failures: int, retry_after: int | None = None) -> int:
        """Exponential backoff (default, 2x, 4x ..., capped); a longer Retry-After wins."""
        backoff: int = self.default * 2 ** min(max(failures - 1, 0), 16)
        return min(max(backoff, retry_after or 0, self.minimum), self.maximum)


LOAD_PAGE = 100  # feeds read per BatchGetItem while polling
# While polling with parsing in-process, the running thread is asked to hand the GIL over
# every 50 ms instead of Python's 5 ms: parsing threads are CPU-bound, and each handover to
# one of dozens of waiting threads costs cache misses (about 7% of a first poll's CPU in
# benchmarks/); the fetching threads hold the GIL only briefly and give it up themselves
# when they wait. With parse processes the poller's threads mostly wait, and Python's 5 ms
# serves them better (an unchanged poll: 1.13 s against 1.16 s, median of 10).
GIL_HANDOVER = 0.05
# Changed feeds are parsed and published by at most this many threads at once, however many
# fetch: that work is mostly CPU, and every extra thread taking turns at the GIL costs CPU
# (a first poll took 8.4 s of CPU at 16 threads, 10.8 s at 64, in benchmarks/RESULTS.md).
# 16 still overlaps the publishing calls' network waits.
PROCESSING_AT_ONCE = 16


@contextmanager
def _gil_handover(seconds: float) -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _newest(items: list[Item], count: int) -> list[Item]:
    if count <= 0:
        return []
    dated = [i for i in items if i.published]
    if len(dated) < len(items):
        return items[:count]
    return sorted(dated, key=lambda i: i.published or "", reverse=True)[:count]


@dataclass(slots=True)
class FeedOutcome:
    feed_id: str
    status: str  # new | unchanged | baseline | failed | gone | stale
    published: int = 0
    unpublished: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PollReport:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    not_reached: list[str] = field(default_factory=list)  # left due for the next run

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def published(self) -> int:
        return sum(o.published for o in self.outcomes)

    def summary(self) -> dict[str, int]:
        statuses = ("new", "unchanged", "baseline", "failed", "gone", "stale")
        return {
            "polled": len(self.outcomes),
            **{status: self.count(status) for status in statuses},
            "published": self.published,
            "not_reached": len(self.not_reached),
        }

    def record_metrics(self) -> None:
        for name, value in self.summary().items():
            metrics.add_metric(
                f"Feeds{name.title().replace('_', '')}"
                if name != "published"
                else "ItemsPublished",
                MetricUnit.Count,
                value,
            )


class Poller:
    def __init__(
        self,
        *,
        store: FeedStore,
        publisher: Publisher,
        fetcher: Fetcher,
        rules: TopicRules,
        intervals: PollIntervals | None = None,
        clock: Callable[[], float] = time.time,
        parse_processes: int = 0,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.fetcher = fetcher
        self.rules = rules
        self.intervals = intervals or PollIntervals()
        self.clock = clock
        self.parse_processes = parse_processes
        self._processing = threading.BoundedSemaphore(PROCESSING_AT_ONCE)
        self._parser: Parser = InlineParser(rules)

    @classmethod
    def from_settings(cls, settings: PollerSettings) -> Poller:
        policy = FetchPolicy(
            read_timeout=settings.fetch_timeout,
            max_bytes=settings.max_feed_bytes,
            pool_size=settings.concurrency,
        )
        return cls(
            store=FeedStore(settings.feeds_table),
            publisher=Publisher(settings.items_topic_arn),
            fetcher=Fetcher(policy),
            rules=TopicRules.load(settings.topic_rules_path or None),
            intervals=PollIntervals(
                settings.default_interval, settings.min_interval, settings.max_interval
            ),
            parse_processes=settings.parse_processes,
        )

    def run(
        self,
        concurrency: int = 16,
        time_left: Callable[[], float] = lambda: float("inf"),
        reserve: float = 25.0,
    ) -> PollReport:
        """Poll every due feed, `concurrency` at a time. No new feed is started once less than
        `reserve` seconds remain: those stay due and the next scheduled run takes them.

        Each worker thread takes the next due feed until none is left; the due feeds' state is
        read a page ahead of them, and their new state written a transaction at a time."""
        report = PollReport()
        due = self.store.due_ids(int(self.clock()))
        workers = max(1, min(concurrency, len(due)))
        lock = threading.Lock()
        with (
            self._parsing(in_processes=bool(due)),
            _gil_handover(GIL_HANDOVER if self.parses_here else sys.getswitchinterval()),
            ThreadPoolExecutor(max_workers=workers + 1, thread_name_prefix="poll") as pool,
        ):
            feeds = _DueFeeds(self.store, due, pool)
            commits = _Commits(self.store)

            def work() -> None:
                while time_left() > reserve and (feed := feeds.next()) is not None:
                    outcome = self._poll_safely(feed, commits)  # never raises
                    with lock:
                        report.outcomes.append(outcome)

            try:
                for started in [pool.submit(work) for _ in range(workers)]:
                    started.result()
            finally:
                commits.flush()  # whatever happened, what was published is committed
        report.not_reached = feeds.not_started()
        report.outcomes.sort(key=lambda o: o.feed_id)
        return report

    @property
    def parses_here(self) -> bool:
        """Whether bodies are parsed in this process (no parse processes, or none started)."""
        return not isinstance(self._parser, ProcessParser)

    @contextmanager
    def _parsing(self, in_processes: bool) -> Iterator[None]:
        """With `parse_processes`, bodies are parsed in that many child processes during the
        run: forked here, before the run's threads start, and ended when it ends."""
        if not in_processes or self.parse_processes < 1:
            yield
            return
        try:
            parser = ProcessParser(self.rules, self.parse_processes)
        except Exception:  # noqa: BLE001 - no fork or no thread (memory, limits): slower, not stopped
            logger.exception("parse processes not started; parsing in the poller's process")
            yield
            return
        with parser:
            self._parser = parser
            try:
                yield
            finally:
                self._parser = InlineParser(self.rules)

    def poll(self, feed: FeedState) -> FeedOutcome:
        """Poll one feed and commit its state at once. Never raises."""
        return self._poll_safely(feed, None)

    def _poll_safely(self, feed: FeedState, commits: _Commits | None) -> FeedOutcome:
        """Whatever goes wrong is recorded on this feed alone, with backoff, so one feed can
        never stop or starve the others. With `commits`, the state joins its next batch."""
        try:
            outcome, write = self._poll(feed)
        except Exception as err:  # noqa: BLE001 - contain anything (a parser bug, throttling)
            logger.exception("feed poll crashed", feed_id=feed.feed_id)
            outcome, write = self._failed(feed, f"{type(err).__name__}: {str(err)[:200]}")
        if commits is not None:
            commits.add(write, outcome)
            return outcome
        _commit_one(self.store, write, outcome)
        return outcome

    def _poll(self, feed: FeedState) -> Polled:
        try:
            result = self.fetcher.fetch(feed.url, feed.etag, feed.last_modified)
        except FetchError as err:
            return self._failed(feed, str(err))
        if result.status == 304:
            return self._unchanged(feed, result)
        if result.status == 410:
            return self._gone(feed)
        if result.status != 200 or result.body is None:
            return self._failed(feed, f"HTTP {result.status}", result.retry_after)
        with self._processing:
            return self._changed(feed, result, result.body)

    # -- outcomes: each sets the feed's new state and says how to write it ------------------

    def _changed(self, feed: FeedState, result: FetchResult, body: bytes) -> Polled:
        body_hash = hashlib.sha256(body).hexdigest()
        if feed.body_hash is not None and body_hash == feed.body_hash:
            return self._unchanged(feed, result)  # the server ignores validators; we do not parse
        try:
            parsed = self._parser.parse(
                ParseJob(
                    body,
                    feed_id=feed.feed_id,
                    url=result.url,
                    default_topics=feed.topics,
                    identity=feed.identity,
                    title_override=feed.title,
                    content_type=result.content_type,
                )
            )
        except NotAFeed as err:
            return self._failed(feed, str(err))
        warnings = parsed.warnings + (
            [f"body cut at {self.fetcher.policy.max_bytes} bytes"] if result.truncated else []
        )
        seen = seen_set.SeenSet(feed.seen)
        fresh = [item for item in parsed.items if item.key not in seen]
        first_poll = not feed.baselined
        # the baseline's newest N, by date where the feed gives dates (feed order otherwise)
        to_publish = _newest(fresh, feed.baseline_items) if first_poll else fresh
        outcome = self._publish(to_publish)
        newly_seen = [i.key for i in outcome.published]
        if first_poll:  # the baseline: everything in the feed now counts as seen
            offered = {i.key for i in to_publish}
            newly_seen += [i.key for i in fresh if i.key not in offered]
        feed.seen = seen_set.merge(feed.seen, [i.key for i in parsed.items], newly_seen)
        failed = len(outcome.failed)
        if failed:
            # Forget the validators so the next poll fetches and re-offers the unpublished items.
            feed.etag = feed.last_modified = feed.body_hash = None
            feed.last_error = f"{failed} item(s) not published: {outcome.failed[0][1]}"
            logger.warning("publish incomplete", feed_id=feed.feed_id, failed=failed)
        else:
            feed.etag, feed.last_modified, feed.body_hash = (
                result.etag,
                result.last_modified,
                body_hash,
            )
            feed.last_error = None
        feed.baselined = True
        if result.moved_to:
            logger.info("feed moved permanently", feed_id=feed.feed_id, url=result.moved_to)
            feed.url = result.moved_to
        feed.consecutive_failures = 0
        self._schedule(feed, self.intervals.after_success(parsed.ttl_minutes, result.max_age))
        for warning in warnings[:20]:  # feed-controlled: bounded
            logger.info("feed warning", feed_id=feed.feed_id, warning=warning)
        status = "baseline" if first_poll else ("new" if outcome.published else "unchanged")
        return FeedOutcome(
            feed.feed_id,
            status,
            published=len(outcome.published),
            unpublished=failed,
            error=feed.last_error,
            warnings=warnings,
        ), (feed, False, bool(result.moved_to))

    def _publish(self, items: list[Item]) -> PublishResult:
        return self.publisher.publish(list(reversed(items)))  # oldest first, as they happened

    def _unchanged(self, feed: FeedState, result: FetchResult) -> Polled:
        feed.etag = result.etag or feed.etag
        feed.last_modified = result.last_modified or feed.last_modified
        if result.moved_to:
            feed.url = result.moved_to
        feed.consecutive_failures, feed.last_error = 0, None
        self._schedule(feed, self.intervals.after_success(max_age=result.max_age))
        return FeedOutcome(feed.feed_id, "unchanged"), (feed, False, bool(result.moved_to))

    def _failed(self, feed: FeedState, error: str, retry_after: int | None = None) -> Polled:
        feed.consecutive_failures += 1
        feed.last_error = error
        delay = self.intervals.after_failure(feed.consecutive_failures, retry_after)
        logger.warning(
            "feed failed",
            feed_id=feed.feed_id,
            error=error,
            failures=feed.consecutive_failures,
            retry_in=delay,
        )
        self._schedule(feed, delay)
        return FeedOutcome(feed.feed_id, "failed", error=error), (feed, False, False)

    def _gone(self, feed: FeedState) -> Polled:
        feed.last_error = "410 Gone: the publisher removed this feed; it is now disabled"
        logger.warning("feed gone, disabled", feed_id=feed.feed_id, url=feed.url)
        self._schedule(feed, self.intervals.maximum)
        return FeedOutcome(feed.feed_id, "gone", error=feed.last_error), (feed, True, False)

    def _schedule(self, feed: FeedState, delay: int) -> None:
        now = int(self.clock())
        feed.last_polled_at, feed.next_poll_at = now, now + delay


# A poll's outcome, and the state write that makes it stick.
Polled = tuple[FeedOutcome, StateWrite]


def _discarded(outcome: FeedOutcome) -> None:
    logger.warning("feed committed by another run, result discarded", feed_id=outcome.feed_id)
    outcome.status = "stale"


def _commit_one(store: FeedStore, write: StateWrite, outcome: FeedOutcome) -> None:
    """One feed's state, alone; the outcome says when it is stale or was not saved."""
    try:
        store.commit(*write)
    except StaleFeed:
        _discarded(outcome)
    except Exception as err:  # noqa: BLE001 - the state was not saved: the feed stays due
        _unsaved(outcome, err)


def _unsaved(outcome: FeedOutcome, err: Exception) -> None:
    logger.error("feed state not saved", feed_id=outcome.feed_id, error=repr(err)[:300])
    outcome.status = "failed"
    outcome.error = f"state not saved ({type(err).__name__}): the feed stays due"


class _DueFeeds:
    """The due feeds, handed out one at a time to the worker threads (thread-safe). Their
    state is read a page (one BatchGetItem) at a time, the next page while this one is being
    polled, so that no worker waits on DynamoDB after the first page."""

    def __init__(self, store: FeedStore, ids: list[str], loader: ThreadPoolExecutor) -> None:
        self._store = store
        self._unread = deque(ids)
        self._ready: deque[FeedState] = deque()
        self._reading: tuple[Future[list[FeedState]], list[str]] | None = None
        self._loader = loader
        self._lock = threading.Lock()

    def next(self) -> FeedState | None:
        while True:
            with self._lock:
                if self._reading and self._reading[0].done():
                    self._ready.extend(self._reading[0].result())
                    self._reading = None
                if len(self._ready) <= LOAD_PAGE // 2 and self._reading is None and self._unread:
                    page = [
                        self._unread.popleft() for _ in range(min(LOAD_PAGE, len(self._unread)))
                    ]
                    self._reading = (self._loader.submit(self._store.load, page), page)
                if self._ready:
                    return self._ready.popleft()
                if self._reading is None:
                    return None
                reading = self._reading[0]
            reading.result()  # outside the lock; raises if the read failed

    def not_started(self) -> list[str]:
        with self._lock:
            reading = self._reading[1] if self._reading else []
            return [f.feed_id for f in self._ready] + reading + list(self._unread)


class _Commits:
    """Feed state written a transaction (up to 100 feeds) at a time instead of a call per
    feed; the worker whose feed fills a batch writes it, `flush` writes the rest.

    A feed's items are published before its state is written, as with a single commit: if
    the process dies in between, the next run publishes them again and the idempotent
    notifier absorbs the repeat."""

    def __init__(self, store: FeedStore) -> None:
        self._store = store
        self._pending: list[tuple[StateWrite, FeedOutcome]] = []
        self._lock = threading.Lock()

    def add(self, write: StateWrite, outcome: FeedOutcome) -> None:
        with self._lock:
            self._pending.append((write, outcome))
            if len(self._pending) < TRANSACT_ITEMS:
                return
            batch, self._pending = self._pending, []
        self._write(batch)

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self._write(batch)

    def _write(self, batch: list[tuple[StateWrite, FeedOutcome]]) -> None:
        try:
            stale = self._store.commit_many([write for write, _ in batch])
        except Exception:  # noqa: BLE001 - not for every feed: find which, one at a time
            logger.exception("batched commit failed; committing feed by feed", feeds=len(batch))
            self._write_singly(batch)
            return
        for _, outcome in batch:
            if outcome.feed_id in stale:
                _discarded(outcome)

    def _write_singly(self, batch: list[tuple[StateWrite, FeedOutcome]]) -> None:
        for write, outcome in batch:
            _commit_one(self._store, write, outcome)
