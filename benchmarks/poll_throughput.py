"""Poll throughput: tidings' poller and rss2email on the same 500 feeds, 100 ms per request.

The feeds (feedgen.py) are served by tidings' LocalServer (feed_server.py) with 100 ms of
latency per request; ETag / If-None-Match are honoured, so an unchanged feed is a 304.

tidings: a fresh emulated stack per concurrency (16, 32, 64); all feeds added with
baseline_items=1000, so the first poll publishes every item (as rss2email's first run mails
every item); then a second poll of the unchanged feeds with a clock a day ahead. Wall time,
process CPU time, the CPU spent inside AWS calls, requests seen by the server and SNS
PublishBatch entries are recorded for each poll.

The emulated stack's SNS -> SQS subscription is removed for these runs: moto's SQS costs
O(messages in the queue) per message delivered (moto/sqs/models.py, `Queue.messages`), so
7,425 deliveries would spend many minutes of CPU inside the poller's process. On AWS that
fan-out happens on AWS's side and costs the poller nothing. Published items are counted
from the PublishBatch entries SNS accepted; aws_calls.py checks on small runs that every
accepted entry does reach the queue.

Parse time: tidings' parse_feed (and bare feedparser.parse) on the 500 bodies, serially.
Ideal = requests / concurrency x latency (+ the serial parse time, first poll only: an
unchanged feed is a 304 and is not parsed).

The same polls are then run a second time with the per-feed AWS writes (UpdateItem,
PublishBatch) answered by a network stand-in (aws_standin.py: a fixed latency, no CPU; the
writes reach moto afterwards, untimed): in-process moto turns every call into CPU work for
the poller's process, which on AWS is a wait that other threads overlap. Those rows are
labelled; the emulated rows are the benchmark as specified. Emulated runs are CPU-bound and
steady: one run per concurrency. Stand-in runs are noisier and choose the recommended
concurrency: median of three.

Run alone (about 10 minutes; --skip-rss2email for tidings only):
    .venv/bin/python benchmarks/poll_throughput.py [--concurrency 16 32 64] [--feeds 500]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import feedparser
import rss2email_baseline
from aws_calls import AwsMeter, poller_clients, with_clock
from aws_standin import LATENCY as STANDIN_LATENCY
from aws_standin import NetworkAws
from benchlib import listen_overflows, ms, ratio, seconds, table, verdict, work_dir
from feed_server import FeedServer, delta
from feedgen import make_feeds, write_feeds

from tidings import aws
from tidings.feeds.parse import parse_feed
from tidings.feeds.topics import TopicRules
from tidings.local.stack import Stack, emulated_aws
from tidings.model import FeedState
from tidings.poll import LOAD_PAGE, Poller
from tidings.store.feeds import FeedStore

LATENCY = 0.1
CONCURRENCIES = (16, 32, 64)
# Emulated runs are CPU-bound and steady (one run each); stand-in runs are network-bound and
# noisier on a shared machine, and they choose the concurrency: median of three.
EMULATED_REPEATS, STANDIN_REPEATS = 1, 3
DAY = 86401
CONTENT_TYPE = "application/rss+xml; charset=utf-8"  # what LocalServer's Feed serves
FIRST_TARGET, UNCHANGED_TARGET, IDEAL_TARGET = 10.0, 25.0, 1.5


@dataclass
class PollFigures:
    wall: float
    cpu: float  # process CPU time (all threads of the poller's process)
    aws_cpu: float  # CPU time inside AWS calls: botocore + the emulator, summed over threads
    summary: dict[str, int]  # the poller's own report
    requests: dict[str, Any]  # what the feed server saw
    calls: dict[str, Any]  # AWS calls: all, per run, per feed; PublishBatch entries
    listen_overflows: int  # connections the kernel dropped (each a 1 s retransmit)


@dataclass
class TidingsRun:
    """One concurrency: the median sample (by wall time) of each poll over the repeats."""

    concurrency: int
    standin: bool  # per-feed AWS writes answered by the network stand-in
    first: PollFigures
    unchanged: PollFigures
    load: tuple[float, float, float]  # load average before the (first) run
    refused: int = 0  # deferred writes moto refused when applied (should be 0)
    misses: int = 0  # stand-in reads not captured beforehand, so answered by moto (should be 0)
    first_walls: list[float] = field(default_factory=list)  # every repeat
    unchanged_walls: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"tidings c={self.concurrency}" + (", AWS stand-in" if self.standin else "")

    def ideal(self, requests: int, parse: float, latency: float) -> tuple[float, float]:
        network = requests / self.concurrency * latency
        return network + parse, network


@dataclass
class ParseFigures:
    feeds: int
    items: int
    feedparser: float  # bare feedparser.parse(body), serially
    parse_feed: float  # tidings.feeds.parse.parse_feed, serially (the poller's parse)
    what_if: dict[str, float] = field(default_factory=dict)  # parse_feed under a source change
    what_if_same_items: dict[str, bool] = field(default_factory=dict)


@dataclass
class ThroughputResult:
    feeds: int
    items: int
    latency: float
    parse: ParseFigures
    tidings: list[TidingsRun] = field(default_factory=list)  # emulated AWS (as specified)
    standin: list[TidingsRun] = field(default_factory=list)  # AWS writes as a network stand-in
    rss2email: rss2email_baseline.Rss2emailResult | None = None

    def ideal(self, run: TidingsRun) -> tuple[float, float]:
        """(first poll, unchanged poll) ideal for one run."""
        return run.ideal(self.feeds, self.parse.parse_feed, self.latency)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rss2email"] = self.rss2email.as_dict() if self.rss2email else None
        return data


# -- tidings ----------------------------------------------------------------------------------


def _without_queue_subscription(stack: Stack) -> None:
    """See the module docstring: moto's SQS is quadratic in queue length."""
    sns = aws.client("sns")
    for sub in sns.list_subscriptions_by_topic(TopicArn=stack.topic_arn)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])


@contextmanager
def _stack_with_feeds(server: FeedServer, feed_ids: list[str]) -> Iterator[Stack]:
    with emulated_aws() as stack:
        _without_queue_subscription(stack)
        store = FeedStore(stack.table("FeedsTable"))
        for feed_id in feed_ids:
            store.add(FeedState(feed_id=feed_id, url=server.url(feed_id), baseline_items=1000))
        yield stack


def _measure(poller: Poller, concurrency: int, server: FeedServer, meter: AwsMeter) -> PollFigures:
    before_requests, before_calls = server.stats(), meter.snapshot()
    overflows = listen_overflows()
    cpu = time.process_time()
    started = time.perf_counter()
    report = poller.run(concurrency=concurrency)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    overflows = listen_overflows() - overflows
    calls = AwsMeter.delta(meter.snapshot(), before_calls)
    return PollFigures(
        wall=wall,
        cpu=cpu,
        aws_cpu=calls.pop("cpu"),
        summary=report.summary(),
        requests=delta(server.stats(), before_requests),
        calls=calls,
        listen_overflows=overflows,
    )


def _prime(poller: Poller) -> None:
    """The run-level reads the poll will make, in the order it makes them (stand-in only)."""
    due = poller.store.due_ids(int(poller.clock()))
    for start in range(0, len(due), LOAD_PAGE):
        poller.store.load(due[start : start + LOAD_PAGE])


def poll_tidings(
    server: FeedServer, feed_ids: list[str], concurrency: int, standin: bool = False
) -> TidingsRun:
    load = os.getloadavg()
    with _stack_with_feeds(server, feed_ids) as stack:
        poller = Poller.from_settings(stack.poller_settings(concurrency=concurrency))
        meter = AwsMeter(poller_clients())
        network = NetworkAws(poller_clients()) if standin else None
        start = time.time()  # one clock per poll, so the primed reads are the poll's reads
        first_poller = with_clock(poller, lambda: start)
        later = with_clock(poller, lambda: start + DAY)  # past every feed's next_poll_at
        polls, refused = [], 0
        try:
            for each in (first_poller, later):
                if network:
                    with network.recording():
                        _prime(each)
                polls.append(_measure(each, concurrency, server, meter))
                if network:
                    refused += network.apply()  # untimed: the state the poll left
        finally:
            if network:
                network.close()
    first, unchanged = polls
    return TidingsRun(
        concurrency,
        standin,
        first,
        unchanged,
        load,
        refused,
        network.misses if network else 0,
        [first.wall],
        [unchanged.wall],
    )


def poll_repeated(
    server: FeedServer, feed_ids: list[str], concurrency: int, standin: bool, repeats: int
) -> TidingsRun:
    """`repeats` fresh runs; each poll's figures are those of its median run (by wall)."""
    runs = [poll_tidings(server, feed_ids, concurrency, standin) for _ in range(repeats)]

    def middle(polls: list[PollFigures]) -> PollFigures:
        return sorted(polls, key=lambda p: p.wall)[len(polls) // 2]

    return TidingsRun(
        concurrency,
        standin,
        middle([r.first for r in runs]),
        middle([r.unchanged for r in runs]),
        runs[0].load,
        sum(r.refused for r in runs),
        sum(r.misses for r in runs),
        [r.first.wall for r in runs],
        [r.unchanged.wall for r in runs],
    )


def warm_up(server: FeedServer, feed_ids: list[str]) -> None:
    """One small untimed poll: imports, botocore models, moto backends, the topic rules."""
    with _stack_with_feeds(server, feed_ids) as stack:
        Poller.from_settings(stack.poller_settings(concurrency=4)).run(concurrency=4)


# -- parse time -------------------------------------------------------------------------------


def _parse_all(bodies: dict[str, bytes], rules: TopicRules, base_url: str) -> list[Any]:
    return [
        parse_feed(
            body,
            feed_id=feed_id,
            url=f"{base_url}/feeds/{feed_id}.xml",
            rules=rules,
            content_type=CONTENT_TYPE,
        ).items
        for feed_id, body in bodies.items()
    ]


def _timed(action: Callable[[], Any], passes: int = 2) -> tuple[float, Any]:
    """The fastest of `passes` runs: the cost itself, with the least interference."""
    best, result = float("inf"), None
    for _ in range(passes):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return best, result


@contextmanager
def _patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def measure_parse(bodies: dict[str, bytes], base_url: str = "http://127.0.0.1") -> ParseFigures:
    rules = TopicRules.load()
    _parse_all(dict(list(bodies.items())[:20]), rules, base_url)  # warm up
    bare, _ = _timed(lambda: [feedparser.parse(b) for b in bodies.values()])
    shipped, items = _timed(lambda: _parse_all(bodies, rules, base_url))
    figures = ParseFigures(
        feeds=len(bodies), items=sum(map(len, items)), feedparser=bare, parse_feed=shipped
    )

    # What-if for the report (a process-local monkeypatch, restored at once; no source edit):
    # feedparser without HTML sanitising and relative-URI rewriting, whatever parse_feed asks
    # for (it keeps only text; since 8baa0bb it asks for this itself, and the ratio is ~1).
    original = feedparser.parse

    def lean(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **{**kwargs, "sanitize_html": False, "resolve_relative_uris": False})

    with _patched(feedparser, "parse", lean):
        elapsed, lean_items = _timed(lambda: _parse_all(bodies, rules, base_url))
    name = "feedparser.parse(..., sanitize_html=False, resolve_relative_uris=False)"
    figures.what_if[name] = elapsed
    figures.what_if_same_items[name] = lean_items == items
    return figures


# -- the whole benchmark ----------------------------------------------------------------------


def run(
    feeds: int = 500,
    concurrencies: tuple[int, ...] = CONCURRENCIES,
    latency: float = LATENCY,
    with_rss2email: bool = True,
) -> ThroughputResult:
    bodies = make_feeds(feeds)
    feeds_dir = work_dir("feeds")
    write_feeds(bodies, feeds_dir)
    feed_ids = sorted(bodies)
    with FeedServer(feeds_dir, latency=latency) as server:
        result = ThroughputResult(
            feeds=len(bodies),
            items=sum(body.count(b"<item>") for body in bodies.values()),
            latency=latency,
            parse=measure_parse(bodies, server.base_url),
        )
        warm_up(server, feed_ids[:20])
        for concurrency in concurrencies:
            result.tidings.append(
                poll_repeated(server, feed_ids, concurrency, False, EMULATED_REPEATS)
            )
        for concurrency in concurrencies:
            result.standin.append(
                poll_repeated(server, feed_ids, concurrency, True, STANDIN_REPEATS)
            )
        if with_rss2email:
            result.rss2email = rss2email_baseline.run(server, feed_ids)
    return result


def recommended(runs: list[TidingsRun]) -> TidingsRun:
    """The lowest concurrency within 10% of the fastest on both polls (the unchanged poll
    first: it is what nearly every scheduled run is); else the fastest unchanged poll.
    More threads and sockets for no gain are not worth it in a 512 MB Lambda."""
    fastest_first = min(r.first.wall for r in runs)
    fastest_unchanged = min(r.unchanged.wall for r in runs)
    for r in sorted(runs, key=lambda r: r.concurrency):
        if r.unchanged.wall <= 1.1 * fastest_unchanged and r.first.wall <= 1.1 * fastest_first:
            return r
    return min(runs, key=lambda r: r.unchanged.wall)


def recommended_concurrency(result: ThroughputResult) -> int:
    """Chosen on the stand-in runs when there are any: with in-process moto the poller is
    CPU-bound whatever its concurrency, so those runs cannot tell concurrencies apart."""
    return recommended(result.standin or result.tidings).concurrency


def at(runs: list[TidingsRun], concurrency: int) -> TidingsRun | None:
    return next((r for r in runs if r.concurrency == concurrency), None)


def run_problems(result: ThroughputResult, run: TidingsRun) -> list[str]:
    """What went wrong in one tidings run, if anything: a run that did not do the work."""
    problems = []
    first, unchanged = run.first, run.unchanged
    if first.summary.get("baseline", 0) != result.feeds:
        problems.append(f"first poll: {first.summary}")
    if first.calls["accepted"] != result.items:
        problems.append(f"first poll published {first.calls['accepted']} of {result.items}")
    if first.requests["statuses"].get("200", 0) != result.feeds:
        problems.append(f"first poll requests: {first.requests}")
    if unchanged.summary.get("unchanged", 0) != result.feeds:
        problems.append(f"unchanged poll: {unchanged.summary}")
    if unchanged.requests["statuses"].get("304", 0) != result.feeds:
        problems.append(f"unchanged poll requests: {unchanged.requests}")
    if unchanged.calls["entries"]:
        problems.append(f"unchanged poll published {unchanged.calls['entries']} entries")
    if run.refused:
        problems.append(f"moto refused {run.refused} deferred writes")
    if run.misses:
        problems.append(f"{run.misses} stand-in reads were not captured beforehand")
    for label, poll in (("first", first), ("unchanged", unchanged)):
        counted = sum(poll.calls["calls"].values())  # tidings' CallCounter
        scoped = sum(poll.calls["run_calls"].values()) + sum(poll.calls["feed_calls"].values())
        if counted != scoped:
            problems.append(f"{label} poll: CallCounter saw {counted} calls, the meter {scoped}")
    return problems


def rss2email_problems(result: ThroughputResult) -> list[str]:
    if result.rss2email is None:
        return []
    first, unchanged = result.rss2email.runs
    problems = [
        f"r2e {r.label} run exited {r.returncode}" for r in (first, unchanged) if r.returncode
    ]
    if first.statuses.get("200", 0) != result.feeds or first.messages != result.items:
        problems.append(f"r2e first run: {first.statuses}, {first.messages} messages")
    if unchanged.statuses.get("304", 0) != result.feeds or unchanged.messages:
        problems.append(f"r2e unchanged run: {unchanged.statuses}, {unchanged.messages} messages")
    return problems


def problems(result: ThroughputResult) -> list[str]:
    found = [p for r in [*result.tidings, *result.standin] for p in run_problems(result, r)]
    return found + rss2email_problems(result)


def _where_the_time_goes(result: ThroughputResult, run: TidingsRun) -> str:
    parts = []
    for label, poll in (("first", run.first), ("unchanged", run.unchanged)):
        calls = max(1, sum(poll.calls["calls"].values()))
        parts.append(
            f"{label} poll {seconds(poll.wall)} wall, {seconds(poll.cpu)} CPU "
            f"({poll.cpu / poll.wall:.0%} of one core), {seconds(poll.aws_cpu)} of it inside "
            f"AWS calls ({poll.aws_cpu / calls * 1000:.1f} ms per call) and "
            f"{seconds(poll.cpu - poll.aws_cpu)} elsewhere"
        )
    where = "botocore only: moto is not called" if run.standin else "botocore + moto"
    return (
        f"{run.label} ({where} for the writes): "
        + "; ".join(parts)
        + f". Finding the due feeds (run-level reads, before the first fetch) took "
        f"{seconds(run.first.calls['run_wall'])} / {seconds(run.unchanged.calls['run_wall'])}."
    )


def _calls_line(figures: PollFigures) -> str:
    def ops(calls: dict[str, int]) -> str:
        return ", ".join(f"{op} {n}" for op, n in calls.items()) or "none"

    calls = figures.calls
    return f"run-level: {ops(calls['run_calls'])}; per-feed: {ops(calls['feed_calls'])}"


def _wall(median: float, samples: list[float]) -> str:
    if len(samples) < 2:
        return seconds(median)
    return f"{seconds(median)} (median of {len(samples)}: {min(samples):.2f}-{max(samples):.2f})"


def _rows(result: ThroughputResult, runs: list[TidingsRun], pick: int) -> list[list[str]]:
    r2e = result.rss2email
    rows = []
    for run in runs:
        ideal_first, ideal_unchanged = result.ideal(run)
        rows.append(
            [
                run.label + (" (recommended)" if run.concurrency == pick else ""),
                _wall(run.first.wall, run.first_walls),
                f"{seconds(ideal_first)} / {ratio(run.first.wall / ideal_first)}",
                _wall(run.unchanged.wall, run.unchanged_walls),
                f"{seconds(ideal_unchanged)} / {ratio(run.unchanged.wall / ideal_unchanged)}",
                f"{seconds(run.first.cpu, 1)} ({seconds(run.first.aws_cpu, 1)})",
                f"{seconds(run.unchanged.cpu, 1)} ({seconds(run.unchanged.aws_cpu, 1)})",
                ratio(r2e.runs[0].wall / run.first.wall) if r2e else "-",
                ratio(r2e.runs[1].wall / run.unchanged.wall) if r2e else "-",
            ]
        )
    return rows


def targets(result: ThroughputResult, run: TidingsRun) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for one tidings run."""
    ideal_first, ideal_unchanged = result.ideal(run)
    found = []
    if result.rss2email:
        r2e_first, r2e_unchanged = result.rss2email.runs
        first_x, unchanged_x = (
            r2e_first.wall / run.first.wall,
            r2e_unchanged.wall / run.unchanged.wall,
        )
        found += [
            (
                f"first poll >= {FIRST_TARGET:g}x faster than rss2email",
                f"{ratio(first_x)} ({seconds(r2e_first.wall)} vs {seconds(run.first.wall)})",
                first_x >= FIRST_TARGET,
            ),
            (
                f"unchanged poll >= {UNCHANGED_TARGET:g}x faster than rss2email",
                f"{ratio(unchanged_x)} ({seconds(r2e_unchanged.wall)} vs "
                f"{seconds(run.unchanged.wall)})",
                unchanged_x >= UNCHANGED_TARGET,
            ),
        ]
    return [
        *found,
        (
            f"first poll within {IDEAL_TARGET:g}x of ideal",
            f"{ratio(run.first.wall / ideal_first)} ({seconds(run.first.wall)} vs "
            f"{seconds(ideal_first)})",
            run.first.wall <= IDEAL_TARGET * ideal_first,
        ),
        (
            f"unchanged poll within {IDEAL_TARGET:g}x of ideal",
            f"{ratio(run.unchanged.wall / ideal_unchanged)} ({seconds(run.unchanged.wall)} vs "
            f"{seconds(ideal_unchanged)})",
            run.unchanged.wall <= IDEAL_TARGET * ideal_unchanged,
        ),
    ]


HEADERS = [
    "poller",
    "first poll",
    "ideal / actual÷ideal",
    "unchanged poll",
    "ideal / actual÷ideal",
    "CPU first (in AWS calls)",
    "CPU unchanged (in AWS calls)",
    "rss2email ÷ tidings, first",
    "rss2email ÷ tidings, unchanged",
]


def markdown(result: ThroughputResult) -> str:
    p = result.parse
    r2e = result.rss2email
    pick = recommended_concurrency(result) if result.tidings or result.standin else 0
    rows = _rows(result, result.tidings, pick)
    if r2e:
        first, unchanged = r2e.runs
        rows.append(
            [
                f"rss2email {r2e.versions.get('rss2email')} (serial)",
                seconds(first.wall),
                f"{first.wall / result.feeds:.3f} s/feed",
                seconds(unchanged.wall),
                f"{unchanged.wall / result.feeds:.3f} s/feed",
                "-",
                "-",
                "1.0x",
                "1.0x",
            ]
        )
    out = [
        f"{result.feeds} distinct RSS feeds ({result.items} items, 10-20 per feed), one "
        f"local server (tidings' `LocalServer`, its own process) adding {ms(result.latency)} "
        "per request. Ideal = requests / concurrency x latency, + the serial parse time for "
        "the first poll (an unchanged feed is a 304 and is not parsed).",
        "",
        "**Parse time** (serial, all bodies, fastest of 2 passes): "
        f"`feedparser.parse` {seconds(p.feedparser)} "
        f"({p.feedparser / p.feeds * 1000:.1f} ms/feed); tidings `parse_feed` "
        f"{seconds(p.parse_feed)} ({p.parse_feed / p.feeds * 1000:.1f} ms/feed), the figure "
        "used in the ideal.",
        "",
        f"**Emulated AWS** (moto in-process, as specified; {EMULATED_REPEATS} run(s) per "
        "concurrency):",
        "",
        table(HEADERS, rows),
    ]
    if result.standin:
        latencies = ", ".join(f"{op} {ms(s)}" for op, s in STANDIN_LATENCY.items())
        out += [
            "",
            "**AWS writes as a network stand-in** (same feeds, same polls; UpdateItem and "
            f"PublishBatch answered after an assumed {latencies} of latency with no CPU, "
            "applied to moto after the poll, untimed; see `aws_standin.py`; each poll's "
            f"figures from the median of {STANDIN_REPEATS} runs):",
            "",
            table(HEADERS, _rows(result, result.standin, pick)),
        ]
    runs = [*result.tidings, *result.standin]
    out += ["", "Where the time goes (CPU is the poller process's, all threads):", ""]
    out += [f"- {_where_the_time_goes(result, run)}" for run in runs]
    out += [
        "",
        "One Python process runs one thread at a time (the GIL): when its CPU time nears the "
        "wall time the poll is CPU-bound, and more concurrency cannot bring it closer to the "
        "network-bound ideal.",
    ]
    out += ["", "Work done (checked on every run):", ""]
    for run in runs:
        found = run_problems(result, run)
        out.append(
            f"- {run.label}: first poll {run.first.requests['requests']} requests "
            f"{run.first.requests['statuses']}, {run.first.calls['accepted']} items published "
            f"({run.first.calls['entries']} PublishBatch entries sent; "
            f"{_calls_line(run.first)}); unchanged poll {run.unchanged.requests['requests']} "
            f"requests {run.unchanged.requests['statuses']}, "
            f"{run.unchanged.calls['entries']} published ({_calls_line(run.unchanged)}); "
            f"listen-queue overflows {run.first.listen_overflows} / "
            f"{run.unchanged.listen_overflows}; load average before {run.load[0]:.2f}."
            + (f" **PROBLEM: {'; '.join(found)}**" if found else "")
        )
    if r2e:
        for r in r2e.runs:
            out.append(
                f"- rss2email {r.label} run: {r.requests} requests {r.statuses}, "
                f"{r.messages} messages in the sink, exit status {r.returncode}, "
                f"listen-queue overflows {r.listen_overflows} (log: `{r.log}`)."
            )
        r2e_found = rss2email_problems(result)
        if r2e_found:
            out.append(f"- **PROBLEM: {'; '.join(r2e_found)}**")
    if pick:
        out += [
            "",
            f"Targets at c={pick}, the recommended concurrency (the lowest within 10% of the "
            "fastest on both polls, chosen on the stand-in runs when present):",
            "",
        ]
        for runs_, label in ((result.tidings, "emulated AWS"), (result.standin, "AWS stand-in")):
            run = at(runs_, pick)
            if run:
                out += [
                    f"- {target} ({label}): {measured} - {verdict(met)}"
                    for target, measured, met in targets(result, run)
                ]
    if p.what_if:
        out += [
            "",
            f"Parse-time what-if (serial, the same {p.feeds} bodies, a process-local "
            "monkeypatch; no source was changed):",
            "",
            table(
                ["parse_feed variant", "time", "vs shipped", "same items"],
                [["as shipped", seconds(p.parse_feed), "1.00x", "-"]]
                + [
                    [
                        name,
                        seconds(elapsed),
                        f"{elapsed / p.parse_feed:.2f}x",
                        "yes" if p.what_if_same_items[name] else "**no**",
                    ]
                    for name, elapsed in p.what_if.items()
                ],
            ),
        ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCIES))
    parser.add_argument("--latency", type=float, default=LATENCY)
    parser.add_argument("--skip-rss2email", action="store_true")
    args = parser.parse_args()
    result = run(args.feeds, tuple(args.concurrency), args.latency, not args.skip_rss2email)
    print(markdown(result))


if __name__ == "__main__":
    main()
