"""Parse throughput over a corpus of real lessons, side by side with two references, and the linear-time cases.

    python3 benchmarks/parse_throughput.py [CORPUS] [--rounds N]

CORPUS defaults to ../shared/corpus. Every Markdown file is read once into memory; then, alternating round
after round, three passes over the same texts are timed:

- the floor: reading each file from disk and hashing it with sha256;
- markdown-it-py's tokenizer (`MarkdownIt("commonmark").parse`), a reference Markdown parser;
- `mkdocs_execute.parsing.parse`, the one lesson parser the site and the harness share.

It prints MB/s and ratios (medians), then times the pathological pages of issue 11 (target: < 0.5 s each).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mkdocs_execute.parsing import parse  # noqa: E402

PATHOLOGICAL: dict[str, Callable[[], str]] = {
    "8,000 indented lines in a list item": lambda: "- item\n\n" + "\n\n".join(f"    line {k}" for k in range(8000)),
    "8,000 indented lines": lambda: "\n".join(f"    line {k}" for k in range(8000)),
    "8,000 markers on one line": lambda: " ".join("`ls`{{execute}}" for _ in range(8000)),
    "8,000 unclosed fences": lambda: "\n".join(f"````x{k}" for k in range(8000)),
    "8,000 unpaired backticks in a paragraph": lambda: "\n".join(f"a ` b {k}" for k in range(8000)),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        print("markdown-it-py is not installed (pip install markdown-it-py)")
        return 2
    files = sorted(args.corpus.rglob("*.md"))
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in files]
    size = sum(len(text.encode()) for text in texts) / 1e6
    tokenizer = MarkdownIt("commonmark")
    passes: dict[str, Callable[[], object]] = {
        "read + sha256 (floor)": lambda: [hashlib.sha256(path.read_bytes()).digest() for path in files],
        "markdown-it-py tokenizer": lambda: [tokenizer.parse(text) for text in texts],
        "mkdocs-execute parse": lambda: [parse(text) for text in texts],
    }
    times: dict[str, list[float]] = {name: [] for name in passes}
    for round_ in range(args.rounds):
        order = list(passes)[round_ % 3 :] + list(passes)[: round_ % 3]
        for name in order:
            start = time.perf_counter()
            passes[name]()
            times[name].append(time.perf_counter() - start)
    print(f"{len(files)} files, {size:.1f} MB, {args.rounds} rounds (medians)\n")
    print("| pass | s | MB/s | time ÷ mkdocs-execute |")
    print("| --- | ---: | ---: | ---: |")
    ours = statistics.median(times["mkdocs-execute parse"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.3f} | {size / median:.1f} | {median / ours:.2f} |")
    print("\n| pathological page | parse s | target |")
    print("| --- | ---: | --- |")
    for name, make in PATHOLOGICAL.items():
        text = make()
        start = time.perf_counter()
        parse(text)
        elapsed = time.perf_counter() - start
        print(f"| {name} | {elapsed:.3f} | < 0.5 s: {'met' if elapsed < 0.5 else 'MISSED'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
