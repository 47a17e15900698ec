"""Run `python` blocks in one persistent interpreter per page: names, imports and objects carry over.

The interpreter runs a small loop: it reads a block from a private pipe (fd 62, `SEQ SIZE` then the code),
executes it in the page's namespace with stdout and stderr on one pipe, and reports `SEQ STATUS` on another
(fd 63). An exception prints its traceback and gives status 1; `sys.exit(N)` gives N and keeps the state.
Past its time limit a block gets SIGINT (KeyboardInterrupt, as Ctrl-C in a REPL); if it does not stop
within a second, the interpreter and everything it started are killed and the next block starts afresh.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import sys
import time
from collections.abc import Mapping

from . import processes
from .running import _GRACE, Outcome, _high_fd, _read, _spawn, normal_environment

_LOOP = r"""
import os, sys, traceback
def _mx_loop():
    requests = os.fdopen(62, "rb")
    status = os.fdopen(63, "wb", buffering=0)
    scope = {"__name__": "__main__", "__builtins__": __builtins__}
    del sys.argv[1:]
    while True:
        head = requests.readline()
        if not head:
            return
        seq, size = head.split()
        code = requests.read(int(size)).decode("utf-8", "surrogateescape")
        result = 0
        try:
            exec(compile(code, "<block>", "exec"), scope)
        except SystemExit as stop:
            if stop.code is None or isinstance(stop.code, int):
                result = stop.code or 0
            else:
                print(stop.code, file=sys.stderr)
                result = 1
        except BaseException:
            kind, value, trace = sys.exc_info()
            traceback.print_exception(kind, value, trace.tb_next if trace else None)
            result = 1
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        status.write(b"%s %d\n" % (seq, result & 255 if result >= 0 else 1))
_mx_loop()
"""


class PythonSession:
    """One interpreter for a page's `python` blocks."""

    def __init__(self, env: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None) -> None:
        environment = dict(normal_environment() if env is None else env)
        environment.pop("PYTHONSTARTUP", None)
        environment["PYTHONUNBUFFERED"] = "1"
        self._owner = processes.own_token(environment)
        self._env = environment
        self._cwd = os.path.abspath(os.fspath(cwd)) if cwd is not None else os.getcwd()
        self._python = shutil.which("python3", path=environment.get("PATH")) or sys.executable
        self._pid: int | None = None
        self._groups: set[int] = set()
        self._seq = 0
        self._running = False
        self._interrupted = False

    def __enter__(self) -> PythonSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        commands_r, commands_w = os.pipe2(os.O_CLOEXEC)
        status_r, status_w = os.pipe2(os.O_CLOEXEC)
        output_r, output_w = os.pipe2(os.O_CLOEXEC)
        commands_r, status_w, output_w = _high_fd(commands_r), _high_fd(status_w), _high_fd(output_w)
        fds = {1: output_w, 2: output_w, 62: commands_r, 63: status_w}
        here = os.getcwd()
        try:
            os.chdir(self._cwd)  # the child starts where the page runs
            self._pid = _spawn(self._python, [self._python, "-u", "-c", _LOOP], self._env, fds)
        finally:
            os.chdir(here)
            for fd in (commands_r, status_w, output_w):
                os.close(fd)
        self._groups.add(self._pid)
        self._commands, self._status, self._output = commands_w, status_r, output_r
        for fd in (status_r, output_r):
            os.set_blocking(fd, False)
        self._buffer = b""

    def run(self, code: str, timeout: float = 60.0) -> Outcome:
        start = time.monotonic()
        if self._pid is None:
            self._start()
        self._seq += 1
        data = code.encode("utf-8", errors="surrogateescape")
        self._running, self._interrupted = True, False
        chunks: list[bytes] = []
        try:
            os.write(self._commands, b"%d %d\n" % (self._seq, len(data)) + data)
            status = self._wait(start + timeout, chunks)
        except BrokenPipeError:
            status = self._died(chunks)
        finally:
            self._running = False
        timed_out = status is None and not self._interrupted
        if self._interrupted:
            status = 128 + signal.SIGINT
        output = b"".join(chunks).decode("utf-8", errors="replace")
        return Outcome(output, status, timed_out, time.monotonic() - start)

    def _wait(self, deadline: float, chunks: list[bytes]) -> int | None:
        stopping: float | None = None
        watched = [self._output, self._status]
        while True:
            now = time.monotonic()
            if (now >= deadline or self._interrupted) and stopping is None:
                self._signal(signal.SIGINT)  # as Ctrl-C: the namespace survives
                stopping = now + _GRACE
            if stopping is not None and now >= stopping:
                self._kill()
                return None
            limit = (stopping or deadline) - now
            ready, _, _ = select.select(watched, [], [], max(limit, 0))
            if self._output in ready and not _read(self._output, chunks):
                watched.remove(self._output)  # closed by the block; the status still comes
            if self._status in ready:
                report, alive = self._report()
                if report is not None:
                    _read(self._output, chunks)
                    return None if stopping is not None else report
                if not alive:
                    return self._died(chunks)

    def _report(self) -> tuple[int | None, bool]:
        """This block's status if it came, and whether the interpreter is still there."""
        pieces: list[bytes] = []
        alive = _read(self._status, pieces)
        self._buffer += b"".join(pieces)
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            seq, _, status = line.partition(b" ")
            if seq == b"%d" % self._seq:
                return int(status), alive
        return None, alive

    def _died(self, chunks: list[bytes]) -> int:
        """The interpreter ended (`os._exit`, a crash): the next block starts a new one."""
        _read(self._output, chunks)
        pid = self._pid
        status = 1
        if pid is not None:
            with contextlib.suppress(ChildProcessError):
                status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) & 255
        self._kill()
        return status

    def _kill(self) -> None:
        pid, self._pid = self._pid, None
        if pid is None:
            return
        # What it started, first: its orphans come back to it.
        processes.terminate({pid}, None, 0.0, keep=pid, owner=self._owner)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)  # already reaped when it died by itself
        processes.spawned(pid, alive=False)
        for fd in (self._commands, self._status, self._output):
            with contextlib.suppress(OSError):
                os.close(fd)

    def interrupt(self) -> None:
        if self._running:
            self._interrupted = True
            self._signal(signal.SIGINT)

    def _signal(self, sig: int) -> None:
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, sig)

    def close(self) -> None:
        self._kill()
        processes.terminate(self._groups, None, 0.0, owner=self._owner)
