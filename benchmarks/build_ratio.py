"""Build-time cost of the `execute` plugin: the same generated site with and without it.

Generates N pages (default 300) of 10 marked blocks each, then builds them with
``mkdocs.commands.build.build`` in this process, alternating the configurations
(A B C, B C A, …) so that drift in machine load hits every side alike. Prints each
side's median, the ratios and the plugin's overhead per page.

    python3 benchmarks/build_ratio.py [--pages 300] [--rounds 5] [--target 1.05] [--check]

Three builds, same Material theme and Markdown extensions:

- ``with``: the marked pages, plugin ``execute`` on;
- ``without (same sources)``: the very same pages, plugin off. A marker glued to a
  closing fence keeps SuperFences from closing it, so this site has *no*
  highlighted code block at all: it does less work than any real site;
- ``without (markers removed)``: the same pages with only the markers cut, plugin
  off: the site a writer would have without the plugin, same code blocks
  highlighted. ``with`` against this one is the plugin's own cost.

``--baseline`` picks which ratio ``--check`` holds to ``--target``
(default ``stripped``); with ``--check`` the exit status is 1 above it.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import logging
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config

BLOCKS_PER_PAGE = 10

CONFIG = """\
site_name: Benchmark
docs_dir: {docs_dir}
site_dir: {site_dir}
theme:
  name: material
  language: en
  font: false
  features:
    - content.code.annotate
plugins:
{plugins}
markdown_extensions:
  - admonition
  - attr_list
  - toc:
      permalink: true
  - pymdownx.highlight
  - pymdownx.superfences
"""

WITH = """\
  - search
  - execute:
      variables:
        HOST_IP:
        PORT: 8080
        NAMESPACE: demo
"""
WITHOUT = "  - search\n"

PAGE = textwrap.dedent(
    """\
    # Lesson {n}: deploying service {n}

    This lesson walks through deploying **service {n}** on a single host. Every
    command can be copied or run; values such as the host address are filled in
    once by the reader and reused on every page.

    !!! note "Before you start"
        You need a shell on the host at `[[HOST_IP]]` and the `oc` client.

    ## Check the cluster

    ```bash
    oc whoami
    oc get nodes -o wide
    ```{{{{execute}}}}

    ```text
    NAME       STATUS   ROLES    AGE
    ...
    ```{{{{output}}}}

    Then switch to the project with `oc project [[NAMESPACE]]`{{{{execute}}}} and
    look around. The prose goes on for a while, as real lessons do, explaining
    what a project is, why it isolates resources, and how quotas apply to it.

    ## Configure the service

    ```yaml title="service-{n}.yaml"
    apiVersion: v1
    kind: Service
    metadata:
      name: service-{n}
      namespace: [[NAMESPACE]]
    spec:
      ports:
        - port: [[PORT]]
    ```{{{{copy}}}}

    ```bash
    oc apply -f service-{n}.yaml
    ```<<execute T1>>

    ```bash
    curl -s http://[[HOST_IP]]:[[PORT]]/health
    ```<<execute>>

    ## Inspect and clean up

    ```bash
    oc describe service/service-{n} -n [[NAMESPACE]]
    ```{{{{copy}}}}

    ```python
    import json, subprocess
    print(json.loads(subprocess.check_output(["oc", "get", "svc", "-o", "json"]))["kind"])
    ```{{{{execute}}}}

    ```bash
    oc logs deploy/service-{n} --tail=20
    ```<<copy>>

    ```bash
    oc delete service/service-{n}
    ```{{{{execute interrupt}}}}

    That is all for lesson {n}. A table closes the page:

    | Step | Command |
    | ---- | ------- |
    | 1    | `oc whoami` |
    | 2    | `oc apply` |
    """
)


_MARKER = re.compile(r"(?<=`)(?:\{\{[a-z][^{}\n]*\}\}|<<[a-z][^<>\n]*>>)")
"""A marker right after a closing fence or an inline code span."""

SIDES = {
    # name: (docs directory, plugins, label)
    "with": ("docs", WITH, "with plugin"),
    "same": ("docs", WITHOUT, "without (same sources)"),
    "stripped": ("docs-plain", WITHOUT, "without (markers removed)"),
}


def page(n: int, blocks: int) -> str:
    """Lesson `n` with `blocks` marked blocks (a multiple of 10): its middle sections said again as needed."""
    text = PAGE.format(n=n)
    start, end = text.index("## Check the cluster"), text.index("That is all for lesson")
    middle = text[start:end]
    return text[:start] + "".join(middle for _ in range(blocks // BLOCKS_PER_PAGE)) + text[end:]


def generate(root: Path, pages: int, blocks: int = BLOCKS_PER_PAGE) -> None:
    for docs_dir, strip in (("docs", False), ("docs-plain", True)):
        docs = root / docs_dir
        docs.mkdir(parents=True)
        (docs / "index.md").write_text("# Benchmark\n\nGenerated lessons.\n", encoding="utf-8")
        for n in range(1, pages + 1):
            text = page(n, blocks)
            (docs / f"lesson-{n:04d}.md").write_text(_MARKER.sub("", text) if strip else text, "utf-8")
    for name, (docs_dir, plugins, _) in SIDES.items():
        site = root / f"site-{name}"
        config = CONFIG.format(docs_dir=docs_dir, site_dir=site.as_posix(), plugins=plugins)
        (root / f"mkdocs-{name}.yml").write_text(config, encoding="utf-8")


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def build_once(root: Path, name: str, clock: str = "cpu") -> float:
    gc.collect()
    now = CLOCKS[clock]
    start = now()
    build(load_config(str(root / f"mkdocs-{name}.yml")))
    return now() - start


def build_in_child(root: Path, name: str, clock: str) -> float:
    """A fresh process per timed build: no memory left over from earlier builds skews later ones.

    The child builds once to warm up (imports, lexers, templates), then times a second build.
    """
    command = [sys.executable, __file__, "--child", str(root), name, "--clock", clock]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def instructions(root: Path, name: str, builds: int) -> int:
    """Instructions a child executes for `builds` builds, counted by callgrind (steady on a busy machine)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        command += [sys.executable, __file__, "--child", str(root), name, "--builds", str(builds)]
        subprocess.run(command, capture_output=True, check=True)
        totals = [line for line in out.read_text().splitlines() if line.startswith(("summary:", "totals:"))]
        return int(totals[0].split()[1])


def one_build_instructions(root: Path, name: str) -> int:
    """A warm build's instructions: two builds minus one, so start-up and first-use costs cancel out."""
    return instructions(root, name, 2) - instructions(root, name, 1)


def instruction_ratio(root: Path, baseline: str) -> float:
    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores: both sides at once
        sides = ("with", baseline)
        counts = dict(zip(sides, pool.map(lambda side: one_build_instructions(root, side), sides), strict=True))
    for name, count in counts.items():
        print(f"instructions, one warm build, {name}: {count:,}")
    ratio = counts["with"] / counts[baseline]
    print(f"instruction ratio with / {SIDES[baseline][2]}: {ratio:.3f}")
    return ratio


def child(root: Path, name: str, clock: str, builds: int = 2) -> None:
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    logging.getLogger("mkdocs_execute").setLevel(logging.ERROR)
    for _ in range(builds - 1):
        build_once(root, name, clock)  # warm-up: imports, lexers, templates
    print(build_once(root, name, clock))


def sanity(root: Path, blocks: int = BLOCKS_PER_PAGE) -> None:
    """The plugin rendered every marked block of a page; the stripped site highlights the same code blocks."""

    def page(name: str) -> str:
        return (root / f"site-{name}" / "lesson-0001" / "index.html").read_text(encoding="utf-8")

    found = page("with").count("data-mx-kind=")
    if found != blocks or "data-mx-kind=" in page("stripped"):
        sys.exit(f"sanity check failed: {found} marked blocks rendered, expected {blocks}")
    blocks = {name: page(name).count('<div class="highlight') for name in SIDES}
    if blocks["with"] != blocks["stripped"]:
        sys.exit(f"sanity check failed: highlighted blocks differ: {blocks}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300, help="generated pages (default 300)")
    parser.add_argument("--blocks", type=int, default=10, help="marked blocks per page, a multiple of 10 (10)")
    parser.add_argument("--rounds", type=int, default=5, help="timed builds per side (default 5)")
    parser.add_argument("--target", type=float, default=1.05, help="highest acceptable ratio (default 1.05)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the ratio exceeds --target")
    parser.add_argument(
        "--baseline",
        choices=("stripped", "same"),
        default="stripped",
        help="the no-plugin build --check compares with (default: stripped)",
    )
    parser.add_argument(
        "--clock",
        choices=tuple(CLOCKS),
        default="cpu",
        help="cpu: this process's CPU time, steady on a busy machine (default); wall: elapsed time",
    )
    parser.add_argument("--keep", type=Path, help="generate into this (new) directory and keep it")
    parser.add_argument(
        "--in-process", action="store_true", help="time every build in this one process (faster, noisier)"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count one warm build's instructions under callgrind (slow: minutes; steady on a busy machine)",
    )
    parser.add_argument("--child", nargs=2, metavar=("ROOT", "SIDE"), help=argparse.SUPPRESS)
    parser.add_argument("--builds", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(Path(args.child[0]), args.child[1], args.clock, args.builds)
        return 0

    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    logging.getLogger("mkdocs_execute").setLevel(logging.ERROR)
    times: dict[str, list[float]] = {name: [] for name in SIDES}
    with tempfile.TemporaryDirectory(prefix="mx-bench-") as tmp:
        root = args.keep or Path(tmp)
        generate(root, args.pages, args.blocks)
        print(
            f"{args.pages} pages x {args.blocks} marked blocks (+ index), "
            f"{args.rounds} rounds, alternating, {args.clock} time; warming up…",
            flush=True,
        )
        for name in SIDES:  # imports, lexers and templates, once for every side
            build_once(root, name)
        sanity(root, args.blocks)
        names = list(SIDES)
        orders = itertools.cycle([names[i:] + names[:i] for i in range(len(names))])
        for index in range(args.rounds):
            order = next(orders)
            for name in order:
                timed = build_once if args.in_process else build_in_child
                times[name].append(timed(root, name, args.clock))
            line = ", ".join(f"{name} {times[name][-1]:.3f} s" for name in SIDES)
            print(f"  round {index + 1}: {line}", flush=True)
        counted = instruction_ratio(root, args.baseline) if args.instructions else None

    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, (_, _, label) in SIDES.items():
        print(f"median {label + ':':<27} {medians[name]:.3f} s   (best {min(times[name]):.3f} s)")
    pages = args.pages + 1
    for name in ("stripped", "same"):
        ratio = medians["with"] / medians[name]
        overhead = (medians["with"] - medians[name]) / pages * 1000
        checked = " <- checked" if name == args.baseline else ""
        print(
            f"ratio with / {SIDES[name][2]}: {ratio:.3f} "
            f"({overhead:+.2f} ms per page, target <= {args.target}){checked}"
        )
    best = min(times["with"]) / min(times[args.baseline])
    print(f"ratio of the best runs, with / {SIDES[args.baseline][2]}: {best:.3f} (less sensitive to noise)")
    ratio = medians["with"] / medians[args.baseline]
    measure = "CPU time median"
    if counted is not None:  # deterministic: it decides when it was measured
        ratio, measure = counted, "instructions"
    verdict = "OK" if ratio <= args.target else "OVER TARGET"
    print(f"{verdict}: ratio {ratio:.3f} ({measure}) against {SIDES[args.baseline][2]}")
    return 1 if args.check and ratio > args.target else 0


if __name__ == "__main__":
    sys.exit(main())
