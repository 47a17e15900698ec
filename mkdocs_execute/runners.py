"""The seam between the harness and what runs a block: a session protocol and a table from language to runner.

A third runner is one module with a class that has `run`, `interrupt` and `close`, and one line in RUNNERS.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Protocol

from .model import Block
from .running import Outcome

__all__ = ["LANGUAGES", "RUNNERS", "Session", "open_session", "runner_for"]


class Session(Protocol):
    """One page's terminal for one runner: blocks run in order and share its state."""

    def run(self, code: str, timeout: float = 60.0) -> Outcome: ...

    def interrupt(self) -> None: ...

    def close(self) -> None: ...


RUNNERS: dict[str, str] = {
    "shell": "mkdocs_execute.running:ShellSession",
    "python": "mkdocs_execute.python_runner:PythonSession",
}
"""Runner name -> `module:class`, imported on first use."""

_SHELL = ("", "bash", "sh", "shell", "console", "shell-session", "shellsession", "terminal", "plain", "text", "txt")
LANGUAGES: dict[str, str] = {**dict.fromkeys(_SHELL, "shell"), **dict.fromkeys(("python", "py", "python3"), "python")}
"""Fence language (lower case) -> runner name; a language not here has no runner."""


def runner_for(block: Block) -> str | None:
    """The runner a block asks for (`runner=NAME`), else the one its language has; None: no runner."""
    return block.option("runner") or LANGUAGES.get(block.language.lower())


def open_session(runner: str, env: Mapping[str, str], cwd: str | None) -> Session:
    module, _, name = RUNNERS[runner].partition(":")
    factory = getattr(importlib.import_module(module), name)
    session: Session = factory(env=env, cwd=cwd)
    return session
