"""Shared bits of the benchmarks: paths, timing helpers, machine facts, Markdown tables."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"  # scratch state, git-ignored
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

# The packages whose versions decide the figures (tidings' own, and what it runs on).
PACKAGES = (
    "tidings",
    "boto3",
    "botocore",
    "moto",
    "feedparser",
    "urllib3",
    "aws-lambda-powertools",
)


def work_dir(*parts: str) -> Path:
    path = WORK.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cpu_times() -> tuple[float, float]:
    """(this process's CPU time, its ended children's): a child counts once it is reaped."""
    t = os.times()
    return t.user + t.system, t.children_user + t.children_system


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def seconds(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f} s"


def ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def ratio(value: float) -> str:
    return f"{value:.1f}x"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, read-only
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "layers", "functions"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" (+ uncommitted changes in layers/ or functions/)" if dirty else "")


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was full (Linux,
    system-wide): each one costs its client a 1 s SYN retransmission."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            fields = dict(zip(names.split()[1:], values.split()[1:], strict=True))
            return int(fields.get("ListenOverflows", 0))
    return 0


def machine_facts() -> dict[str, str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": f"{usable} usable ({os.cpu_count()} online), {cpu_model()}",
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": f"{platform.python_implementation()} {platform.python_version()} "
        f"({sys.executable})",
        "source revision": git_revision(),
    }
