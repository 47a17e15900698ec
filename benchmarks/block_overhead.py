"""What running a command block costs: the harness's ShellSession against one plain bash and two peers.

The same N trivial blocks (``echo N``, ``true``, ``x=$((x+1))``, …) are run, side by side in one run, by:

- ``plain bash``: ONE bash process running all the commands, the baseline (per-block cost ≈ 0);
- ``ShellSession``: ``mkdocs_execute.running.ShellSession.run`` once per block (one persistent bash per
  session that reports each block's status and snapshots its state); its overhead per block is
  (total − baseline) / N;
- ``prysk``: an equivalent ``.t`` file (``prysk --shell /bin/bash``);
- ``pytest-codeblocks``: an equivalent Markdown file of N ```` ```bash ```` blocks
  (``pytest --codeblocks``, plugin autoloading off so that only its own plugin is loaded: the peer's
  cheapest case).

Each runner also runs a 1-block page, so the table shows the fixed cost apart: ``marginal`` is
(T(N) − T(1)) / (N − 1). Runners alternate round after round (A B C D, B C D A, …) so that drift in the
machine's load hits all alike; the median of the rounds is shown. Wall-clock time: the work is in child
processes.

    pip install prysk pytest-codeblocks     # the peers; either one missing is skipped
    python3 benchmarks/block_overhead.py [--blocks 200] [--rounds 5] [--check]

Targets: the harness's overhead ≤ 5 ms per block, and fewer ms per block than each peer. With ``--check`` the
exit status is 1 when a target is missed. prysk feeds the whole file to one shell, so its marginal cost per
block is near 0 and its ms/block falls as N grows: compare ``marginal`` too.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mkdocs_execute.running import ShellSession, normal_environment

TARGET_MS = 5.0


def blocks(n: int) -> list[tuple[str, str]]:
    """N trivial (command, expected output) pairs, all with status 0."""
    kinds = [
        lambda i: (f"echo {i}", f"{i}\n"),
        lambda i: ("true", ""),
        lambda i: ("x=$((x+1))", ""),
        lambda i: (f"printf '%s\\n' b{i}", f"b{i}\n"),
        lambda i: ("cd .", ""),
        lambda i: ('test -n "$HOME"', ""),
    ]
    return [kinds[i % len(kinds)](i) for i in range(n)]


def run_plain(page: list[tuple[str, str]], work: Path) -> None:
    script = "\n".join(command for command, _ in page) + "\n"
    expected = "".join(output for _, output in page)
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        cwd=work,
        env=normal_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
    )
    assert result.stdout.decode() == expected, "plain bash: unexpected output"


def run_session(page: list[tuple[str, str]], work: Path) -> None:
    with ShellSession(cwd=work) as session:
        for command, expected in page:
            outcome = session.run(command, timeout=30)
            assert outcome.status == 0 and outcome.output == expected, (command, outcome)


def prysk_file(page: list[tuple[str, str]], work: Path) -> Path:
    path = work / f"page-{len(page)}.t"
    lines = []
    for command, output in page:
        lines.append(f"  $ {command}\n")
        lines.extend(f"  {line}\n" for line in output.splitlines())
    path.write_text("".join(lines))
    return path


def codeblocks_file(page: list[tuple[str, str]], work: Path) -> Path:
    path = work / f"page-{len(page)}.md"
    path.write_text("".join(f"Step {i}:\n\n```bash\n{command}\n```\n\n" for i, (command, _) in enumerate(page)))
    return path


def run_prysk(path: Path, work: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "prysk", "--shell", shutil.which("bash") or "/bin/bash", "-q", str(path)],
        cwd=work,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
    )


def run_codeblocks(path: Path, work: Path) -> None:
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    ini = work / "pytest.ini"
    ini.write_text("[pytest]\n")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "pytest_codeblocks.plugin", "-p", "no:cacheprovider"]
    subprocess.run(
        [*command, "--codeblocks", "-c", str(ini), "--rootdir", str(work), str(path)],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=200, help="blocks per page (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, median shown (default 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    n = max(2, args.blocks)

    with tempfile.TemporaryDirectory(prefix="block-overhead-") as tmp:
        work = Path(tmp)
        pages = {size: blocks(size) for size in (1, n)}
        runners: dict[str, Callable[[int], None]] = {
            "plain bash (1 process)": lambda size: run_plain(pages[size], work),
            "ShellSession.run": lambda size: run_session(pages[size], work),
        }
        if importlib.util.find_spec("prysk") is not None:
            t_files = {size: prysk_file(pages[size], work) for size in pages}
            runners["prysk"] = lambda size: run_prysk(t_files[size], work)
        else:
            print("prysk is not installed (pip install prysk): skipped")
        if importlib.util.find_spec("pytest_codeblocks") is not None:
            md_files = {size: codeblocks_file(pages[size], work) for size in pages}
            runners["pytest-codeblocks"] = lambda size: run_codeblocks(md_files[size], work)
        else:
            print("pytest-codeblocks is not installed (pip install pytest-codeblocks): skipped")

        names = list(runners)
        for name in names:  # warm up: caches, imports, and a first check that each one passes
            runners[name](1)
        times: dict[tuple[str, int], list[float]] = {(name, size): [] for name in names for size in pages}
        for round_ in range(args.rounds):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name, size in itertools.product(order, (n, 1)):
                start = time.perf_counter()
                runners[name](size)
                times[name, size].append(time.perf_counter() - start)

    median = {key: statistics.median(values) * 1000 for key, values in times.items()}
    harness = median["ShellSession.run", n] / n
    print(f"\n{n} blocks per page, {args.rounds} rounds, median wall time (ms)\n")
    print(f"| runner | page of {n} | page of 1 | ms/block | marginal ms/block | ms/block vs ShellSession |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        total, single = median[name, n], median[name, 1]
        print(
            f"| {name} | {total:.1f} | {single:.1f} | {total / n:.3f} | {(total - single) / (n - 1):.3f}"
            f" | {total / n / harness:.2f}x |"
        )
    overhead = (median["ShellSession.run", n] - median["plain bash (1 process)", n]) / n
    ok = overhead <= TARGET_MS
    print(f"\nShellSession overhead per block over plain bash: {overhead:.2f} ms", end="")
    print(f" (target <= {TARGET_MS:g} ms): {'met' if ok else 'MISSED'}")
    for peer in ("prysk", "pytest-codeblocks"):
        if peer in runners:
            peer_ms = median[peer, n] / n
            faster = harness < peer_ms
            ok = ok and faster
            print(f"ShellSession {harness:.2f} ms/block vs {peer} {peer_ms:.2f} ms/block: ", end="")
            print(f"{'faster' if faster else 'SLOWER'} ({peer_ms / harness:.2f}x)")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
