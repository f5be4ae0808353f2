"""Poll throughput: tidings' poller and rss2email on the same 500 feeds, 100 ms per request.

The feeds (feedgen.py) are served by tidings' LocalServer (feed_server.py) with 100 ms of
latency per request; ETag / If-None-Match are honoured, so an unchanged feed is a 304.

tidings: a fresh emulated stack per run; all feeds added with baseline_items=1000, so the
first poll publishes every item (as rss2email's first run mails every item); then a second
poll of the unchanged feeds with a clock a day ahead. Wall time, process CPU time, the CPU
spent inside AWS calls, requests seen by the server and SNS PublishBatch entries are
recorded for each poll. Three runs per configuration: concurrency 16, 32 and 64, each with
parsing in the poller's own process and with one parse process (`POLL_PARSE_PROCESSES=1`: a
second vCPU, which Lambda gives from 3,538 MB); each poll's figures are its median run's.

AWS is a network service here, as it is for the Lambda (aws_standin.py): every call is
signed, sent and its answer parsed by botocore as usual, and answered after an assumed
in-region latency instead of by moto's CPU inside the poller's process (where one
BatchGetItem of 100 feeds costs 0.4 s of CPU). Reads are answered with moto's own answers,
captured before the poll; writes reach moto after the poll, untimed, so each poll leaves the
emulated tables as it would leave DynamoDB. The SNS -> SQS subscription is removed: the
fan-out to the deliveries queue happens on AWS's side and costs the poller nothing; published
items are counted from the PublishBatch entries SNS accepted, and aws_calls.py checks on small
runs that every accepted entry does reach the queue.

botocore signs with awscrt when it is installed; the development environment has it (for
aws-sam-cli), the Lambda runtime does not, so run.py sets BOTO_DISABLE_CRT=true; and, as
template.yaml does for the functions, TIDINGS_CLIENT_VALIDATION=off.

Parse time: tidings' parse_feed (and bare feedparser.parse) on the 500 bodies, serially.
Ideal = requests / concurrency x latency (+ the serial parse time, first poll only: an
unchanged feed is a 304 and is not parsed).

Run alone (about 12 minutes; --skip-rss2email for tidings only):
    .venv/bin/python benchmarks/poll_throughput.py [--concurrency 16 32 64]
        [--parse-processes 0 1] [--repeats 3] [--feeds 500]
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
from aws_standin import LATENCY as AWS_LATENCY
from aws_standin import NetworkAws
from benchlib import cpu_times, listen_overflows, ms, ratio, seconds, table, verdict, work_dir
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
PARSE_PROCESSES = (0, 1)  # 1: a second vCPU parses (Lambda at 3,538 MB)
REPEATS = 3  # runs per concurrency; a shared machine is noisy: each poll's median run
DAY = 86401
CONTENT_TYPE = "application/rss+xml; charset=utf-8"  # what LocalServer's Feed serves
FIRST_TARGET, UNCHANGED_TARGET, IDEAL_TARGET = 10.0, 25.0, 1.5


@dataclass
class PollFigures:
    wall: float
    cpu: float  # CPU time of the poller's process (all threads) and its parse processes
    aws_cpu: float  # CPU time inside AWS calls (botocore, the stand-in), summed over threads
    summary: dict[str, int]  # the poller's own report
    requests: dict[str, Any]  # what the feed server saw
    calls: dict[str, Any]  # AWS calls: all, shared, per feed; PublishBatch entries
    listen_overflows: int  # connections the kernel dropped (each a 1 s retransmit)
    parse: float = 0.0  # first poll: the serial parse time measured just before it
    child_cpu: float = 0.0  # the part of `cpu` spent in parse processes


@dataclass
class TidingsRun:
    """One configuration: the median sample (by wall time) of each poll over the repeats."""

    concurrency: int
    first: PollFigures
    unchanged: PollFigures
    load: tuple[float, float, float]  # load average before the (first) run
    refused: int = 0  # writes moto refused when applied after the poll (should be 0)
    misses: int = 0  # reads not captured beforehand, so answered by moto (should be 0)
    first_walls: list[float] = field(default_factory=list)  # every repeat
    unchanged_walls: list[float] = field(default_factory=list)
    first_parses: list[float] = field(default_factory=list)  # measured next to each first poll
    parse_processes: int = 0

    @property
    def config(self) -> str:
        processes = self.parse_processes
        parsing = f"{processes} parse process{'es' if processes > 1 else ''}"
        return f"c={self.concurrency}, " + (parsing if processes else "parsing in-process")

    @property
    def label(self) -> str:
        return f"tidings {self.config}"

    def ideal(self, requests: int, parse: float, latency: float) -> tuple[float, float]:
        network = requests / self.concurrency * latency
        return network + parse, network

    def first_over_ideal(self, requests: int, latency: float) -> tuple[float, list[float]]:
        """Each first poll over its own ideal (with the parse time measured next to it):
        the median, and all of them."""
        network = requests / self.concurrency * latency
        runs = zip(self.first_walls, self.first_parses, strict=True)
        ratios = sorted(wall / (network + parse) for wall, parse in runs)
        return ratios[len(ratios) // 2], ratios


@dataclass
class ParseFigures:
    feeds: int
    items: int
    feedparser: float  # bare feedparser.parse(body), serially
    parse_feed: float  # tidings.feeds.parse.parse_feed, serially (the poller's parse)


@dataclass
class ThroughputResult:
    feeds: int
    items: int
    latency: float
    parse: ParseFigures
    tidings: list[TidingsRun] = field(default_factory=list)
    rss2email: rss2email_baseline.Rss2emailResult | None = None

    def ideal(self, run: TidingsRun) -> tuple[float, float]:
        """(first poll, unchanged poll) ideal for one run, with the median of the parse
        times measured next to its first polls (the machine's speed drifts over minutes)."""
        parses = sorted(run.first_parses) or [self.parse.parse_feed]
        return run.ideal(self.feeds, parses[len(parses) // 2], self.latency)

    def first_over_ideal(self, run: TidingsRun) -> tuple[float, list[float]]:
        return run.first_over_ideal(self.feeds, self.latency)

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
    # parse processes end, and so are counted, with the poll; the feed server runs on
    own, children = cpu_times()
    started = time.perf_counter()
    report = poller.run(concurrency=concurrency)
    wall = time.perf_counter() - started
    own_after, children_after = cpu_times()
    child_cpu = children_after - children
    cpu = own_after - own + child_cpu
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
        child_cpu=child_cpu,
    )


def _prime(poller: Poller) -> None:
    """The run-level reads the poll will make, in the order it makes them (stand-in only)."""
    due = poller.store.due_ids(int(poller.clock()))
    for start in range(0, len(due), LOAD_PAGE):
        poller.store.load(due[start : start + LOAD_PAGE])


def poll_tidings(
    server: FeedServer, bodies: dict[str, bytes], concurrency: int, parse_processes: int
) -> TidingsRun:
    load = os.getloadavg()
    feed_ids = sorted(bodies)
    rules = TopicRules.load()
    # the ideal's parse time, measured next to the poll: a shared machine's speed drifts
    parse, _ = _timed(lambda: _parse_all(bodies, rules, server.base_url), passes=1)
    with _stack_with_feeds(server, feed_ids) as stack:
        poller = Poller.from_settings(
            stack.poller_settings(concurrency=concurrency, parse_processes=parse_processes)
        )
        meter = AwsMeter(poller_clients())
        network = NetworkAws(poller_clients())
        start = time.time()  # one clock per poll, so the captured reads are the poll's reads
        first_poller = with_clock(poller, lambda: start)
        later = with_clock(poller, lambda: start + DAY)  # past every feed's next_poll_at
        polls, refused = [], 0
        try:
            for each in (first_poller, later):
                with network.recording():
                    _prime(each)
                polls.append(_measure(each, concurrency, server, meter))
                refused += network.apply()  # untimed: the state the poll left
        finally:
            network.close()
    first, unchanged = polls
    first.parse = parse
    return TidingsRun(
        concurrency,
        first,
        unchanged,
        load,
        refused,
        network.misses,
        [first.wall],
        [unchanged.wall],
        [parse],
        parse_processes,
    )


def poll_repeated(
    server: FeedServer,
    bodies: dict[str, bytes],
    concurrency: int,
    parse_processes: int,
    repeats: int = REPEATS,
) -> TidingsRun:
    """`repeats` fresh runs; each poll's figures are those of its median run (by wall).
    The first poll's ratio to its ideal is the median of the runs' own ratios."""
    runs = [poll_tidings(server, bodies, concurrency, parse_processes) for _ in range(repeats)]

    def middle(polls: list[PollFigures]) -> PollFigures:
        return sorted(polls, key=lambda p: p.wall)[len(polls) // 2]

    return TidingsRun(
        concurrency,
        middle([r.first for r in runs]),
        middle([r.unchanged for r in runs]),
        runs[0].load,
        sum(r.refused for r in runs),
        sum(r.misses for r in runs),
        [r.first.wall for r in runs],
        [r.unchanged.wall for r in runs],
        [r.first.parse for r in runs],
        parse_processes,
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


def measure_parse(bodies: dict[str, bytes], base_url: str = "http://127.0.0.1") -> ParseFigures:
    rules = TopicRules.load()
    _parse_all(dict(list(bodies.items())[:20]), rules, base_url)  # warm up
    bare, _ = _timed(lambda: [feedparser.parse(b) for b in bodies.values()])
    shipped, items = _timed(lambda: _parse_all(bodies, rules, base_url))
    figures = ParseFigures(
        feeds=len(bodies), items=sum(map(len, items)), feedparser=bare, parse_feed=shipped
    )

    return figures


# -- the whole benchmark ----------------------------------------------------------------------


def run(
    feeds: int = 500,
    concurrencies: tuple[int, ...] = CONCURRENCIES,
    latency: float = LATENCY,
    with_rss2email: bool = True,
    *,
    parse_processes: tuple[int, ...] = PARSE_PROCESSES,
    repeats: int = REPEATS,
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
        for processes in parse_processes:
            for concurrency in concurrencies:
                result.tidings.append(
                    poll_repeated(server, bodies, concurrency, processes, repeats)
                )
        if with_rss2email:
            result.rss2email = rss2email_baseline.run(server, feed_ids)
    return result


def recommended(runs: list[TidingsRun]) -> TidingsRun:
    """The fewest parse processes, then the lowest concurrency, within 10% of the fastest
    on both polls; else the fastest unchanged poll (what nearly every scheduled run is).
    More processes, threads and sockets for no gain are not worth their memory."""
    fastest_first = min(r.first.wall for r in runs)
    fastest_unchanged = min(r.unchanged.wall for r in runs)
    for r in sorted(runs, key=lambda r: (r.parse_processes, r.concurrency)):
        if r.unchanged.wall <= 1.1 * fastest_unchanged and r.first.wall <= 1.1 * fastest_first:
            return r
    return min(runs, key=lambda r: r.unchanged.wall)


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
        problems.append(f"moto refused {run.refused} of the poll's writes")
    if run.misses:
        problems.append(f"{run.misses} reads were not captured before the poll")
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
    found = [p for r in result.tidings for p in run_problems(result, r)]
    return found + rss2email_problems(result)


def _where_the_time_goes(run: TidingsRun) -> str:
    parts = []
    for label, poll in (("first", run.first), ("unchanged", run.unchanged)):
        calls = max(1, sum(poll.calls["calls"].values()))
        children = f", {seconds(poll.child_cpu)} in the parse processes" if poll.child_cpu else ""
        parts.append(
            f"{label} poll {seconds(poll.wall)} wall, {seconds(poll.cpu)} CPU "
            f"({poll.cpu / poll.wall:.0%} of one core), {seconds(poll.aws_cpu)} of it inside "
            f"AWS calls ({poll.aws_cpu / calls * 1000:.1f} ms per call){children} and "
            f"{seconds(poll.cpu - poll.aws_cpu - poll.child_cpu)} elsewhere"
        )
    return f"{run.label}: " + "; ".join(parts) + "."


def _calls_line(figures: PollFigures) -> str:
    def ops(calls: dict[str, int]) -> str:
        return ", ".join(f"{op} {n}" for op, n in calls.items()) or "none"

    calls = figures.calls
    return f"shared: {ops(calls['run_calls'])}; per feed: {ops(calls['feed_calls'])}"


def _wall(median: float, samples: list[float]) -> str:
    if len(samples) < 2:
        return seconds(median)
    return f"{seconds(median)} (median of {len(samples)}: {min(samples):.2f}-{max(samples):.2f})"


def _cpu_figure(poll: PollFigures) -> str:
    inside = f"{seconds(poll.aws_cpu, 1)}"
    if poll.child_cpu:
        return f"{seconds(poll.cpu, 1)} ({inside}; parse processes {seconds(poll.child_cpu, 1)})"
    return f"{seconds(poll.cpu, 1)} ({inside})"


def _rows(
    result: ThroughputResult, runs: list[TidingsRun], pick: TidingsRun | None
) -> list[list[str]]:
    r2e = result.rss2email
    rows = []
    for run in runs:
        _, ideal_unchanged = result.ideal(run)
        rows.append(
            [
                run.label + (" (recommended)" if run is pick else ""),
                _wall(run.first.wall, run.first_walls),
                _over_ideal(result, run),
                _wall(run.unchanged.wall, run.unchanged_walls),
                f"{seconds(ideal_unchanged)} / {ratio(run.unchanged.wall / ideal_unchanged)}",
                _cpu_figure(run.first),
                _cpu_figure(run.unchanged),
                ratio(r2e.runs[0].wall / run.first.wall) if r2e else "-",
                ratio(r2e.runs[1].wall / run.unchanged.wall) if r2e else "-",
            ]
        )
    return rows


def _over_ideal(result: ThroughputResult, run: TidingsRun) -> str:
    ideal_first, _ = result.ideal(run)
    median, ratios = result.first_over_ideal(run)
    parses = sorted(run.first_parses)
    spread = f" (runs: {', '.join(ratio(r) for r in ratios)})" if len(ratios) > 1 else ""
    return (
        f"{seconds(ideal_first)} (parse {seconds(parses[len(parses) // 2])}) / "
        f"{ratio(median)}{spread}"
    )


def targets(result: ThroughputResult, run: TidingsRun) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for one tidings run."""
    ideal_first, ideal_unchanged = result.ideal(run)
    first_ratio, _ = result.first_over_ideal(run)
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
            f"{ratio(first_ratio)} (the median of the runs' first poll over their own ideal; "
            f"median wall {seconds(run.first.wall)}, ideal with the median parse time "
            f"{seconds(ideal_first)})",
            first_ratio <= IDEAL_TARGET,
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
    "ideal (median parse time) / median of actual÷own ideal",
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
    pick = recommended(result.tidings) if result.tidings else None
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
    latencies = ", ".join(f"{op} {ms(s)}" for op, s in AWS_LATENCY.items())
    out = [
        f"{result.feeds} distinct RSS feeds ({result.items} items, 10-20 per feed), one "
        f"local server (tidings' `LocalServer`, its own process) adding {ms(result.latency)} "
        "per request. Ideal = requests / concurrency x latency, + the serial parse time for "
        "the first poll (an unchanged feed is a 304 and is not parsed).",
        "",
        "**Parse time** (serial, all bodies, fastest of 2 passes): "
        f"`feedparser.parse` {seconds(p.feedparser)} "
        f"({p.feedparser / p.feeds * 1000:.1f} ms/feed); tidings `parse_feed` "
        f"{seconds(p.parse_feed)} ({p.parse_feed / p.feeds * 1000:.1f} ms/feed). This "
        "machine's speed drifts by a quarter over minutes, so each first poll is compared "
        "with its own ideal, from a parse time measured (one serial pass) just before it; "
        "the table gives the median of those ratios, and each of them.",
        "",
        "**AWS as a network service** (`aws_standin.py`): botocore signs, sends and parses "
        "every call as it would against AWS; the answer comes after an assumed in-region "
        f"latency ({latencies}) instead of from moto's CPU in the poller's process. Reads "
        "are moto's own answers, captured before the poll; writes reach moto after it, "
        "untimed. Each poll's figures are its median of "
        f"{len(result.tidings[0].first_walls) if result.tidings else REPEATS} runs.",
        "",
        table(HEADERS, rows),
        "",
        "Where the time goes (CPU is the poller process's, all threads, and its parse processes'):",
        "",
    ]
    out += [f"- {_where_the_time_goes(run)}" for run in result.tidings]
    out += [
        "",
        "One Python process runs one thread at a time (the GIL): when its CPU time nears the "
        "wall time the poll is CPU-bound, and more concurrency cannot bring it closer to the "
        "network-bound ideal. A parse process moves parsing to a second core, where it "
        "overlaps the fetching and publishing left in the poller's own process; the ideal "
        "counts the parse time on top of the network, serially, so such a poll can come in "
        "under it.",
    ]
    out += ["", "Work done (checked on every run):", ""]
    for run in result.tidings:
        found = run_problems(result, run)
        out.append(
            f"- {run.label}: first poll {run.first.requests['requests']} requests "
            f"{run.first.requests['statuses']}, {run.first.calls['accepted']} items published "
            f"({run.first.calls['entries']} PublishBatch entries sent; "
            f"{_calls_line(run.first)}); unchanged poll {run.unchanged.requests['requests']} "
            f"requests {run.unchanged.requests['statuses']}, "
            f"{run.unchanged.calls['entries']} published ({_calls_line(run.unchanged)}); "
            f"listen-queue overflows {run.first.listen_overflows} / "
            f"{run.unchanged.listen_overflows}; writes refused by moto {run.refused}, reads "
            f"not captured {run.misses}; load average before {run.load[0]:.2f}."
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
            f"Targets at {pick.config}, the recommended configuration (the fewest parse "
            "processes, then the lowest concurrency, within 10% of the fastest on both polls):",
            "",
        ]
        out += [
            f"- {target}: {measured} - {verdict(met)}"
            for target, measured, met in targets(result, pick)
        ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCIES))
    parser.add_argument("--latency", type=float, default=LATENCY)
    parser.add_argument("--parse-processes", type=int, nargs="+", default=list(PARSE_PROCESSES))
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--skip-rss2email", action="store_true")
    args = parser.parse_args()
    result = run(
        args.feeds,
        tuple(args.concurrency),
        args.latency,
        not args.skip_rss2email,
        parse_processes=tuple(args.parse_processes),
        repeats=args.repeats,
    )
    print(markdown(result))


if __name__ == "__main__":
    main()
