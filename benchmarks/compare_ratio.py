"""Output comparison against difflib: time side by side in one run, and the peak memory of large cases.

    python3 benchmarks/compare_ratio.py [--check]

Each case runs in a fresh child process (so its peak RSS is its own), alternating ours and difflib's,
and prints the median of several rounds. Targets (issue 10): 4,000 against 4,000 drifted lines in at most
2x difflib's time; 1,000 expected lines against 100,000 actual ones in at most 2 s and 200 MB peak.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import difflib, json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from mkdocs_execute.matching import compare
case, tool = sys.argv[2], sys.argv[3]
if case == "4000-all-drifted":
    expected = [f"pod/web-{k} Running 0 {k % 60}m" for k in range(4000)]
    actual = [f"pod/web-{k} Running 1 {(k + 7) % 60}m" for k in range(4000)]
elif case == "4000-wildcards-drifted":
    expected = [f"pod/web-{k} [..] 0 [..]" if k % 2 else "..." if k % 7 == 0 else f"line {k}" for k in range(4000)]
    actual = [f"pod/web-{k} Pending 1 {k}m" if k % 2 else f"line {k + 1}" for k in range(4000)]
    if tool == "difflib":
        expected = [line.replace("[..]", "x") for line in expected]
elif case == "4000-tenth-drifted":
    expected = [f"pod/web-{k} Running 0 {k}m" for k in range(4000)]
    actual = [line if k % 10 else line.replace("Running", "Pending") for k, line in enumerate(expected)]
else:  # 1000-vs-100000
    expected = [f"line {k} of the expected output" for k in range(1000)]
    actual = [f"line {k} of the {'expected' if k % 3 else 'actual'} output" for k in range(100000)]
a, b = "\n".join(expected), "\n".join(actual)
start = time.perf_counter()
if tool == "ours":
    result = compare(a, b)
    size = len(result.diff)
else:
    size = len("\n".join(difflib.unified_diff(expected, actual, "expected", "actual", lineterm="")))
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": peak, "diff_chars": size}))
"""


def measure(case: str, tool: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), case, tool], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    missed = []
    print("| case | mkdocs-execute s | difflib s | ratio | our peak MB |")
    print("| --- | --- | --- | --- | --- |")
    for case in ("4000-all-drifted", "4000-tenth-drifted", "4000-wildcards-drifted", "1000-vs-100000"):
        ours, theirs, peaks = [], [], []
        for _ in range(args.rounds):
            mine = measure(case, "ours")
            ours.append(mine["seconds"])
            peaks.append(mine["peak_mb"])
            theirs.append(measure(case, "difflib")["seconds"])
        mo, mt, peak = statistics.median(ours), statistics.median(theirs), max(peaks)
        print(f"| {case} | {mo:.3f} | {mt:.3f} | {mo / mt:.2f} | {peak:.0f} |")
        if case in ("4000-all-drifted", "4000-tenth-drifted") and mo / mt > 2:  # difflib has no wildcards
            missed.append(f"{case}: {mo / mt:.2f}x difflib")
        if case == "1000-vs-100000" and (mo > 2 or peak > 200):
            missed.append(f"{case}: {mo:.2f} s, {peak:.0f} MB")
    for line in missed:
        print("missed:", line)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
