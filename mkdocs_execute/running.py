"""Run the command blocks of a page in a real bash, one "terminal" per page.

Every block runs in a NEW ``bash --noprofile --norc`` process, in its own session and process group, with no
terminal and stdin from /dev/null; the shell state (variables, functions, aliases, options, umask, working
directory) is saved by the previous block into a private directory and restored by a short prelude. That gives
each block its own timeout and process group, an honest exit status, and a clean kill, while the page still
behaves like one terminal session (this is what scrut does).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import shlex
import shutil
import signal
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass

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
# Bash's own variables, unset in the dying shell before the state dump so that restoring it cannot disturb the
# next shell (the read-only ones cannot be unset: restoring them fails quietly), and the harness's own.
_SPECIAL = (
    "BASH_SOURCE BASH_LINENO BASH_ARGC BASH_ARGV BASH_ARGV0 BASH_COMMAND BASH_EXECUTION_STRING BASH_SUBSHELL"
    " BASH_REMATCH BASH_ALIASES BASH_CMDS BASHPID FUNCNAME RANDOM SRANDOM SECONDS LINENO EPOCHREALTIME"
    " EPOCHSECONDS HISTCMD DIRSTACK GROUPS COMP_WORDBREAKS PIPESTATUS SHLVL _"
    " __mx_code __mx_f __mx_first __mx_last __mx_done __mx_save __mx_b0 __mx_s0 __mx_x __mx_i __mx_ifs"
)
_GRACE = 1.0  # seconds between SIGTERM and SIGKILL
_DRAIN = 0.005  # seconds to keep reading after bash exited, when a background job still holds the pipe
_ARGV_LIMIT = 100_000  # bytes of code passed on the command line (Linux caps one argument at 128 KiB)

# Bash that computes the block's status, dumps the shell state to @NEW@ and exits with that status. It starts
# with `$?` intact (the exit status in the EXIT trap, the last command's on the normal path) and runs inside
# `{ …; } 2>/dev/null`, so that `set -x` traces none of it. The status: at a normal end, the first failure
# (recorded by the ERR trap) or else the last status; at `exit N`, N or else the first failure. -e -u -x -v are
# switched off here and back on at the start of the next block's code ($__mx_pre), where they belong. Variables
# that a fresh bash sets by itself (IFS, PS4, PATH…) stay unset if the block unset them. Cost matters: every
# line a builtin prints is one write(2) and every line of the state one command to run, so the dump is ONE
# `declare -p` (no loop over names) and options are written only where they differ from a fresh shell's
# ($BASHOPTS, $SHELLOPTS at the start of the block).
# Order in the state: cd before variables (OLDPWD), options before functions (extglob patterns), functions
# before aliases (their bodies are already alias-expanded).
_SAVE = r"""
__mx_st=$? __mx_f=$-; builtin set +euvx; builtin trap - EXIT ERR
if [[ -n $__mx_done ]]; then __mx_st=${__mx_first:-$__mx_last}
  ; elif (( __mx_st == 0 )); then __mx_st=${__mx_first:-0}; fi
__mx_pre=; [[ $__mx_f == *e* ]] && __mx_pre+=e; [[ $__mx_f == *u* ]] && __mx_pre+=u
[[ $__mx_f == *x* ]] && __mx_pre+=x; [[ $__mx_f == *v* ]] && __mx_pre+=v
[[ -n $__mx_pre ]] && __mx_pre="builtin set -$__mx_pre; "
__mx_o="builtin cd -- ${PWD@Q} || builtin cd -- @CWD@"$'\n'
__mx_i=${IFS+set} __mx_ifs=$IFS; IFS=$' \t\n'
if [[ $BASHOPTS != "$__mx_b0" ]]; then __mx_o+="builtin shopt -s ${BASHOPTS//:/ }"$'\n'
  ; for __mx_x in ${__mx_b0//:/ }; do [[ :$BASHOPTS: == *:$__mx_x:* ]]
  || __mx_o+="builtin shopt -u $__mx_x"$'\n'; done; fi
if [[ $SHELLOPTS != "$__mx_s0" ]]; then for __mx_x in ${SHELLOPTS//:/ }; do [[ :$__mx_s0: == *:$__mx_x:* ]]
  || __mx_o+="builtin set -o $__mx_x"$'\n'; done
  ; for __mx_x in ${__mx_s0//:/ }; do [[ :$SHELLOPTS: == *:$__mx_x:* ]]
  || __mx_o+="builtin set +o $__mx_x"$'\n'; done; fi
for __mx_x in PS4 OPTERR OPTIND HOSTNAME HOSTTYPE MACHTYPE OSTYPE PATH TERM SHELL
  ; do [[ -v $__mx_x ]] || __mx_o+="builtin unset -v $__mx_x"$'\n'; done
if [[ -n $__mx_i ]]; then IFS=$__mx_ifs; else builtin unset -v IFS; __mx_o+=$'builtin unset -v IFS\n'; fi
builtin unset -v @SPECIAL@
{ builtin printf %s "$__mx_o"; builtin unset -v __mx_o; builtin declare -p; builtin declare -f; builtin declare -Fx
  ; builtin alias -p; builtin umask -p; } >| @NEW@
builtin exit "$__mx_st"
"""


def _one_line(script: str) -> str:
    """Join a script's lines with "; ", and its indented lines to the line before with a space."""
    lines: list[str] = []
    for line in script.strip().splitlines():
        if line.startswith("  "):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return "; ".join(lines)


# One line: the wrapper must stay on the first line of the -c script (see _wrapper).
_SAVE = _one_line(_SAVE)


def _wrapper(directory: str, cwd: str, restore: bool, code_in_file: bool) -> str:
    """The -c script of one block, all on its first line so that $LINENO in the block's code counts from 1."""
    state = os.path.join(directory, "state")
    save = _SAVE.replace("@CWD@", shlex.quote(cwd)).replace("@SPECIAL@", _SPECIAL)
    save = save.replace("@NEW@", shlex.quote(state + ".new"))
    parts = [
        "builtin shopt -s expand_aliases",
        "__mx_b0=$BASHOPTS __mx_s0=$SHELLOPTS __mx_pre=",
        f"IFS= builtin read -r -d '' __mx_code <{shlex.quote(os.path.join(directory, 'code'))}"
        if code_in_file
        else "__mx_code=$1",
        "builtin set --",
        f"{{ builtin . {shlex.quote(state)}; }} 2>/dev/null"
        if restore  # a fresh terminal otherwise: in the session's directory, without OLDPWD
        else f"{{ builtin cd -- {shlex.quote(cwd)}; builtin unset -v OLDPWD; }} 2>/dev/null",
        "__mx_first= __mx_done=",
        f"__mx_save={shlex.quote(save)}",
        "builtin trap '{ builtin eval \"$__mx_save\"; } 2>/dev/null' EXIT",
        # Same rules as set -e (tested commands do not count), but the block goes on as a terminal would.
        "builtin trap '{ __mx_first=${__mx_first:-$?}; } 2>/dev/null' ERR",
        # `eval` parses one command at a time: an alias defined on a line works on the next one.
        'builtin eval "$__mx_pre$__mx_code"',
        '{ __mx_last=$? __mx_done=1; builtin eval "$__mx_save"; } 2>/dev/null',
    ]
    return "; ".join(parts)


def _state_parent() -> str | None:
    """/dev/shm when it is there: the state is written and read once per block, and tmpfs is far cheaper."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _read_stat(pid: str) -> tuple[bytes, int, int, int] | None:
    """(state, ppid, pgrp, session) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[3])


def _find_processes(sessions: set[int], token: bytes | None) -> list[int] | None:
    """Live processes of these sessions or groups, those carrying `token` in their environment, and all their
    descendants. None when /proc cannot be read."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    me = os.getpid()
    children: dict[int, list[int]] = {}
    found: set[int] = set()
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        stat = _read_stat(name)
        if stat is None or stat[0] == b"Z":
            continue
        pid = int(name)
        children.setdefault(stat[1], []).append(pid)
        if stat[2] in sessions or stat[3] in sessions:
            found.add(pid)
        elif token is not None:
            try:
                with open(f"/proc/{name}/environ", "rb") as f:
                    if token in f.read():
                        found.add(pid)
            except OSError:
                pass
    todo = list(found)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found and child != me:
                found.add(child)
                todo.append(child)
    return sorted(found)


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _terminate(sessions: set[int], token: bytes | None, grace: float) -> None:
    """SIGTERM everything found, SIGKILL what is still alive after `grace` seconds."""
    pids = _find_processes(sessions, token)
    if pids is None:  # no /proc: the process groups are all we know
        for pgid in sessions:
            _killpg(pgid, signal.SIGTERM)
        time.sleep(min(grace, 0.05))
        for pgid in sessions:
            _killpg(pgid, signal.SIGKILL)
        return
    end = time.monotonic() + grace
    give_up = end + 1.0  # a process stuck in the kernel (state D) survives even SIGKILL for a while
    while pids and time.monotonic() < give_up:
        _signal(pids, signal.SIGTERM if time.monotonic() < end else signal.SIGKILL)
        time.sleep(0.005)
        pids = _find_processes(sessions, token) or []


class ShellSession:
    """One terminal for a page: blocks run in order, sharing state; close() kills whatever they left behind."""

    def __init__(
        self, env: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None, shell: str = "bash"
    ) -> None:
        found = shutil.which(shell)
        if found is None:
            raise FileNotFoundError(f"shell not found: {shell}")
        self._shell = found
        self._cwd = os.path.abspath(os.fspath(cwd)) if cwd is not None else os.getcwd()
        token = secrets.token_hex(12)
        self._token = f"{TOKEN_VARIABLE}={token}".encode()
        environment = dict(normal_environment() if env is None else env)
        for name in _NOT_PASSED:
            environment.pop(name, None)
        environment[TOKEN_VARIABLE] = token
        self._env = environment
        self._dir = tempfile.mkdtemp(prefix="mkdocs-execute-", dir=_state_parent())  # mode 0700
        self._state = os.path.join(self._dir, "state")
        self._wrappers = {
            (restore, in_file): _wrapper(self._dir, self._cwd, restore, in_file)
            for restore in (False, True)
            for in_file in (False, True)
        }
        self._has_state = False
        self._sessions: set[int] = set()  # every block's session id (= its bash's pid = its process group)
        self._leftovers: list[int] = []  # read ends still held open by background jobs of finished blocks
        self._running: int | None = None
        self._closed = False

    def __enter__(self) -> ShellSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, code: str, timeout: float = 60.0) -> Outcome:
        """Run one block; its state carries to the next one."""
        if self._closed:
            raise RuntimeError("ShellSession is closed")
        start = time.monotonic()
        code = code.replace("\0", "")
        argv = [self._shell, "--noprofile", "--norc", "-c"]
        in_file = len(code) > _ARGV_LIMIT // 4 and len(code.encode()) > _ARGV_LIMIT
        if in_file:
            with open(os.path.join(self._dir, "code"), "w", encoding="utf-8") as f:
                f.write(code)
            argv += [self._wrappers[self._has_state, True], "bash"]
        else:
            argv += [self._wrappers[self._has_state, False], "bash", code]
        # After the first block the state file holds every variable, exported or not: start from nothing so
        # that an `unset` sticks.
        env = {} if self._has_state else self._env

        read_end, write_end = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            os.set_blocking(write_end, True)
            pid = os.posix_spawn(
                self._shell,
                argv,
                env,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, write_end, 1),
                    (os.POSIX_SPAWN_DUP2, write_end, 2),
                ],
                setsid=True,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        self._sessions.add(pid)
        self._running = pid
        try:
            chunks, wait_status, timed_out, pipe_open = self._collect(pid, read_end, start + timeout)
        finally:
            self._running = None
        if pipe_open:
            self._leftovers.append(read_end)  # closing it would SIGPIPE the background job that writes to it
        else:
            os.close(read_end)

        status: int | None = None
        if not timed_out:
            status = os.waitstatus_to_exitcode(wait_status)
            if status < 0:  # killed by a signal: report it as a shell does, 128 + the signal
                status = 128 - status
        new_state = self._state + ".new"
        if os.WIFEXITED(wait_status) and not timed_out and os.path.exists(new_state):
            os.replace(new_state, self._state)
            self._has_state = True
        else:  # killed mid-block: the state of the block before stays
            with contextlib.suppress(FileNotFoundError):
                os.unlink(new_state)
        output = b"".join(chunks).decode("utf-8", errors="replace")
        return Outcome(output=output, status=status, timed_out=timed_out, duration=time.monotonic() - start)

    def _collect(self, pid: int, fd: int, deadline: float) -> tuple[list[bytes], int, bool, bool]:
        """Read the block's output until its bash exits (not until EOF: a background job may hold the pipe).

        Returns (chunks, wait status, timed out, pipe still open)."""
        chunks: list[bytes] = []
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        leftovers = list(self._leftovers)
        for old in leftovers:
            poller.register(old, select.POLLIN)
        try:
            pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):  # no pidfd (old kernel): poll waitpid instead
            pidfd = None
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        pipe_open = True
        timed_out = False
        killed = False
        wait_status: int | None = None
        try:
            while wait_status is None:
                now = time.monotonic()
                if now >= deadline:
                    if not timed_out:  # SIGTERM to the whole group, then SIGKILL after the grace
                        timed_out = True
                        _killpg(pid, signal.SIGTERM)
                        deadline = now + _GRACE
                    elif not killed:
                        killed = True
                        _killpg(pid, signal.SIGKILL)
                        deadline = now + 3600.0
                wait_ms = max(0, int((deadline - now) * 1000) + 1)
                if pidfd is None:
                    wait_ms = min(wait_ms, 2)
                for ready, _event in poller.poll(wait_ms):
                    if ready == fd:
                        pipe_open = self._read(fd, chunks)
                        if not pipe_open:
                            poller.unregister(fd)
                    elif ready == pidfd:
                        wait_status = os.waitpid(pid, 0)[1]
                    elif not self._read(ready, chunks):  # a background job of an earlier block wrote
                        poller.unregister(ready)
                        self._leftovers.remove(ready)
                        os.close(ready)
                if pidfd is None and wait_status is None:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        wait_status = status
            # Bash has exited: take what is in the pipe, and a few ms more if a background job still holds it.
            if pipe_open and (pipe_open := self._read(fd, chunks)):
                drain = select.poll()
                drain.register(fd, select.POLLIN)
                end = time.monotonic() + _DRAIN
                while pipe_open and (left := end - time.monotonic()) > 0 and drain.poll(int(left * 1000) + 1):
                    pipe_open = self._read(fd, chunks)
            if timed_out:
                # Bash is gone; give what is left of its group the rest of the grace, then SIGKILL it.
                _terminate({pid}, None, max(0.0, deadline - time.monotonic()) if not killed else 0.0)
                _killpg(pid, signal.SIGKILL)
        finally:
            if pidfd is not None:
                os.close(pidfd)
            if wait_status is None:  # interrupted by an exception: do not leave the block running
                _killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        return chunks, wait_status, timed_out, pipe_open

    @staticmethod
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

    def interrupt(self) -> None:
        """Kill the running block's whole process group now (safe from a signal handler or another thread)."""
        pid = self._running
        if pid is not None:
            _killpg(pid, signal.SIGKILL)

    def close(self) -> None:
        """Kill every process any block left behind and remove the temporary files; idempotent."""
        if self._closed:
            return
        self._closed = True
        self.interrupt()
        _terminate(self._sessions, self._token, _GRACE)
        for fd in self._leftovers:
            os.close(fd)
        self._leftovers.clear()
        shutil.rmtree(self._dir, ignore_errors=True)
