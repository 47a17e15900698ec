"""The harness end to end, through its CLI and its pytest plugin, with real bash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
CONFIG = """site_name: Test
plugins:
  - execute:
      variables:
        GREETING: bonjour
        TOKEN:
        WHO:
      secrets: [TOKEN]
"""


def lessons(tmp_path: Path, **pages: str) -> Path:
    (tmp_path / "docs").mkdir(parents=True, exist_ok=True)
    (tmp_path / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    for name, text in pages.items():
        (tmp_path / "docs" / f"{name}.md").write_text(text, encoding="utf-8")
    return tmp_path


def cli(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs_execute.cli", "run", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**ENV, **(env or {})},
        timeout=120,
        check=False,
    )


def fence(code: str, marker: str = "<<execute>>") -> str:
    return f"```bash\n{code}\n```{marker}\n"


def output(text: str, marker: str = "<<output>>") -> str:
    return f"```\n{text}\n```{marker}\n"


STATE = (
    fence("export A=1\nB=2\ncd /tmp\nsay() { echo \"said $1\"; }\nalias hi='echo hi'")
    + "\n"
    + fence('echo "$A $B $PWD"; say it; hi')
    + "\n"
    + output("1 2 /tmp\nsaid it\nhi")
)


def test_state_carries_from_block_to_block(tmp_path: Path) -> None:
    result = cli(lessons(tmp_path, state=STATE), "docs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "2 passed, 0 failed, 0 skipped"


def test_state_does_not_leak_between_pages(tmp_path: Path) -> None:
    other = fence('echo "[$A]"') + "\n" + output("[]")
    result = cli(lessons(tmp_path, a=STATE, b=other), "docs")
    assert result.returncode == 0, result.stdout
    alone = cli(lessons(tmp_path / "x", c=fence('echo "$A $B $PWD"') + "\n" + output("1 2 /tmp")), "docs")
    assert alone.returncode == 1


def test_drift_names_file_line_command_and_diff(tmp_path: Path) -> None:
    page = (
        "---\ntitle: Drift\n---\n\n# Drift\n\n"
        + fence("printf 'one\\ntwo\\nthree\\n'")
        + "\n"
        + output("one\n2\nthree")
    )
    result = cli(lessons(tmp_path, drift=page), "docs")
    assert result.returncode == 1
    assert "docs/drift.md:7: the output differs from the page" in result.stdout
    assert "$ printf 'one\\ntwo\\nthree\\n'" in result.stdout
    assert "-2\n+two" in result.stdout and " one\n" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "0 passed, 1 failed, 0 skipped"


def test_wildcards_and_collapsed_spaces_match(tmp_path: Path) -> None:
    page = fence("printf 'NAME    TAGS\\nweb     latest  3 min ago\\na\\nb\\nend\\n'") + output(
        "NAME TAGS\nweb latest [..]\n...\nend"
    )
    assert cli(lessons(tmp_path, ok=page), "docs").returncode == 0
    wrong = fence("echo other") + output("NAME TAGS\n...")
    assert cli(lessons(tmp_path / "n", wrong=wrong), "docs").returncode == 1


def test_honest_exit_status_and_declared_status(tmp_path: Path) -> None:
    failing = fence("false\necho still here")
    result = cli(lessons(tmp_path, f=failing), "docs")
    assert result.returncode == 1 and "exit status 1, expected 0" in result.stdout
    declared = fence("false") + output("", "<<output exit=1>>")
    assert cli(lessons(tmp_path / "d", d=declared), "docs").returncode == 0


def test_a_failure_skips_the_rest_of_the_page(tmp_path: Path) -> None:
    page = fence("false") + "\n" + fence("echo after")
    result = cli(lessons(tmp_path, p=page), "docs")
    assert "skip docs/p.md:5  echo after  (an earlier block failed (docs/p.md:1))" in result.stdout


def test_timeout_kills_the_block_and_its_children(tmp_path: Path) -> None:
    page = fence("echo started\nsleep 31.4159 &\nsleep 31.4158", "<<execute timeout=1>>")
    started = time.monotonic()
    result = cli(lessons(tmp_path, t=page), "docs")
    assert time.monotonic() - started < 20
    assert "docs/t.md:1: timed out after 1 s" in result.stdout and "started" in result.stdout
    assert not _running("31.415")
    quick = fence("echo fine", "<<execute timeout=5>>")
    assert cli(lessons(tmp_path / "q", q=quick), "docs").returncode == 0


def _running(marker: str) -> bool:
    return subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, check=False).returncode == 0


def test_cleanup_runs_after_a_failure(tmp_path: Path) -> None:
    mark = tmp_path / "cleaned"
    page = fence("false") + "\n" + fence(f"touch {mark}", "<<execute cleanup>>")
    result = cli(lessons(tmp_path, c=page), "docs")
    assert result.returncode == 1 and mark.exists()


def test_front_matter_setup_and_cleanup_are_hidden_and_run(tmp_path: Path) -> None:
    mark = tmp_path / "gone"
    page = f"---\nexecute:\n  setup: export SETUP=done\n  cleanup: touch {mark}\n---\n" + fence("echo $SETUP")
    page += output("done")
    assert cli(lessons(tmp_path, s=page), "docs").returncode == 0 and mark.exists()


def test_hidden_blocks_in_comments_run(tmp_path: Path) -> None:
    page = "<!--\n" + fence("export HIDDEN=yes") + "-->\n\n" + fence("echo $HIDDEN") + output("yes")
    assert cli(lessons(tmp_path, h=page), "docs").returncode == 0


def test_cleanup_runs_after_sigterm(tmp_path: Path) -> None:
    mark = tmp_path / "cleaned"
    page = fence("sleep 31.2718") + "\n" + fence(f"touch {mark}", "<<execute cleanup>>")
    root = lessons(tmp_path, s=page)
    process = subprocess.Popen(
        [sys.executable, "-m", "mkdocs_execute.cli", "run", "docs"],
        cwd=root,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not _running("31.2718") and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM
    assert mark.exists(), out
    assert not _running("31.2718")


SECRET = "s3cr3t-t0ken-value"


def test_secrets_never_appear(tmp_path: Path) -> None:
    page = (
        fence("echo token=[[TOKEN]]")
        + output("token=wrong")
        + "\n"
        + fence("echo generated-$((40 + 2))-secret", "<<execute secret>>")
        + "\n"
        + fence("echo again generated-$((40 + 2))-secret")
        + output("nothing")
    )
    root = lessons(tmp_path, s=page)
    junit = tmp_path / "junit.xml"
    result = cli(root, "docs", "--var", f"TOKEN={SECRET}", "--update", "--junitxml", str(junit))
    everything = result.stdout + result.stderr + junit.read_text() + (root / "docs" / "s.md").read_text()
    assert result.returncode == 0, result.stdout  # update mode repaired both drifts
    assert SECRET not in everything and "generated-42-secret" not in everything
    assert "token=[..]" in everything and "again [..]" in everything and "updated 2 blocks in 1 page" in result.stdout
    leaky = cli(lessons(tmp_path / "l", s=fence("echo [[WHO]]") + output("x")), "docs", "--var", f"WHO={SECRET}")
    assert SECRET in leaky.stdout


def test_update_mode_round_trips(tmp_path: Path) -> None:
    page = (
        "# Update\n\n"
        + fence("printf 'header\\n1\\n2\\nstamp %s\\n' bonjour")
        + "\nSome prose stays.\n\n"
        + output("header\n...\nstamp old")
        + "\n- in a list:\n\n    ```bash\n    echo [[GREETING]] there\n    ```<<execute>>\n\n"
        + "    ```\n    hello there\n    ```<<output>>\n"
    )
    root = lessons(tmp_path, u=page)
    path = root / "docs" / "u.md"
    assert cli(root, "docs").returncode == 1
    updated = cli(root, "docs", "--update")
    assert updated.returncode == 0 and "updated 2 blocks in 1 page" in updated.stdout
    assert "upd  docs/u.md:3" in updated.stdout
    text = path.read_text()
    assert "header\n...\nstamp [[GREETING]]\n" in text
    assert "    ```\n    [[GREETING]] there\n    ```<<output>>\n" in text
    assert text.replace("stamp [[GREETING]]", "stamp old").replace("    [[GREETING]] there", "    hello there") == page
    again = cli(root, "docs")
    assert again.returncode == 0, again.stdout


def test_gates_skip_with_their_reason(tmp_path: Path) -> None:
    missing = "---\nexecute:\n  requires:\n    commands: [no-such-tool-mx]\n---\n" + fence("no-such-tool-mx --version")
    missing += "\n" + fence("echo the other blocks run")
    failing = "---\nexecute:\n  requires:\n    checks: ['echo not logged in >&2; false']\n---\n" + fence("echo hi")
    met = "---\nexecute:\n  requires:\n    commands: [bash]\n    checks: ['true']\n---\n" + fence("echo hi")
    root = lessons(tmp_path, a=missing, b=failing, c=met)
    result = cli(root, "docs")
    assert result.returncode == 0
    assert "requires `no-such-tool-mx`, which is not installed" in result.stdout
    assert "requires `echo not logged in >&2; false` to succeed (exit 1): not logged in" in result.stdout
    assert "skip docs/b.md:6  echo hi  (requires `echo not logged in" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "2 passed, 0 failed, 2 skipped"
    strict = cli(root, "docs", "--require-all")
    assert strict.returncode == 1 and strict.stdout.strip().splitlines()[-1] == "2 passed, 2 failed, 0 skipped"


def test_conditions_pick_the_branch_for_this_environment(tmp_path: Path) -> None:
    page = "---\nexecute:\n  conditions:\n    here: 'true'\n    there: 'false'\n---\n"
    page += fence("echo mine", "<<execute when=here>>") + output("mine") + "\n"
    page += fence("echo theirs; false", "<<execute when=there>>")
    result = cli(lessons(tmp_path, c=page), "docs", "--require-all")
    assert result.returncode == 0, result.stdout
    assert "skip docs/c.md:14  echo theirs; false  (only when `there` holds (`false` did not succeed))" in result.stdout
    unknown = cli(lessons(tmp_path / "u", u=fence("echo x", "<<execute when=maybe>>")), "docs")
    assert "`when=maybe` names no condition in the front matter" in unknown.stdout


def test_values_from_var_environment_and_config(tmp_path: Path) -> None:
    page = fence("echo [[GREETING]] [[WHO]]") + output("bonjour monde") + "\n" + fence("echo [[RUN_ID]]")
    root = lessons(tmp_path, v=page)
    assert cli(root, "docs", "--var", "WHO=monde").returncode == 0
    assert cli(root, "docs", env={"WHO": "monde"}).returncode == 0
    assert cli(root, "docs", env={"WHO": "x", "GREETING": "salut"}).returncode == 1
    missing = cli(root, "docs")
    assert "[[WHO]] has no value: pass --var WHO=… or set the environment variable" in missing.stdout


def test_each_run_has_its_own_run_id(tmp_path: Path) -> None:
    root = lessons(tmp_path, r=fence("echo id=[[RUN_ID]]"))
    ids = {line for run in range(2) for line in cli(root, "docs").stdout.splitlines() if "echo id=" in line}
    assert len(ids) == 2


def test_wait_retries_until_the_output_matches(tmp_path: Path) -> None:
    flag = tmp_path / "ready"
    start = fence(f"(sleep 1; echo ready > {flag}) &")
    page = start + "\n" + fence(f"cat {flag} 2>/dev/null || echo pending", "<<execute wait=10>>") + output("ready")
    assert cli(lessons(tmp_path, w=page), "docs").returncode == 0
    impatient = start + "\n" + fence(f"cat {flag}.x 2>/dev/null || echo pending") + output("ready")
    assert cli(lessons(tmp_path / "i", w=impatient), "docs").returncode == 1


def test_bad_input_gets_a_message_not_a_traceback(tmp_path: Path) -> None:
    root = lessons(tmp_path, bad="---\nexecute: [oops\n---\n" + fence("echo"), good=fence("echo fine"))
    result = cli(root, "docs")
    assert result.returncode == 1 and "docs/bad.md:3: front matter is not valid YAML" in result.stdout
    assert "ok   docs/good.md:1" in result.stdout  # the run goes on
    assert "Traceback" not in result.stderr + result.stdout
    assert cli(root, "nowhere").returncode == 2


def test_junit_report(tmp_path: Path) -> None:
    root = lessons(tmp_path, j=fence("echo a") + output("a") + "\n" + fence("echo b") + output("c"))
    junit = tmp_path / "report.xml"
    cli(root, "docs", "--junitxml", str(junit))
    cases = ET.parse(junit).getroot().iter("testcase")
    assert [(c.get("name"), c.find("failure") is not None) for c in cases] == [
        ("docs/j.md::L1", False),
        ("docs/j.md::L8", True),
    ]


def pytest_run(root: Path, *args: str, cache: bool = False, opt_in: bool = True) -> subprocess.CompletedProcess[str]:
    """pytest in `root` (without its cache unless asked), with the plugin's opt-in unless told otherwise."""
    flags = [
        *([] if cache else ["-p", "no:cacheprovider"]),
        "-p",
        "no:randomly",
        *(["--mkdocs-execute"] if opt_in else []),
    ]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *flags, *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
        check=False,
    )


def test_pytest_collects_one_item_per_block(tmp_path: Path) -> None:
    root = lessons(tmp_path, state=STATE, drift=fence("echo a") + output("b"))
    listed = pytest_run(root, "docs", "--collect-only", "-q")
    assert "docs/state.md::L1\ndocs/state.md::L9\ndocs/drift.md::L1" in listed.stdout.replace(
        "docs/drift.md::L1\ndocs/state.md::L1\ndocs/state.md::L9",
        "docs/state.md::L1\ndocs/state.md::L9\ndocs/drift.md::L1",
    )
    result = pytest_run(root, "docs", "--junitxml", "out.xml")
    assert result.returncode == 1
    assert "docs/drift.md:1: the output differs from the page" in result.stdout
    assert "1 failed, 2 passed" in result.stdout
    assert ET.parse(root / "out.xml").getroot().find(".//failure") is not None
    only = pytest_run(root, "docs", "-k", "state")
    assert only.returncode == 0 and "2 passed" in only.stdout


def test_pytest_with_xdist_loadfile_and_exitfirst(tmp_path: Path) -> None:
    root = lessons(tmp_path, a=STATE, b=STATE, c=fence("false") + "\n" + fence("echo x"))
    result = pytest_run(root, "docs", "-n", "2", "--dist", "loadfile")
    assert "1 failed, 4 passed, 1 skipped" in result.stdout
    first = pytest_run(root, "docs", "-x", "-p", "no:xdist")
    assert first.returncode == 1 and "stopping after 1 failures" in first.stdout


def test_pytest_ignores_markdown_outside_docs(tmp_path: Path) -> None:
    root = lessons(tmp_path, a=fence("echo a"))
    (root / "notes.md").write_text(fence("false"))
    result = pytest_run(root)
    assert "1 passed" in result.stdout and "failed" not in result.stdout


@pytest.mark.parametrize("page", ["guide-redaction.md"])
def test_the_writers_guide_runs_for_real(page: str) -> None:
    root = Path(__file__).resolve().parent.parent
    result = cli(root, f"docs/{page}", "--var", "HOST_IP=127.0.0.1")
    assert result.returncode == 0, result.stdout
    assert "0 failed" in result.stdout.strip().splitlines()[-1]


def test_progress_shows_the_running_block_on_a_terminal(tmp_path: Path) -> None:
    root = lessons(tmp_path, p=fence("sleep 0.3; echo done"))
    main, child = os.openpty()
    command = [sys.executable, "-m", "mkdocs_execute.cli", "run", "docs"]
    process = subprocess.Popen(command, cwd=root, env={**ENV, "TERM": "xterm"}, stdout=child, stderr=child)
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=60)
    os.close(main)
    text = seen.decode()
    assert "...  docs/p.md:1  sleep 0.3; echo done" in text
    assert text.index("...  docs/p.md:1") < text.index("ok   docs/p.md:1")
    piped = cli(root, "docs")  # negative: no terminal, no in-place progress line
    assert "...  docs/p.md:1" not in piped.stdout and "ok   docs/p.md:1" in piped.stdout


@pytest.mark.parametrize(
    "text",
    ["", "\n\nabc", "abc\n", "  \nx", "  ", "\t\nq", "---\na: 1\n---\nbody", "title: x\nmore: y\n\nbody", "-- x"],
)
def test_front_matter_is_split_as_mkdocs_splits_it(text: str) -> None:
    """The harness loads MkDocs and YAML only for pages with metadata, and still splits every page as MkDocs."""
    from mkdocs.utils.meta import get_data

    from mkdocs_execute.lessons import _front_matter

    assert _front_matter(text) == get_data(text)
    # Negative: a page with YAML front matter does lose it from its body.
    assert _front_matter("---\na: 1\n---\nbody") != ("---\na: 1\n---\nbody", {})


def test_each_terminal_keeps_its_own_state_within_a_run_of_plain_blocks(tmp_path: Path) -> None:
    # Plain blocks go to a shell many at a time: a block for another terminal must still end the group.
    page = "".join(
        [
            fence("x=one"),
            fence("echo ${x:-unset}", "<<execute T2>>") + output("unset"),
            fence("x=two", "<<execute T2>>"),
            fence("echo $x") + output("one"),
            fence("echo $x", "<<execute T1>>") + output("one"),
            fence("echo $x", "<<execute T2>>") + output("two"),
        ]
    )
    result = cli(lessons(tmp_path, t=page), "docs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed, 0 failed" in result.stdout
    mixed = page.replace("echo $x\n```<<execute>>\n```\none", "echo $x\n```<<execute>>\n```\ntwo")
    assert cli(lessons(tmp_path, t=mixed), "docs").returncode == 1
