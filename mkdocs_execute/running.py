"""Run the command blocks of a page in a real bash, one "terminal" per page.

One long-lived ``bash --noprofile --norc`` per session runs its blocks one after the other, in a session of its
own, with no terminal and stdin from /dev/null: variables, functions, aliases, options, umask, working directory
and background jobs carry from block to block, as in a terminal. A small loop in that shell takes a request
(`SEQ COUNT`) from a private pipe (fd 62), reads each block's code from a file (NUL-separated, so that a run of
blocks goes in one request), evaluates it in the main shell with an ERR trap that records the first failure,
and writes a marker line with the block's status into the output pipe itself, after everything the block
wrote: stdout, stderr and the markers share one pipe, so the output of each block is what comes before its
marker. A run of blocks stops in the shell at the first block whose status is not the one expected of it.
While no block of a page could change the shell's options, traps or descriptors, a leaner loop runs them (no
redirection nor options put aside between blocks); the first block that could moves the page to the careful one.

A block past its time limit is stopped as a terminal's Ctrl-C stops it: SIGINT to the shell's process group
(background jobs ignore it, as they do in a shell without job control). The shell's INT trap then writes a
snapshot of its state, as far as the block went, reports, and execs a new bash restored from it under the same
pid, so background jobs stay its children. A foreground program that ignores SIGINT gets SIGTERM, then SIGKILL.
A block that ends the shell (`exit N`, `set -e`) reports its status and is restored in the same way; only a
block that kills or replaces the shell itself (`kill -9 $$`, `exec prog`) loses the page's state, and says so.
No snapshot is written otherwise, so a block costs the same however much state the page holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import shlex
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import processes

__all__ = ["Outcome", "ShellSession", "normal_environment"]


@dataclass(frozen=True)
class Outcome:
    """How one block ended: its output, its status, whether it timed out, how long it took."""

    output: str  # stdout and stderr merged in order, as a terminal shows them; UTF-8, errors="replace"
    status: int | None  # the block's exit status; None when it timed out
    timed_out: bool
    duration: float  # seconds


_NORMAL = {
    "LC_ALL": "C.UTF-8",
    "LANG": "C.UTF-8",
    "TZ": "UTC",
    "COLUMNS": "120",
    "LINES": "40",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "SYSTEMD_PAGER": "cat",
}
# Variables that would defeat the settings above: LANGUAGE overrides LC_ALL for messages, the others force colour.
_DEFEATING = ("LANGUAGE", "FORCE_COLOR", "CLICOLOR_FORCE")


def normal_environment(extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """base (default os.environ) normalised for stable output: LC_ALL=C.UTF-8, LANG=C.UTF-8, TZ=UTC, COLUMNS=120,
    LINES=40, NO_COLOR=1, TERM=dumb, PAGER=cat, GIT_PAGER=cat, SYSTEMD_PAGER=cat, plus `extra` on top."""
    env = dict(os.environ if base is None else base)
    for name in _DEFEATING:
        env.pop(name, None)
    env.update(_NORMAL)
    if extra:
        env.update(extra)
    return env


# Never passed to bash: they would make it read startup files or override its options, or are its own to set.
_NOT_PASSED = ("BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "SHLVL", "_")
# Bash's own variables and the loop's: left out when a shell is restored from a snapshot (`declare -p` lists
# them too), so that restoring cannot disturb the new shell; the read-only ones could not be restored anyway.
_SPECIAL = (
    "BASH_SOURCE BASH_LINENO BASH_ARGC BASH_ARGV BASH_ARGV0 BASH_COMMAND BASH_EXECUTION_STRING BASH_SUBSHELL"
    " BASH_REMATCH BASH_ALIASES BASH_CMDS BASHPID FUNCNAME RANDOM SRANDOM SECONDS LINENO EPOCHREALTIME"
    " EPOCHSECONDS HISTCMD DIRSTACK GROUPS COMP_WORDBREAKS PIPESTATUS SHLVL _ BASHOPTS SHELLOPTS BASH_VERSINFO"
    " EUID UID PPID"
)
# `declare -p` prints one line per variable (values with a newline come as $'…'); __mx_pre is the loop's only
# variable that belongs to the state (the options -e -u -x -v to switch on before the next block).
_SPECIAL_LINE = re.compile(rb"declare -\S+ (?:__mx_(?!pre(?:=|$))\w*|%s)(?:=|$)" % _SPECIAL.replace(" ", "|").encode())
_BATCH = 0.0005  # seconds to let a run of blocks write more before reading: far fewer wake-ups on both sides
_BATCH_AFTER = 16  # ...while more blocks than this are still to come (a short run would only wait)
_GRACE = 1.0  # seconds between SIGTERM and SIGKILL
# The shell's private descriptors; block code does not use such numbers by accident. 51-53 are spare copies
# of 61, 62 and 57, for a block that closes or redirects one of them.
_OUT_SPARE, _REQ_SPARE, _CODE_SPARE, _GO_FD, _NULL = 51, 52, 53, 54, 55
_TARGET_FD, _CODE_FD, _RESTORE_FD, _STATE_FD = 56, 57, 58, 59
_MARK_FD, _COMMAND_FD = 61, 62
_HIGH = 63  # our own descriptors live above all of these

# The shell's side, as bash text. Everything runs on the first line of the -c script, so that $LINENO and the
# line numbers of bash's error messages ("bash: line 1: …") count from the block's first line, as they did when
# the block was a script of its own. Everything the loop runs is a builtin or a keyword (`builtin` keeps the
# block's functions out), and everything after the block runs inside `{ …; } 2>&55` (/dev/null) with -e -u -x
# -v off, so that `set -x` traces none of it; they are switched back on at the start of the next block's code.
#
# _OPTS: which of -e -u -x -v the block left on ($__mx_f is $SHELLOPTS at its end), for the next block; worked
# out again only when $SHELLOPTS changed ($__mx_fo: its value last time).
_OPTS = r"""
[[ $__mx_f == "$__mx_fo" ]] || { __mx_fo=$__mx_f __mx_pre=;
[[ :$__mx_f: == *:errexit:* ]] && __mx_pre+=e; [[ :$__mx_f: == *:nounset:* ]] && __mx_pre+=u;
[[ :$__mx_f: == *:xtrace:* ]] && __mx_pre+=x; [[ :$__mx_f: == *:verbose:* ]] && __mx_pre+=v;
[[ -n $__mx_pre ]] && __mx_pre="builtin set -$__mx_pre; "; };
"""
# _MARK: the marker line after a block, into the output pipe (fd 61, else its spare), so that it comes after
# everything the block wrote. The nonce is two halves, so that a block that prints the loop's variables
# (`set`, `declare -p`) cannot print a marker.
_MARK = r"""
builtin printf '%s%s %s %s @HOW@\n' "$__mx_na" "$__mx_nb" "$__mx_seq" "$__mx_st" >&61 ||
{ command exec 61>&51; builtin printf '%s%s %s %s @HOW@\n' "$__mx_na" "$__mx_nb" "$__mx_seq" "$__mx_st" >&61; } ||
builtin exit "$__mx_st";
"""
# _REPORT, after a block: its marker; a run of blocks stops at the first status that is not the one expected.
_REPORT = r"""
@OPTS@ @MARK@
[[ $__mx_want == "*" || $__mx_st == "$__mx_want" ]] || __mx_left=0;
"""
# _SNAP: the state, written only when the shell must be replaced (a block stopped or ending the shell). Cost
# matters little here, but every line a builtin prints is one write(2): the state is ONE `declare -p`, and
# options are written only where they differ from a fresh shell's ($__mx_b0, $__mx_s0). Order: cd before
# variables (OLDPWD), options before functions (extglob patterns), functions before aliases (their bodies are
# already alias-expanded).
_SNAP = r"""
__mx_o="builtin cd -- ${PWD@Q} || builtin cd -- @CWD@"$'\n';
__mx_i=${IFS+set} __mx_ifs=$IFS; IFS=$' \t\n';
if [[ $BASHOPTS != "$__mx_b0" ]]; then __mx_o+="builtin shopt -s ${BASHOPTS//:/ }"$'\n';
for __mx_x in ${__mx_b0//:/ }; do [[ :$BASHOPTS: == *:$__mx_x:* ]] || __mx_o+="builtin shopt -u $__mx_x"$'\n'; done; fi;
if [[ $SHELLOPTS != "$__mx_s0" ]]; then
for __mx_x in ${SHELLOPTS//:/ }; do [[ :$__mx_s0: == *:$__mx_x:* ]] || __mx_o+="builtin set -o $__mx_x"$'\n'; done;
for __mx_x in ${__mx_s0//:/ }; do [[ :$SHELLOPTS: == *:$__mx_x:* ]] || __mx_o+="builtin set +o $__mx_x"$'\n'; done;
fi;
[[ -v PS4 && -v OPTERR && -v OPTIND && -v HOSTNAME && -v HOSTTYPE && -v MACHTYPE && -v OSTYPE && -v PATH
&& -v TERM && -v SHELL ]] || for __mx_x in PS4 OPTERR OPTIND HOSTNAME HOSTTYPE MACHTYPE OSTYPE PATH TERM SHELL;
do [[ -v $__mx_x ]] || __mx_o+="builtin unset -v $__mx_x"$'\n'; done;
if [[ -n $__mx_i ]]; then IFS=$__mx_ifs; else builtin unset -v IFS; __mx_o+=$'builtin unset -v IFS\n'; fi;
{ builtin printf %s "$__mx_o"; builtin unset -v __mx_o __mx_code __mx_codes; builtin declare -p;
builtin printf '#__mx_vars\n';
builtin declare -f; builtin declare -Fx; builtin alias -p; builtin umask -p; builtin printf '#__mx_end\n';
} >&59;
"""
# _RESTART: report, wait for the harness to write the restore file (one line on fd 54), then become a new
# bash restored from it, with the same pid (background jobs stay its children) and the same descriptors.
_RESTART = r"""
command exec 62<&52 57<&53 61>&51; @MARK@
IFS= builtin read -r -u 54 __mx_x || { (( $? > 128 )) && IFS= builtin read -r -u 54 __mx_x; } ||
builtin exit "$__mx_st";
__mx_go=1;
"""
# The exec itself comes after the trap's `{ …; } 2>&55`, so that the new shell gets the block's stderr.
_BECOME = (
    r"""[[ -z $__mx_go ]] || builtin exec -c -a bash "$__mx_bash" --noprofile --norc -c "$__mx_again" bash restore"""
)
# _EXIT, the EXIT trap: a block that ends the shell (`exit N`, `set -e`, `set -u`) still reports its status (N,
# or the first failure when N is 0), and the next block runs in the shell restored from its state.
_EXIT = r"""
{ __mx_st=$? __mx_f=$SHELLOPTS; builtin set +euvx; builtin trap - ERR INT;
if [[ -n $__mx_busy ]]; then __mx_busy=; (( __mx_st )) || __mx_st=${__mx_first:-0}; @OPTS@ @SNAP@ @RESTART@ fi;
[[ -n $__mx_go ]] || builtin exit "$__mx_st"; } 2>&55; @BECOME@
"""
# _INT, the INT trap: the harness writes which block to stop (its number, or * for whichever runs) to fd 56,
# then signals the group. The block stops where it is, as after Ctrl-C, with status 130; a signal that comes
# between blocks only ends the run of blocks; one for the block that just ended sends its marker again (the
# block had hidden fd 61).
_INT = r"""
{ __mx_t=; IFS= builtin read -r __mx_t <&56 || :;
if [[ -n $__mx_busy && ( $__mx_t == "*" || $__mx_t == "$__mx_seq" ) ]]; then
__mx_f=$SHELLOPTS; builtin set +euvx; builtin trap - ERR EXIT; __mx_busy= __mx_st=130; @OPTS@ @SNAP@ @RESTART@
elif [[ $__mx_t == "*" ]]; then __mx_left=0;
elif [[ $__mx_t == "$__mx_seq" ]]; then command exec 61>&51; @MARK@ fi; } 2>&55; @BECOME@
"""
# _MAIN, the loop. The status of a block is the first failure (recorded by the ERR trap, so with the rules of set -e:
# tested commands do not count) or else its last status. The ERR trap stays set between blocks (nothing the loop runs
# there fails outside a test), unless the page sets traps: then it is set again for each block. Everything between two
# blocks sits in the loop's condition, in two groups redirected to /dev/null (each redirection costs system calls;
# stdout only for the first, where a DEBUG trap left by the block still runs, as a block's `exec 62<&52` could land on
# the second's saved copy), so that a block's own top-level `continue` (bash lets it reach the loop, through eval)
# still reports; a top-level `break` ends this loop, and the script's outer loop starts it again. A request (`SEQ
# COUNT`) comes on fd 62; its codes are in a file (fd 57), NUL-terminated, each after a record with the status expected
# of it (`*`: any; a `+` after it: put our EXIT, INT and ERR traps back after the block, which may have replaced them,
# and clear DEBUG and RETURN; re-arming INT at every block cost a third of the loop), read at once into an array. A
# request for -1 blocks is a ping: its marker (`p`) says the shell is idle. The eval has no redirection (stdin is the
# shell's, /dev/null): bash would park a copy of the redirected fd on 10 or above for the whole block, where the
# block's own `exec 10>file` lands.
_MAIN = r"""
while { __mx_x=$? __mx_y=$SHELLOPTS; builtin set +euvx; [[ -z $__mx_arm ]] || builtin trap - ERR DEBUG RETURN;
} >&55 2>&55;
{ [[ -n $__mx_cap ]] || __mx_last=$__mx_x __mx_f=$__mx_y; __mx_cap=;
if [[ -n $__mx_busy ]]; then __mx_busy= __mx_st=${__mx_first:-$__mx_last};
[[ -z $__mx_arm ]] || { builtin trap 'builtin eval "$__mx_exit"' EXIT; builtin trap 'builtin eval "$__mx_int"' INT; };
@REPORT@ fi;
while (( __mx_left <= 0 )); do
@READ@ ||
{ (( $? > 128 )) && @READ@; } ||
{ command exec {__mx_rfd}<&52 && @READ@; } ||
{ builtin trap - EXIT; builtin exit 0; };
if (( __mx_left < 0 )); then builtin printf '%s%s %s 0 p\n' "$__mx_na" "$__mx_nb" "$__mx_seq" >&61; __mx_left=0;
else __mx_k=0; builtin mapfile -d '' -t -u "$__mx_cfd" __mx_codes; (( ${#__mx_codes[@]} )) ||
{ command exec {__mx_cfd}<&53 && builtin mapfile -d '' -t -u "$__mx_cfd" __mx_codes && (( ${#__mx_codes[@]} )); } ||
{ builtin printf '%s%s %s 125 c\n' "$__mx_na" "$__mx_nb" "$(( __mx_seq + 1 ))" >&51; builtin trap - EXIT;
builtin exit 125; };
fi; done;
@TAKE@
__mx_arm=${__mx_want//[^+]/} __mx_want=${__mx_want%+};
(( __mx_left -= 1, __mx_seq += 1, __mx_k += 2 )); __mx_first= __mx_busy=1;
[[ -z $__mx_arm ]] || builtin trap "$__mx_err" ERR; } 2>&55; do
builtin eval "$__mx_pre$__mx_code";
done
"""

# _PLAIN, the loop for plain pages: while no block of the page could change the shell's options, traps or
# descriptors, or the loop itself (see _MAY_DISTURB), nothing between two blocks needs redirecting (a redirection
# costs eight system calls) nor options put aside: a block costs half as much. A request marked `s` (the page is
# no longer plain: it stays so) ends this loop, its codes read, and _MAIN goes on with them.
_PLAIN = r"""
while __mx_x=$?; [[ -z $__mx_slow ]] && {
if [[ -n $__mx_busy ]]; then __mx_busy= __mx_st=${__mx_first:-$__mx_x};
builtin printf '%s%s %s %s n\n' "$__mx_na" "$__mx_nb" "$__mx_seq" "$__mx_st";
[[ $__mx_want == "*" || $__mx_st == "$__mx_want" ]] || __mx_left=0; fi;
while (( __mx_left <= 0 )); do
@READ@ ||
{ (( $? > 128 )) && @READ@; } ||
{ builtin trap - EXIT; builtin exit 0; };
if (( __mx_left < 0 )); then builtin printf '%s%s %s 0 p\n' "$__mx_na" "$__mx_nb" "$__mx_seq"; __mx_left=0;
else __mx_k=0; builtin mapfile -d '' -t -u 57 __mx_codes; fi; done;
[[ -z $__mx_slow ]]; } && {
@TAKE@;
(( __mx_left -= 1, __mx_seq += 1, __mx_k += 2 )); __mx_first= __mx_busy=1; }; do
builtin eval "$__mx_code";
done
"""

# Both loops read a request (`SEQ COUNT [s]`; TMOUT, which a page may set, would give `read` a time limit) and
# take a block's code and the status expected of it the same way.
_READ = 'TMOUT= IFS=" " builtin read -r -u "$__mx_rfd" __mx_seq __mx_left __mx_slow'
_TAKE = "__mx_want=${__mx_codes[__mx_k]} __mx_code=${__mx_codes[__mx_k+1]}"

# The -c script, the same for a new shell and a restored one (`restore` as $1): set up (a fresh terminal in
# the session's directory without OLDPWD, or the state of the snapshot), then the loop.
_SCRIPT = r"""
{ builtin shopt -s expand_aliases; __mx_b0=$BASHOPTS __mx_s0=$SHELLOPTS __mx_busy= __mx_cap= __mx_seq=0
__mx_left=0 __mx_want= __mx_first= __mx_last=0 __mx_pre= __mx_fo= __mx_k=0 __mx_arm= __mx_t= __mx_st=0 __mx_go=
__mx_slow= __mx_rfd=62 __mx_cfd=57 __mx_bash=$BASH
__mx_again=$BASH_EXECUTION_STRING __mx_na=@NA@ __mx_nb=@NB@;
if [[ ${1-} == restore ]]; then builtin source /dev/fd/58; else builtin cd -- @CWD@; builtin unset -v OLDPWD; fi;
builtin set --;
__mx_exit=@EXIT@ __mx_int=@INT@ __mx_err='{ __mx_first=${__mx_first:-$?}; } 2>&55';
builtin trap 'builtin eval "$__mx_exit"' EXIT; builtin trap 'builtin eval "$__mx_int"' INT;
builtin trap "$__mx_err" ERR; } 2>&55;
while :; do { [[ -n $__mx_slow ]]; } >&55 2>&55 || @PLAIN@; @MAIN@;
{ __mx_last=$? __mx_f=$SHELLOPTS; builtin set +euvx; __mx_cap=1; } 2>&55; done
"""


def _one_line(script: str) -> str:
    return " ".join(line.strip() for line in script.strip().splitlines())


def _script(cwd: str, nonce: tuple[str, str]) -> str:
    """The -c script of a session's shells."""
    where = shlex.quote(cwd)
    snap = _one_line(_SNAP).replace("@CWD@", where)
    opts = _one_line(_OPTS)

    def restart(how: str) -> str:
        return _one_line(_RESTART).replace("@MARK@", _one_line(_MARK).replace("@HOW@", how))

    report = _one_line(_REPORT).replace("@OPTS@", opts).replace("@MARK@", _one_line(_MARK).replace("@HOW@", "n"))
    main = _one_line(_MAIN).replace("@REPORT@", report)
    plain = _one_line(_PLAIN)
    become = _one_line(_BECOME)
    on_exit = _one_line(_EXIT).replace("@OPTS@", opts).replace("@SNAP@", snap).replace("@RESTART@", restart("x"))
    on_int = _one_line(_INT).replace("@OPTS@", opts).replace("@SNAP@", snap).replace("@RESTART@", restart("i"))
    on_int = on_int.replace("@MARK@", _one_line(_MARK).replace("@HOW@", "n"))
    on_exit, on_int = on_exit.replace("@BECOME@", become), on_int.replace("@BECOME@", become)
    script = _one_line(_SCRIPT).replace("@NA@", nonce[0]).replace("@NB@", nonce[1]).replace("@CWD@", where)
    script = script.replace("@EXIT@", shlex.quote(on_exit)).replace("@INT@", shlex.quote(on_int))
    script = script.replace("@MAIN@", main).replace("@PLAIN@", plain)
    return script.replace("@READ@", _READ).replace("@TAKE@", _TAKE)


def _state_parent() -> str | None:
    """/dev/shm when it is there: the files live in memory, even for the instant before they are unlinked."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


_LINUX = sys.platform.startswith("linux")
# Python ignores these; a program started with them ignored would keep them so (`yes | head` would see EPIPE,
# and bash cannot trap a signal ignored at its start).
_DEFAULT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGQUIT", "SIGPIPE", "SIGXFSZ") if hasattr(signal, name)
)


class _Files:
    """The blocks' code, the stop target, the state snapshot and the restore script: files only the session
    can read, unlinked as soon as they are made and reached through descriptors, so that nothing of a block's
    code or state, secrets included, is left on disk even when the harness is killed with SIGKILL."""

    def __init__(self) -> None:
        folder = tempfile.mkdtemp(prefix="mkdocs-execute-", dir=_state_parent())  # mode 0700
        self.fds: dict[int, int] = {}  # the shell's descriptor -> ours
        try:
            for target in (_TARGET_FD, _CODE_FD, _RESTORE_FD, _STATE_FD):
                path = os.path.join(folder, str(target))
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                os.unlink(path)
                self.fds[target] = _high_fd(fd)
        finally:
            os.rmdir(folder)

    def write(self, target: int, data: bytes) -> None:
        """Replace the file's content, its offset (shared with the shell) back at the start."""
        fd = self.fds[target]
        os.ftruncate(fd, 0)
        view = memoryview(data)
        offset = 0
        while offset < len(view):
            offset += os.pwrite(fd, view[offset:], offset)
        os.lseek(fd, 0, os.SEEK_SET)

    def read(self, target: int) -> bytes:
        fd = self.fds[target]
        size = os.fstat(fd).st_size
        return os.pread(fd, size, 0) if size else b""

    def close(self) -> None:
        for fd in self.fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = {}


def _spawn(path: str, argv: list[str], env: Mapping[str, str], fds: dict[int, int]) -> int:
    """Start the shell in a session of its own with `fds` (its descriptor -> ours) and stdin from /dev/null.

    On Linux it is a child subreaper: whatever its blocks start stays below it, even a daemon that forks
    twice, leaves the session and clears its environment, so that close() finds and ends it. Where this
    process is the subreaper itself (`processes.adopting`) or there is none, no fork of this process is needed.
    """
    if not _LINUX or processes.prctl is None or processes.is_adopting():
        actions: list[tuple[Any, ...]] = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
        actions += [(os.POSIX_SPAWN_DUP2, ours, theirs) for theirs, ours in fds.items()]
        pid = os.posix_spawn(path, argv, env, file_actions=actions, setsid=True, setsigdef=_DEFAULT_SIGNALS)
        processes.spawned(pid)
        return pid
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the child only makes system calls, then exec
        pid = os.fork()
    if pid:
        return pid
    try:  # pragma: no cover (the child)
        processes.subreaper()
        os.setsid()
        for sig in _DEFAULT_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for theirs, ours in fds.items():
            os.dup2(ours, theirs)
        os.execve(path, argv, env)
    finally:
        os._exit(127)


def _high_fd(fd: int) -> int:
    """The same file on a descriptor above the shell's private ones (close-on-exec), so that the dup2s onto
    them in the child cannot overwrite one source with another."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _HIGH + 1)
    os.close(fd)
    return high


def _read(fd: int, chunks: list[bytes] | bytearray) -> bool:
    """Read what is available; False at end of file."""
    while True:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        if isinstance(chunks, bytearray):
            chunks += data
        else:
            chunks.append(data)


class _Shell:
    """One bash process running the loop (the same pid across restores)."""

    def __init__(self, pid: int, commands: int, go: int, output: int) -> None:
        self.pid = pid
        self.commands = commands  # write end of the request pipe
        self.go = go  # write end of the pipe a restoring shell waits on
        try:
            self.pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):  # no pidfd (old kernel): poll waitpid instead
            self.pidfd = None
        self.poller = select.poll()
        for fd in (output, self.pidfd):
            if fd is not None:
                self.poller.register(fd, select.POLLIN)
        self.wait_status: int | None = None

    def dead(self) -> bool:
        if self.wait_status is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.wait_status = status
                processes.spawned(self.pid, alive=False)
        return self.wait_status is not None

    def reap(self) -> int:
        if self.wait_status is None:
            self.wait_status = os.waitpid(self.pid, 0)[1]
            processes.spawned(self.pid, alive=False)
        return self.wait_status

    def close(self) -> None:
        for fd in (self.commands, self.go, self.pidfd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)


_MARKER = re.compile(rb" (\d+) (\d+) ([nxipc])\n")
_MAY_TRAP = re.compile(rb"trap|source|\. ")
"""Code that may replace the shell's traps: from then on the loop puts its own back after every block."""
_COMMAND_START = (
    rb"(?:^|[;&|(){}`!\n]|\b(?:then|do|else|elif|if|while|until|time|coproc|function)\b)[ \t]*"
    rb"(?:[A-Za-z_]\w*(?:\[[^]]*\])?\+?=(?:\"[^\"]*\"|'[^']*'|\S)*[ \t]+)*"
)
_MAY_DISTURB = re.compile(
    _COMMAND_START + rb"(?:(?:set|shopt|trap|exec|source|eval|enable|builtin|command|alias|unalias|break|continue"
    rb"|declare|typeset|readonly|local|unset|ulimit|coproc)(?![\w-])|\.(?=[ \t])"
    rb"|[^\s;&|()<>=]*(?:[$`\\\"'*?]|\{(?!\s)|\[(?![\s\[])))"
    rb"|(?:[<>]&|-u[ \t]*)(?:5[1-9]|6[0-3])(?!\d)|(?<![\w-])(?:5[1-9]|6[0-3])[<>]"
    rb"|BASH_ALIASES|BASH_XTRACEFD|PROMPT_COMMAND|SHELLOPTS|BASHOPTS",
    re.M,
)
"""Code that could change the shell's options, traps or descriptors, or its loop, even through a name given at
run time (a quote, `$`, a glob or a brace at a command's start), or that names one of the loop's descriptors
(51-63): from its first block on, a page runs in _MAIN."""
Request = tuple[str, float, "int | None"]
"""A block to run: its code, its time limit in seconds, and the status expected of it (None: any)."""


@dataclass
class _Stop:
    """A block being stopped: since when, why, and how far the escalation went."""

    at: float
    interrupted: bool
    step: int = 0  # 1: SIGTERM sent to what it started, 2: SIGKILL, 3: the shell itself killed


class ShellSession:
    """One terminal for a page: blocks run in order, sharing state; close() kills whatever they left behind."""

    def __init__(
        self, env: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None, shell: str = "bash"
    ) -> None:
        found = shutil.which(shell)
        if found is None:
            raise FileNotFoundError(f"shell not found: {shell}")
        self._shell_path = found
        self._cwd = os.path.abspath(os.fspath(cwd)) if cwd is not None else os.getcwd()
        halves = os.urandom(6).hex(), os.urandom(6).hex()
        self._script = _script(self._cwd, halves)
        self._marker = (halves[0] + halves[1]).encode()
        environment = dict(normal_environment() if env is None else env)
        for name in _NOT_PASSED:
            environment.pop(name, None)
        self._owner = processes.own_token(environment)
        self._env = environment
        self._files = _Files()
        self._sessions: set[int] = set()  # every shell's session id (= its pid = its process group)
        self._floor: processes.Floor | None = None
        self._lost = False  # a shell was killed: what it left may have gone to init, carrying the token
        self._shell: _Shell | None = None
        self._seq = 0
        self._traps = False  # a block mentioned `trap`: from then on our traps are put back after each block
        # No block could disturb the loop (_MAY_DISTURB), nor a function the shell inherits (BASH_FUNC_…).
        self._plain = not any(name.startswith("BASH_FUNC_") for name in environment)
        self._buffer = bytearray()  # output read but not yet given to a block, from _low_mark on
        self._low_mark = 0
        self._running = False
        self._interrupted = self._signalled = False
        self._closed = False
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        # One output pipe for the whole session: background jobs of a shell that was replaced still write to it.
        self._output = _high_fd(read_end)
        self._output_w = _high_fd(write_end)
        os.set_blocking(self._output, False)
        null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
        self._null = _high_fd(null)

    def __enter__(self) -> ShellSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the shell -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the shell now rather than with the first block (a spare, booting while other work goes on)."""
        if self._shell is None and not self._closed:
            self._shell = self._start()

    def _start(self) -> _Shell:
        commands_r, commands_w = os.pipe2(os.O_CLOEXEC)
        go_r, go_w = os.pipe2(os.O_CLOEXEC)
        commands_r, go_r = _high_fd(commands_r), _high_fd(go_r)
        code = self._files.fds[_CODE_FD]
        fds = {1: self._output_w, 2: self._output_w, _MARK_FD: self._output_w, _OUT_SPARE: self._output_w}
        fds.update({_COMMAND_FD: commands_r, _REQ_SPARE: commands_r, _CODE_SPARE: code, _NULL: self._null})
        fds.update({_GO_FD: go_r, **self._files.fds})
        argv = [self._shell_path, "--noprofile", "--norc", "-c", self._script, "bash"]
        try:
            pid = _spawn(self._shell_path, argv, self._env, fds)
        except BaseException:
            os.close(commands_w)
            os.close(go_w)
            raise
        finally:
            os.close(commands_r)
            os.close(go_r)
        self._sessions.add(pid)
        if self._floor is None:
            self._floor = processes.Floor(pid)
        self._shell = _Shell(pid, commands_w, go_w, self._output)
        return self._shell

    def _drop(self, kill: bool = True) -> None:
        """Forget the shell (dead, or killed now): the next block starts a new one, without the page's state."""
        shell, self._shell = self._shell, None
        if shell is not None:
            if shell.wait_status is None and kill:
                self._lost = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(shell.pid, signal.SIGKILL)
            shell.reap()
            shell.close()

    def _restore(self, shell: _Shell) -> None:
        """The shell wrote its state and waits: give it the restore file, cleaned of bash's own variables (an
        incomplete state: the session's environment)."""
        data = self._files.read(_STATE_FD)
        self._files.write(_STATE_FD, b"")
        complete = data.endswith(b"\n#__mx_end\n")
        if complete:
            variables, separator, rest = data.partition(b"\n#__mx_vars\n")
            kept = [line for line in variables.split(b"\n") if not _SPECIAL_LINE.match(line)]
            restore = b"\n".join(kept) + separator + rest
        else:
            restore = b"".join(b"export %s=%s\n" % (k.encode(), shlex.quote(v).encode()) for k, v in self._env.items())
        self._files.write(_RESTORE_FD, restore)
        with contextlib.suppress(OSError):
            os.write(shell.go, b"go\n")

    # -- blocks --------------------------------------------------------------------------------------------

    def run(self, code: str, timeout: float = 60.0) -> Outcome:
        """Run one block; its state carries to the next one."""
        return next(iter(self.run_many([(code, timeout, None)])))

    def run_many(self, requests: Sequence[Request]) -> Iterator[Outcome]:
        """Run blocks in order in one request, each outcome as soon as its block ends. The shell stops at the
        first block whose status is not the one expected of it (or that timed out): later ones never run."""
        if self._closed:
            raise RuntimeError("ShellSession is closed")
        todo = [
            (code.replace("\0", "").encode("utf-8", "surrogateescape"), timeout, want)
            for code, timeout, want in requests
        ]
        return self._run(todo)

    def _run(self, todo: list[tuple[bytes, float, int | None]]) -> Iterator[Outcome]:
        self._interrupted = self._signalled = False
        self._running = True
        idle = False
        try:
            while todo:
                shell = self._shell if self._shell is not None and not self._shell.dead() else None
                if shell is None:
                    self._drop(kill=False)
                    shell = self._start()
                mark = processes.Mark()
                first = self._send(shell, todo)
                rest: list[tuple[bytes, float, int | None]] = []
                for index, (_code, timeout, want) in enumerate(todo):
                    # A later block of the request began just before its predecessor's marker was read.
                    outcome, how = self._collect(shell, first + index, timeout, mark, len(todo) - index > _BATCH_AFTER)
                    mark = processes.Mark(last=False)
                    last = index == len(todo) - 1
                    stopped = outcome.timed_out or self._interrupted
                    idle = last or how != "n" or (want is not None and outcome.status != want)
                    if stopped and not idle:
                        self._settle(shell)  # it went on to the next block: stop that one too
                        idle = True
                    yield outcome
                    if stopped or (want is not None and outcome.status != want):
                        return
                    if how != "n":  # a new shell (restored, or started afresh): the rest goes in a new request
                        rest = todo[index + 1 :]
                        break
                todo = rest
            idle = True
        finally:
            self._running = False
            if not idle and self._shell is not None:  # left half-way (an exception): no block may go on
                self._settle(self._shell)

    def _settle(self, shell: _Shell) -> None:
        """Stop whatever block of the request runs now, and wait until the shell is idle (its answer to a ping);
        a shell that does not answer is killed."""
        self._signal_stop(shell, None)
        self._seq += 1
        ping = self._seq
        with contextlib.suppress(OSError):
            os.write(shell.commands, b"%d -1\n" % (ping - 1))
        give_up = time.monotonic() + 2.0
        while time.monotonic() < give_up and not shell.dead():
            shell.poller.poll(5)
            _read(self._output, self._buffer)
            at = self._buffer.find(self._marker, self._low_mark)
            while at >= 0 and (match := _MARKER.match(self._buffer, at + len(self._marker))) is not None:
                self._low_mark = match.end()
                if match[3] in (b"x", b"i"):
                    self._restore(shell)
                elif match[3] == b"p" and int(match[1]) == ping:
                    return
                at = self._buffer.find(self._marker, self._low_mark)
        self._drop()

    def _send(self, shell: _Shell, todo: list[tuple[bytes, float, int | None]]) -> int:
        """Write the codes and the request; the number of the first block."""
        parts = []
        for code, _timeout, want in todo:
            # Once a page sets traps (itself, or in a script it sources), a function may do it again later.
            self._traps = self._traps or _MAY_TRAP.search(code) is not None
            self._plain = self._plain and _MAY_DISTURB.search(code) is None
            arm = b"+" if self._traps else b""
            parts += [b"*" if want is None else b"%d" % want, arm, b"\0", code, b"\0"]
        self._files.write(_CODE_FD, b"".join(parts))
        first = self._seq + 1
        self._seq += len(todo)
        with contextlib.suppress(BrokenPipeError):  # it died: _collect sees it
            os.write(shell.commands, b"%d %d%s\n" % (first - 1, len(todo), b"" if self._plain else b" s"))
        return first

    def _take(self, seq: int, searched: int) -> tuple[bytes, int, bytes] | None:
        """(output, status, how) of block `seq` once its marker has come (`searched`: where to look from); the
        buffer's read position moves past it."""
        buffer, low = self._buffer, self._low_mark
        at = buffer.find(self._marker, max(low, searched))
        while at >= 0:
            match = _MARKER.match(buffer, at + len(self._marker))
            if match is None:
                if buffer.find(b"\n", at) < 0:
                    return None  # the rest of the marker is on its way
            elif int(match[1]) == seq:
                output, status, how = bytes(buffer[low:at]), int(match[2]), bytes(match[3])
                self._low_mark = match.end()
                if self._low_mark > 1 << 20:  # the buffer is a bytearray: drop what is taken, now and then
                    del buffer[: self._low_mark]
                    self._low_mark = 0
                return output, status, how
            at = buffer.find(self._marker, at + 1)
        return None

    def _rest(self) -> bytes:
        """What the buffer holds after the last marker taken; it is emptied."""
        rest = bytes(self._buffer[self._low_mark :])
        self._buffer.clear()
        self._low_mark = 0
        return rest

    def _collect(
        self, shell: _Shell, seq: int, timeout: float, mark: processes.Mark, batch: bool = False
    ) -> tuple[Outcome, str]:
        """Wait for block `seq`'s marker, stopping the block past its time; its outcome and how it ended: `n`
        normally, `x` it ended the shell, `i` it was stopped (both restored), `d` the shell is gone."""
        start = time.monotonic()
        since = mark
        stopping: _Stop | None = None
        searched = 0
        while True:
            taken = self._take(seq, searched)
            if taken is not None:
                output, status, how = taken
                break
            searched = max(0, len(self._buffer) - len(self._marker) - 32)
            now = time.monotonic()
            if stopping is None and (self._interrupted or now >= start + timeout):
                stopping = _Stop(now, self._interrupted)
                if not self._signalled:  # a second SIGINT could reach a shell in the middle of its restore
                    self._signal_stop(shell, seq)
            if stopping is not None and self._escalate(shell, stopping, since, now):
                output, status, how = self._lose(shell, stopping)
                break
            wait = 0.005 if stopping is not None else start + timeout - now
            if shell.pidfd is None:
                wait = min(wait, 0.002)
            events = shell.poller.poll(max(1, int(wait * 1000) + 1))
            if batch:
                time.sleep(_BATCH)
            _read(self._output, self._buffer)
            if any(fd == shell.pidfd for fd, _ in events) or (shell.pidfd is None and shell.dead()):
                _read(self._output, self._buffer)
                taken = self._take(seq, 0)
                if taken is not None:
                    output, status, how = taken
                    break
                output, status, how = self._died(shell)
                break
        duration = time.monotonic() - start
        if stopping is None and (how == b"i" or self._interrupted):  # the SIGINT came before we looked
            stopping = _Stop(time.monotonic(), interrupted=True)
        if how in (b"x", b"i"):
            self._restore(shell)
        elif how == b"c":  # a block closed the code's descriptor and its spare: this one never ran
            self._drop()
            output, how = output + _CUT_OFF, b"d"
        text = output.decode("utf-8", errors="replace")
        if stopping is None:
            return Outcome(text, status, False, duration), how.decode()
        self._end_block(shell, since, stopping)
        if not stopping.interrupted:
            return Outcome(text, None, True, duration), how.decode()
        return Outcome(text, 130 if how != b"n" else status, False, duration), how.decode()

    def _signal_stop(self, shell: _Shell, seq: int | None) -> None:
        """Ctrl-C for block `seq` (None: whichever runs): its number for the INT trap, then SIGINT to the group."""
        self._files.write(_TARGET_FD, b"*\n" if seq is None else b"%d\n" % seq)
        self._signalled = True
        processes.killpg(shell.pid, signal.SIGINT)

    def _escalate(self, shell: _Shell, stopping: _Stop, since: processes.Mark, now: float) -> bool:
        """What did not stop on SIGINT gets SIGTERM, then SIGKILL; True when the shell itself does not come back."""
        quick = stopping.interrupted
        steps = (0.0, 0.05, 1.0) if quick else (0.5, _GRACE, _GRACE + 1.0)
        if stopping.step < 3 and now >= stopping.at + steps[min(stopping.step, 2)]:
            stopping.step += 1
            if stopping.step == 3:
                return True
            victims = processes.block_processes(shell.pid, since, self._low(), self._owner)
            sig = signal.SIGTERM if stopping.step == 1 else signal.SIGKILL
            processes.signal_all(victims or (), sig)
        return False

    def _end_block(self, shell: _Shell, since: processes.Mark, stopping: _Stop) -> None:
        """After a stop, what the block started is ended too (its background jobs, its daemons); the jobs of
        earlier blocks stay."""
        if self._shell is None:
            return
        end = time.monotonic() + (0.05 if stopping.interrupted else _GRACE)
        give_up = end + 1.0
        sig = signal.SIGTERM
        while time.monotonic() < give_up:
            victims = processes.block_processes(shell.pid, since, self._low(), self._owner)
            if not victims:
                return
            if time.monotonic() >= end:
                sig = signal.SIGKILL
                processes.signal_all(victims, signal.SIGSTOP)
            processes.signal_all(victims, sig)
            time.sleep(0.005)

    def _lose(self, shell: _Shell, stopping: _Stop) -> tuple[bytes, int, bytes]:
        """The shell did not come back from SIGINT (the block traps or ignores it): kill it; state is lost."""
        processes.terminate({shell.pid}, None, 0.0, keep=shell.pid, floor=self._floor, owner=self._owner)
        self._drop()
        _read(self._output, self._buffer)
        return self._rest() + _LOST, 130, b"d"

    def _died(self, shell: _Shell) -> tuple[bytes, int, bytes]:
        """The shell is gone (`exec prog`, `kill -9 $$`): the block's status is its exit; the state is lost."""
        status = os.waitstatus_to_exitcode(shell.reap())
        self._drop(kill=False)
        return self._rest() + _LOST, 128 - status if status < 0 else status, b"d"

    def _low(self) -> int:
        return self._floor.value() if self._floor is not None else 0

    def interrupt(self) -> None:
        """Stop the running block now, as Ctrl-C does (safe from a signal handler or another thread)."""
        if self._running:
            self._interrupted = True
            shell = self._shell
            if shell is not None:
                self._signal_stop(shell, None)

    def close(self) -> None:
        """Kill every process any block left behind and remove the temporary files; idempotent."""
        if self._closed:
            return
        self._closed = True
        shell, self._shell = self._shell, None
        alive = shell is not None and not shell.dead()
        token = self._owner[0] if self._lost or processes.prctl is None else None
        keep = shell.pid if shell is not None and alive else None
        left = processes.terminate(self._sessions, token, _GRACE, keep=keep, floor=self._floor, owner=self._owner)
        if shell is not None:
            if shell.wait_status is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(shell.pid, signal.SIGKILL)
            shell.reap()
            shell.close()
        # What the shell's death left behind (a process that was being reaped just then); an idle shell with
        # nothing left under it had nothing to leave.
        if alive and (left or self._running):
            processes.terminate(self._sessions, token, 0.0, floor=self._floor, owner=self._owner)
        for fd in (self._output, self._output_w, self._null):
            os.close(fd)
        self._files.close()


_LOST = b"\n[mkdocs-execute: the shell itself ended; the next block starts a new one, without the page's state]\n"
_CUT_OFF = (
    b"[mkdocs-execute: an earlier block closed or replaced the descriptors the shell reads blocks from (57 and"
    b" its spare 53), so this block did not run; the next block starts a new shell, without the page's state]\n"
)
