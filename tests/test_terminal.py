"""The terminal server, from the outside: a real WebSocket client, real shells, real processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from mkdocs_execute.terminal import Settings, TerminalServer

TOKEN = "test-token-" + "x" * 20
ORIGIN = "http://127.0.0.1:8000"
BASH = "/bin/bash"
T = TypeVar("T")


@pytest.fixture
def server() -> Iterator[TerminalServer]:
    terminal = TerminalServer(Settings(token=TOKEN, origins=[ORIGIN], shell=BASH, port=0)).start()
    try:
        yield terminal
    finally:
        terminal.stop()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on a thread of its own: Playwright's sync API may hold this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def url(server: TerminalServer, token: str | None = TOKEN) -> str:
    return server.url + (f"?token={token}" if token is not None else "")


async def read_until(ws: ClientConnection, pattern: str, timeout: float = 10) -> str:
    """The shell's output up to the first match of `pattern` (a regex, multiline)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, seen.decode("utf-8", "replace"), re.MULTILINE):
        message = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
        if isinstance(message, bytes):
            seen += message
    return seen.decode("utf-8", "replace")


async def send(ws: ClientConnection, data: str) -> None:
    await ws.send(json.dumps({"type": "input", "data": data}))


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_dead(pids: list[int], timeout: float = 5) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := [p for p in pids if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def refused(server: TerminalServer, target: str, origin: str | None) -> int:
    async def attempt() -> int:
        try:
            async with connect(target, origin=origin, open_timeout=5):  # type: ignore[arg-type]
                return 101
        except InvalidStatus as error:
            return error.response.status_code

    return run(attempt())


def test_handshake_needs_the_token_and_an_allowed_origin(server: TerminalServer) -> None:
    assert refused(server, url(server, None), ORIGIN) == 401
    assert refused(server, url(server, ""), ORIGIN) == 401
    assert refused(server, url(server, "wrong-token"), ORIGIN) == 401
    assert refused(server, url(server, TOKEN[:-1]), ORIGIN) == 401
    assert refused(server, url(server), "http://evil.example") == 403
    assert refused(server, url(server), "http://127.0.0.1:9999") == 403
    assert refused(server, url(server), None) == 403  # no Origin at all: not a page we served
    assert server.shells == set()  # a refused handshake starts no shell
    assert refused(server, url(server), ORIGIN) == 101  # control: the right token and origin get in
    assert refused(server, url(server), ORIGIN + "/") == 101


def test_a_shell_answers(server: TerminalServer) -> None:
    async def talk() -> tuple[dict[str, object], str]:
        async with connect(url(server), origin=ORIGIN) as ws:  # type: ignore[arg-type]
            hello = json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "resize", "cols": 100, "rows": 30}))
            await send(ws, "echo hi; stty size\r")
            return hello, await read_until(ws, r"^30 100\r?$")

    hello, output = run(talk())
    assert hello == {"type": "hello", "marker": True}
    assert re.search(r"[\r\n]hi\r\n", output)  # the output, not the echoed command line
    assert "\x1b]6973;0\x07" in output  # bash's prompt marker, for the browser's busy state


def test_it_binds_loopback_by_default(server: TerminalServer) -> None:
    assert server.url.startswith("ws://127.0.0.1:")
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=False).stdout
    if not out:
        pytest.skip("ss is unavailable")
    bound = [line.split()[3] for line in out.splitlines() if line.split()[3].endswith(f":{server.port}")]
    assert bound == [f"127.0.0.1:{server.port}"]


def test_cli_warns_when_listening_beyond_loopback() -> None:
    code = "import sys; from mkdocs_execute.terminal import main; sys.exit(main(sys.argv[1:]))"
    cli = subprocess.Popen(
        [sys.executable, "-c", code, "--host", "0.0.0.0", "--port", "0", "--shell", BASH],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert cli.stdout is not None and cli.stderr is not None
        first = cli.stdout.readline()
        assert re.match(r"mkdocs-execute terminal: ws://0\.0\.0\.0:\d+/\?token=[\w-]{20,}$", first.strip()), first
    finally:
        cli.send_signal(signal.SIGINT)
        _, err = cli.communicate(timeout=10)
    assert "warning" in err and "0.0.0.0" in err
    assert cli.returncode == 0


def test_cli_generates_a_token_and_stays_on_loopback() -> None:
    code = "import sys; from mkdocs_execute.terminal import main; sys.exit(main(sys.argv[1:]))"
    runs = []
    for _ in range(2):
        cli = subprocess.Popen([sys.executable, "-c", code, "--port", "0"], stdout=subprocess.PIPE, text=True)
        assert cli.stdout is not None
        runs.append(cli.stdout.readline().strip())
        cli.send_signal(signal.SIGTERM)
        cli.communicate(timeout=10)
        assert cli.returncode == 0
    tokens = [line.rpartition("token=")[2] for line in runs]
    assert all(line.startswith("mkdocs-execute terminal: ws://127.0.0.1:") for line in runs), runs
    assert len(set(tokens)) == 2 and all(len(t) >= 20 for t in tokens)


async def _pids(ws: ClientConnection) -> list[int]:
    """The shell's pid and a background and a foreground job's, all of which closing must end."""
    await ws.recv()  # hello
    await send(ws, "sleep 300 & echo BG=$! SH=$$\r")
    found = re.search(r"BG=(\d+) SH=(\d+)", await read_until(ws, r"BG=\d+ SH=\d+"))
    assert found
    await send(ws, "sleep 301\r")
    await asyncio.sleep(0.3)
    return [int(found[2]), int(found[1])]


def _foreground_sleep(shell: int) -> list[int]:
    children = Path(f"/proc/{shell}/task/{shell}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def test_closing_the_socket_kills_the_shell_and_its_jobs(server: TerminalServer) -> None:
    async def session() -> list[int]:
        async with connect(url(server), origin=ORIGIN) as ws:  # type: ignore[arg-type]
            pids = await _pids(ws)
            pids += _foreground_sleep(pids[0])
            assert all(alive(p) for p in pids) and len(pids) >= 3  # control: they ran
            return pids

    pids = run(session())
    assert wait_dead(pids) == []
    assert server.shells == set()


def test_stopping_the_server_kills_every_shell() -> None:
    terminal = TerminalServer(Settings(token=TOKEN, origins=[ORIGIN], shell=BASH, port=0)).start()
    found: list[int] = []

    async def session() -> None:
        async with connect(url(terminal), origin=ORIGIN) as ws:  # type: ignore[arg-type]
            found.extend(await _pids(ws))
            await asyncio.to_thread(terminal.stop)

    run(session())
    assert found and wait_dead(found) == []
    assert not terminal.rc.exists()


def test_a_built_site_holds_no_token_or_local_address(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# T\n\n```bash\necho [[HOST_IP]]\n```{{execute}}\n")
    for terminal, expected in (("local", None), ("wss://lab.example/term", "wss://lab.example/term")):
        (tmp_path / "mkdocs.yml").write_text(
            f"site_name: t\nplugins:\n  - execute:\n      terminal: {terminal}\n      variables:\n        HOST_IP:\n"
        )
        site = tmp_path / f"site-{terminal[:3]}"
        subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(site)],
            cwd=tmp_path,
            check=True,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        )
        text = "\n".join(p.read_text(errors="replace") for p in site.rglob("*") if p.is_file())
        assert '"token":' not in text and not re.search(r"token=[\w-]{8,}", text)
        assert "ws://127.0.0.1" not in text and "ws://localhost" not in text
        assert not (site / "assets" / "mkdocs-execute" / "terminal.json").exists()
        script = (site / "assets" / "mkdocs-execute" / "execute.js").read_text()
        if expected:
            assert json.dumps({"url": expected}) in script
            assert (site / "assets" / "mkdocs-execute" / "vendor" / "xterm" / "LICENSE").exists()
        else:
            assert "const TERM = null;" in script


@pytest.fixture(autouse=True)
def _own_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shells start from a HOME of their own: the machine's ~/.bashrc (pyenv's rehash takes a lock) is not
    ours to run hundreds of times, nor to kill half-way."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
