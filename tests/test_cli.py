"""`mkdocs-execute run` as a CI uses it: exit codes, reports, bad input, runners, isolation, update mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_harness import cli, fence, lessons, output

# -- exit codes ---------------------------------------------------------------------------------------------


def test_exit_codes(tmp_path: Path) -> None:
    assert cli(lessons(tmp_path / "ok", p=fence("echo a") + output("a")), "docs").returncode == 0
    assert cli(lessons(tmp_path / "fail", p=fence("echo a") + output("b")), "docs").returncode == 1
    usage = lessons(tmp_path / "usage", p=fence("echo a"))
    assert cli(usage, "docs", "--var", "NOEQUALS").returncode == 2
    assert cli(usage, "nowhere").returncode == 2
    assert cli(usage, "docs", "--cwd", "nowhere").returncode == 2
    (usage / "mkdocs.yml").write_text("site_name: [unclosed\n")
    broken = cli(usage, "docs")
    assert broken.returncode == 2 and "Traceback" not in broken.stderr


@pytest.mark.parametrize(
    "pages",
    [
        {},  # an empty folder
        {"prose": "# Only prose\n\nNo block here.\n"},
        {"include": '--8<-- "other.md"\n'},  # a snippets include: nothing runnable in the page itself
        {"copy": "```bash\nls\n```{{copy}}\n"},
    ],
    ids=["empty-folder", "prose", "snippets-include", "copy-only"],
)
def test_nothing_to_run_exits_5_and_says_so(tmp_path: Path, pages: dict[str, str]) -> None:
    result = cli(lessons(tmp_path, **pages), "docs")
    assert result.returncode == 5, result.stdout
    assert "no runnable block found in docs" in result.stdout


def test_a_byte_order_mark_changes_nothing(tmp_path: Path) -> None:
    page = "\ufeff---\nexecute:\n  requires:\n    commands: [no-such-tool-mx]\n---\n" + fence("no-such-tool-mx")
    page += "\n" + fence("echo first") + output("first")
    result = cli(lessons(tmp_path, bom=page), "docs")
    assert result.returncode == 0, result.stdout
    assert "skip docs/bom.md:6" in result.stdout and "`no-such-tool-mx`, which is not installed" in result.stdout
    assert "ok   docs/bom.md:10" in result.stdout
    plain = cli(lessons(tmp_path / "plain", bom=page.lstrip("\ufeff")), "docs")  # the same lines without it
    assert plain.stdout.replace("bom.md", "x") == result.stdout.replace("bom.md", "x")


# -- reports ------------------------------------------------------------------------------------------------


def test_json_report(tmp_path: Path) -> None:
    page = (
        fence("echo a")
        + output("a")
        + "\n"
        + fence("echo b")
        + output("c")
        + "\n"
        + fence("ls", "{{execute ctrl-seq}}")
    )
    root = lessons(tmp_path, j=page)
    report = tmp_path / "report.json"
    result = cli(root, "docs", "--json", str(report))
    data = json.loads(report.read_text())
    assert data["exit_status"] == result.returncode == 1
    assert data["summary"] == {"passed": 1, "failed": 1, "skipped": 1}
    first, second, third = data["blocks"]
    assert (first["file"], first["line"], first["status"], first["command"]) == ("docs/j.md", 1, "passed", "echo a")
    assert second["status"] == "failed" and "-c\n+b" in second["diff"] and second["reason"]
    assert third["status"] == "skipped" and "control sequence" in third["skip_reason"]
    assert all(isinstance(block["duration"], float) for block in data["blocks"])


def test_junit_is_well_formed_whatever_the_output_holds(tmp_path: Path) -> None:
    page = fence(r"printf '\033[31mred\033[0m \001 \013 \377\n'") + "\n" + fence(r"printf 'x\033[1m\002'") + output("y")
    root = lessons(tmp_path, j=page)
    junit = tmp_path / "junit.xml"
    cli(root, "docs", "--junitxml", str(junit))
    cases = list(ET.parse(junit).getroot().iter("testcase"))  # raises on ill-formed XML
    assert len(cases) == 2
    out = cases[0].find("system-out")
    assert out is not None and out.text is not None and "red" in out.text and "\\x01" in out.text


def test_the_junit_check_rejects_raw_escapes() -> None:
    """Negative case: the parser above does reject what ElementTree writes for a raw escape."""
    raw = "<?xml version='1.0'?><testsuites><testsuite><testcase><system-out>\x1b[31m</system-out></testcase>"
    with pytest.raises(ET.ParseError):
        ET.fromstring(raw + "</testsuite></testsuites>")


def test_huge_outputs_are_capped_in_every_report(tmp_path: Path) -> None:
    page = fence("seq 1 300000") + output("1\n2")
    root = lessons(tmp_path, big=page)
    junit, report = tmp_path / "junit.xml", tmp_path / "r.json"
    result = cli(root, "docs", "--junitxml", str(junit), "--json", str(report))
    assert result.returncode == 1
    diff = json.loads(report.read_text())["blocks"][0]["diff"]
    assert len(report.read_text()) < 300_000
    for text in (result.stdout, junit.read_text(), diff):
        assert len(text) < 300_000 and "lines (" in text and "cut here" in text
        assert "\n+3\n" in text and "+299999\n" in text  # the head and the tail are kept
    full = cli(lessons(tmp_path / "full", big=fence("seq 1 300000") + output("1\n...\n300000")), "docs")
    assert full.returncode == 0  # the comparison itself still saw everything


# -- bad options and bad pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("{{execute timeout=abc}}", "bad option `timeout=abc`: 'abc' is not a number of seconds"),
        ("{{execute timeout=inf}}", "bad option `timeout=inf`: 'inf' is not a finite number of seconds"),
        ("{{execute timeout=0}}", "bad option `timeout=0`: '0' is not a finite number of seconds, more than zero"),
        ("{{execute wait=abc}}", "bad option `wait=abc`"),
        ("{{execute runner=perl}}", "bad option `runner=perl`: 'perl' is not a runner"),
    ],
)
def test_a_bad_option_fails_its_block_and_the_run_goes_on(tmp_path: Path, marker: str, message: str) -> None:
    root = lessons(tmp_path, a=fence("echo bad", marker) + "\n" + fence("echo next") + output("next"), b=fence("true"))
    junit = tmp_path / "junit.xml"
    result = cli(root, "docs", "--junitxml", str(junit))
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert f"docs/a.md:1: line 3: {message}" in result.stdout
    assert "ok   docs/a.md:5" in result.stdout and "ok   docs/b.md:1" in result.stdout
    assert result.stdout.strip().endswith("2 passed, 1 failed, 0 skipped") and junit.exists()


def test_a_bad_exit_option_on_an_output_block(tmp_path: Path) -> None:
    result = cli(lessons(tmp_path, a=fence("false") + output("", "{{output exit=abc}}")), "docs")
    assert result.returncode == 1 and "'abc' is not an exit status" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("value", [".nan", ".inf", "-1", "soon"])
def test_a_bad_front_matter_timeout_fails_that_page_only(tmp_path: Path, value: str) -> None:
    root = lessons(tmp_path, a=f"---\nexecute:\n  timeout: {value}\n---\n" + fence("echo a"), b=fence("echo b"))
    result = cli(root, "docs", "--junitxml", str(tmp_path / "j.xml"))
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert "docs/a.md:2: `execute.timeout`" in result.stdout and "ok   docs/b.md:1" in result.stdout
    assert (tmp_path / "j.xml").exists()


def test_a_misspelt_closing_marker_never_runs_prose(tmp_path: Path) -> None:
    page = "```bash\necho hi\n```{{exceute}}\n\nUne phrase qui suit.\n\n```bash\nls\n```{{execute}}\n"
    result = cli(lessons(tmp_path, m=page), "docs")
    assert result.returncode == 1
    assert "command not found" not in result.stdout and "Une" not in result.stdout.split("$", 1)[0]
    assert "docs/m.md:1: line 3: '{{exceute}}' looks like the end of this block with a misspelt marker" in result.stdout
    assert "docs/m.md:3: unknown marker '{{exceute}}' (did you mean '{{execute}}'?)" in result.stderr
    fixed = cli(lessons(tmp_path / "f", m=page.replace("exceute", "execute")), "docs")  # negative: spelt right
    assert fixed.returncode == 0


# -- runners ------------------------------------------------------------------------------------------------


def test_python_blocks_run_in_one_interpreter_per_page(tmp_path: Path) -> None:
    page = "```python\nimport math\nx = 41\n```{{execute}}\n\n```py\nprint(math.floor(x + 1.5))\n```{{execute}}\n"
    page += "\n```\n42\n```{{output}}\n\n```python\nraise SystemExit(3)\n```{{execute}}\n\n```\n```{{output exit=3}}\n"
    result = cli(lessons(tmp_path, p=page), "docs")
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("3 passed, 0 failed, 0 skipped")
    wrong = cli(lessons(tmp_path / "w", p="```python\nprint(1 +)\n```{{execute}}\n"), "docs")
    assert wrong.returncode == 1 and "SyntaxError" in wrong.stdout and "bash" not in wrong.stdout


@pytest.mark.parametrize("language", ["", "bash", "sh", "shell", "console", "text", "plain"])
def test_shell_languages_run_in_the_shell(tmp_path: Path, language: str) -> None:
    page = f"```{language}\necho $BASH_VERSION | cut -c1\n```{{{{execute}}}}\n"
    result = cli(lessons(tmp_path, p=page), "docs")
    assert result.returncode == 0 and "1 passed" in result.stdout


def test_other_languages_are_skipped_unless_marked_for_the_shell(tmp_path: Path) -> None:
    page = "```ruby\nputs 1\n```{{execute}}\n\n```dockerfile\necho via shell\n```{{execute runner=shell}}\n"
    page += "\n```\nvia shell\n```{{output}}\n"
    result = cli(lessons(tmp_path, p=page), "docs")
    assert result.returncode == 0, result.stdout
    assert "skip docs/p.md:1  puts 1  (no runner for `ruby`" in result.stdout
    assert "ok   docs/p.md:5" in result.stdout


# -- isolation ----------------------------------------------------------------------------------------------


def test_what_a_page_left_running_ends_with_that_page(tmp_path: Path) -> None:
    """The CLI is the subreaper of its pages' shells and interpreters: daemons that escape them (double fork,
    setsid, a cleared environment) are ended when their page ends, not left to the machine."""
    from test_running import alive

    tag = f"mxcli{os.getpid()}"
    count = f"sleep 0.3; cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -c '^[m]xcli{os.getpid()}'"
    first = fence(f"( setsid env -i bash -c 'exec -a {tag}a sleep 300' & ); ( ( exec -a {tag}b sleep 300 ) & )")
    first += "\n```python\nimport os\nos.system(\"( setsid env -i bash -c 'exec -a " + tag + "p sleep 300' & )\")\n"
    first += "```{{execute}}\n\n" + fence(count) + "\n" + output("3")  # negative: they ran with the page
    root = lessons(tmp_path, a=first, b=fence(count + " || true") + "\n" + output("0"))
    result = cli(root, "docs")
    assert result.returncode == 0, result.stdout
    assert alive(tag) == []


def test_pages_start_in_a_scratch_folder_that_is_removed(tmp_path: Path) -> None:
    root = lessons(tmp_path, a=fence("pwd > $LOG; touch made-here"), b=fence("test -e made-here && pwd >> $LOG"))
    log = tmp_path / "log"
    result = cli(root, "docs", env={"LOG": str(log)})
    assert result.returncode == 0, result.stdout
    first, second = log.read_text().splitlines()
    assert first == second and "mkdocs-execute-run-" in first  # one scratch folder for the run's pages
    assert not Path(first).exists() and not (root / "made-here").exists()
    here = tmp_path / "here"
    here.mkdir()
    assert cli(root, "docs", "--cwd", str(here), env={"LOG": str(log)}).returncode == 0
    assert (here / "made-here").exists()  # negative: told where, it writes there


def test_the_front_matter_can_name_the_working_folder(tmp_path: Path) -> None:
    root = lessons(tmp_path, a="---\nexecute:\n  cwd: ..\n---\n" + fence("touch made-here"))
    assert cli(root, "docs").returncode == 0
    assert (root / "made-here").exists()


def test_the_next_page_s_shell_is_started_while_a_page_runs_and_none_outlives_the_run(tmp_path: Path) -> None:
    """A run of many small pages waits less: each page's shell starts while the page before it runs (so its
    start-up is not paid in turn); it is as fresh as any (see test_state_does_not_leak_between_pages)."""
    shells = 'grep -ls "^PPid:[[:space:]]*$PPID$" /proc/[0-9]*/status | wc -l'  # the CLI's children
    python = "```python\nprint('no shell here')\n```{{execute}}\n"
    root = lessons(tmp_path / "many", a=fence(shells) + output("2"), b=python)  # b takes no shell
    code = "import os, sys; from mkdocs_execute.cli import main\nprint(main(['run', 'docs']), file=sys.stderr)\n"
    code += "print(open(f'/proc/self/task/{os.getpid()}/children').read().split(), file=sys.stderr)\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False)
    assert done.stderr.strip().splitlines()[-2:] == ["0", "[]"], done.stdout + done.stderr  # a's, and one ready
    alone = cli(lessons(tmp_path / "one", a=fence(shells) + output("1")), "docs")
    assert alone.returncode == 0, alone.stdout  # negative: no page follows, so no shell is started ahead


def test_a_page_that_names_its_folder_gets_it_though_a_shell_was_started_ahead_elsewhere(tmp_path: Path) -> None:
    log = tmp_path / "log"
    named = "---\nexecute:\n  cwd: ..\n---\n" + fence("pwd >> $LOG")
    root = lessons(tmp_path, a=fence("pwd >> $LOG"), b=named, c=fence("pwd >> $LOG"))
    result = cli(root, "docs", env={"LOG": str(log)})
    assert result.returncode == 0, result.stdout
    first, second, third = log.read_text().splitlines()
    assert "mkdocs-execute-run-" in first and third == first
    assert second == str(root.resolve())


# -- update mode --------------------------------------------------------------------------------------------


def test_values_go_back_only_as_whole_tokens(tmp_path: Path) -> None:
    page = fence("echo testing the latest [[NAME]] build") + output("old")
    root = lessons(tmp_path, u=page)
    result = cli(root, "docs", "--update", "--var", "NAME=test")
    assert result.returncode == 0, result.stdout
    assert "```\ntesting the latest [[NAME]] build\n```<<output>>" in (root / "docs" / "u.md").read_text()


def test_update_handles_lone_crs_fences_and_hidden_comment_ends(tmp_path: Path) -> None:
    crs = "Intro\rwith a lone CR\n" + fence("echo new") + output("old")
    fences = fence("printf '```\\ninside\\n```\\n'") + output("old")
    hidden = fence("echo 'a --> b'") + "\n<!--\n" + output("old") + "-->\n"
    root = lessons(tmp_path, crs=crs, fences=fences, hidden=hidden)
    result = cli(root, "docs", "--update")
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr, result.stdout
    assert "updated 3 blocks in 3 pages" in result.stdout
    docs = root / "docs"
    assert (docs / "crs.md").read_bytes().startswith(b"Intro\rwith a lone CR\n```bash")
    assert "````\n```\ninside\n```\n````<<output>>" in (docs / "fences.md").read_text()
    assert "<!--\n```\na --[..] b\n```<<output>>\n-->\n" in (docs / "hidden.md").read_text()
    assert cli(root, "docs").returncode == 0  # and the pages tell the truth now


def test_update_leaves_a_secret_block_alone_and_says_why(tmp_path: Path) -> None:
    page = fence("echo hidden-value-42", "<<execute secret>>") + output("old")
    root = lessons(tmp_path, s=page)
    result = cli(root, "docs", "--update")
    assert result.returncode == 1
    assert "not updated: the block is marked `secret`" in result.stdout
    assert (root / "docs" / "s.md").read_text() == page and "hidden-value-42" not in result.stdout


def test_a_plain_run_reports_what_update_would_change(tmp_path: Path) -> None:
    """Negative case for the above: without --update nothing is written and the drift fails."""
    page = fence("echo new") + output("old")
    root = lessons(tmp_path, p=page)
    assert cli(root, "docs").returncode == 1
    assert (root / "docs" / "p.md").read_text() == page


def test_progress_has_no_cursor_codes_for_a_dumb_terminal(tmp_path: Path) -> None:
    root = lessons(tmp_path, p=fence("echo a"))
    result = cli(root, "docs", env={"TERM": "dumb"})
    assert "\033[K" not in result.stdout and "\r" not in result.stdout


def test_the_scratch_folder_of_a_run_is_gone_even_after_a_failure(tmp_path: Path) -> None:
    root = lessons(tmp_path, p=fence("pwd > $LOG; chmod 500 .; false"))
    log = tmp_path / "log"
    cli(root, "docs", env={"LOG": str(log)})
    assert not os.path.exists(log.read_text().strip())


# -- list -------------------------------------------------------------------------------------------------------


def test_list_shows_what_would_run_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    page = "---\nexecute:\n  requires:\n    commands: [no-such-tool-mx]\n---\n"
    page += fence(f"touch {marker}", "<<execute T2 timeout=5>>") + "\n" + fence("top", "<<execute>>")
    page += (
        "\n```ruby\nputs 1\n```{{execute}}\n\n"
        + fence("no-such-tool-mx up")
        + "\n"
        + fence("x", "<<execute wait=abc>>")
    )
    root = lessons(tmp_path / "p", l=page)
    listed = subprocess_list(root)
    assert listed.returncode == 0 and not marker.exists()
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("docs/l.md:6  shell/bash  T2 timeout=5  touch ")
    assert "(skipped: `top` is interactive" in lines[1]
    assert "docs/l.md:14  -/ruby  -  puts 1  (skipped: no runner for `ruby`" in lines[2]
    assert "(skipped here: `no-such-tool-mx` is not installed)" in lines[3]
    assert "(would fail: line 24: bad option `wait=abc`" in lines[4]
    assert lines[-1] == "5 blocks in 1 page"
    assert cli(root, "docs").returncode == 1 and marker.exists()  # negative: run does run them


def subprocess_list(root: Path) -> subprocess.CompletedProcess[str]:
    import sys

    return subprocess.run(
        [sys.executable, "-m", "mkdocs_execute.cli", "list", "docs"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_usage_error_in_run_names_every_command(tmp_path: Path) -> None:
    result = cli(lessons(tmp_path, p=fence("true")), "docs", "--no-such-option")
    assert result.returncode == 2 and "unrecognized arguments: --no-such-option" in result.stderr
    assert "{run,terminal,assets,list,import}" in result.stderr  # not only the command that was built


def test_a_caller_in_the_same_process_keeps_its_garbage_collector(tmp_path: Path) -> None:
    """The run freezes what it parsed, for speed; a program that calls `main` goes on collecting afterwards."""
    root = lessons(tmp_path, p=fence("echo a") + output("a"))
    code = (
        "import gc, sys; from mkdocs_execute.cli import main\n"
        "before = (gc.isenabled(), gc.get_freeze_count())\n"
        "codes = [main(['run', 'docs']), main(['run', 'docs', '--var', 'NOEQUALS'])]\n"
        "print(codes, before, (gc.isenabled(), gc.get_freeze_count()), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False)
    assert done.stderr.strip().splitlines()[-1] == "[0, 2] (True, 0) (True, 0)", done.stderr


def test_a_caller_that_turned_collection_off_keeps_it_off(tmp_path: Path) -> None:
    root = lessons(tmp_path, p=fence("echo a") + output("a"))
    code = "import gc, sys; from mkdocs_execute.cli import main\ngc.disable()\nmain(['run', 'docs'])\n"
    code += "print(gc.isenabled(), gc.get_freeze_count(), file=sys.stderr)\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False)
    assert done.stderr.strip().splitlines()[-1] == "False 0", done.stderr
