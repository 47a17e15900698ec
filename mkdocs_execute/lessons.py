"""Lesson files as the harness reads them: front matter, requirements, and the parsed model.

Front matter is split exactly as MkDocs splits it, so block lines agree with the site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from mkdocs.utils.meta import YAML_RE, get_data

from .model import Lesson
from .parsing import parse


class LessonFileError(Exception):
    """A lesson file that cannot be read; the message names `file:line`."""


@dataclass(frozen=True)
class Requirements:
    """What a page needs before its blocks can run (front matter `execute.requires`)."""

    commands: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()


@dataclass
class LessonFile:
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


def front_matter_lines(raw: str, body: str) -> int:
    """Lines cut from the top of `raw` (front matter) to leave `body`."""
    if not body or not raw.endswith(body):
        return 0
    return raw[: len(raw) - len(body)].count("\n")


def read_lesson(path: Path, source: str | None = None) -> LessonFile:
    """Read and parse one lesson file; bad input raises `LessonFileError` naming file and line."""
    shown = source or str(path)
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            exact = stream.read()  # update mode rewrites these very bytes, CRLF included
    except (OSError, UnicodeDecodeError) as error:
        raise LessonFileError(f"{shown}: cannot read: {error}") from None
    raw = exact.replace("\r\n", "\n")
    body, meta = get_data(raw)
    if not meta and (match := YAML_RE.match(raw)):
        _explain_bad_yaml(match.group(1), shown)
    offset = front_matter_lines(raw, body)
    settings = _settings(meta.get("execute") or {}, shown)
    return LessonFile(path, shown, exact, offset, parse(body, offset), **settings)


def _explain_bad_yaml(text: str, shown: str) -> None:
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise LessonFileError(f"{shown}:{line}: front matter is not valid YAML: {problem}") from None


def _settings(execute: Any, shown: str) -> dict[str, Any]:
    if not isinstance(execute, dict):
        raise LessonFileError(f"{shown}:2: front matter `execute` must be a mapping")
    requires = execute.get("requires") or {}
    if not isinstance(requires, dict):
        raise LessonFileError(f"{shown}:2: `execute.requires` must map `commands` and `checks` to lists")
    timeout = execute.get("timeout")
    if timeout is not None and not isinstance(timeout, (int, float)):
        raise LessonFileError(f"{shown}:2: `execute.timeout` must be a number of seconds")
    conditions = execute.get("conditions") or {}
    if not isinstance(conditions, dict) or not all(isinstance(v, str) for v in conditions.values()):
        raise LessonFileError(f"{shown}:2: `execute.conditions` must map names to shell checks")
    return {
        "conditions": {str(name): check for name, check in conditions.items()},
        "requirements": Requirements(_strings(requires, "commands", shown), _strings(requires, "checks", shown)),
        "setup": _strings(execute, "setup", shown),
        "cleanup": _strings(execute, "cleanup", shown),
        "timeout": None if timeout is None else float(timeout),
    }


def _strings(mapping: dict[str, Any], key: str, shown: str) -> tuple[str, ...]:
    value = mapping.get(key) or ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise LessonFileError(f"{shown}:2: `{key}` in the front matter must be a string or a list of strings")
    return tuple(value)
