"""rss2email (the PyPI release) on the same feeds: the baseline tidings is compared with.

rss2email lives in its own venv (benchmarks/.work/r2e-venv, made with the interpreter that
made /work/main/.venv). Its config and data file live under benchmarks/.work/rss2email/, and
it delivers with `email-protocol = sendmail` to a small shell script that appends each
message to a local sink file: nothing leaves the machine.

Run alone (starts the feed server itself; 500 feeds take a few minutes):
    .venv/bin/python benchmarks/rss2email_baseline.py [--feeds 500] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchlib import ROOT, WORK, listen_overflows, seconds, work_dir

RSS2EMAIL_VERSION = "3.14"
VENV = WORK / "r2e-venv"
SEPARATOR = "X-Tidings-Bench-Sink: next message"


def base_python() -> str:
    """The python3 that made /work/main/.venv (pyvenv.cfg records the command)."""
    config = {}
    for line in (ROOT / ".venv" / "pyvenv.cfg").read_text().splitlines():
        key, _, value = line.partition("=")
        config[key.strip()] = value.strip()
    if config.get("command"):
        return shlex.split(config["command"])[0]
    return config.get("executable") or str(Path(config["home"]) / "python3")


def ensure_venv() -> dict[str, str]:
    """Create the rss2email venv once; reuse it while it holds the pinned release.
    Returns the versions of the packages rss2email runs on."""
    pip = VENV / "bin" / "pip"
    if not (VENV / "bin" / "r2e").exists() or installed(pip).get("rss2email") != RSS2EMAIL_VERSION:
        subprocess.run([base_python(), "-m", "venv", "--clear", str(VENV)], check=True, timeout=300)  # noqa: S603
        subprocess.run(  # noqa: S603 - pip, the registry's ordinary client
            [str(pip), "install", "--quiet", f"rss2email=={RSS2EMAIL_VERSION}"],
            check=True,
            timeout=600,
        )
    return installed(pip)


def installed(pip: Path) -> dict[str, str]:
    if not pip.exists():
        return {}
    listing = subprocess.run(  # noqa: S603
        [str(pip), "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return {p["name"].lower(): p["version"] for p in json.loads(listing)}


@dataclass
class Rss2emailRun:
    label: str
    wall: float
    returncode: int
    requests: int
    statuses: dict[str, int]
    messages: int  # new messages in the sink
    listen_overflows: int  # connections the kernel dropped (each a 1 s retransmit)
    log: str


@dataclass
class Rss2emailResult:
    feeds: int
    versions: dict[str, str]
    runs: list[Rss2emailRun] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Rss2email:
    """One rss2email setup (config, data file, sink) for a set of feed URLs."""

    def __init__(self, urls: dict[str, str], directory: Path | None = None) -> None:
        self.urls = urls
        self.dir = directory or work_dir("rss2email")
        self.config = self.dir / "rss2email.cfg"
        self.data = self.dir / "rss2email.json"
        self.sink = self.dir / "sink.mbox"
        self.sendmail = self.dir / "sendmail-sink.sh"

    def setup(self) -> None:
        """A fresh state: no data file (every entry is new), an empty sink."""
        for path in (self.data, self.sink):
            path.unlink(missing_ok=True)
        self.sink.touch()
        # rss2email runs `sendmail -F name -f sender recipient` with the message on stdin
        self.sendmail.write_text(
            "#!/bin/sh\n"
            "# benchmark sink for rss2email: append the message to a local file, send nothing\n"
            f"{{ printf '\\n%s\\n' {shlex.quote(SEPARATOR)}; cat; }} "
            f">> {shlex.quote(str(self.sink))}\n"
        )
        self.sendmail.chmod(0o755)
        lines = [
            "[DEFAULT]",
            "from = rss2email-bench@example.invalid",
            "to = sink@example.invalid",
            "email-protocol = sendmail",
            f"sendmail = {self.sendmail}",
            "",
        ]
        for name, url in self.urls.items():
            lines += [f"[feed.{name}]", f"url = {url}", ""]
        self.config.write_text("\n".join(lines))

    def messages(self) -> int:
        with self.sink.open("rb") as sink:
            return sum(line.rstrip(b"\n") == SEPARATOR.encode() for line in sink)

    def run(self, label: str, stats: Any, timeout: float = 1800) -> Rss2emailRun:
        """Time one `r2e run`; `stats()` gives the feed server's request counts."""
        before_messages, before = self.messages(), stats()
        overflows = listen_overflows()
        log = self.dir / f"r2e-{label}.log"
        command = [str(VENV / "bin" / "r2e"), "-c", str(self.config), "-d", str(self.data), "run"]
        with log.open("w") as out:
            started = time.perf_counter()
            done = subprocess.run(  # noqa: S603 - rss2email from its venv, fixed arguments
                command, check=False, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            )
            wall = time.perf_counter() - started
        after = stats()
        return Rss2emailRun(
            label=label,
            wall=wall,
            returncode=done.returncode,
            requests=after["requests"] - before["requests"],
            statuses={
                s: n - before["statuses"].get(s, 0)
                for s, n in after["statuses"].items()
                if n - before["statuses"].get(s, 0)
            },
            messages=self.messages() - before_messages,
            listen_overflows=listen_overflows() - overflows,
            log=str(log.relative_to(ROOT)),
        )


def run(server: Any, feed_ids: list[str]) -> Rss2emailResult:
    """First run (everything new) and second run (nothing changed) on the served feeds."""
    versions = ensure_venv()
    r2e = Rss2email({feed_id: server.url(feed_id) for feed_id in feed_ids})
    r2e.setup()
    result = Rss2emailResult(feeds=len(feed_ids), versions=versions)
    for label in ("first", "unchanged"):
        result.runs.append(r2e.run(label, server.stats))
    return result


def main() -> None:
    from feed_server import FeedServer
    from feedgen import make_feeds, write_feeds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    feeds = make_feeds(args.feeds)
    write_feeds(feeds, work_dir("feeds"))
    with FeedServer(work_dir("feeds"), latency=args.latency) as server:
        result = run(server, sorted(feeds))
    print(f"rss2email {result.versions.get('rss2email')} on {result.feeds} feeds")
    for r in result.runs:
        print(
            f"  {r.label}: {seconds(r.wall)} ({r.wall / result.feeds:.3f} s/feed), exit "
            f"{r.returncode}, {r.requests} requests {r.statuses}, {r.messages} messages"
        )
    sys.exit(0 if all(r.returncode == 0 for r in result.runs) else 1)


if __name__ == "__main__":
    main()
