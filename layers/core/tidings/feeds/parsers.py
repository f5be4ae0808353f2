"""Where feed bodies are parsed: in this process, or in child processes on other cores.

Parsing is CPU work, and one Python process runs one thread's Python at a time (the GIL), so
a poller that fetches on many threads still parses on one core. A Lambda function gets a
vCPU per 1,769 MB; with more than one, `ProcessParser` hands bodies to forked children while
the parent's threads go on fetching and publishing.

Only `Process` and `Pipe`: multiprocessing's `Pool` and `Queue` need POSIX semaphores
(/dev/shm), which Lambda does not have.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import threading
import time
import traceback
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Protocol

from tidings.feeds.parse import NotAFeed, ParsedFeed, parse_feed
from tidings.feeds.topics import TopicRules
from tidings.observability import logger

# How long a child may spend on one body before it gives up on it. The largest body tidings
# accepts (10 MiB, 10,000 items) parses in about 8 s; one that takes 30 s is an attack or a
# parser bug (a regex backtracking for ever), and would otherwise hold a poll thread until
# Lambda's timeout ends the whole run.
PARSE_TIMEOUT = 30.0
# How much longer the parent waits before it kills a child whose alarm did not stop it (code
# that never looks at signals). That child's feed fails; the others are parsed here.
STOP_AFTER = 5.0


@dataclass(frozen=True, slots=True)
class ParseJob:
    """One body and everything `parse_feed` needs besides the topic rules."""

    body: bytes
    feed_id: str
    url: str = ""
    default_topics: tuple[str, ...] = ()
    identity: str = "auto"
    title_override: str = ""
    content_type: str | None = None

    def run(self, rules: TopicRules) -> ParsedFeed:
        return parse_feed(
            self.body,
            feed_id=self.feed_id,
            url=self.url,
            rules=rules,
            default_topics=self.default_topics,
            identity=self.identity,
            title_override=self.title_override,
            content_type=self.content_type,
        )


class Parser(Protocol):
    def parse(self, job: ParseJob) -> ParsedFeed: ...


class InlineParser:
    def __init__(self, rules: TopicRules) -> None:
        self.rules = rules

    def parse(self, job: ParseJob) -> ParsedFeed:
        return job.run(self.rules)


class ParserError(RuntimeError):
    """Parsing failed in a child process: a bug there, or the child died on this body."""


class _OutOfTime(BaseException):  # not an Exception: no `except Exception` may swallow it
    """Raised in a child by its alarm when one parse takes longer than its timeout."""


class _Resend(Exception):
    """The child died before it reached this job: parse it again elsewhere."""


class ProcessParser:
    """Parse in `processes` forked children; the calling thread waits for its answer.

    A child that dies (out of memory on a hostile body, a crash in a C extension) or is
    stopped because one parse outlasted `timeout` by STOP_AFTER fails the one feed it was
    parsing; the jobs queued behind it are parsed in this process instead, and the next run
    starts fresh children. Use as a context manager: `close` ends them."""

    def __init__(self, rules: TopicRules, processes: int, timeout: float = PARSE_TIMEOUT) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self.rules = rules
        self.timeout = timeout
        # Every child is forked before any thread starts, the answer readers included. The
        # heap is frozen for the forks, as the gc module's documentation advises: a child's
        # collector then leaves the objects it inherits alone, instead of writing to (and
        # so copying) the pages they share with the parent. A memory saving;
        # benchmarks/parse_processes.py shows no difference in speed.
        context = multiprocessing.get_context("fork")
        self._children: list[_Child] = []
        gc.freeze()
        try:
            for _ in range(processes):
                self._children.append(_Child(rules, context, self._children, timeout))
            for child in self._children:
                child.start_reading()
        except BaseException:  # a fork or a thread failed: end the children already started
            self.close()
            raise
        finally:
            gc.unfreeze()

    def parse(self, job: ParseJob) -> ParsedFeed:
        alive = [child for child in self._children if child.alive]
        if not alive:  # the children are gone (logged when they went): parse here
            return job.run(self.rules)
        child = min(alive, key=_Child.queued)
        future = child.submit(job)
        if future is None:  # that child went away meanwhile
            return job.run(self.rules)
        while True:
            try:
                return future.result(timeout=1.0)
            except TimeoutError:
                child.stop_if_stuck(self.timeout + STOP_AFTER)
            except _Resend:
                return job.run(self.rules)

    def waiting(self) -> int:
        """Jobs sent to the children and not answered yet."""
        return sum(child.queued() for child in self._children)

    def close(self) -> None:
        for child in self._children:
            child.close()

    def __enter__(self) -> ProcessParser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class _Child:
    """One parser process. It answers its jobs in the order they were sent, so the oldest
    unanswered job is the one it is working on: the one to blame if it dies."""

    def __init__(
        self,
        rules: TopicRules,
        context: multiprocessing.context.ForkContext,
        elders: list[_Child],
        timeout: float,
    ) -> None:
        jobs_out, jobs_in = context.Pipe(duplex=False)
        answers_out, answers_in = context.Pipe(duplex=False)
        # A forked child inherits every descriptor: it must close the parent's ends of its
        # own pipes and of its elder siblings', or their jobs pipes never read EOF at close.
        parents_ends = [jobs_in, answers_out] + [end for c in elders for end in c.parents_ends()]
        self.process = context.Process(
            target=_serve,
            args=(jobs_out, answers_in, rules, parents_ends, timeout),
            name="tidings-parser",
            daemon=True,
        )
        self.process.start()
        jobs_out.close()  # the child's ends: closed here, so a dead child reads as EOF
        answers_in.close()
        self._jobs = jobs_in
        self._answers = answers_out
        self.alive = True
        self._sending = threading.Lock()  # held while sending: a job's place in the queue
        self._books = threading.Lock()  # held briefly, never during I/O
        self._waiting: deque[Future[ParsedFeed]] = deque()
        self._busy_since: float | None = None  # when the child started on the oldest job
        self._stopped_because: str | None = None
        self._reader: threading.Thread | None = None

    def start_reading(self) -> None:
        self._reader = threading.Thread(target=self._read, name="tidings-parser-answers")
        self._reader.start()

    def parents_ends(self) -> list[Connection]:
        return [self._jobs, self._answers]

    def queued(self) -> int:
        return len(self._waiting)

    def submit(self, job: ParseJob) -> Future[ParsedFeed] | None:
        payload = ForkingPickler.dumps(job)  # first: a job that cannot be sent never queues
        future: Future[ParsedFeed] = Future()
        with self._sending:
            if not self.alive:
                return None
            with self._books:
                self._waiting.append(future)
                if self._busy_since is None:
                    self._busy_since = time.monotonic()
            try:
                self._jobs.send_bytes(payload)  # blocks while the pipe is full
            except BaseException as err:
                with self._books:
                    self._waiting.pop()  # ours, the newest: the child never had it
                if isinstance(err, OSError):  # the child is gone: the reader will say so
                    return None
                raise
        return future

    def stop_if_stuck(self, limit: float) -> None:
        """Kill the child when its current job has run past `limit` (its own alarm did not
        stop it: code that never looks at signals); the reader then blames that job."""
        busy_since = self._busy_since
        if busy_since is None or time.monotonic() - busy_since <= limit or not self.alive:
            return
        self._stopped_because = (
            f"parsing took longer than {limit:g} s, and the parser process was stopped"
        )
        self.process.kill()

    def _read(self) -> None:
        """Hand each answer to the oldest waiting job, until the child's end closes."""
        while True:
            try:
                answer = self._answers.recv()
            except (EOFError, OSError):
                break
            except Exception:  # noqa: BLE001 - an answer that cannot be read: stop this child
                logger.exception("parser answer unreadable; stopping the parser process")
                self._stopped_because = "the parser's answer for this feed could not be read"
                self.process.kill()
                break
            with self._books:
                future = self._waiting.popleft()
                self._busy_since = time.monotonic() if self._waiting else None
            _settle(future, answer)
        self._went_away()

    def _went_away(self) -> None:
        with self._sending:
            self.alive = False
            with self._books:
                waiting = list(self._waiting)
                self._waiting.clear()
                self._busy_since = None
        if not waiting:
            return  # closed after its last answer: the usual end
        self.process.join(timeout=5)
        reason = self._stopped_because or (
            f"the parser process died (exit code {self.process.exitcode}) while parsing this feed"
        )
        logger.error(reason, jobs_lost=1, jobs_parsed_here=len(waiting) - 1)
        waiting[0].set_exception(ParserError(reason))
        for future in waiting[1:]:
            future.set_exception(_Resend())

    def close(self) -> None:
        with self._sending:
            self._jobs.close()  # the child reads EOF and exits
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._answers.close()


def _settle(future: Future[ParsedFeed], answer: object) -> None:
    match answer:
        case ("parsed", ParsedFeed() as parsed):
            future.set_result(parsed)
        case ("not a feed", str(message)):
            future.set_exception(NotAFeed(message))
        case ("error", str(message), str(where)):
            error = ParserError(message)
            if where:
                error.add_note(where)  # the child's traceback, for logger.exception
            future.set_exception(error)
        case _:
            future.set_exception(ParserError(f"unexpected answer: {str(answer)[:100]}"))


def _serve(
    jobs: Connection,
    answers: Connection,
    rules: TopicRules,
    parents_ends: list[Connection],
    timeout: float,
) -> None:
    """The child: parse each job and answer it, until the parent closes the jobs pipe."""
    for end in parents_ends:
        end.close()
    signal.signal(signal.SIGALRM, _ring)
    while True:
        try:
            job: ParseJob = jobs.recv()
        except EOFError:
            return
        try:
            answer = _parse_within(job, rules, timeout)
        except _OutOfTime:  # the alarm rang as the parse ended, before it was disarmed
            answer = _too_long(timeout)
        answers.send(answer)


def _ring(*_: object) -> None:
    raise _OutOfTime


def _parse_within(job: ParseJob, rules: TopicRules, timeout: float) -> tuple[object, ...]:
    # The alarm's exception reaches Python code at once and C code when it next checks for
    # signals: the regex engine does so every few thousand steps, expat at each callback.
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return ("parsed", job.run(rules))
    except _OutOfTime:
        return _too_long(timeout)
    except NotAFeed as err:
        return ("not a feed", str(err))
    except Exception as err:  # noqa: BLE001 - reported to the parent, which logs it
        return ("error", f"{type(err).__name__}: {err}", traceback.format_exc())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _too_long(timeout: float) -> tuple[object, ...]:
    return ("error", f"parsing took longer than {timeout:g} s, and was stopped", "")
