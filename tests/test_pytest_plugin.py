"""The pytest plugin keeps block order by design: selection, --lf, xdist; opt-in; locations at the page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_harness import ENV, fence, lessons, output, pytest_run

STATEFUL = fence('export X=1\nf() { echo "f$1"; }') + "\n" + fence('echo "$X"; f 2') + "\n" + output("1\nf2")
"""L1 sets state, L6 needs it."""


def pytest_in(root: Path, *args: str, cache: bool = False) -> subprocess.CompletedProcess[str]:
    return pytest_run(root, "-ra", *args, cache=cache, opt_in=False)


def test_selecting_a_block_runs_the_earlier_ones_as_its_setup(tmp_path: Path) -> None:
    root = lessons(tmp_path, s=STATEFUL)
    selected = pytest_in(root, "--mkdocs-execute", "docs", "-k", "L6")
    assert selected.returncode == 0, selected.stdout
    assert "1 passed, 1 deselected" in selected.stdout
    node = pytest_in(root, "--mkdocs-execute", "docs/s.md::L6")
    assert node.returncode == 0, node.stdout
    # Negative: the same block without its page's first block does fail.
    alone = lessons(tmp_path / "alone", s=fence('echo "$X"; f 2') + "\n" + output("1\nf2"))
    assert pytest_in(alone, "--mkdocs-execute", "docs").returncode == 1


def test_a_failing_earlier_block_is_reported_as_the_setup_that_failed(tmp_path: Path) -> None:
    root = lessons(tmp_path, s=fence("exit 3") + "\n" + fence("echo later"))
    result = pytest_in(root, "--mkdocs-execute", "docs", "-k", "L5")
    assert result.returncode == 1
    assert "1 error" in result.stdout and "run first as setup of L5" in result.stdout
    assert "Traceback" not in result.stdout
    assert "docs/s.md:1: exit status 3" in result.stdout


def test_last_failed_reruns_with_the_state_it_needs(tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    page = fence("export X=1") + "\n" + fence(f'test -e {flag} && echo "$X"') + "\n" + output("1")
    root = lessons(tmp_path / "p", s=page)
    first = pytest_in(root, "--mkdocs-execute", "docs", cache=True)
    assert "1 failed, 1 passed" in first.stdout
    flag.touch()
    again = pytest_in(root, "--mkdocs-execute", "docs", "--lf", cache=True)
    assert again.returncode == 0, again.stdout
    assert "1 passed" in again.stdout and "run-last-failure" in again.stdout


def pages(log: Path) -> dict[str, str]:
    """Six pages of five blocks that need the first one's state (xdist's chunks of three would split them);
    each first block logs that it ran."""
    later = "".join("\n" + fence(f'echo "${{X}}{n}"') + output(f"1{n}") for n in range(3))
    return {f"p{k}": fence(f"echo ran >> {log}/p{k}") + "\n" + STATEFUL + later for k in range(6)}


def runs(log: Path) -> list[int]:
    return [len((log / f"p{k}").read_text().splitlines()) for k in range(6)]


@pytest.mark.parametrize("dist", ["load", "worksteal", "loadgroup"])
def test_xdist_keeps_each_page_on_one_worker(tmp_path: Path, dist: str) -> None:
    log = tmp_path / "log"
    log.mkdir()
    root = lessons(tmp_path / "p", **pages(log))
    result = pytest_in(root, "--mkdocs-execute", "docs", "-n", "2", "--dist", dist)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "36 passed" in result.stdout
    assert runs(log) == [1] * 6  # no block ran twice to catch up on another worker


def test_without_the_plugins_scheduler_load_splits_pages(tmp_path: Path) -> None:
    """Negative case: xdist's own `load` sends a page's blocks to both workers, where catching up on the
    page's state runs its first block a second time."""
    log = tmp_path / "log"
    log.mkdir()
    root = lessons(tmp_path / "p", **pages(log))
    plugin = Path(__file__).parent / "no_page_scheduler.py"
    env = {**ENV, "PYTHONPATH": f"{plugin.parent}{os.pathsep}{ENV.get('PYTHONPATH', '')}"}
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no_page_scheduler"]
    args += ["--mkdocs-execute", "docs", "-n", "2", "--dist", "load"]
    result = subprocess.run(args, cwd=root, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert "36 passed" in result.stdout, result.stdout[-2000:]  # catching up keeps the verdicts true
    assert max(runs(log)) == 2


def test_a_bare_pytest_runs_no_shell_block_without_the_opt_in(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    root = lessons(tmp_path / "p", s=fence(f"touch {marker}"))
    bare = pytest_in(root)
    assert bare.returncode == 5 and not marker.exists()
    assert pytest_in(root, "docs").returncode == 5 and not marker.exists()
    opted = pytest_in(root, "--mkdocs-execute")
    assert opted.returncode == 0 and marker.exists()
    marker.unlink()
    (root / "pytest.ini").write_text("[pytest]\nmkdocs_execute = true\n")
    assert pytest_in(root).returncode == 0 and marker.exists()


def test_a_markdown_file_named_on_the_command_line_is_collected(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text(fence("echo hi") + output("hi") + "\n" + fence("echo x") + output("y"))
    result = pytest_in(tmp_path, "notes.md")
    assert result.returncode == 1 and "1 failed, 1 passed" in result.stdout
    assert "notes.md:8: the output differs from the page" in result.stdout
    (tmp_path / "other.md").write_text(fence("false"))
    assert "other.md" not in pytest_in(tmp_path, "notes.md").stdout  # negative: only what was named


def test_skips_and_failures_point_at_the_page(tmp_path: Path) -> None:
    page = "# T\n\n" + fence("ruby -v").replace("bash", "ruby") + "\n" + fence("echo a") + output("b")
    root = lessons(tmp_path, s=page)
    result = pytest_in(root, "--mkdocs-execute", "docs")
    assert "SKIPPED [1] docs/s.md:3: no runner for `ruby`" in result.stdout
    assert "docs/s.md:7: the output differs from the page" in result.stdout
    assert "pytest_plugin.py" not in result.stdout


def test_blocks_after_the_last_selected_one_never_run(tmp_path: Path) -> None:
    """Plain blocks go to the shell in runs, ahead of their items: never past what this session runs."""
    marks = tmp_path / "marks"
    marks.mkdir()
    page = "\n".join(fence(f"touch {marks}/b{k}") for k in range(4))
    root = lessons(tmp_path / "p", s=page)
    result = pytest_in(root, "--mkdocs-execute", "docs", "-k", "L5")  # the second block
    assert result.returncode == 0 and "1 passed, 3 deselected" in result.stdout, result.stdout
    assert sorted(p.name for p in marks.iterdir()) == ["b0", "b1"]
    # Negative: selecting everything runs every block.
    assert pytest_in(root, "--mkdocs-execute", "docs").returncode == 0
    assert sorted(p.name for p in marks.iterdir()) == ["b0", "b1", "b2", "b3"]


def test_after_a_stop_on_failure_nothing_more_runs(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    drifted = fence(f"touch {marks}/b1; echo actual") + "\n" + output("expected")
    page = fence(f"touch {marks}/b0") + "\n" + drifted + "\n" + fence(f"touch {marks}/b2")
    root = lessons(tmp_path / "p", s=page)
    result = pytest_in(root, "--mkdocs-execute", "docs", "-x")
    assert result.returncode == 1 and "1 failed, 1 passed" in result.stdout, result.stdout
    assert sorted(p.name for p in marks.iterdir()) == ["b0", "b1"]
    # Negative: without -x the block after the drift runs (drift leaves the state sound).
    assert pytest_in(root, "--mkdocs-execute", "docs").returncode == 1
    assert sorted(p.name for p in marks.iterdir()) == ["b0", "b1", "b2"]
