"""Run every benchmark and write benchmarks/RESULTS.md (`make bench`).

    .venv/bin/python benchmarks/run.py [--only cold_start aws_calls poll_throughput fanout]
    .venv/bin/python benchmarks/run.py --feeds 30 --runs 2   # a quick smoke test

Each benchmark module also runs alone (see benchmarks/README.md). Raw figures of the last
run are kept in benchmarks/.work/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

# Sign as the Lambda runtime does: it has no awscrt, which aws-sam-cli brings into the
# development environment and which botocore would otherwise use (more CPU per call).
os.environ["BOTO_DISABLE_CRT"] = "true"
os.environ["TIDINGS_CLIENT_VALIDATION"] = "off"  # as template.yaml sets it for the functions

import aws_calls
import cold_start
import fanout
import poll_throughput
from benchlib import BENCH, ROOT, machine_facts, package_versions, ratio, seconds, table
from benchlib import verdict as verdict_text

BENCHMARKS = ("cold_start", "aws_calls", "poll_throughput", "fanout")
COMMAND = "make bench  # = .venv/bin/python benchmarks/run.py, from the repository root"


def _targets(results: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    throughput = results.get("poll_throughput")
    if throughput and throughput.tidings:
        pick = poll_throughput.recommended(throughput.tidings)
        rows += [
            [f"{target} ({pick.config})", measured, verdict_text(met)]
            for target, measured, met in poll_throughput.targets(throughput, pick)
        ]
    calls = results.get("aws_calls")
    if calls:
        worst = max(calls.cases, key=lambda c: c.per_feed(calls.shared) - c.limit)
        rows.append(
            [
                "unchanged feed <= 1 read + 1 write, no SNS; k new items <= 2 + ceil(k/10)",
                f"unchanged: {calls.cases[0].per_feed(calls.shared):.3f} calls per feed at "
                f"{calls.shared.feeds} feeds; tightest case `{worst.name}`: "
                f"{worst.per_feed(calls.shared):.3f} of {worst.limit}",
                verdict_text(calls.ok),
            ]
        )
    cold = results.get("cold_start")
    if cold:
        rows.append(
            [
                "poller handler cold start <= 1.5x `import boto3`",
                f"{ratio(cold.ratio('poller', 'importtime_median'))} by `-X importtime`; "
                f"with the module code that builds the clients, "
                f"{ratio(cold.ratio('poller'))} "
                f"({cold.variants['poller'].wall_median * 1000:.0f} ms vs "
                f"{cold.variants['boto3'].wall_median * 1000:.0f} ms, median wall)",
                verdict_text(cold.ratio("poller", "importtime_median") <= cold_start.TARGET),
            ]
        )
    return rows


def results_markdown(
    results: dict[str, Any], facts: dict[str, str], elapsed: float, loads: list[float]
) -> str:
    versions = package_versions()
    throughput = results.get("poll_throughput")
    if throughput and throughput.rss2email:
        r2e = throughput.rss2email.versions
        versions |= {
            f"{name} (rss2email venv)": r2e.get(name, "?")
            for name in ("rss2email", "feedparser", "html2text")
        }
    out = [
        "# tidings benchmarks: results",
        "",
        "Written by `benchmarks/run.py`; every figure below is from the run described here. "
        "What each benchmark measures, and how to run one alone: `benchmarks/README.md`.",
        "",
        "## Run",
        "",
        f"- command: `{COMMAND}`",
        *[f"- {name}: {value}" for name, value in facts.items()],
        f"- load average (1 min) at start / end: {loads[0]:.2f} / {loads[1]:.2f} "
        "(the machine is shared: other work running at the same time shows up in the figures)",
        f"- total run time: {seconds(elapsed, 0)}",
        "- packages: " + ", ".join(f"{name} {version}" for name, version in versions.items()),
        "",
    ]
    rows = _targets(results)
    if rows:
        out += ["## Targets (issue 3)", "", table(["target", "measured", "verdict"], rows), ""]
    if throughput:
        out += ["## 1. Poll throughput", "", poll_throughput.markdown(throughput), ""]
    if "aws_calls" in results:
        out += ["## 2. AWS calls per poll", "", aws_calls.markdown(results["aws_calls"]), ""]
    if "cold_start" in results:
        out += ["## 3. Cold start", "", cold_start.markdown(results["cold_start"]), ""]
    if "fanout" in results:
        section = fanout.markdown(results["fanout"]).split("\n", 1)
        out += ["## 4. Fan-out of one batch (issue 4)", section[1] if len(section) > 1 else "", ""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    parser.add_argument("--feeds", type=int, default=500, help="fewer for a smoke test")
    parser.add_argument("--runs", type=int, default=cold_start.RUNS, help="cold-start runs")
    parser.add_argument("--subscribers", type=int, default=10_000, help="fan-out subscribers")
    args = parser.parse_args()
    started = time.perf_counter()
    facts = machine_facts()
    load_start = os.getloadavg()[0]
    results: dict[str, Any] = {}
    for name in BENCHMARKS:
        if name not in args.only:
            continue
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        if name == "cold_start":
            results[name] = cold_start.run(args.runs)
        elif name == "aws_calls":
            results[name] = aws_calls.run(shared_feeds=args.feeds)
        elif name == "fanout":
            results[name] = fanout.run(subscribers=args.subscribers)
        else:
            results[name] = poll_throughput.run(feeds=args.feeds)
        print(
            f"[bench] {name} done in {time.perf_counter() - began:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    elapsed = time.perf_counter() - started
    text = results_markdown(results, facts, elapsed, [load_start, os.getloadavg()[0]])
    (BENCH / "RESULTS.md").write_text(text + "\n")
    raw = {
        name: result if isinstance(result, dict) else result.as_dict()
        for name, result in results.items()
    }
    (BENCH / ".work" / "results.json").write_text(json.dumps(raw, indent=1, default=str))
    print(text)
    print(f"\n[bench] wrote {(BENCH / 'RESULTS.md').relative_to(ROOT)}", file=sys.stderr)
    throughput = results.get("poll_throughput")
    if throughput and poll_throughput.problems(throughput):
        sys.exit("[bench] a poller did not do the expected work: see RESULTS.md")


if __name__ == "__main__":
    main()
