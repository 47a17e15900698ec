"""Lesson files as the harness reads them: front matter, requirements, and the parsed model.

Front matter is split exactly as MkDocs splits it, so block lines agree with the site.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .including import Origin, expand, has_snippets, where
from .model import Lesson
from .options import OptionError, seconds
from .parsing import front_matter_lines, parse


class LessonFileError(Exception):
    """A lesson file that cannot be read; the message names `file:line`."""


@dataclass(frozen=True)
class Requirements:
    """What a page needs before its blocks can run (front matter `execute.requires`)."""

    commands: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()


@dataclass
class LessonFile:
    """A lesson file as the harness reads it: its parsed lesson, front matter and requirements."""

    path: Path
    source: str
    """The path shown in messages and in `data-mx-source`, e.g. `docs/page.md`."""
    text: str
    offset: int
    lesson: Lesson
    requirements: Requirements = field(default_factory=Requirements)
    setup: tuple[str, ...] = ()
    cleanup: tuple[str, ...] = ()
    timeout: float | None = None
    conditions: dict[str, str] = field(default_factory=dict)
    """Named checks for blocks marked `when=NAME`, such as the cluster's major version."""
    secrets: tuple[str, ...] = ()
    """Variables whose values are masked, whether or not the page uses them as placeholders."""
    cwd: str | None = None
    """Where the page's shells start (front matter `execute.cwd`, relative to the page's folder)."""
    error: str = ""
    """Why the page cannot run (`file:line: …`): its blocks are not run, and the run goes on."""
    verify: dict[str, str] = field(default_factory=dict)
    """Scripts by name (an imported step's `verify`), run after the page's blocks: one that fails fails the run."""
    session: str | None = None
    """`page`: this page keeps a shell of its own even where the site shares one (plugin `session`)."""
    origins: list[Origin] | None = None
    """Where each line of the parsed text came from, when the page includes snippets (pymdownx.snippets)."""
    root: str = "."
    """The folder included files are named relative to."""

    def where(self, line: int) -> str:
        """`docs/page.md:LINE`, or the included file and its line."""
        return where(self.source, line, self.offset, self.origins, self.root)


def read_lesson(path: Path, source: str | None = None, includes: Sequence[Path] = (), root: str = ".") -> LessonFile:
    """Read and parse one lesson file, its snippets (`includes`: pymdownx.snippets' base paths) expanded as the
    site expands them; bad input raises `LessonFileError` naming file and line."""
    shown = source or str(path)
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            exact = stream.read()  # update mode rewrites these very bytes, CRLF included
    except (OSError, UnicodeDecodeError) as error:
        raise LessonFileError(f"{shown}: cannot read: {error}") from None
    # As MkDocs reads it: no byte-order mark, and a lone `\r` ends a line too.
    raw = exact.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    body, meta = _front_matter(raw)
    offset = front_matter_lines(raw, body)
    expansion = expand(body.split("\n"), includes) if includes and has_snippets(body) else None
    lesson = parse("\n".join(expansion.lines) if expansion else body, offset)
    origins = expansion.origins if expansion else None
    try:
        if not meta and raw.startswith("---"):
            from mkdocs.utils.meta import YAML_RE

            if match := YAML_RE.match(raw):
                _explain_bad_yaml(match.group(1), shown)
        settings = _settings(meta.get("execute") or {}, shown, path.parent)
    except LessonFileError as error:
        return LessonFile(path, shown, exact, offset, lesson, error=str(error), origins=origins, root=root)
    return LessonFile(path, shown, exact, offset, lesson, **settings, origins=origins, root=root)


# A page can have metadata only when it starts like YAML front matter or a MultiMarkdown `key: value` line.
_MAYBE_META = re.compile(r"-{3}|[ ]{0,3}[A-Za-z0-9_-]+:")


def _front_matter(raw: str) -> tuple[str, dict[str, Any]]:
    """(body, metadata) exactly as MkDocs splits them; MkDocs and YAML are loaded only for a page with some."""
    if not _MAYBE_META.match(raw):
        first, _, rest = raw.partition("\n")  # what MkDocs' get_data returns for a page without any:
        return (rest if not first.strip() else raw).lstrip("\n"), {}  # a blank first line goes
    from mkdocs.utils.meta import get_data

    return get_data(raw)


def _explain_bad_yaml(text: str, shown: str) -> None:
    import yaml

    try:
        yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise LessonFileError(f"{shown}:{line}: front matter is not valid YAML: {problem}") from None


def _settings(execute: Any, shown: str, folder: Path) -> dict[str, Any]:
    if not isinstance(execute, dict):
        raise LessonFileError(f"{shown}:2: front matter `execute` must be a mapping")
    requires = execute.get("requires") or {}
    if not isinstance(requires, dict):
        raise LessonFileError(f"{shown}:2: `execute.requires` must map `commands` and `checks` to lists")
    timeout = execute.get("timeout")
    if timeout is not None:
        try:
            timeout = seconds(timeout if isinstance(timeout, str) else repr(timeout))
        except OptionError as error:
            raise LessonFileError(f"{shown}:2: `execute.timeout`: {error}") from None
    verify = execute.get("verify") or {}
    if not isinstance(verify, dict) or not all(isinstance(v, str) for v in verify.values()):
        raise LessonFileError(f"{shown}:2: `execute.verify` must map script names to scripts")
    session = execute.get("session")
    if session not in (None, "page", "section", "site"):
        raise LessonFileError(f"{shown}:2: `execute.session` must be `page`, `section` or `site`, not {session!r}")
    cwd = execute.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise LessonFileError(f"{shown}:2: `execute.cwd` must be a folder, relative to the page's")
    conditions = execute.get("conditions") or {}
    if not isinstance(conditions, dict) or not all(isinstance(v, str) for v in conditions.values()):
        raise LessonFileError(f"{shown}:2: `execute.conditions` must map names to shell checks")
    return {
        "conditions": {str(name): check for name, check in conditions.items()},
        "requirements": Requirements(_strings(requires, "commands", shown), _strings(requires, "checks", shown)),
        "setup": _strings(execute, "setup", shown),
        "cleanup": _strings(execute, "cleanup", shown),
        "timeout": timeout,
        "secrets": _strings(execute, "secrets", shown),
        "cwd": None if cwd is None else str((folder / cwd).resolve()),
        "verify": {str(name): script for name, script in verify.items()},
        "session": session,
    }


def _strings(mapping: dict[str, Any], key: str, shown: str) -> tuple[str, ...]:
    value = mapping.get(key) or ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise LessonFileError(f"{shown}:2: `{key}` in the front matter must be a string or a list of strings")
    return tuple(value)


def unreadable(path: Path, source: str, error: str) -> LessonFile:
    """A page that could not be read at all: it fails with `error`, and the run goes on."""
    return LessonFile(path, source, "", 0, Lesson(), error=error)
