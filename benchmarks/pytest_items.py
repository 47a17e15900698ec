"""The pytest plugin's cost per block against pytest's own cost per item, measured with no-op items.

    python3 benchmarks/pytest_items.py [--small 100] [--large 1000] [--rounds 5]

Two whole `pytest` processes per size, interleaved round after round: one collects a lesson of N blocks
(`true`, nothing printed, nothing expected) through this plugin, the other a test file of N no-op
functions. The cost per item is (time at the large size - time at the small size) / (large - small), so
that start-up and collection of the session cancel out. Issue 14's target: ours ≤ 1.3x pytest's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def lesson(n: int) -> str:
    return "# No-op blocks\n\n" + "".join("```bash\ntrue\n```{{execute}}\n\n" for _ in range(n))


def functions(n: int) -> str:
    return "".join(f"def test_{k}():\n    pass\n\n\n" for k in range(n))


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr[-500:]}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    with tempfile.TemporaryDirectory(prefix="mx-pytest-") as folder:
        work = Path(folder)
        cases: dict[str, list[str]] = {}
        for n in (args.small, args.large):
            (work / f"lesson_{n}.md").write_text(lesson(n))
            (work / f"test_noop_{n}.py").write_text(functions(n))
            cases[f"ours {n}"] = [*base, f"lesson_{n}.md"]
            cases[f"pytest {n}"] = [*base, f"test_noop_{n}.py"]
        names = list(cases)
        times: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(args.rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                times[name].append(timed(cases[name], work))
    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    for name, value in median.items():
        print(f"  {name:12} {value:8.1f} ms")
    span = args.large - args.small
    ours = (median[f"ours {args.large}"] - median[f"ours {args.small}"]) / span
    theirs = (median[f"pytest {args.large}"] - median[f"pytest {args.small}"]) / span
    print(f"per item: ours {ours:.3f} ms, pytest's no-op {theirs:.3f} ms, ratio {ours / theirs:.2f} (target ≤ 1.3)")
    print(f"machine: {os.uname().nodename}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
