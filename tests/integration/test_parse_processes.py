"""Parsing in forked child processes: the same answers as in this process, errors carried
back as errors, and a child that dies costing one feed at most."""

from __future__ import annotations

import _multiprocessing
import multiprocessing
import multiprocessing.connection
import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import pytest

from tidings.feeds import parsers
from tidings.feeds.parse import NotAFeed
from tidings.feeds.parsers import InlineParser, ParseJob, ParserError, ProcessParser

FIXTURES = Path(__file__).parent.parent / "fixtures" / "feeds"
URL = "https://example.org/feeds/news.xml"


@pytest.fixture(scope="module")
def jobs(icmpd_bytes: bytes) -> list[ParseJob]:
    feeds = {p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.xml"))}
    feeds["icmpd.xml"] = icmpd_bytes
    return [ParseJob(body, feed_id=name, url=URL) for name, body in feeds.items()]


def _wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_children_parse_every_fixture_as_this_process_does(rules, jobs):
    here = [InlineParser(rules).parse(job) for job in jobs]
    with ProcessParser(rules, processes=2) as parser, ThreadPoolExecutor(4) as pool:
        there = list(pool.map(parser.parse, jobs))
    assert there == here
    assert sum(len(parsed.items) for parsed in there) > 20  # real feeds, real items


def test_the_work_is_done_in_the_children_and_shared_between_them(rules, jobs, monkeypatch):
    real = parsers.parse_feed

    def tagged(body, **options):  # the title says which process parsed it
        return real(body, **{**options, "title_override": str(os.getpid())})

    monkeypatch.setattr(parsers, "parse_feed", tagged)
    with ProcessParser(rules, processes=2) as parser, ThreadPoolExecutor(4) as pool:
        pids = {parsed.title for parsed in pool.map(parser.parse, jobs * 4)}
    assert str(os.getpid()) not in pids
    assert len(pids) == 2


def test_not_a_feed_comes_back_as_not_a_feed_and_the_child_goes_on(rules, jobs):
    html = (FIXTURES / "not-a-feed-html-page.html").read_bytes()
    with ProcessParser(rules, processes=1) as parser:
        with pytest.raises(NotAFeed, match="not a feed"):
            parser.parse(ParseJob(html, feed_id="html", content_type="text/html"))
        assert parser.parse(jobs[-1]).items


def test_a_bug_in_a_child_is_raised_here_with_the_childs_traceback(rules, jobs, monkeypatch):
    def broken(body, **options):
        raise KeyError("entries")

    monkeypatch.setattr(parsers, "parse_feed", broken)
    with (
        ProcessParser(rules, processes=1) as parser,
        pytest.raises(ParserError, match="KeyError: 'entries'") as caught,
    ):
        parser.parse(jobs[0])
    [where] = caught.value.__notes__
    assert "Traceback" in where
    assert "in broken" in where


def test_a_child_that_dies_fails_the_feed_it_was_parsing_and_no_other(
    rules, jobs, monkeypatch, tmp_path
):
    # Given a body that kills the parsing process, once three more jobs queue behind it
    started, go = tmp_path / "started", tmp_path / "go"
    real = parsers.parse_feed

    def deadly(body, **options):
        if options["feed_id"] == "poison":
            started.touch()
            _wait_for(go.exists)
            os._exit(9)  # as the kernel's OOM killer would end it: no goodbye
        return real(body, **options)

    monkeypatch.setattr(parsers, "parse_feed", deadly)
    poison = ParseJob(b"<rss/>", feed_id="poison")
    others = jobs[:3]
    with ProcessParser(rules, processes=1) as parser, ThreadPoolExecutor(4) as pool:
        [child] = multiprocessing.active_children()
        dying = pool.submit(parser.parse, poison)
        _wait_for(started.exists)
        queued = [pool.submit(parser.parse, job) for job in others]
        _wait_for(lambda: parser.waiting() == 4)
        go.touch()
        # Then the poison's feed fails, and says why
        with pytest.raises(ParserError, match=r"parser process died \(exit code 9\)"):
            dying.result(timeout=10)
        # and the three behind it are parsed here instead, with the same results
        assert [f.result(timeout=10) for f in queued] == [
            InlineParser(rules).parse(j) for j in others
        ]
        # as is what comes after
        assert parser.parse(others[0]) == InlineParser(rules).parse(others[0])
    assert child.exitcode == 9


def test_closing_ends_the_children_cleanly(rules, jobs):
    with ProcessParser(rules, processes=2) as parser:
        children = multiprocessing.active_children()
        parser.parse(jobs[0])
    assert len(children) == 2
    # exit code 0: each read the end of its jobs pipe and returned (a child still holding a
    # sibling's pipe end would never see that end, and would be killed after a timeout)
    assert [child.exitcode for child in children] == [0, 0]
    assert multiprocessing.active_children() == []


def test_no_semaphore_is_needed_as_lambda_has_no_dev_shm(rules, jobs, monkeypatch):
    class Unavailable:  # what Lambda answers for a POSIX semaphore
        SEM_VALUE_MAX = _multiprocessing.SemLock.SEM_VALUE_MAX

        def __init__(self, *args, **kwargs):
            raise OSError(38, "Function not implemented")

    monkeypatch.setattr(_multiprocessing, "SemLock", Unavailable)
    with pytest.raises(OSError, match="not implemented"):
        multiprocessing.get_context("fork").Queue()  # what Pool and Queue would meet
    with ProcessParser(rules, processes=1) as parser:
        assert parser.parse(jobs[-1]) == InlineParser(rules).parse(jobs[-1])


@pytest.mark.parametrize(
    "stuck",
    [
        lambda: time.sleep(30),
        lambda: re.match(r"(a+)+$", "a" * 64 + "!"),  # backtracks for ever, inside C
    ],
    ids=["python", "regex"],
)
def test_a_parse_that_takes_too_long_is_stopped_and_the_child_goes_on(
    rules, jobs, monkeypatch, stuck
):
    real = parsers.parse_feed

    def parse_feed(body, **options):
        if options["feed_id"] == "stuck":
            stuck()
        return real(body, **options)

    monkeypatch.setattr(parsers, "parse_feed", parse_feed)
    with ProcessParser(rules, processes=1, timeout=0.5) as parser:
        with pytest.raises(ParserError, match=r"took longer than 0.5 s, and was stopped"):
            parser.parse(ParseJob(b"<rss/>", feed_id="stuck"))
        assert parser.parse(jobs[-1]) == InlineParser(rules).parse(jobs[-1])


def test_a_child_that_ignores_its_alarm_is_stopped_by_the_parent(rules, jobs, monkeypatch):
    real = parsers.parse_feed

    def parse_feed(body, **options):
        if options["feed_id"] == "stuck":  # as C code that never looks at signals would
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            time.sleep(60)
        return real(body, **options)

    monkeypatch.setattr(parsers, "parse_feed", parse_feed)
    monkeypatch.setattr(parsers, "STOP_AFTER", 0.5)
    with ProcessParser(rules, processes=1, timeout=0.5) as parser:
        [child] = multiprocessing.active_children()
        with pytest.raises(ParserError, match=r"longer than 1 s, and the parser process was stop"):
            parser.parse(ParseJob(b"<rss/>", feed_id="stuck"))
        assert parser.parse(jobs[-1]) == InlineParser(rules).parse(jobs[-1])  # parsed here
    assert child.exitcode == -signal.SIGKILL


def test_a_job_that_cannot_be_sent_fails_alone_and_costs_no_one_their_answer(
    rules, jobs, monkeypatch
):
    class Pickler(ForkingPickler):
        @classmethod
        def dumps(cls, obj, protocol=None):
            if obj.feed_id == "huge":
                raise MemoryError
            return super().dumps(obj, protocol)

    monkeypatch.setattr(parsers, "ForkingPickler", Pickler)
    with ProcessParser(rules, processes=1) as parser:
        with pytest.raises(MemoryError):
            parser.parse(ParseJob(b"<rss/>", feed_id="huge"))
        answers = [parser.parse(job) for job in jobs[:3]]
    assert answers == [InlineParser(rules).parse(job) for job in jobs[:3]]


def test_an_answer_that_cannot_be_read_fails_its_feed_and_stops_that_child(
    rules, jobs, monkeypatch
):
    with ProcessParser(rules, processes=1) as parser:
        [child] = multiprocessing.active_children()
        unreadable = [True]

        class Pickler(ForkingPickler):  # in this process only: the child is already forked
            @classmethod
            def loads(cls, data):
                if unreadable.pop() if unreadable else False:
                    raise MemoryError
                return ForkingPickler.loads(data)

        monkeypatch.setattr(multiprocessing.connection, "_ForkingPickler", Pickler)
        with pytest.raises(ParserError, match="answer for this feed could not be read"):
            parser.parse(jobs[0])
        assert parser.parse(jobs[1]) == InlineParser(rules).parse(jobs[1])  # parsed here
    assert child.exitcode == -signal.SIGKILL


def test_a_fork_that_fails_ends_the_children_already_started(rules, monkeypatch):
    real_fork, forks = os.fork, []

    def fork():
        forks.append(1)
        if len(forks) == 2:
            raise OSError(11, "Resource temporarily unavailable")
        return real_fork()

    monkeypatch.setattr(os, "fork", fork)
    with pytest.raises(OSError, match="temporarily unavailable"):
        ProcessParser(rules, processes=2)
    assert len(forks) == 2
    assert multiprocessing.active_children() == []


def test_processes_must_be_at_least_one(rules):
    with pytest.raises(ValueError, match="at least 1"):
        ProcessParser(rules, processes=0)
