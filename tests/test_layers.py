"""The layers hold: the site (extension, rendering, plugin, strings, stamps, reading records) never imports the
harness or the terminal, nor anything POSIX-only, so a writer on Windows can build."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mkdocs_execute"
SITE = ["extension", "rendering", "plugin", "strings", "stamps", "records", "parsing", "lexer", "model", "options",
        "assets", "including"]  # fmt: skip
HARNESS = {"harness", "running", "runners", "python_runner", "terminal", "cli", "pytest_plugin", "reporting",
           "recording", "importing", "masking", "limits", "processes"}  # fmt: skip
POSIX_ONLY = {"fcntl", "termios", "pty", "tty", "resource", "pwd", "grp", "posix"}


def imports_at_load(module: str) -> set[str]:
    """What a module imports when it loads: top-level imports, not `if TYPE_CHECKING:` nor function bodies."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: within the package
                base = node.module or ""
                found |= {f".{base}" if base else f".{alias.name}" for alias in node.names}
            else:
                found.add(node.module or "")
    return found


def closure(module: str) -> set[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        inside = [imported[1:].split(".")[0] for imported in imports_at_load(name) if imported.startswith(".")]
        todo += [module for module in inside if (PACKAGE / f"{module}.py").is_file()]  # not `from . import NAME`
    return seen


@pytest.mark.parametrize("module", SITE)
def test_the_site_never_imports_the_harness_or_the_terminal(module: str) -> None:
    assert closure(module) & HARNESS == set()


@pytest.mark.parametrize("module", SITE)
def test_the_site_imports_nothing_posix_only(module: str) -> None:
    stdlib = {name.split(".")[0] for part in closure(module) for name in imports_at_load(part)}
    assert stdlib & POSIX_ONLY == set()


def test_the_graph_check_sees_the_harness() -> None:
    """Negative case: the harness side does reach running, fcntl and termios."""
    assert "running" in closure("cli")
    reached = closure("cli") | closure("terminal")  # the command loads the terminal on demand
    assert {"fcntl", "termios"} <= {name for part in reached for name in imports_at_load(part)}


BLOCKED = "import sys\nfor name in {names!r}: sys.modules[name] = None\n"
RUNTIME_BLOCKED = sorted(POSIX_ONLY - {"posix", "pwd", "grp"})  # the standard library itself needs these


def test_a_build_works_without_posix_modules(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# T\n\n```bash\nls [[HOST]]\n```{{execute}}\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: T\nplugins: [execute: {variables: {HOST: h}, record: r.json}]\n")
    script = BLOCKED.format(names=RUNTIME_BLOCKED) + "from mkdocs.__main__ import cli\ncli(['build', '-q'])\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert 'data-mx-kind="execute"' in (tmp_path / "site" / "index.html").read_text()


def test_the_harness_needs_them() -> None:
    """Negative case: with the same modules blocked, the harness cannot load (so the check above means it)."""
    script = BLOCKED.format(names=RUNTIME_BLOCKED) + "import mkdocs_execute.running\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr


def test_the_extension_alone_needs_no_mkdocs() -> None:
    """Zensical loads the Python-Markdown extension without MkDocs: nothing it loads imports mkdocs."""
    third_party = {name.split(".")[0] for part in closure("extension") for name in imports_at_load(part)}
    assert "mkdocs" not in third_party and "markdown" in third_party
    assert "mkdocs" in {name.split(".")[0] for part in closure("plugin") for name in imports_at_load(part)}


def test_the_command_says_clearly_that_it_needs_posix() -> None:
    script = BLOCKED.format(names=RUNTIME_BLOCKED) + "from mkdocs_execute.entry import main\nraise SystemExit(main())\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "needs a POSIX system" in done.stderr and "Traceback" not in done.stderr
    normal = subprocess.run([sys.executable, "-m", "mkdocs_execute.entry", "--version"], capture_output=True,
                            text=True, check=False)  # fmt: skip
    assert normal.returncode == 0 and normal.stdout.startswith("mkdocs-execute ")  # negative: here it runs
