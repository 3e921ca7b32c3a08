"""Every benchmark at the volumes the issues name, one after another, and one table of all their figures.

    bench/run [--only filing,lifelong] [--skip search]

Each benchmark runs as its own `python -m bench.<name>` process with its default arguments (its own fresh data
folder; bench.lifelong and bench.supervision reuse their seeded caches under /tmp when the code they depend on has
not changed), prints its own output as it goes, and hands its table rows back through a file (YIWANG_BENCH_ROWS).
The table at the end: benchmark, figure, target, measured, the figure against the bare-template page measured in
the same run where there is one, and PASS/FAIL/info. The exit status is 1 if any figure failed or a benchmark broke.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (module, what it measures, issue); bench.lifelong seeds the data bench.supervision builds on, so it goes first.
BENCHMARKS = (
    ("search", "catalogue import and search, 87,000 items", "#3"),
    ("filing", "submissions and the case page, 32 clients", "#4"),
    ("bundles", "one-form bundles beside single items", "#5"),
    ("certificates", "certificate render, sign and download", "#6"),
    ("lifelong", "/me at 1,000,000 persons and 5,000,000 cases", "#9"),
    ("supervision", "/supervision and /stats at 5,000,000 cases", "#7"),
)


def run_one(module: str, rows_file: Path) -> tuple[int, float]:
    started = time.perf_counter()
    env = {**os.environ, "YIWANG_BENCH_ROWS": str(rows_file)}
    done = subprocess.run([sys.executable, "-m", f"bench.{module}"], cwd=ROOT, env=env, check=False)  # noqa: S603 - our own modules
    return done.returncode, time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    names = [b[0] for b in BENCHMARKS]
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(names)}")
    parser.add_argument("--skip", help="comma-separated benchmarks to leave out")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else set(names)
    skip = set(args.skip.split(",")) if args.skip else set()
    unknown = (only | skip) - set(names)
    if unknown:
        parser.error(f"no such benchmark: {', '.join(sorted(unknown))}")

    results: list[tuple[str, str, str, list[list[object]], int, float]] = []
    with tempfile.TemporaryDirectory(prefix="yiwang-bench-rows-") as tmp:
        for module, what, issue in BENCHMARKS:
            if module not in only or module in skip:
                continue
            print(f"\n======== bench.{module}: {what} ({issue})", flush=True)
            rows_file = Path(tmp) / f"{module}.jsonl"
            code, seconds = run_one(module, rows_file)
            rows = [r for line in rows_file.read_text().splitlines() for r in json.loads(line)] \
                if rows_file.exists() else []
            results.append((module, what, issue, rows, code, seconds))

    print(f"\n======== all benchmarks (load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"{os.cpu_count()} CPUs)")
    head = ("benchmark", "figure", "target", "measured", "vs baseline (same run)", "result")
    table = []
    failed = 0
    for module, _what, issue, rows, code, seconds in results:
        if code != 0 or not rows:
            table.append((f"{module} {issue}", f"did not finish (exit {code}, {seconds:.0f} s)", "", "", "", "FAIL"))
            failed += 1
            continue
        for figure, target, measured, ok, ratio in rows:
            result = {True: "PASS", False: "FAIL", None: "info"}[ok]  # type: ignore[index]
            failed += result == "FAIL"
            table.append((f"{module} {issue}", str(figure), str(target), str(measured), str(ratio or ""), result))
    widths = [max(len(h), *(len(r[i]) for r in table)) if table else len(h) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print(f"\n{failed} figure(s) failed; times: " + ", ".join(f"{m} {s:.0f} s" for m, *_, s in results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
