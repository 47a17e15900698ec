"""Whole processes, side by side: mkdocs-execute's CLI against cram, prysk, pytest-codeblocks, byexample and
plain bash, on the same trivial `echo` blocks with expected output, each in its own format.

    python3 benchmarks/whole_process.py [--sizes 1,10,100,1000,5000] [--files 200x10] [--stateful 1000,2000,4000]
                                        [--rounds 5] [--peers DIR]

The peers are installed (once) into a virtual environment of their own (`--peers`, default
`.cache/peers`), from PyPI. Every measurement is one whole process, started and timed from here, in
interleaved order round after round (A B C…, B C… A, …); the table gives medians in ms and our time
divided by each peer's (above 1: we are slower). Each tool first runs each case once, untimed, and must
pass it: one that fails (pytest-codeblocks refuses files over 10,000 lines) is shown as failed, not timed.
cram and prysk run their examples with /bin/sh by default (dash on Debian); they are also timed with
`--shell=/bin/bash`, the interpreter our blocks are written for.
Issue 14's targets: at every size ≤ 1.0x prysk and ≤ 1.5x cram; the stateful series linear (4,000 blocks
≤ 4.5x the time of 1,000); one block ≤ 1.5x cram.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("cram==0.7", "prysk==0.20.0", "pytest-codeblocks==0.18.0", "byexample==11.0.0", "pytest")


def peers(folder: Path) -> Path:
    """The peers' environment, made once."""
    python = folder / "bin" / "python"
    if not python.exists():
        venv.create(folder, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS], check=True)
    return folder / "bin"


def ours(folder: Path) -> Path:
    """Our own environment, like the peers': the working tree installed (not editable) with its dependencies, so
    that neither side pays for the development machine's extra packages at start-up."""
    python = folder / "bin" / "python"
    if not python.exists():
        venv.create(folder, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT)], check=True)
    else:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(ROOT)], check=True
        )
    return python


def blocks(n: int, stateful: bool) -> list[tuple[str, str]]:
    """(command, expected output) pairs; a stateful series adds a variable and a function in each block."""
    if not stateful:
        return [(f"echo line-{k}", f"line-{k}") for k in range(n)]
    return [(f"v_{k}={k}; f_{k}() {{ echo $v_{k}; }}; f_{k}", str(k)) for k in range(n)]


def write(folder: Path, name: str, pairs: list[tuple[str, str]]) -> dict[str, Path]:
    """The same blocks in every tool's format."""
    folder.mkdir(parents=True, exist_ok=True)
    ours = "".join(f"```bash\n{c}\n```{{{{execute}}}}\n\n```\n{o}\n```{{{{output}}}}\n\n" for c, o in pairs)
    cram = "".join(f"  $ {c}\n  {o}\n" for c, o in pairs)
    codeblocks = "".join(
        f"```sh\n{c}\n```\n\n<!--pytest-codeblocks:expected-output-->\n\n```\n{o}\n```\n\n" for c, o in pairs
    )
    byexample = "".join(f"```shell\n$ {c}\n{o}\n```\n\n" for c, o in pairs)
    bash = "".join(f"{c}\n" for c, _ in pairs)
    files = {"md": ours, "t": cram, "codeblocks.md": codeblocks, "byexample.md": byexample, "sh": bash}
    paths = {}
    for suffix, text in files.items():
        path = folder / f"{name}.{suffix}"
        path.write_text(text)
        paths[suffix] = path
    return paths


def commands(bin_dir: Path, folder: Path, files: list[dict[str, Path]]) -> dict[str, list[str]]:
    md = [str(f["md"]) for f in files]
    return {
        "mkdocs-execute": [str(OURS[0]), "-m", "mkdocs_execute.cli", "run", *md],
        "prysk": [str(bin_dir / "prysk"), "-q", *[str(f["t"]) for f in files]],
        "cram": [str(bin_dir / "cram"), "-q", *[str(f["t"]) for f in files]],
        # Like for like: our blocks are bash (see the docstring).
        "prysk (bash)": [str(bin_dir / "prysk"), "-q", "--shell=/bin/bash", *[str(f["t"]) for f in files]],
        "cram (bash)": [str(bin_dir / "cram"), "-q", "--shell=/bin/bash", *[str(f["t"]) for f in files]],
        "pytest-codeblocks": [
            str(bin_dir / "python"),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--codeblocks",
            *[str(f["codeblocks.md"]) for f in files],
        ],
        "byexample": [str(bin_dir / "byexample"), "-q", "-l", "shell", *[str(f["byexample.md"]) for f in files]],
        "bash (floor)": ["bash", "-c", " ; ".join(f"bash {f['sh']} >/dev/null" for f in files)],
    }


OURS: list[Path] = []
PEAKS: dict[str, int] = {}  # case/tool -> peak RSS (KB) of the largest process of its tree
TIME = "/usr/bin/time"  # GNU time (Debian's `time`): a small parent, so its child's RSS is the tool's own


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    null = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
    here = os.getcwd()
    os.chdir(cwd)
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    finally:
        os.chdir(here)
        os.close(null)
    os.waitpid(pid, 0)
    return time.perf_counter() - start


def peak(argv: list[str], cwd: Path) -> int | None:
    """Peak RSS in KB of the largest process of one run, from GNU time: this script's own `wait4` would
    count the RSS of the Python that forked it (the kernel keeps it across exec)."""
    if not os.path.exists(TIME):
        return None
    with tempfile.NamedTemporaryFile("r") as out:
        command = [TIME, "-f", "%M", "-o", out.name, *argv]
        subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return int(out.read().split()[-1])


def refusals(argvs: dict[str, list[str]], cwd: Path) -> dict[str, str]:
    """Tools that do not pass the case (a warm-up run each): a tool that stops early would look fast.
    pytest-codeblocks, for one, refuses files of more than 10,000 lines."""
    refused = {}
    for name, argv in argvs.items():
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
        if done.returncode:
            lines = (done.stdout + done.stderr).strip().splitlines() or [""]
            said = next((line for line in lines if "Error:" in line), lines[-1]).strip(" E")
            refused[name] = f"exit {done.returncode}: {said[:100]}"
    if "mkdocs-execute" in refused:
        sys.exit(f"mkdocs-execute failed the benchmark's own case: {refused['mkdocs-execute']}")
    return refused


FAILED: dict[str, dict[str, str]] = {}  # case -> tool -> why it did not pass (not timed)


def series(
    bin_dir: Path, cases: dict[str, list[dict[str, Path]]], work: Path, rounds: int
) -> dict[str, dict[str, float]]:
    medians: dict[str, dict[str, float]] = {}
    for case, files in cases.items():
        argvs = commands(bin_dir, work, files)
        FAILED[case] = refusals(argvs, work)
        for name, why in FAILED[case].items():
            print(f"  {case}: {name} does not pass, left out ({why})", flush=True)
        names = [name for name in argvs if name not in FAILED[case]]
        times: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                times[name].append(timed(argvs[name], work))
        for name in names:
            found = peak(argvs[name], work)
            if found is not None:
                PEAKS[f"{case}/{name}"] = found
        medians[case] = {name: statistics.median(values) * 1000 for name, values in times.items()}
        print(f"  {case}: " + ", ".join(f"{n} {v:.0f} ms" for n, v in medians[case].items()), flush=True)
    return medians


def table(medians: dict[str, dict[str, float]], title: str) -> None:
    print(f"\n{title}\n")
    names = list(dict.fromkeys(name for m in medians.values() for name in m if name != "mkdocs-execute"))
    names += [name for case in medians for name in FAILED.get(case, {}) if name not in names]
    ratios = [name for name in names if name.startswith(("prysk", "cram"))]
    print("| case | mkdocs-execute ms | " + " | ".join(f"{n} ms" for n in names) + " | "
          + " | ".join(f"÷ {n}" for n in ratios) + " |")  # fmt: skip
    print("| --- |" + " ---: |" * (1 + len(names) + len(ratios)))
    for case, m in medians.items():
        ours = m["mkdocs-execute"]
        cells = [f"{ours:.0f}", *(f"{m[n]:.0f}" if n in m else "failed" for n in names)]
        cells += [f"{ours / m[n]:.2f}" if n in m else "–" for n in ratios]
        print(f"| {case} | " + " | ".join(cells) + " |")
    for case in medians:
        for name, why in FAILED.get(case, {}).items():
            print(f"\n{case}, {name}: failed, so not timed ({why})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,100,1000,5000")
    parser.add_argument("--files", default="200x10", help="FILESxBLOCKS, or '' to skip")
    parser.add_argument("--stateful", default="1000,2000,4000", help="sizes, or '' to skip")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--peers", type=Path, default=ROOT / ".cache" / "peers")
    args = parser.parse_args()
    bin_dir = peers(args.peers)
    OURS.append(ours(args.peers.parent / "ours"))
    make: Callable[[Path, str, int, bool], dict[str, Path]] = lambda d, n, k, s: write(d, n, blocks(k, s))  # noqa: E731
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        plain = {
            f"{n} blocks": [make(work / f"s{n}", "page", n, False)]
            for n in map(int, filter(None, args.sizes.split(",")))
        }
        if args.files:
            count, size = map(int, args.files.split("x"))
            plain[f"{count} files × {size}"] = [make(work / "many", f"p{k}", size, False) for k in range(count)]
        print("plain blocks:", flush=True)
        table(
            series(bin_dir, plain, work, args.rounds), f"Whole processes, medians of {args.rounds} interleaved rounds"
        )
        if args.stateful:
            stateful = {
                f"{n} stateful": [make(work / f"t{n}", "page", n, True)] for n in map(int, args.stateful.split(","))
            }
            print("stateful blocks:", flush=True)
            medians = series(bin_dir, stateful, work, max(1, args.rounds // 2))
            table(medians, "Stateful series (each block adds a variable and a function)")
            sizes = list(medians)
            if len(sizes) >= 2:
                first, last = medians[sizes[0]]["mkdocs-execute"], medians[sizes[-1]]["mkdocs-execute"]
                print(f"\nmkdocs-execute: {sizes[-1]} ÷ {sizes[0]} = {last / first:.2f} (target ≤ 4.5)")
    print(f"\npeak RSS, KB (largest process of the tree, {TIME}):")
    for key, value in PEAKS.items():
        print(f"  {key}: {value}")
    for case in dict.fromkeys(key.split("/")[0] for key in PEAKS):  # in the order measured
        mine, prysk = PEAKS.get(f"{case}/mkdocs-execute"), PEAKS.get(f"{case}/prysk")
        if mine and prysk:
            target = " (issue 14: ≤ 1.5)" if case == "5000 blocks" else ""
            print(f"  {case}: peak RSS mkdocs-execute ÷ prysk {mine / prysk:.2f}{target}")
    print(f"\nmachine: {os.uname().nodename}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
