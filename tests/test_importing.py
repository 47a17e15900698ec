"""`mkdocs-execute import`: scenario fixtures of the project's own become sites that build and run green."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_harness import ENV

SCENARIOS = Path(__file__).parent / "scenarios"
KATACODA = SCENARIOS / "katacoda-demo"
KILLERCODA = SCENARIOS / "killercoda-demo"


def command(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, env=ENV, timeout=300, check=False
    )


def imported(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return command("mkdocs_execute.cli", "import", str(source), str(out), *extra)


def test_a_katacoda_scenario_imports_builds_strict_and_runs_green(tmp_path: Path) -> None:
    out = tmp_path / "site-project"
    result = imported(KATACODA, out)
    assert result.returncode == 0, result.stderr
    assert "imported 1 scenario: 4 pages, 4 blocks, 1 placeholders, 1 assets, 0 warnings" in result.stdout
    config = yaml.safe_load((out / "mkdocs.yml").read_text())
    assert config["nav"] == [
        {"Demo lesson": "index.md"},
        {"Create a file": "01-create-a-file.md"},
        {"Use what step 1 left": "02-use-what-step-1-left.md"},
        {"Finish": "finish.md"},
    ]
    assert config["plugins"][1]["execute"] == {"variables": {"HOST_8080": None}, "session": "site"}
    assert "# where port 8080 of the lesson's machine is reached" in (out / "mkdocs.yml").read_text()
    build = command("mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site"), cwd=out)
    assert build.returncode == 0, build.stderr
    step = (tmp_path / "site" / "01-create-a-file" / "index.html").read_text()
    assert 'data-mx-terminal="2"' in step and "test -f demo/greeting" not in step  # the verify stays hidden
    intro = (tmp_path / "site" / "index.html").read_text()
    assert 'src="assets/machine.svg"' in intro and (tmp_path / "site" / "assets" / "machine.svg").exists()
    assert 'href="http://[[HOST_8080]]/"' in intro or "HOST_8080" in intro
    run = command("mkdocs_execute.cli", "run", "docs", cwd=out)
    assert run.returncode == 0, run.stdout
    assert run.stdout.strip().endswith("6 passed, 0 failed, 0 skipped")
    assert "ok   docs/02-use-what-step-1-left.md:1  verify: step2-verify.sh" in run.stdout


def test_a_broken_verify_fails_the_run_and_names_the_step(tmp_path: Path) -> None:
    source = tmp_path / "scenario"
    shutil.copytree(KATACODA, source)
    (source / "step2-verify.sh").write_text("#!/bin/bash\ntest -f nowhere\n")
    assert imported(source, tmp_path / "out").returncode == 0
    run = command("mkdocs_execute.cli", "run", "docs", cwd=tmp_path / "out")
    assert run.returncode == 1
    assert "docs/02-use-what-step-1-left.md:1: the step's verify script `step2-verify.sh` failed (exit 1)" in run.stdout


def test_steps_share_one_shell_unless_a_page_opts_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert imported(KATACODA, out).returncode == 0
    step2 = out / "docs" / "02-use-what-step-1-left.md"
    text = step2.read_text()
    step2.write_text(text.replace("---\nexecute:\n", "---\nexecute:\n  session: page\n", 1))
    run = command("mkdocs_execute.cli", "run", "docs", cwd=out)
    assert run.returncode == 1 and "greet: command not found" in run.stdout  # its own shell: no function


def test_a_killercoda_scenario_gets_its_foreground_as_a_first_block(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert imported(KILLERCODA, out).returncode == 0
    step = (out / "docs" / "01-look-around.md").read_text()
    assert step.index('```bash\necho "foreground ran" > fg.txt\n```{{exec}}') < step.index("List the folder")
    run = command("mkdocs_execute.cli", "run", "docs", cwd=out)
    assert run.returncode == 0, run.stdout
    assert "skip docs/01-look-around.md:" in run.stdout and "`top` is interactive" in run.stdout
    assert "ok   docs/01-look-around.md:1  verify: step1/verify.sh" in run.stdout


def test_a_collection_becomes_one_site_with_a_section_per_scenario(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = imported(SCENARIOS, out)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load((out / "mkdocs.yml").read_text())
    assert [next(iter(section)) for section in config["nav"]] == ["Demo lesson", "Killercoda demo"]
    assert config["plugins"][1]["execute"]["session"] == "section"
    build = command("mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site"), cwd=out)
    assert build.returncode == 0, build.stderr
    run = command("mkdocs_execute.cli", "run", "docs", cwd=out)
    assert run.returncode == 0, run.stdout


def test_an_import_never_overwrites_without_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.md").write_text("a writer's own file")
    refused = imported(KATACODA, out)
    assert refused.returncode == 2 and "not empty (use --force" in refused.stderr
    assert (out / "mine.md").read_text() == "a writer's own file"
    assert imported(KATACODA, out, "--force").returncode == 0
    assert not (out / "mine.md").exists() and (out / "mkdocs.yml").exists()


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda s: (s / "index.json").write_text('{"title": "x",\n "details": {,}}'), "index.json:2: not valid JSON"),
        (lambda s: (s / "index.json").write_text('{"details": {"steps": "step1.md"}}'), "must be a list"),
        (lambda s: (s / "index.json").write_text("[1, 2]"), "not a scenario"),
    ],
    ids=["bad-json", "steps-not-a-list", "not-an-object"],
)
def test_bad_input_names_the_file_and_writes_nothing(tmp_path: Path, breakage: object, message: str) -> None:
    source = tmp_path / "scenario"
    shutil.copytree(KATACODA, source)
    breakage(source)  # type: ignore[operator]
    result = imported(source, tmp_path / "out")
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario"]  # no OUT, no half-written folder


def test_a_missing_step_file_is_named_and_left_out(tmp_path: Path) -> None:
    source = tmp_path / "scenario"
    shutil.copytree(KATACODA, source)
    (source / "step2.md").unlink()
    result = imported(source, tmp_path / "out")
    assert result.returncode == 0 and "step2.md: named in its index.json but missing: page left out" in result.stderr
    nav = yaml.safe_load((tmp_path / "out" / "mkdocs.yml").read_text())["nav"]
    assert [next(iter(entry)) for entry in nav] == ["Demo lesson", "Create a file", "Finish"]


def test_the_fixtures_are_real_scenarios() -> None:
    """Negative case for the tests above: the fixtures hold what they claim."""
    data = json.loads((KATACODA / "index.json").read_text())
    assert [step.get("verify") for step in data["details"]["steps"]] == ["step1-verify.sh", "step2-verify.sh"]
    assert "{{execute T2}}" in (KATACODA / "step1.md").read_text()
    assert "[[HOST_SUBDOMAIN]]-8080-[[KATACODA_HOST]]" in (KATACODA / "step1.md").read_text()


@pytest.mark.parametrize(
    "args",
    [[], ["-k", "02"], ["-n", "2"], ["-n", "2", "--dist", "loadfile"]],
    ids=["all", "step-2-alone", "xdist-load", "xdist-loadfile"],
)
def test_pytest_runs_a_lesson_in_one_shell_whatever_is_selected(tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "out"
    assert imported(KATACODA, out).returncode == 0
    result = command("pytest", "-p", "no:cacheprovider", "-q", "--mkdocs-execute", "docs", *args, cwd=out)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "failed" not in result.stdout and "error" not in result.stdout
