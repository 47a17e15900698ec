"""The shell runner against a real bash: state, honest status, output, environment, timeouts, leftovers.

Every check has a negative case beside it that shows the check can fail.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mkdocs_execute.running import Outcome, ShellSession, normal_environment

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def marker(base: int) -> str:
    """A unique `sleep` argument, such as 31.04217, to find the processes of one test."""
    return f"{base}.{os.getpid() % 100000:05d}{time.monotonic_ns() % 1000:03d}"


def alive(text: str) -> list[int]:
    """Live processes (not zombies) whose command line contains `text`, as `pgrep -f` would find them."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ")
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if text.encode() in cmdline and state != b"Z":
            found.append(int(name))
    return found


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[ShellSession]:
    with ShellSession(cwd=tmp_path) as session:
        yield session


# --- state carries from block to block, and only within one session ------------------------------------------

SETUP = """\
export A=1
B=2
mkdir -p x && cd x
f() { echo hi; }
alias ll='echo ll'
set -o pipefail
"""
CHECK = 'echo "A=${A-} B=${B-}"; basename "$PWD"; type -t f; type -t ll; [[ -o pipefail ]] && echo pipefail'


def test_state_carries_to_the_next_block(shell: ShellSession) -> None:
    assert shell.run(SETUP).status == 0
    out = shell.run(CHECK)
    assert out.output == "A=1 B=2\nx\nfunction\nalias\npipefail\n"
    assert shell.run("f; ll; env | grep -c '^A=1$'; false | true").output == "hi\nll\n1\n"
    assert shell.run("false | true").status == 1  # pipefail is really on


def test_a_fresh_session_does_not_see_it(shell: ShellSession, tmp_path: Path) -> None:
    shell.run(SETUP)
    with ShellSession(cwd=tmp_path) as fresh:
        out = fresh.run(CHECK)
        assert out.output == f"A= B=\n{tmp_path.name}\n"
        assert fresh.run("false | true").status == 0


def test_more_state(shell: ShellSession) -> None:
    shell.run("arr=(1 '2 3'); declare -A h=([k]=v); readonly R=r; umask 077; shopt -s extglob")
    shell.run("g() { case $1 in @(a|b)) echo ab;; esac; }")  # extglob was on when g was defined
    out = shell.run('echo "${arr[1]} ${h[k]} $R"; umask; g a; shopt -q extglob && echo extglob')
    assert out.output == "2 3 v r\n0077\nab\nextglob\n"
    shell.run("unset B; unset -f g; unalias -a; shopt -u extglob; umask 022")
    out = shell.run('echo "${B-unset}"; type -t g || echo no-g; shopt -q extglob || echo no-extglob; umask')
    assert out.output == "unset\nno-g\nno-extglob\n0022\n"


def test_an_alias_works_on_the_next_line_of_the_same_block(shell: ShellSession) -> None:
    assert shell.run("alias hi='echo hello'\nhi there").output == "hello there\n"
    # Negative: on the same line it does not, as in a terminal (bash parses the whole line first).
    assert shell.run("unalias hi; alias hey='echo hey'; hey 2>/dev/null").status == 127


def test_state_is_kept_when_the_block_exits_or_fails(shell: ShellSession) -> None:
    assert shell.run("X=5; exit 3").status == 3
    assert shell.run("Y=6; false; nosuchcommand").status == 1
    assert shell.run('echo "$X $Y"').output == "5 6\n"


def test_options_set_in_a_block_do_not_break_the_harness(shell: ShellSession) -> None:
    assert shell.run("set -u").status == 0
    assert shell.run('echo "${undefined_var}"; echo reached').status != 0  # nounset is still on
    assert shell.run("set +u; set -x").status == 0
    out = shell.run("echo traced")
    assert "echo traced" in out.output and out.output.endswith("traced\n")
    assert shell.run("set +x").output.strip().endswith("set +x")
    assert shell.run("echo quiet").output == "quiet\n"  # xtrace is off again: no trace line


# --- honest status ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("false; true", 1),  # the first failure, not the last status
        ("true; false", 1),
        ("false || true", 0),  # tested commands do not count, as with set -e
        ("if false; then :; fi", 0),
        ("! true", 1),  # the last status still counts
        ("true", 0),
        ("exit 3", 3),
        ("false; exit 0", 1),
        ("sh -c 'exit 5'; echo after", 5),
        ("nosuchcommand", 127),
    ],
)
def test_honest_status(shell: ShellSession, code: str, status: int) -> None:
    assert shell.run(code).status == status


def test_the_block_goes_on_after_a_failure(shell: ShellSession) -> None:
    out = shell.run("sh -c 'exit 5'; echo after")
    assert out.status == 5 and out.output == "after\n"
    out = shell.run("set -e; sh -c 'exit 5'; echo after")  # unless the block asks for set -e
    assert out.status == 5 and out.output == ""


# --- output -----------------------------------------------------------------------------------------------


def test_stdout_and_stderr_interleave_in_order(shell: ShellSession) -> None:
    assert shell.run("echo a; echo b >&2; echo c").output == "a\nb\nc\n"
    assert shell.run("echo a; echo c; echo b >&2").output != "a\nb\nc\n"


def test_unicode_and_invalid_bytes(shell: ShellSession) -> None:
    assert shell.run("printf 'héllo ✓ 日本\\n'").output == "héllo ✓ 日本\n"
    out = shell.run("printf 'a\\xff\\xfeb\\n'")
    assert out.status == 0 and out.output == "a\ufffd\ufffdb\n"


def test_carriage_returns_and_escapes_are_kept(shell: ShellSession) -> None:
    assert shell.run("printf '10%%\\r100%%\\n\\033[1mbold\\033[0m\\n'").output == "10%\r100%\n\x1b[1mbold\x1b[0m\n"


def test_large_output_and_large_code(shell: ShellSession) -> None:
    assert len(shell.run("head -c 3000000 /dev/zero | tr '\\0' x").output) == 3_000_000
    big = "# " + "z" * 200_000 + "\necho big; echo $LINENO"  # too long for one argument: goes through a file
    assert shell.run(big).output == "big\n2\n"


def test_line_numbers_count_from_the_block(shell: ShellSession) -> None:
    assert shell.run("echo $LINENO\n\necho $LINENO").output == "1\n3\n"


# --- no terminal input ------------------------------------------------------------------------------------


def test_no_terminal_input(shell: ShellSession) -> None:
    out = shell.run('read x; echo "got:$x"', timeout=5)
    assert not out.timed_out and out.output == "got:\n" and out.duration < 2
    out = shell.run("cat", timeout=5)
    assert not out.timed_out and out.status == 0 and out.duration < 2
    # Negative: read does read when it is given input.
    assert shell.run('read x <<< hello; echo "got:$x"').output == "got:hello\n"


# --- environment ------------------------------------------------------------------------------------------


def test_normal_environment_in_the_shell(shell: ShellSession) -> None:
    assert shell.run("date +%Z").output == "UTC\n"
    assert shell.run("TZ=XYZ-3 date +%Z").output == "XYZ\n"  # negative: TZ does change what date prints
    assert shell.run("echo $TERM $NO_COLOR $LANG $LC_ALL $PAGER").output == "dumb 1 C.UTF-8 C.UTF-8 cat\n"


def test_session_environment_is_used(tmp_path: Path) -> None:
    with ShellSession(env=normal_environment({"TERM": "xterm", "GREETING": "hi"}), cwd=tmp_path) as session:
        assert session.run("echo $TERM $GREETING").output == "xterm hi\n"


def test_normal_environment() -> None:
    env = normal_environment({"EXTRA": "1", "TZ": "Europe/Paris"}, base={"HOME": "/h", "LANGUAGE": "fr", "TZ": "X"})
    assert env["HOME"] == "/h" and env["EXTRA"] == "1"
    assert env["TZ"] == "Europe/Paris"  # extra wins over the normal values
    assert env["LC_ALL"] == "C.UTF-8" and env["TERM"] == "dumb" and env["GIT_PAGER"] == "cat"
    assert "LANGUAGE" not in env  # it would override LC_ALL for messages
    assert normal_environment(base={"TZ": "X"})["TZ"] == "UTC"
    assert normal_environment()["PATH"] == os.environ["PATH"]


# --- timeout ----------------------------------------------------------------------------------------------


def test_timeout_kills_the_whole_group(shell: ShellSession) -> None:
    m = marker(31)
    start = time.monotonic()
    out = shell.run(f"echo started; sleep {m} & sleep {m}; echo never", timeout=1)
    assert time.monotonic() - start < 3
    assert out.timed_out and out.status is None
    assert out.output == "started\n"  # the partial output
    assert alive(m) == []
    # Negative: a block that ends in time.
    out = shell.run("sleep 0.1; echo done", timeout=5)
    assert not out.timed_out and out.status == 0 and out.output == "done\n"


def test_timeout_of_a_block_that_ignores_sigterm(shell: ShellSession) -> None:
    m = marker(31)
    out = shell.run(f"trap '' TERM; sleep {m} & sleep {m}", timeout=0.5)
    assert out.timed_out and out.duration < 3
    assert alive(m) == []


def test_session_goes_on_after_a_timeout(shell: ShellSession) -> None:
    shell.run("KEPT=yes")
    assert shell.run("LOST=yes; sleep 30", timeout=0.3).timed_out
    assert shell.run('echo "${KEPT-} ${LOST-}"').output == "yes \n"


# --- leftovers: background jobs and daemons ---------------------------------------------------------------


def test_background_jobs_live_until_close(tmp_path: Path) -> None:
    m = marker(32)
    session = ShellSession(cwd=tmp_path)
    try:
        start = time.monotonic()
        out = session.run(f"sleep {m} & setsid sleep {m} & echo started", timeout=10)
        assert time.monotonic() - start < 1  # did not wait for the job
        assert out.status == 0 and out.output == "started\n"
        assert len(alive(m)) == 2  # negative: they run while the page runs, like a terminal's jobs
        assert session.run("echo next").output == "next\n"
        assert len(alive(m)) == 2
    finally:
        session.close()
    assert alive(m) == []  # even the one that escaped into its own session
    session.close()  # idempotent
    with pytest.raises(RuntimeError):
        session.run("true")


def test_late_output_of_a_background_job_does_not_block(shell: ShellSession) -> None:
    out = shell.run("(sleep 0.2; echo late) & echo now")
    assert out.output == "now\n" and out.duration < 0.2
    time.sleep(0.3)
    assert shell.run("echo next").output == "late\nnext\n"  # shown later, as a terminal would


# --- interrupt --------------------------------------------------------------------------------------------


def test_interrupt_from_another_thread(shell: ShellSession) -> None:
    m = marker(33)
    timer = threading.Timer(0.3, shell.interrupt)
    timer.start()
    start = time.monotonic()
    out = shell.run(f"echo before; sleep {m} & sleep {m}; echo after", timeout=30)
    timer.join()
    assert time.monotonic() - start < 2
    assert out.output == "before\n" and not out.timed_out
    assert out.status == 137  # killed by SIGKILL, as a shell reports it
    assert alive(m) == []
    shell.interrupt()  # nothing running: nothing happens
    assert shell.run("echo still").output == "still\n"


def test_outcome_fields(shell: ShellSession) -> None:
    out = shell.run("echo x")
    assert isinstance(out, Outcome)
    assert out == Outcome(output="x\n", status=0, timed_out=False, duration=out.duration)
    assert 0 < out.duration < 1
