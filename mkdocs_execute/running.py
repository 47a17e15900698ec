"""Run the command blocks of a page in a real bash, one "terminal" per page.

One long-lived ``bash --noprofile --norc`` per session runs its blocks one after the other, in a session of its
own, with no terminal and stdin from /dev/null: variables, functions, aliases, options, umask, working directory
and background jobs carry from block to block, as in a terminal. A small loop in that shell takes a request
from a private pipe (fd 62), evaluates the block's code (written to a file) in the main shell with an ERR trap
that records the first failure, and reports the block's status on another private pipe (fd 63); stdout and
stderr share one pipe, so they stay in order. Then it writes a snapshot of its state (a few hundred µs).

When a block must be stopped (timeout, interrupt), the shell is killed with everything the block started, but
not the background jobs of earlier blocks; the next block runs in a new shell restored from the snapshot, so
the stopped block's changes are gone, as they were when each block had a bash of its own. A block that ends the
shell (`exit N`, `set -e`) reports its status and leaves its state in the snapshot in the same way.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import os
import re
import secrets
import select
import shlex
import shutil
import signal
import sys
import tempfile
import termios
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Outcome", "ShellSession", "normal_environment"]


@dataclass(frozen=True)
class Outcome:
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


# Marks every process a session starts (it is inherited through the environment), so that close() also finds
# daemons that escaped into a session of their own and were re-parented away from us.
TOKEN_VARIABLE = "MKDOCS_EXECUTE_SESSION"
# Never passed to bash: they would make it read startup files or override its options, or are its own to set.
_NOT_PASSED = ("BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "SHLVL", "_")
# Bash's own variables and the loop's: left out when a new shell is restored from a snapshot (`declare -p` lists
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
_GRACE = 1.0  # seconds between SIGTERM and SIGKILL
_COMMAND_FD = 62  # the shell reads requests here
_STATUS_FD = 63  # and reports each block's status here: block code does not use such fds by accident
_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_BOOTTIME = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)

# The shell's side, as bash text. Everything runs on the first line of the -c script, so that $LINENO and the
# line numbers of bash's error messages ("bash: line 1: …") count from the block's first line, as they did when
# the block was a script of its own. Everything the loop runs is a builtin or a keyword (`builtin` keeps the
# block's functions out), and everything after the block runs inside `{ …; } 2>/dev/null` with -e -u -x -v off,
# so that `set -x` traces none of it; -e -u -x -v are switched back on at the start of the next block's code.
#
# _REPORT, after a block: the status, then the state snapshot. It starts with $__mx_st (the status) and
# $__mx_f ($SHELLOPTS at the end of the block) set. The status line goes out BEFORE the snapshot is written, so
# that the harness does not wait for it; the snapshot alternates between two files, and only a file that ends
# with its trailer is ever restored. Cost matters: every line a builtin prints is one write(2), so the state is
# ONE `declare -p` and options are written only where they differ from a fresh shell's ($__mx_b0, $__mx_s0).
# Order in the state: cd before variables (OLDPWD), options before functions (extglob patterns), functions
# before aliases (their bodies are already alias-expanded).
_REPORT = r"""
builtin trap - ERR DEBUG RETURN; __mx_pre=;
[[ :$__mx_f: == *:errexit:* ]] && __mx_pre+=e; [[ :$__mx_f: == *:nounset:* ]] && __mx_pre+=u;
[[ :$__mx_f: == *:xtrace:* ]] && __mx_pre+=x; [[ :$__mx_f: == *:verbose:* ]] && __mx_pre+=v;
[[ -n $__mx_pre ]] && __mx_pre="builtin set -$__mx_pre; ";
__mx_k=$(( 1 - __mx_k ));
{ builtin jobs -p; builtin printf '%s %s %s %s @HOW@\n' @NONCE@ "$__mx_req" "$__mx_st" "$__mx_k"; } >&63 ||
builtin exit "$__mx_st";
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
{ builtin printf %s "$__mx_o"; builtin unset -v __mx_o __mx_code; builtin declare -p; builtin printf '#__mx_vars\n';
builtin declare -f; builtin declare -Fx; builtin alias -p; builtin umask -p; builtin printf '#__mx_end\n';
} >| @STATE@$__mx_k;
"""

# _EXIT, the EXIT trap: a block that ends the shell (`exit N`, `set -e`, `set -u`) still reports its status (N,
# or the first failure when N is 0) and leaves its state; the next block starts a new shell from that state.
_EXIT = r"""
{ __mx_st=$? __mx_f=$SHELLOPTS; builtin set +euvx; builtin trap - ERR;
if [[ -n $__mx_busy ]]; then __mx_busy=; (( __mx_st )) || __mx_st=${__mx_first:-0}; @REPORT@ fi;
builtin exit "$__mx_st"; } 2>/dev/null
"""

# _MAIN, the loop. The status of a block is the first failure (recorded by the ERR trap, so with the rules of
# set -e: tested commands do not count) or else its last status. What follows a block sits in the loop's
# condition and at the top of its body, so that a block's own top-level `continue` (bash lets it reach the
# loop, through eval) still reports; a top-level `break` ends this loop, and the script's outer loop starts it
# again. A block reads its code into $__mx_code from a file (one read(2), where a pipe costs one per byte). The
# eval has no redirection (stdin is the shell's, /dev/null): bash would park a copy of the redirected fd on 10
# or above for the whole block, where the block's own `exec 10>file` lands.
_MAIN = r"""
while { __mx_x=$? __mx_y=$SHELLOPTS; builtin set +euvx; builtin trap - ERR;
[[ -n $__mx_cap ]] || __mx_last=$__mx_x __mx_f=$__mx_y; __mx_cap=; builtin trap - DEBUG RETURN; } >/dev/null 2>&1; do
if [[ -n $__mx_busy ]]; then { __mx_busy= __mx_st=${__mx_first:-$__mx_last};
builtin trap -- "$__mx_exit" EXIT; @REPORT@ } 2>/dev/null; fi;
{ IFS= builtin read -r -u 62 __mx_req || { builtin trap - EXIT; builtin exit 0; }; } 2>/dev/null;
IFS= builtin read -r -d '' __mx_code <@CODE@; __mx_first= __mx_busy=1; builtin set --;
builtin trap '{ __mx_first=${__mx_first:-$?}; } 2>/dev/null' ERR;
builtin eval "$__mx_pre$__mx_code";
done
"""

# The -c script: set up (a fresh terminal in the session's directory without OLDPWD, or the state of a
# snapshot), then the loop.
_SCRIPT = r"""
{ builtin shopt -s expand_aliases; __mx_b0=$BASHOPTS __mx_s0=$SHELLOPTS __mx_k=@K@ __mx_busy= __mx_cap=
__mx_req= __mx_first= __mx_last=0 __mx_pre=; @START@; __mx_exit=@EXIT@; builtin trap -- "$__mx_exit" EXIT;
while :; do @MAIN@; { __mx_last=$? __mx_f=$SHELLOPTS; builtin set +euvx; __mx_cap=1; } 2>/dev/null; done; }
"""


def _one_line(script: str) -> str:
    return " ".join(line.strip() for line in script.strip().splitlines())


def _script(files: _Files, cwd: str, nonce: str, restore: str | None, k: int) -> str:
    """The -c script of one shell."""
    report = _one_line(_REPORT).replace("@NONCE@", nonce).replace("@CWD@", shlex.quote(cwd))
    report = report.replace("@STATE@$__mx_k", files.state_word)
    main = _one_line(_MAIN).replace("@REPORT@", report.replace("@HOW@", "n"))
    main = main.replace("@CODE@", files.code_word)
    on_exit = _one_line(_EXIT).replace("@REPORT@", report.replace("@HOW@", "x"))
    if restore is None:
        start = f"{{ builtin cd -- {shlex.quote(cwd)}; builtin unset -v OLDPWD; }} 2>/dev/null"
    else:
        start = f"{{ builtin source {shlex.quote(restore)}; }} 2>/dev/null"
    script = _one_line(_SCRIPT).replace("@START@", start).replace("@K@", str(k))
    return script.replace("@EXIT@", shlex.quote(on_exit)).replace("@MAIN@", main)


def _state_parent() -> str | None:
    """/dev/shm when it is there: the block's code and the state snapshot are written once per block."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


_LINUX = sys.platform.startswith("linux")
_CODE_FD, _RESTORE_FD, _STATE_FD = 57, 58, 59  # state files on 59 and 60
_PR_SET_CHILD_SUBREAPER = 36


class _Files:
    """The block's code, the state snapshots and the restore script: files only the session can read.

    On Linux they are unlinked as soon as they are made and reached through descriptors (`/dev/fd/N`
    reopens the file itself), so nothing of a block's code or state, secrets included, is left on disk
    even when the harness is killed with SIGKILL. Elsewhere they are files in a private folder.
    """

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="mkdocs-execute-", dir=_state_parent())  # mode 0700
        self.fds: dict[int, int] = {}  # the shell's descriptor -> ours
        if _LINUX:
            for target in (_CODE_FD, _RESTORE_FD, _STATE_FD, _STATE_FD + 1):
                path = os.path.join(self.folder, str(target))
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                os.unlink(path)
                self.fds[target] = _high_fd(fd)
            os.rmdir(self.folder)
            self.code_word = f"/dev/fd/{_CODE_FD}"
            self.state_word = f"/dev/fd/$(( {_STATE_FD} + __mx_k ))"
            self.restore_path = f"/dev/fd/{_RESTORE_FD}"
        else:
            self.code_word = shlex.quote(os.path.join(self.folder, "code"))
            self.state_word = shlex.quote(os.path.join(self.folder, "state")) + "$__mx_k"
            self.restore_path = os.path.join(self.folder, "restore")

    def write(self, target: int, data: bytes) -> None:
        if target in self.fds:
            fd = self.fds[target]
            os.ftruncate(fd, 0)
            view = memoryview(data)
            offset = 0
            while offset < len(view):
                offset += os.pwrite(fd, view[offset:], offset)
            return
        name = {_CODE_FD: "code", _RESTORE_FD: "restore"}[target]
        fd = os.open(os.path.join(self.folder, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)

    def read_state(self, k: int) -> bytes | None:
        if self.fds:
            fd = self.fds[_STATE_FD + k]
            size = os.fstat(fd).st_size
            return os.pread(fd, size, 0) if size else None
        try:
            with open(os.path.join(self.folder, f"state{k}"), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def close(self) -> None:
        for fd in self.fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = {}
        shutil.rmtree(self.folder, ignore_errors=True)


def _spawn(path: str, argv: list[str], env: Mapping[str, str], fds: dict[int, int]) -> int:
    """Start the shell in a session of its own with `fds` (its descriptor -> ours) and stdin from /dev/null.

    On Linux it is a child subreaper: whatever its blocks start stays below it, even a daemon that forks
    twice, leaves the session and clears its environment, so that close() finds and ends it.
    """
    if not _LINUX or _prctl is None:
        actions: list[tuple[Any, ...]] = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
        actions += [(os.POSIX_SPAWN_DUP2, ours, theirs) for theirs, ours in fds.items()]
        return os.posix_spawn(path, argv, env, file_actions=actions, setsid=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the child only makes system calls, then exec
        pid = os.fork()
    if pid:
        return pid
    try:  # pragma: no cover (the child)
        _prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for theirs, ours in fds.items():
            os.dup2(ours, theirs)
        os.execve(path, argv, env)
    finally:
        os._exit(127)


def _load_prctl() -> Any:
    if not _LINUX:
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _load_prctl()


def _boot_ticks() -> int:
    """Now, in the unit and from the origin of a process's start time in /proc/PID/stat."""
    return int(time.clock_gettime(_BOOTTIME) * _HZ)


def _read_stat(pid: str) -> tuple[bytes, int, int, int, int] | None:
    """(state, ppid, pgrp, session, start time) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19])


def _process_table() -> dict[int, tuple[int, int, int, int]] | None:
    """{pid: (ppid, pgrp, session, start time)} of the live processes but this one; None without /proc."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    me = os.getpid()
    table = {}
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        stat = _read_stat(name)
        if stat is not None and stat[0] != b"Z":
            table[int(name)] = stat[1:]
    return table


def _descendants(table: dict[int, tuple[int, int, int, int]], roots: set[int]) -> set[int]:
    """The roots (those alive) and all their descendants."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in table.items():
        children.setdefault(ppid, []).append(pid)
    found = {pid for pid in roots if pid in table}
    todo = list(found)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _find_processes(sessions: set[int], token: bytes | None) -> list[int] | None:
    """Live processes of these sessions or groups, those carrying `token` in their environment, and all their
    descendants. None when /proc cannot be read."""
    table = _process_table()
    if table is None:
        return None
    found: set[int] = set()
    for pid, (_ppid, pgrp, session, _start) in table.items():
        if pgrp in sessions or session in sessions:
            found.add(pid)
        elif token is not None:
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if token in f.read():
                        found.add(pid)
            except OSError:
                pass
    return sorted(_descendants(table, found))


def _block_processes(shell: int, since: int, spared: set[int], known: set[int]) -> set[int] | None:
    """What the running block started: the shell's descendants and the members of its session that started
    since the block did, with their descendants; but not the background jobs of earlier blocks (`spared`, the
    shell's jobs when the block started, with their descendants), nor the shell. `known`: processes found
    before, still counted. None without /proc."""
    table = _process_table()
    if table is None:
        return None
    keep = _descendants(table, {pid for pid in spared if pid in table and table[pid][3] <= since})
    keep.add(shell)
    below_shell = _descendants(table, {shell})
    found = {
        pid
        for pid, (_ppid, _pgrp, session, start) in table.items()
        if pid in below_shell or pid in known or (session == shell and start >= since)
    }
    return _descendants(table, found) - keep


def _signal(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _terminate(sessions: set[int], token: bytes | None, grace: float, keep: int | None = None) -> None:
    """SIGTERM everything found but `keep` (the live shell, a subreaper), then SIGSTOP and SIGKILL what is
    still alive after `grace` seconds, until a scan finds nothing: a stopped process cannot fork, and the
    orphans of a killed one come back to the shell, where the next scan finds them."""
    pids = _find_processes(sessions, token)
    if pids is None:  # no /proc: the process groups are all we know
        for pgid in sessions:
            _killpg(pgid, signal.SIGTERM)
        time.sleep(min(grace, 0.05))
        for pgid in sessions:
            _killpg(pgid, signal.SIGKILL)
        return
    end = time.monotonic() + grace
    give_up = end + 2.0  # a process stuck in the kernel (state D) survives even SIGKILL for a while
    pids = [pid for pid in pids if pid != keep]
    _signal(pids, signal.SIGTERM)
    while pids and time.monotonic() < give_up:
        if time.monotonic() >= end:
            _signal(pids, signal.SIGSTOP)
            _signal(pids, signal.SIGKILL)
        time.sleep(0.005)
        pids = [pid for pid in _find_processes(sessions, token) or [] if pid != keep]


def _high_fd(fd: int) -> int:
    """The same file on a descriptor above the shell's private ones (close-on-exec), so that posix_spawn's dup2
    onto 1, 2, 62 and 63 cannot overwrite one source with another."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _STATUS_FD + 1)
    os.close(fd)
    return high


def _read(fd: int, chunks: list[bytes]) -> bool:
    """Read what is available; False at end of file."""
    while True:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        chunks.append(data)


class _Shell:
    """One bash process running the loop."""

    def __init__(self, pid: int, commands: int, status: int, output: int) -> None:
        self.pid = pid
        self.commands = commands  # write end of the request pipe
        self.status = status  # read end of the status pipe
        self.buffer = b""  # an incomplete status line
        self.jobs: set[int] = set()  # its background jobs when the last block ended
        self.pending: set[int] = set()  # jobs listed before a status line
        try:
            self.pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):  # no pidfd (old kernel): poll waitpid instead
            self.pidfd = None
        self.poller = select.poll()
        for fd in (output, status, self.pidfd):
            if fd is not None:
                self.poller.register(fd, select.POLLIN)
        self.wait_status: int | None = None

    def dead(self) -> bool:
        if self.wait_status is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.wait_status = status
        return self.wait_status is not None

    def reap(self) -> int:
        if self.wait_status is None:
            self.wait_status = os.waitpid(self.pid, 0)[1]
        return self.wait_status

    def unread_request(self) -> bool:
        """Whether a request still sits in the pipe (the shell died before it took it)."""
        buf = array.array("i", [0])
        try:
            fcntl.ioctl(self.commands, termios.FIONREAD, buf)
        except OSError:
            return False
        return buf[0] > 0

    def close(self) -> None:
        for fd in (self.commands, self.status, self.pidfd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)


_RETRY = -1000  # _wait: the shell died before it took the request


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
        token = secrets.token_hex(12)
        self._token = f"{TOKEN_VARIABLE}={token}".encode()
        self._nonce = secrets.token_hex(8)
        environment = dict(normal_environment() if env is None else env)
        for name in _NOT_PASSED:
            environment.pop(name, None)
        environment[TOKEN_VARIABLE] = token
        self._env = environment
        self._files = _Files()
        self._snapshot: int | None = None  # the state file (0 or 1) of the last block that reported
        self._sessions: set[int] = set()  # every shell's session id (= its pid = its process group)
        self._shell: _Shell | None = None
        self._seq = 0
        self._running = False
        self._interrupted = False
        self._closed = False
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        # One output pipe for the whole session: background jobs of a shell that was replaced still write to it.
        self._output = read_end
        self._output_w = _high_fd(write_end)
        os.set_blocking(self._output, False)

    def __enter__(self) -> ShellSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the shell -----------------------------------------------------------------------------------------

    def _restore_file(self) -> tuple[str, int] | None:
        """Write the last complete snapshot, cleaned of bash's own variables, for a new shell to source."""
        if self._snapshot is None:
            return None
        for k in (self._snapshot, 1 - self._snapshot):
            data = self._files.read_state(k)
            if data is not None and data.endswith(b"\n#__mx_end\n"):
                break
        else:
            return None
        variables, separator, rest = data.partition(b"\n#__mx_vars\n")
        kept = [line for line in variables.split(b"\n") if not _SPECIAL_LINE.match(line)]
        self._files.write(_RESTORE_FD, b"\n".join(kept) + separator + rest)
        return self._files.restore_path, k

    def _start(self) -> _Shell:
        restore = self._restore_file()
        script = _script(self._files, self._cwd, self._nonce, *(restore or (None, 0)))
        # A restored shell gets every variable, exported or not, from the snapshot: it starts from nothing, so
        # that an `unset` sticks.
        env = {} if restore else self._env
        commands_r, commands_w = os.pipe2(os.O_CLOEXEC)
        status_r, status_w = os.pipe2(os.O_CLOEXEC)
        commands_r, status_w = _high_fd(commands_r), _high_fd(status_w)
        fds = {1: self._output_w, 2: self._output_w, _COMMAND_FD: commands_r, _STATUS_FD: status_w}
        fds.update(self._files.fds)
        try:
            pid = _spawn(self._shell_path, [self._shell_path, "--noprofile", "--norc", "-c", script, "bash"], env, fds)
        except BaseException:
            os.close(commands_w)
            os.close(status_r)
            raise
        finally:
            os.close(commands_r)
            os.close(status_w)
        self._sessions.add(pid)
        os.set_blocking(status_r, False)
        self._shell = _Shell(pid, commands_w, status_r, self._output)
        return self._shell

    def _drop(self) -> None:
        """Forget the shell (it is dead or exiting): the next block starts a new one from the snapshot."""
        shell, self._shell = self._shell, None
        if shell is not None:
            if shell.wait_status is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(shell.pid, signal.SIGKILL)
            shell.reap()
            shell.close()

    # -- a block -------------------------------------------------------------------------------------------

    def run(self, code: str, timeout: float = 60.0) -> Outcome:
        """Run one block; its state carries to the next one."""
        if self._closed:
            raise RuntimeError("ShellSession is closed")
        start = time.monotonic()
        deadline = start + timeout
        since = _boot_ticks()
        data = code.replace("\0", "").encode("utf-8", errors="surrogateescape")
        chunks: list[bytes] = []
        self._interrupted = False
        self._running = True
        status: int | None = None
        try:
            for attempt in range(2):
                if self._shell is not None and self._shell.dead():
                    self._drop()
                shell = self._shell or self._start()
                self._files.write(_CODE_FD, data)
                self._seq += 1
                try:
                    os.write(shell.commands, b"%d\n" % self._seq)
                except BrokenPipeError:  # it died before it could take the request
                    if attempt == 0:
                        self._drop()
                        continue
                status = self._wait(shell, deadline, since, chunks, retry=attempt == 0)
                if status != _RETRY:
                    break
                self._drop()
        except BaseException:  # interrupted by an exception: do not leave the block running
            if self._shell is not None:
                self._abort(self._shell, since, signal.SIGKILL, 0.0)
            raise
        finally:
            self._running = False
        timed_out = status is None and not self._interrupted
        if self._interrupted:
            status = 128 + signal.SIGKILL  # as a shell reports a command killed by SIGKILL
        output = b"".join(chunks).decode("utf-8", errors="replace")
        return Outcome(output=output, status=status, timed_out=timed_out, duration=time.monotonic() - start)

    def _wait(self, shell: _Shell, deadline: float, since: int, chunks: list[bytes], retry: bool) -> int | None:
        """Collect the block's output until its status comes; None when it timed out or was interrupted, _RETRY
        when (`retry`) the shell died before it took the request."""
        expected = str(self._seq).encode()
        dead = False
        while True:
            if self._interrupted:
                self._abort(shell, since, signal.SIGKILL, 0.0)
                _read(self._output, chunks)
                return None
            now = time.monotonic()
            if now >= deadline:
                self._abort(shell, since, signal.SIGTERM, _GRACE)
                _read(self._output, chunks)
                return None
            wait_ms = int((deadline - now) * 1000) + 1
            if shell.pidfd is None:
                wait_ms = min(wait_ms, 2)
            events = shell.poller.poll(wait_ms)
            for fd, _event in events:
                if fd == self._output:
                    _read(fd, chunks)
                elif fd == shell.pidfd:
                    dead = True
            if shell.pidfd is None and not events:
                dead = shell.dead()
            if self._interrupted:
                continue  # above: kill what the block started
            report = self._status(shell, expected)
            if report is None and dead:
                report = self._status(shell, expected)  # what it wrote just before it died
            if report is not None:
                status, how = report
                _read(self._output, chunks)
                if how == b"x":  # the block ended the shell: it writes the snapshot and exits
                    shell.reap()
                    self._drop()
                return status
            if dead:
                wait_status = shell.reap()
                _read(self._output, chunks)
                if retry and shell.unread_request():
                    return _RETRY
                self._drop()
                status = os.waitstatus_to_exitcode(wait_status)
                return 128 - status if status < 0 else status

    def _status(self, shell: _Shell, expected: bytes) -> tuple[int, bytes] | None:
        """The status line of this request when it has come, after the shell's jobs at that moment."""
        pieces: list[bytes] = []
        _read(shell.status, pieces)
        if not pieces:
            return None
        shell.buffer += b"".join(pieces)
        *lines, shell.buffer = shell.buffer.split(b"\n")
        found = None
        for line in lines:
            fields = line.split()
            if line.isdigit():
                shell.pending.add(int(line))
            elif len(fields) == 5 and fields[0] == self._nonce.encode():
                if fields[1] == expected:
                    found = int(fields[2]), fields[4]
                    self._snapshot = int(fields[3])
                    shell.jobs = shell.pending
                shell.pending = set()
        return found

    def _abort(self, shell: _Shell, since: int, sig: int, grace: float) -> None:
        """Stop the running block: kill the shell (its state goes back to the last snapshot) and what the block
        started, with `sig` and after `grace` seconds with SIGKILL; the background jobs of earlier blocks stay."""
        victims = _block_processes(shell.pid, since, shell.jobs, set())
        with contextlib.suppress(ProcessLookupError):
            os.kill(shell.pid, signal.SIGKILL)
        if victims is None:  # no /proc: the shell's process group is all we know
            _killpg(shell.pid, signal.SIGKILL)
        else:
            end = time.monotonic() + grace
            give_up = end + 1.0
            while victims and time.monotonic() < give_up:
                _signal(victims, sig if time.monotonic() < end else signal.SIGKILL)
                time.sleep(0.005)
                victims = _block_processes(shell.pid, since, shell.jobs, victims) or set()
        self._drop()

    def interrupt(self) -> None:
        """Stop the running block now (safe from a signal handler or another thread): its shell is killed at
        once, and what it started right after."""
        if self._running:
            self._interrupted = True
            shell = self._shell
            if shell is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(shell.pid, signal.SIGKILL)

    def close(self) -> None:
        """Kill every process any block left behind and remove the temporary files; idempotent."""
        if self._closed:
            return
        self._closed = True
        shell, self._shell = self._shell, None
        alive = shell is not None and not shell.dead()
        _terminate(self._sessions, self._token, _GRACE, keep=shell.pid if shell is not None and alive else None)
        if shell is not None:
            if shell.wait_status is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(shell.pid, signal.SIGKILL)
            shell.reap()
            shell.close()
        if alive:  # what the shell's death left behind (a process that was being reaped just then)
            _terminate(self._sessions, self._token, 0.0)
        os.close(self._output)
        os.close(self._output_w)
        self._files.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
