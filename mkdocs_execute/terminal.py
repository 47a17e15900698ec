"""`mkdocs-execute terminal`: a local shell behind a WebSocket, for the Run buttons.

One shell per connection (one per tab of the terminal drawer), each in its own session on its own
pseudo-terminal. The handshake is refused unless it carries the token (query parameter `token`)
and comes from an allowed Origin: a web page on another site can open a WebSocket to 127.0.0.1 as
easily as ours can, so the Origin check is what keeps other sites out, and the token keeps out
whatever cannot read our served pages.

Protocol: the client sends text frames of JSON, `{"type": "input", "data": "..."}` and
`{"type": "resize", "cols": 80, "rows": 24}`; the server sends the shell's output as binary frames
and, first, one text frame `{"type": "hello", "marker": true}`. With bash, the prompt prints the
private escape sequence OSC 6973 (`ESC ] 6973 ; STATUS BEL`) through PROMPT_COMMAND; terminals
ignore it, and the browser script uses it to know that a command is over.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import ipaddress
import json
import logging
import os
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import MultipleValuesError
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .processes import subreaper as _subreaper
from .processes import terminate as _terminate

log = logging.getLogger("mkdocs.plugins.execute.terminal")

MARKER = 6973
"""The OSC number of the prompt marker ("mx")."""
_RC = f"""\
[ -f ~/.bashrc ] && . ~/.bashrc
__mx_prompt() {{ local s=$?; printf '\\033]{MARKER};%s\\007' "$s"; return $s; }}
PROMPT_COMMAND="__mx_prompt${{PROMPT_COMMAND:+;$PROMPT_COMMAND}}"
"""
_MAX_QUEUE = 64  # output chunks waiting for a slow socket before the shell's output is paused


def default_origins(port: int = 8000) -> list[str]:
    """The origins of `mkdocs serve` on this machine."""
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Settings:
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    origins: list[str] = field(default_factory=default_origins)
    shell: str = field(default_factory=lambda: os.environ.get("SHELL") or shutil.which("bash") or "/bin/sh")
    host: str = "127.0.0.1"
    port: int = 0
    cwd: str | None = None
    max_shells: int = 16
    """Shells open at once; a connection past the cap is refused (503) with that reason."""
    max_message: int = 1 << 20
    """The largest input message, in bytes: a bigger one closes the connection (1009, message too big)."""


class Shell:
    """A shell on a pseudo-terminal, in a new session so that it and its children can be killed together."""

    def __init__(self, argv: list[str], cwd: str | None) -> None:
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)  # a write must never stop the event loop: what waits is buffered
        self.pending = bytearray()
        env = {**os.environ, "TERM": "xterm-256color", "MKDOCS_EXECUTE_TERMINAL": "1"}
        try:
            self.process = subprocess.Popen(
                argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=cwd,
                env=env,
                start_new_session=True,
                preexec_fn=_take_terminal,  # the shell needs the PTY as its controlling terminal
                close_fds=True,
            )
        except OSError:
            os.close(self.master)
            raise
        finally:
            os.close(slave)

    def write(self, data: str) -> None:
        """Queue input for the shell; `flush` writes what the PTY takes now."""
        self.pending += data.encode("utf-8", "replace")
        self.flush()

    def flush(self) -> bool:
        """Write what the PTY accepts without blocking; whether everything went."""
        while self.pending:
            try:
                written = os.write(self.master, self.pending[:65536])
            except BlockingIOError:
                return False
            except OSError:  # the shell is gone: its input goes nowhere
                self.pending.clear()
                return True
            del self.pending[:written]
        return True

    def resize(self, cols: int, rows: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def kill(self, grace: float = 1.0) -> None:
        """End everything the shell started, `setsid` daemons included (the shell is their subreaper, so
        they stay below it while it lives), then the shell; leaves no process behind."""
        sid = self.process.pid
        if self.process.poll() is None:
            _terminate({sid}, None, grace, keep=sid)
        with contextlib.suppress(OSError):
            os.killpg(sid, signal.SIGHUP)
        with contextlib.suppress(OSError):
            os.close(self.master)  # the hang-up also reaches the foreground job
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(grace)
        _terminate({sid}, None, 0.0)  # the shell if it ignored the hang-up, and whatever its death left behind
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)


def _take_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    _subreaper()


class TerminalServer:
    """The WebSocket server; `start()` runs it on a thread of its own (for `mkdocs serve`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.shells: set[Shell] = set()
        self.port = settings.port
        self.rc = _write_rc()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        return f"ws://{host}:{self.port}/"

    def argv(self) -> list[str]:
        shell = self.settings.shell
        if Path(shell).name == "bash":
            return [shell, "--rcfile", str(self.rc), "-i"]
        return [shell, "-i"]

    def check(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse a handshake without the token (401), from a foreign Origin (403), with doubled or
        malformed headers (400), or past the cap on open shells (503)."""
        try:
            tokens = parse_qs(urlsplit(request.path).query).get("token", [""])
            origins = request.headers.get_all("Origin")
            if len(tokens) > 1 or len(origins) > 1:
                raise MultipleValuesError("Origin or token given twice")
        except (ValueError, MultipleValuesError) as error:
            return connection.respond(HTTPStatus.BAD_REQUEST, f"Malformed request: {error}.\n")
        if not secrets.compare_digest(tokens[0].encode(), self.settings.token.encode()):
            return connection.respond(HTTPStatus.UNAUTHORIZED, "A valid token is required.\n")
        origin = (origins[0] if origins else "").rstrip("/").lower()
        if origin not in {o.rstrip("/").lower() for o in self.settings.origins}:
            log.warning("terminal: refused a connection from origin %r", origin or None)
            return connection.respond(HTTPStatus.FORBIDDEN, "This origin may not use the terminal.\n")
        if len(self.shells) >= self.settings.max_shells:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, self.full + "\n")
        return None

    @property
    def full(self) -> str:
        return f"Too many terminals are open ({self.settings.max_shells}): close one and try again."

    async def session(self, connection: ServerConnection) -> None:
        if len(self.shells) >= self.settings.max_shells:  # handshakes that raced past the check
            await connection.close(1013, self.full)
            return
        shell = Shell(self.argv(), self.settings.cwd)
        self.shells.add(shell)
        try:
            await connection.send(json.dumps({"type": "hello", "marker": Path(self.settings.shell).name == "bash"}))
            await _relay(connection, shell)
        finally:
            self.shells.discard(shell)
            await asyncio.to_thread(shell.kill)

    async def serve(self, bound: threading.Event | None = None) -> None:
        """Serve until `stop()` (or the task is cancelled), then close every shell."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server: Server
        async with serve(
            self.session,
            self.settings.host,
            self.settings.port,
            process_request=self.check,
            max_size=self.settings.max_message,
            server_header=None,
        ) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            if bound is not None:
                bound.set()
            try:
                await self._stop.wait()
            finally:
                server.close(close_connections=True)
                await asyncio.wait_for(server.wait_closed(), 5)
                self.close_shells()

    def close_shells(self) -> None:
        for shell in list(self.shells):
            shell.kill()
        self.shells.clear()

    def start(self) -> TerminalServer:
        self._thread = threading.Thread(target=self._run, name="mkdocs-execute-terminal", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self.serve(self._ready))
        except BaseException as error:  # reported to start(); the thread must not die silently
            self._error = error
            self._ready.set()

    def stop_soon(self) -> None:
        """From the server's own loop (a signal handler): end `serve()`."""
        if self._stop is not None:
            self._stop.set()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may have ended already
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        self.close_shells()
        with contextlib.suppress(OSError):
            self.rc.unlink()


def _write_rc() -> Path:
    fd, name = tempfile.mkstemp(prefix="mkdocs-execute-", suffix=".bashrc")
    with os.fdopen(fd, "w", encoding="utf-8") as rc:
        rc.write(_RC)
    return Path(name)


async def _relay(connection: ServerConnection, shell: Shell) -> None:
    """Shell output to the socket, socket messages to the shell, until either side ends."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue()

    def readable() -> None:
        try:
            data = os.read(shell.master, 65536)
        except OSError:  # EIO: the shell is gone
            data = b""
        if not data or queue.qsize() >= _MAX_QUEUE:
            loop.remove_reader(shell.master)
        queue.put_nowait(data)

    async def pump() -> None:
        while data := await queue.get():
            await connection.send(data)
            if queue.empty():
                loop.add_reader(shell.master, readable)
        await connection.close(1000, "the shell exited")

    loop.add_reader(shell.master, readable)
    pumping = asyncio.create_task(pump())
    try:
        async for message in connection:
            _handle(shell, message)
            if shell.pending and not await _drained(loop, shell, connection):
                break  # backpressure: no more is read from the socket until the shell took this; closed meanwhile
    except ConnectionClosed:
        pass
    finally:
        loop.remove_reader(shell.master)
        pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await pumping


async def _drained(loop: asyncio.AbstractEventLoop, shell: Shell, connection: ServerConnection) -> bool:
    """Wait, without blocking the loop, until the PTY has taken all queued input (True), or until the
    connection closes (False): a reader who left must not keep a shell busy with a paste."""
    done: asyncio.Future[None] = loop.create_future()

    def writable() -> None:
        if shell.flush() and not done.done():
            done.set_result(None)

    loop.add_writer(shell.master, writable)
    closed = asyncio.ensure_future(connection.wait_closed())
    try:
        await asyncio.wait([done, closed], return_when=asyncio.FIRST_COMPLETED)
        return done.done()
    finally:
        closed.cancel()
        with contextlib.suppress(OSError, ValueError):
            loop.remove_writer(shell.master)


def _handle(shell: Shell, message: str | bytes) -> None:
    try:
        data = json.loads(message)
        if data.get("type") == "input":
            shell.write(str(data["data"]))
        elif data.get("type") == "resize":
            shell.resize(max(1, min(int(data["cols"]), 1000)), max(1, min(int(data["rows"]), 1000)))
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        log.debug("terminal: ignored a message: %s", error)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mkdocs-execute terminal", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (0: any free port)")
    parser.add_argument(
        "--origin",
        action="append",
        default=[],
        metavar="URL",
        help="an allowed page origin, repeatable (default: http://127.0.0.1:8000 and http://localhost:8000)",
    )
    parser.add_argument("--shell", default=Settings().shell, help="the shell to run (default: $SHELL)")
    parser.add_argument("--token", default="", help="the token clients must give (default: a random one)")
    parser.add_argument("--cwd", default=None, help="the shells' working directory")
    parser.add_argument("--max-shells", type=int, default=16, help="shells open at once (default: 16)")
    parser.add_argument("--max-message", type=int, default=1 << 20, help="largest input message, bytes (1 MiB)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings(
        token=args.token or secrets.token_urlsafe(24),
        origins=args.origin or default_origins(),
        shell=args.shell,
        host=args.host,
        port=args.port,
        cwd=args.cwd,
        max_shells=args.max_shells,
        max_message=args.max_message,
    )
    if not is_loopback(settings.host):
        print(
            f"mkdocs-execute terminal: warning: listening on {settings.host}, beyond this machine; "
            "anyone who learns the token can run commands here.",
            file=sys.stderr,
        )
    try:
        asyncio.run(_serve_until_signal(TerminalServer(settings)))
    except OSError as error:
        print(f"mkdocs-execute terminal: {error}", file=sys.stderr)
        return 1
    return 0


async def _serve_until_signal(server: TerminalServer) -> None:
    bound = threading.Event()
    task = asyncio.create_task(server.serve(bound))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.stop_soon)
    while not bound.is_set() and not task.done():
        await asyncio.sleep(0.01)
    if bound.is_set():
        print(f"mkdocs-execute terminal: {server.url}?token={server.settings.token}", flush=True)
        print(f"  origins: {', '.join(server.settings.origins)}; Ctrl-C stops it.", flush=True)
    try:
        await task
    finally:
        server.close_shells()
        server.rc.unlink(missing_ok=True)
