"""The shell runner against a real bash: state, honest status, output, environment, timeouts, leftovers.

Every check has a negative case beside it that shows the check can fail.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mkdocs_execute import processes, running
from mkdocs_execute.running import Outcome, ShellSession, normal_environment

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def marker(base: int) -> str:
    """A unique `sleep` argument, such as 31.04217, to find the processes of one test."""
    return f"{base}.{os.getpid() % 100000:05d}{time.monotonic_ns() % 1000:03d}"


def eventually(condition: Callable[[], bool], within: float = 3.0) -> bool:
    """Background jobs are forked before they exec: give them a moment to show their command line."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


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


@pytest.fixture(params=["shell subreaper", "harness subreaper"])
def reaper(request: pytest.FixtureRequest) -> Iterator[str]:
    """Both ways of keeping a page's processes: each shell is a subreaper (pytest, the terminal), or the
    harness is (the CLI, which starts its shells without a fork of itself)."""
    if request.param == "shell subreaper":
        yield request.param
        return
    with processes.adopting() as adopting:
        if not adopting:
            pytest.skip("this system has no subreaper (prctl)")
        yield request.param


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


@pytest.mark.parametrize(
    "change",
    ["set -x", "A=1 set -x", "s=set; $s -x", "'set' -x", "s\\et -x", "f() { set -x; }; f", "eval 'set -x'"],
)
def test_a_plain_page_that_changes_the_shell_later_is_run_as_carefully_from_then_on(
    shell: ShellSession, change: str
) -> None:
    """Plain blocks run in a leaner loop; the first block that could change options, traps or descriptors (by
    any spelling) moves the page to the careful one, and xtrace then shows the blocks' commands, not the loop's."""
    assert [o.output for o in shell.run_many([("A=1", 5, 0), ("echo $A", 5, 0)])] == ["", "1\n"]
    assert shell.run(change).status == 0
    out = shell.run("echo traced")
    # One trace line (`++`: the block is evaluated one level down), the block's and not the loop's.
    assert out.output.endswith("+ echo traced\ntraced\n") and out.output.count("\n") == 2
    assert shell.run("set +x; echo $A").output.endswith("1\n")
    assert shell.run("echo quiet").output == "quiet\n"


_DISTURBING = [
    "set -x",
    "  set -e",
    "echo a; set -u",
    "f() { set -x; }",
    "FOO=1 exec >log",
    'A="a b" exec 2>&-',
    "$cmd -x",
    '"set" -x',
    "s\\et -x",
    ". ./env.sh",
    "source x",
    "if true; then shopt -s extglob; fi",
    "[abc] x",
    "{set,-x}",
    "for i in 1 2; do break; done",
    "alias ll='ls -l'",
    "BASH_ALIASES[x]=y",
    "unset A",
    'eval "$x"',
    "time set -x",
    "! set -x",
    "echo `set -x`",
    "A=1 $cmd",
    "./run*.sh",
    "cat <&62",
    "read -u 62 x",
    "exec 57<&-",
    "coproc cat",
    "trap 'echo' EXIT",
]
_PLAIN = [
    "echo line-1",
    "oc set image x",
    "kubectl exec -it pod -- sh",
    "find . -exec rm {} +",
    "x=$(date); echo $x",
    "./run.sh",
    "[ -f x ] && echo y",
    "[[ -f x ]] && echo",
    "echo {a,b}",
    "echo $HOME",
    "cd /tmp && ls",
    "helm install --set a=b x",
    "echo hi # set",
    "export A=1",
    "v_1=1; f_1() { echo $v_1; }; f_1",
    "{ echo a; } > f",
    "echo 57 > f",
    "sleep 55",
    "ls 2>&1",
    "docker run -p 8080:80 img",
]


@pytest.mark.parametrize(("code", "disturbs"), [(c, True) for c in _DISTURBING] + [(c, False) for c in _PLAIN])
def test_what_takes_a_page_out_of_the_plain_loop(code: str, disturbs: bool) -> None:
    assert (running._MAY_DISTURB.search(code.encode()) is not None) is disturbs


@pytest.mark.parametrize("page", ["plain", "careful"])
def test_a_page_that_sets_tmout_keeps_its_shell_while_the_harness_waits(shell: ShellSession, page: str) -> None:
    """TMOUT (an idle logout in many lessons) is also `read`'s default time limit: the loop's reads ignore it."""
    if page == "careful":
        assert shell.run("set +u").status == 0
    assert shell.run("export TMOUT=1; KEPT=yes").status == 0
    time.sleep(2.5)  # longer than two of TMOUT, between two blocks
    assert shell.run('echo "${KEPT-gone} $TMOUT"').output == "yes 1\n"  # negative: the block itself sees it


def test_a_plain_page_keeps_its_state_across_exit_and_timeout(shell: ShellSession) -> None:
    assert shell.run("B=2; cd /; exit 4").status == 4
    assert shell.run("C=3; sleep 30", timeout=0.3).timed_out
    assert shell.run('echo "$B $C $PWD"').output == "2 3 /\n"
    assert shell.run("exec 2>/dev/null; echo gone >&2; echo here").output == "here\n"  # now careful: exec
    assert shell.run("echo still >&2").output == ""  # negative: the block's own exec holds, as in a terminal


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


def test_timeout_kills_the_whole_group(reaper: str, shell: ShellSession) -> None:
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


def test_timeout_of_a_block_that_ignores_sigterm(reaper: str, shell: ShellSession) -> None:
    m = marker(31)
    out = shell.run(f"trap '' TERM; sleep {m} & sleep {m}", timeout=0.5)
    assert out.timed_out and out.duration < 3
    assert alive(m) == []


def test_session_goes_on_after_a_timeout(shell: ShellSession) -> None:
    shell.run("KEPT=yes")
    assert shell.run("HALF=yes; sleep 30; NEVER=yes", timeout=0.3).timed_out
    assert shell.run('echo "${KEPT-} ${HALF-} ${NEVER-}"').output == "yes yes \n"


# --- leftovers: background jobs and daemons ---------------------------------------------------------------


def test_background_jobs_live_until_close(reaper: str, tmp_path: Path) -> None:
    m = marker(32)
    session = ShellSession(cwd=tmp_path)
    try:
        start = time.monotonic()
        out = session.run(f"sleep {m} & setsid sleep {m} & echo started", timeout=10)
        assert time.monotonic() - start < 1  # did not wait for the job
        assert out.status == 0 and out.output == "started\n"
        # Negative: they run while the page runs, like a terminal's jobs (once forked jobs have exec'd).
        assert eventually(lambda: len(alive(m)) == 2)
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


def test_interrupt_from_another_thread(reaper: str, shell: ShellSession) -> None:
    m = marker(33)
    timer = threading.Timer(0.3, shell.interrupt)
    timer.start()
    start = time.monotonic()
    out = shell.run(f"echo before; sleep {m} & sleep {m}; echo after", timeout=30)
    timer.join()
    assert time.monotonic() - start < 2
    assert out.output == "before\n" and not out.timed_out
    assert out.status == 130  # stopped by SIGINT, as Ctrl-C stops a command in a terminal
    assert alive(m) == []
    shell.interrupt()  # nothing running: nothing happens
    assert shell.run("echo still").output == "still\n"


def test_outcome_fields(shell: ShellSession) -> None:
    out = shell.run("echo x")
    assert isinstance(out, Outcome)
    assert out == Outcome(output="x\n", status=0, timed_out=False, duration=out.duration)
    assert 0 < out.duration < 1


# --- one shell for the whole session, and a new one when a block had to be stopped or ended it -------------


def test_one_shell_carries_jobs_from_block_to_block(reaper: str, shell: ShellSession) -> None:
    m = marker(34)
    pid = shell.run("echo $$").output
    assert shell.run(f"sleep {m} &").status == 0
    assert shell.run("echo $$").output == pid  # the same shell, as in a terminal
    assert shell.run("jobs -r | grep -c sleep").output == "1\n"  # so the job of the block before is there
    assert shell.run("kill %1; wait %1").status == 143
    assert alive(m) == []
    # A block that ends the shell leaves it to a new bash, restored under the same pid: jobs stay its children.
    assert shell.run("sleep 0.01 & exit 0").status == 0
    assert shell.run("echo $$").output == pid
    assert shell.run("jobs -p | wc -l").output.strip() == "0"  # negative: the new bash has no jobs of its own


def test_timeout_while_the_shell_itself_is_busy(shell: ShellSession) -> None:
    shell.run("KEPT=yes; cd /")
    out = shell.run("echo spinning; HALF=yes; cd /tmp; while :; do :; done; NEVER=yes", timeout=0.5)
    assert out.timed_out and out.status is None and out.output == "spinning\n" and out.duration < 3
    # As after Ctrl-C in a terminal: what the block did before it was stopped stays, the rest never ran.
    assert shell.run('echo "${KEPT-} ${HALF-} ${NEVER-}"; pwd').output == "yes yes \n/tmp\n"
    # Negative: a block that ends in time keeps its changes.
    assert shell.run("LOST=kept; for i in 1 2 3; do :; done", timeout=5).status == 0
    assert shell.run('echo "$LOST"').output == "kept\n"


def test_a_timeout_spares_the_jobs_of_earlier_blocks(reaper: str, shell: ShellSession) -> None:
    earlier, blocked = marker(35), marker(36)
    assert shell.run(f"sleep {earlier} &").status == 0
    out = shell.run(f"sleep {blocked} & sleep {blocked}; echo never", timeout=0.5)
    assert out.timed_out and out.output == ""
    assert alive(blocked) == []  # what the block started is gone
    assert len(alive(earlier)) == 1  # negative: the server an earlier block started is not


def test_exit_ends_the_block_not_the_session(shell: ShellSession) -> None:
    assert shell.run("A=1").status == 0
    out = shell.run("B=2; echo bye; exit 3; echo never")
    assert out.status == 3 and out.output == "bye\n"
    out = shell.run('echo "$A $B"; false | true')
    assert out.status == 0 and out.output == "1 2\n"  # the state at the exit, as with a bash per block
    # Negative: the status of `exit` is its own, not the next block's.
    assert shell.run("exit 0").status == 0


def test_set_e_ends_the_block_and_the_next_one_works(shell: ShellSession) -> None:
    out = shell.run("set -e; echo one; false; echo never")
    assert out.status == 1 and out.output == "one\n"
    assert shell.run("echo works").output == "works\n"
    out = shell.run("false; echo after")  # -e is still on, as it was when each block had its own bash
    assert out.status == 1 and out.output == ""
    # Negative: once switched off, a failure no longer ends the block.
    out = shell.run("set +e; false; echo after")
    assert out.status == 1 and out.output == "after\n"


def test_block_output_and_stdin_cannot_break_the_protocol(shell: ShellSession) -> None:
    lines = "__mx 1 0 0 n\n0\n#__mx_vars\n#__mx_end\n"
    out = shell.run(f"printf '{lines}'; printf '{lines}' >&2; cat; read -r line; echo \"[${{line-}}]\"")
    assert out.output == lines * 2 + "[]\n" and out.status == 1  # `read` fails at the end of the input
    assert shell.run("x=1; echo ok").output == "ok\n"
    assert shell.run("echo $x").output == "1\n"
    # Negative: what a block prints does reach the output.
    assert shell.run("echo __mx_end").output == "__mx_end\n"


@pytest.mark.parametrize(
    "code",
    [
        "exec 62>&-; echo closed",
        "exec 61>&-; echo closed",
        "exec 63>&-",
        "exec 62<&- 63>&-",
        "break; echo x",
        "continue",
    ],
)
def test_a_block_that_breaks_the_loop_does_not_hang_the_harness(shell: ShellSession, code: str) -> None:
    shell.run("KEPT=yes")
    out = shell.run(code, timeout=5)
    assert not out.timed_out and out.duration < 2
    assert shell.run('echo "$KEPT"', timeout=5).output == "yes\n"
    assert shell.run("echo again; echo err >&2", timeout=5).output == "again\nerr\n"  # stderr still reaches us


def test_a_block_that_cuts_the_shell_off_its_blocks_is_not_followed_by_silent_passes(shell: ShellSession) -> None:
    shell.run("KEPT=yes")
    assert shell.run("exec 57<&- 53<&-; echo cut").output == "cut\n"
    out = shell.run("echo never")
    assert out.status == 125 and "did not run" in out.output and "never" not in out.output
    # Negative: the next block runs, in a new shell without the page's state, as the message says.
    assert shell.run('echo "${KEPT-gone}"').output == "gone\n"
    # Negative: closing only one of the two leaves the shell whole, its stderr included.
    shell.run("KEPT=again; exec 57<&-")
    assert shell.run('echo "$KEPT"; echo err >&2').output == "again\nerr\n"
    assert shell.run("echo after >&2").output == "after\n"


@pytest.mark.parametrize("code", ["exec bash", "kill -9 $$", "exec sleep 0"])
def test_a_block_that_ends_the_shell_itself_loses_the_state_and_says_so(shell: ShellSession, code: str) -> None:
    shell.run("KEPT=yes")
    out = shell.run(code, timeout=5)
    assert not out.timed_out and out.duration < 2 and "without the page's state" in out.output
    assert shell.run('echo "${KEPT-}"; echo again', timeout=5).output == "\nagain\n"  # as a closed terminal
    # Negative: `exit` ends the shell too, but the next block finds the state.
    shell.run("KEPT=yes")
    out = shell.run("exit 4")
    assert out.status == 4 and out.output == ""
    assert shell.run('echo "$KEPT"').output == "yes\n"


def test_a_block_that_hides_the_marker_fd_times_out_and_the_session_goes_on(shell: ShellSession) -> None:
    shell.run("KEPT=yes")
    out = shell.run("exec 61>/dev/null; echo lost", timeout=0.5)
    assert out.timed_out and out.output == "lost\n" and out.duration < 3
    assert shell.run('echo "$KEPT"').output == "yes\n"
    # Negative: without the redirection the block ends in time.
    assert not shell.run("exec 5>/dev/null; echo kept", timeout=5).timed_out


def test_a_debug_trap_does_not_trace_the_harness(shell: ShellSession) -> None:
    out = shell.run("trap 'echo dbg' DEBUG; echo d")
    assert out.output == "dbg\nd\n"
    assert shell.run("echo next").output == "next\n"  # the trap ends with the block
    # Negative: inside the block it does run before each command.
    assert shell.run("trap 'echo dbg' DEBUG; echo a; echo b").output == "dbg\na\ndbg\nb\n"


# -- daemons that escape the session, the group and the environment -------------------------------------------

_ESCAPES = {
    "double fork": "( ( exec -a {m} sleep 300 ) & )",
    "setsid": "setsid bash -c 'exec -a {m} sleep 300' &",
    "setsid and env -i": "( setsid env -i bash -c 'exec -a {m} sleep 300' & )",
}


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="process tracking reads /proc")
def test_no_daemon_survives_100_runs_of_each_escape(reaper: str, tmp_path: Path) -> None:
    left: dict[str, int] = dict.fromkeys(_ESCAPES, 0)
    for run in range(100):
        for name, code in _ESCAPES.items():
            tag = f"mxleak{os.getpid()}x{run}x{len(name)}"
            with ShellSession(cwd=tmp_path) as session:
                assert session.run(code.format(m=tag)).status == 0
            left[name] += len(alive(tag))
    assert left == dict.fromkeys(_ESCAPES, 0)


@pytest.mark.skipif(processes.prctl is None, reason="needs a subreaper (Linux prctl)")
def test_a_harness_subreaper_ends_escapes_of_a_timed_out_block_and_keeps_earlier_jobs(tmp_path: Path) -> None:
    earlier, blocked = marker(37), marker(38)
    with processes.adopting(), ShellSession(cwd=tmp_path) as session:
        assert session.run(f"( setsid env -i bash -c 'exec -a {earlier} sleep 300' & )").status == 0
        assert eventually(lambda: len(alive(earlier)) == 1)
        code = f"( setsid env -i bash -c 'exec -a {blocked} sleep 300' & ); sleep 30"
        assert session.run(code, timeout=0.5).timed_out
        assert eventually(lambda: alive(blocked) == [])  # what the stopped block started
        assert len(alive(earlier)) == 1  # negative: an earlier block's daemon stays until the page ends
    assert alive(earlier) == []


@pytest.mark.skipif(processes.prctl is None, reason="needs a subreaper (Linux prctl)")
def test_a_harness_subreaper_gives_each_orphan_to_its_own_session(tmp_path: Path) -> None:
    mine, theirs = marker(39), marker(40)
    with processes.adopting():
        other = ShellSession(cwd=tmp_path)
        try:
            with ShellSession(cwd=tmp_path) as session:
                assert session.run(f"( setsid bash -c 'exec -a {mine} sleep 300' & )").status == 0
                assert other.run(f"( setsid bash -c 'exec -a {theirs} sleep 300' & )").status == 0
                assert eventually(lambda: len(alive(mine)) == len(alive(theirs)) == 1)
            assert alive(mine) == []
            assert len(alive(theirs)) == 1  # negative: it carries the other session's token
        finally:
            other.close()
        assert alive(theirs) == []
        zombies = [pid for pid in processes._children() if _state(pid) == b"Z"]
        assert zombies == []  # the orphans that ended were waited for, page by page, not only at the end


@pytest.mark.skipif(processes.prctl is None, reason="needs a subreaper (Linux prctl)")
def test_what_a_harness_subreaper_still_holds_at_the_end_is_ended(tmp_path: Path) -> None:
    import subprocess

    tag = marker(41)
    escape = f"( setsid env -i bash -c 'exec -a {tag} sleep 300' & )"
    with processes.adopting():
        subprocess.run(["bash", "-c", escape], check=True)  # outside any session: no session's close ends it
        assert eventually(lambda: len(alive(tag)) == 1)  # negative: it did run, and outlived its parent
    assert eventually(lambda: alive(tag) == [])
    assert [pid for pid in processes._children() if _state(pid) == b"Z"] == []


def _state(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return b""


def test_the_leak_count_sees_an_escaped_daemon(tmp_path: Path) -> None:
    """Negative case: a daemon started outside any session is counted."""
    tag = f"mxleakneg{os.getpid()}"
    import subprocess

    daemon = subprocess.Popen(["bash", "-c", f"exec -a {tag} sleep 300"], start_new_session=True)
    try:
        assert eventually(lambda: len(alive(tag)) == 1)
    finally:
        daemon.kill()
        daemon.wait()


# -- nothing of a block's state is left on disk ----------------------------------------------------------------


def _files_holding(value: bytes, folders: list[str]) -> list[str]:
    found = []
    for folder in folders:
        for root, _dirs, names in os.walk(folder):
            for name in names:
                path = os.path.join(root, name)
                try:
                    if not stat.S_ISREG(os.lstat(path).st_mode):
                        continue  # a FIFO (valgrind leaves some in /tmp) would block the scan
                    with open(path, "rb") as f:
                        if value in f.read():
                            found.append(path)
                except OSError:
                    continue
    return found


_SCRATCH = [folder for folder in ("/dev/shm", "/tmp") if os.path.isdir(folder)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="unlinked state files are Linux-only")
def test_a_killed_harness_leaves_no_file_holding_a_secret(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys as system

    secret = f"s3cr3t-{os.getpid()}-{time.monotonic_ns()}"
    script = (
        "import os, signal\n"
        "from mkdocs_execute.running import ShellSession\n"
        "s = ShellSession()\n"
        "s.run('export TOKEN_COPY=$TOKEN; f() { echo $TOKEN; }')\n"
        "s.run('echo \"$TOKEN_COPY\"')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "TOKEN": secret}
    done = subprocess.run([system.executable, "-c", script], env=env, cwd=tmp_path, check=False)
    assert done.returncode == -signal.SIGKILL
    time.sleep(0.2)  # the orphaned shell reads end of file and exits
    assert _files_holding(secret.encode(), [*_SCRATCH, str(tmp_path)]) == []


def test_the_disk_scan_finds_a_file_holding_a_secret(tmp_path: Path) -> None:
    """Negative case: the scan above does find a file with the value in it."""
    (tmp_path / "state").write_text("declare -x TOKEN=abc-find-me\n")
    assert _files_holding(b"abc-find-me", [str(tmp_path)]) == [str(tmp_path / "state")]


def test_positional_parameters_carry_as_in_a_terminal(shell: ShellSession) -> None:
    assert shell.run('echo "${1-none}"').output == "none\n"
    shell.run("set -- a b")
    assert shell.run('echo "$#:$1"').output == "2:a\n"
    # Negative: a shell restored after `exit` does not see its own `restore` argument.
    shell.run("exit 3")
    assert shell.run('echo "$#:${1-none}"').output == "0:none\n"


@pytest.mark.parametrize(
    ("setup", "then"),
    [
        ("trap 'echo mine' INT", "true"),
        ("f() { trap 'echo mine' INT; }", "f"),  # a later block sets it without saying `trap`
        ("echo \"trap 'echo mine' INT\" > t.sh", ". ./t.sh"),
    ],
)
def test_a_block_that_replaced_the_int_trap_does_not_cost_a_later_timeout_the_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: str, then: str
) -> None:
    def later_timeout() -> str:
        with ShellSession(cwd=tmp_path) as shell:
            shell.run(f"{setup}; KEPT=yes")
            shell.run(then)
            assert shell.run("while :; do :; done", timeout=0.5).timed_out  # only bash itself to stop
            return shell.run('echo "${KEPT-lost}"', timeout=5).output

    assert later_timeout() == "yes\n"
    # Negative: without putting the harness's trap back, the block's own one swallows the Ctrl-C.
    monkeypatch.setattr(running, "_MAY_TRAP", re.compile(rb"(?!)"))  # matches nothing
    assert later_timeout() == "lost\n"


def test_a_page_that_sets_its_own_err_trap_keeps_first_failure_statuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def later() -> Outcome:
        with ShellSession(cwd=tmp_path) as shell:
            assert shell.run("trap 'echo E' ERR; false; true").output == "E\n"  # its own trap, in its block
            return shell.run("false; true")

    out = later()
    assert (out.status, out.output) == (1, "")  # the harness's trap again: the first failure counts
    # Negative: were the harness's trap not put back, the page's would still answer, and the status be 0.
    monkeypatch.setattr(running, "_MAY_TRAP", re.compile(rb"(?!)"))  # matches nothing
    out = later()
    assert (out.status, out.output) == (0, "E\n")
