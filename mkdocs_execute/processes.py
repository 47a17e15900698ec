"""Finding and ending the processes a session started, from /proc.

A session's shell is a child subreaper, so everything its blocks start stays below it, even a daemon that
forks twice and leaves the session. Its processes were all created after it, so while the pids have not
wrapped around they are above its pid: a scan reads only the pids above it (the machine's other processes
are never opened), and the whole table when the pids may have wrapped or the session lived long.

A process that starts nothing but sessions (the CLI) can be the subreaper itself (`adopting`): its shells are
then started without a fork of the harness (a fork of a Python process costs about 1.7 ms of page tables and
copy-on-write faults, more than a short page's blocks), and the orphans it adopts are given to the session
whose token they carry, or, carrying none (`env -i`), to the sessions that were running when they began.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = [
    "Floor",
    "Mark",
    "Owner",
    "adopting",
    "block_processes",
    "boot_ticks",
    "find",
    "signal_all",
    "subreaper",
    "terminate",
]

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_BOOTTIME = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)
_SHORT = 2.0  # seconds: a session younger than this cannot have gone through every pid since it began

Table = dict[int, tuple[int, int, int, int]]  # pid -> (ppid, pgrp, session, start time)
Owner = tuple[bytes, int]  # a session's token (`NAME=value` as in an environment) and its start, in boot ticks
TOKEN_VARIABLE = "MKDOCS_EXECUTE_SESSION"
"""Marks every process a session starts (it is inherited through the environment), so that a session's close
also finds daemons that escaped its tree: when a shell was lost, where it is not a subreaper, and among the
orphans a subreaper harness adopts."""
_ANY_TOKEN = b"\0" + TOKEN_VARIABLE.encode() + b"="
PR_SET_CHILD_SUBREAPER = 36


def _load_prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


prctl = _load_prctl()


def subreaper(on: bool = True) -> bool:
    """Make this process the subreaper of what it starts (or no longer); whether it could."""
    return prctl is not None and prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0


_adopting: list[int] = []  # this process's pid while it is the subreaper of its sessions
_spawned: set[int] = set()  # the children it started itself then: never taken for adopted orphans


@contextlib.contextmanager
def adopting() -> Iterator[bool]:
    """Make this process the subreaper of the sessions it starts while inside (True when it could); on the
    way out, the orphans left (zombies) are reaped."""
    if _adopting or not subreaper():
        yield bool(_adopting)
        return
    _adopting.append(os.getpid())
    try:
        yield True
    finally:
        _sweep()
        subreaper(False)
        _adopting.clear()
        _spawned.clear()


def own_token(environment: dict[str, str]) -> Owner:
    """A new session's token, put in the environment its processes start with."""
    token = os.urandom(12).hex()  # `secrets` is this, and costs an import
    environment[TOKEN_VARIABLE] = token
    return f"{TOKEN_VARIABLE}={token}".encode(), boot_ticks()


def _sweep() -> None:
    """The orphans still adopted when the harness is done (none, unless one slipped past its session's close)
    are killed, until none is left (the orphans of a killed one come back here), and reaped."""
    for _ in range(200):
        adopted = _reap_adopted()
        alive = [pid for pid in adopted if (stat := _read_stat(str(pid))) is not None and stat[0] != b"Z"]
        if not alive:
            return
        signal_all(alive, signal.SIGKILL)
        time.sleep(0.005)


def is_adopting() -> bool:
    return bool(_adopting) and _adopting[0] == os.getpid()


def spawned(pid: int, alive: bool = True) -> None:
    """Record a child this process started itself (alive=False: it has been reaped)."""
    if alive and _adopting:
        _spawned.add(pid)
    else:
        _spawned.discard(pid)


def _children() -> set[int]:
    """This process's children (zombies included), from every thread's list."""
    found: set[int] = set()
    with contextlib.suppress(OSError):
        for task in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError, ValueError), open(f"/proc/self/task/{task}/children", "rb") as f:
                found.update(int(pid) for pid in f.read().split())
    return found


def _environ(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _adopted(processes: Table, owner: Owner | None, since: int | None = None) -> set[int]:
    """The orphans this process adopted that belong to `owner`'s session: they carry its token, or no
    session's token and began after it did; with `since`, only those that began at that tick or later."""
    if owner is None or not is_adopting():
        return set()
    me, (token, began) = os.getpid(), owner
    found = set()
    for pid, (ppid, _pgrp, _session, start) in processes.items():
        if ppid != me or pid in _spawned or start < (began if since is None else since):
            continue
        environ = _environ(pid)
        if token in environ or _ANY_TOKEN not in b"\0" + environ:
            found.add(pid)
    return found


def boot_ticks() -> int:
    """Now, in the unit and from the origin of a process's start time in /proc/PID/stat."""
    return int(time.clock_gettime(_BOOTTIME) * _HZ)


def _last_pid() -> int | None:
    try:
        with open("/proc/loadavg", "rb") as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


class Floor:
    """The lowest pid a session's processes can have: its first shell's, while the session is young and the
    pids have not wrapped around since it began."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.since = time.monotonic()
        self.last = _last_pid()

    def value(self) -> int:
        """The pid below which nothing needs reading; 0 when everything does."""
        if self.last is None or time.monotonic() - self.since > _SHORT:
            return 0
        now = _last_pid()
        return self.pid if now is not None and self.last <= now and self.pid <= self.last else 0


def _read_stat(pid: str) -> tuple[bytes, int, int, int, int] | None:
    """(state, ppid, pgrp, session, start time) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19])


def table(floor: int = 0) -> Table | None:
    """The live processes from pid `floor` up, but this one; None without /proc."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    me = os.getpid()
    found: Table = {}
    for name in names:
        if not name.isdigit() or int(name) < floor or int(name) == me:
            continue
        stat = _read_stat(name)
        if stat is not None and stat[0] != b"Z":
            found[int(name)] = stat[1:]
    return found


def descendants(processes: Table, roots: set[int]) -> set[int]:
    """The roots (those alive) and all their descendants."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in processes.items():
        children.setdefault(ppid, []).append(pid)
    found = {pid for pid in roots if pid in processes}
    todo = list(found)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def find(sessions: set[int], token: bytes | None, floor: int = 0, owner: Owner | None = None) -> list[int] | None:
    """Live processes of these sessions or groups, those carrying `token` in their environment, the orphans
    adopted for `owner`, and all their descendants. None when /proc cannot be read."""
    processes = table(floor)
    if processes is None:
        return None
    found = _adopted(processes, owner)
    for pid, (_ppid, pgrp, session, _start) in processes.items():
        if pgrp in sessions or session in sessions or (token is not None and token in _environ(pid)):
            found.add(pid)
    return sorted(descendants(processes, found))


class Mark:
    """When a block began: the clock tick, and the last pid given out by then (None: unknown), for the
    processes that began in that very tick (a tick is 10 ms)."""

    def __init__(self, last: bool = True) -> None:
        self.ticks = boot_ticks()
        self.pid = _last_pid() if last else None

    def before(self, pid: int, start: int) -> bool:
        """Whether a process began before the block."""
        if start != self.ticks:
            return start < self.ticks
        return self.pid is not None and pid <= self.pid


def block_processes(shell: int, mark: Mark, floor: int = 0, owner: Owner | None = None) -> set[int] | None:
    """What the running block started: the shell's children (and the orphans adopted for `owner`) that began
    since the block did, with their descendants; not the shell, nor what the background jobs of earlier
    blocks start now. None without /proc."""
    processes = table(floor)
    if processes is None:
        return None
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in processes.items():
        children.setdefault(ppid, []).append(pid)
    new = {pid for pid in children.get(shell, ()) if not mark.before(pid, processes[pid][3])}
    new |= {pid for pid in _adopted(processes, owner, mark.ticks) if not mark.before(pid, processes[pid][3])}
    return descendants(processes, new)


def signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def terminate(
    sessions: set[int],
    token: bytes | None,
    grace: float,
    keep: int | None = None,
    floor: Floor | None = None,
    owner: Owner | None = None,
) -> bool:
    """SIGTERM everything found but `keep` (the live shell, a subreaper), then SIGSTOP and SIGKILL what is
    still alive after `grace` seconds, until a scan finds nothing: a stopped process cannot fork, and the
    orphans of a killed one come back to the shell, where the next scan finds them. Whether anything (but
    `keep`) was found, or could have been (no /proc)."""
    low = floor.value() if floor is not None else 0
    pids = find(sessions, token, low, owner)
    if pids is None:  # no /proc: the process groups are all we know
        for pgid in sessions:
            killpg(pgid, signal.SIGTERM)
        time.sleep(min(grace, 0.05))
        for pgid in sessions:
            killpg(pgid, signal.SIGKILL)
        return True
    end = time.monotonic() + grace
    give_up = end + 2.0  # a process stuck in the kernel (state D) survives even SIGKILL for a while
    pids = [pid for pid in pids if pid != keep]
    found = bool(pids)
    signal_all(pids, signal.SIGTERM)
    while pids and time.monotonic() < give_up:
        if time.monotonic() >= end:
            signal_all(pids, signal.SIGSTOP)
            signal_all(pids, signal.SIGKILL)
        time.sleep(0.005)
        pids = [pid for pid in find(sessions, token, low, owner) or [] if pid != keep]
    _reap(owner)
    return found


def _reap(owner: Owner | None) -> None:
    if owner is not None and is_adopting():
        _reap_adopted()


def _reap_adopted() -> set[int]:
    """Adopted orphans that ended are this process's zombies until it waits for them; the adopted ones."""
    adopted = _children() - _spawned
    for pid in adopted:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    return adopted
