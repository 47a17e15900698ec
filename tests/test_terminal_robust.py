"""The terminal server against rough clients: big pastes never freeze it, limits refuse clearly, doubled headers
get a 4xx, and no process of a closed connection survives (setsid children included). A bounded load test on
loopback counts stuck handshakes and leftover processes."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from pathlib import Path

from test_terminal import BASH, ORIGIN, TOKEN, _own_home, read_until, run, send, url
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from mkdocs_execute.terminal import Settings, TerminalServer

PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
__all__ = ["_own_home"]  # the autouse fixture: these shells start from a HOME of their own too


def started(**settings: int) -> TerminalServer:
    return TerminalServer(Settings(token=TOKEN, origins=[ORIGIN], shell=BASH, port=0, **settings)).start()  # type: ignore[arg-type]


def terminal_processes() -> list[int]:
    """Processes started by any terminal server (their environment carries MKDOCS_EXECUTE_TERMINAL)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            if state != "Z" and b"MKDOCS_EXECUTE_TERMINAL=1" in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def settle(before: set[int], timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := [p for p in terminal_processes() if p not in before]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


async def handshake_time(server: TerminalServer) -> float:
    start = time.monotonic()
    async with connect(url(server), origin=ORIGIN, open_timeout=10) as ws:  # type: ignore[arg-type]
        await asyncio.wait_for(ws.recv(), 30)
    return time.monotonic() - start


def test_a_big_paste_without_bracketed_paste_does_not_freeze_the_server() -> None:
    server = started()
    try:

        async def scenario() -> float:
            async with connect(url(server), origin=ORIGIN, max_size=None) as ws:  # type: ignore[arg-type]
                await ws.recv()
                await send(ws, "sleep 20\r")  # the shell reads nothing while it waits
                await send(ws, "x" * 600_000)  # far more than the PTY holds: the server must not wait for it
                await asyncio.sleep(0.2)
                return await handshake_time(server)  # another reader still gets in at once

        assert run(scenario()) < 5  # the old server waited for the shell: 20 s, the sleep's length
    finally:
        server.stop()


def test_a_message_past_the_limit_closes_with_a_clear_reason() -> None:
    server = started(max_message=10_000)
    try:

        async def scenario() -> tuple[int | None, str]:
            async with connect(url(server), origin=ORIGIN) as ws:  # type: ignore[arg-type]
                await ws.recv()
                await send(ws, "y" * 20_000)
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), 5)
                except ConnectionClosed as closed:
                    return closed.rcvd.code if closed.rcvd else None, closed.rcvd.reason if closed.rcvd else ""

        code, reason = run(scenario())
        assert code == 1009 and "exceeds limit of 10000 bytes" in reason
    finally:
        server.stop()


def test_shells_past_the_cap_are_refused_clearly() -> None:
    server = started(max_shells=2)
    try:

        async def scenario() -> tuple[int, str, float]:
            async with (
                connect(url(server), origin=ORIGIN) as first,  # type: ignore[arg-type]
                connect(url(server), origin=ORIGIN) as second,  # type: ignore[arg-type]
            ):
                await first.recv()
                await second.recv()
                try:
                    async with connect(url(server), origin=ORIGIN, open_timeout=5):  # type: ignore[arg-type]
                        return 101, "", 0.0
                except InvalidStatus as error:
                    status, body = error.response.status_code, error.response.body.decode()
            await asyncio.sleep(1.5)  # both closed: their shells end
            return status, body, await handshake_time(server)  # negative: below the cap, a shell again

        status, body, again = run(scenario())
        assert status == 503 and "Too many terminals are open (2)" in body
        assert again < 5
    finally:
        server.stop()


def _raw_handshake(server: TerminalServer, headers: list[str], path: str = f"/?token={TOKEN}") -> int:
    request = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Upgrade: websocket",
               "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
               *headers, "", ""]  # fmt: skip
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall("\r\n".join(request).encode())
        answer = sock.recv(4096).decode("latin-1")
    return int(answer.split()[1])


def test_doubled_or_malformed_headers_get_a_4xx_never_a_500() -> None:
    server = started()
    try:
        assert _raw_handshake(server, [f"Origin: {ORIGIN}", f"Origin: {ORIGIN}"]) == 400
        assert _raw_handshake(server, [f"Origin: {ORIGIN}"], f"/?token={TOKEN}&token={TOKEN}") == 400
        assert _raw_handshake(server, ["Origin: http://evil.example"]) == 403
        assert _raw_handshake(server, [f"Origin: {ORIGIN}"]) == 101  # negative: one of each gets in
    finally:
        server.stop()


def test_setsid_children_end_with_their_connection() -> None:
    server = started()
    before = set(terminal_processes())
    try:

        async def scenario() -> None:
            async with connect(url(server), origin=ORIGIN) as ws:  # type: ignore[arg-type]
                await ws.recv()
                await send(ws, "setsid sleep 300 & ( setsid sleep 301 & ); echo STARTED\r")
                await read_until(ws, r"^STARTED", timeout=60)
                await asyncio.sleep(0.3)
                assert len([p for p in terminal_processes() if p not in before]) >= 3  # control: they run

        run(scenario())
        assert settle(before) == []
    finally:
        server.stop()


def test_bounded_load_leaves_no_stuck_handshake_and_no_process() -> None:
    """200 connections on loopback, ten at a time, each pasting 100 KB or 1 MB, with and without bracketed
    paste, then closing. Bounded in count and time; it stops by itself."""
    server = started(max_shells=16)
    before = set(terminal_processes())
    stuck: list[int] = []
    times: list[float] = []

    async def one(number: int) -> None:
        size = 100_000 if number % 2 else 1_000_000
        text = "z" * size
        if number % 4 < 2:
            text = PASTE_START + text + PASTE_END
        start = time.monotonic()
        try:
            async with connect(url(server), origin=ORIGIN, open_timeout=10, max_size=None) as ws:  # type: ignore[arg-type]
                await ws.recv()
                times.append(time.monotonic() - start)
                await ws.send(json.dumps({"type": "input", "data": text}))
                await asyncio.sleep(0.05)
        except (TimeoutError, InvalidStatus, ConnectionClosed, OSError):
            stuck.append(number)

    async def scenario() -> None:
        for batch in range(20):
            # Ten at a time as the server counts them: a closed connection's terminal is given back once the
            # server has seen the close, which can come after the client is done (16 is the limit here).
            deadline = time.monotonic() + 10
            while len(server.shells) > 16 - 10 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.gather(*(one(batch * 10 + k) for k in range(10)))

    try:
        run(scenario())
        left = settle(before, timeout=30)
    finally:
        server.stop()
    print(f"load: 200 connections, {len(stuck)} stuck, slowest handshake {max(times):.2f} s, {len(left)} left")
    assert stuck == [] and left == [] and len(times) == 200


def test_sigterm_stops_the_server_and_every_shell() -> None:
    import signal
    import subprocess
    import sys

    before = set(terminal_processes())
    command = [sys.executable, "-m", "mkdocs_execute.cli", "terminal", "--port", "0", "--token", TOKEN,
               "--origin", ORIGIN, "--shell", BASH]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        first = process.stdout.readline() if process.stdout else ""
        address = first.split("terminal: ", 1)[1].split("?", 1)[0]

        async def scenario() -> None:
            async with connect(f"{address}?token={TOKEN}", origin=ORIGIN) as ws:  # type: ignore[arg-type]
                await ws.recv()
                await send(ws, "setsid sleep 302 & sleep 303 & echo UP\r")
                await read_until(ws, r"^UP", timeout=60)  # generous: the load test may run beside it
                await asyncio.sleep(0.3)
                assert len([p for p in terminal_processes() if p not in before]) >= 3  # control: they run
                process.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(process.wait, 15) == 0

        run(scenario())
        assert settle(before) == []
    finally:
        process.kill()
        process.wait(5)
