"""pymdownx.snippets' includes, expanded as it expands them, with where each line came from.

The site compares this expansion with what pymdownx.snippets produced, and uses its origins only when
the two agree; the harness expands a page the same way before parsing it. So a block that lives in an
included file is reported at that file and line, by the site and the harness alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_SINGLE = re.compile(r"^(?P<space>[ \t]*)(?P<escape>;*)--8<--[ \t]+(?P<quote>[\"'])(?P<path>.+?)(?P=quote)[ \t]*$")
_BLOCK = re.compile(r"^(?P<space>[ \t]*)(?P<escape>;*)--8<--[ \t]*$")
_SECTION = re.compile(r"--8<--[ \t]+\[[ \t]*(?P<kind>start|end)[ \t]*:[ \t]*(?P<name>[\w-]+)[ \t]*\]")
"""A section's bounds, behind any comment sign (`# --8<-- [start:name]`)."""
_RANGE = re.compile(r"^(?P<path>.+?)(?::(?P<start>-?\d*))?(?::(?P<end>-?\d*))?$")
_DEPTH = 8


@dataclass(frozen=True)
class Origin:
    """Where an expanded line came from: a file (None: the page itself) and its 1-based line."""

    file: Path | None
    line: int


class Expansion:
    """A page's lines with its snippets in place, and the origin of each line."""

    def __init__(self, lines: list[str], origins: list[Origin]) -> None:
        self.lines = lines
        self.origins = origins


def has_snippets(text: str) -> bool:
    return "--8<--" in text


def expand(lines: Sequence[str], base_paths: Sequence[Path]) -> Expansion | None:
    """The page's lines with snippets expanded, or None when an include cannot be followed here (a URL, a
    missing file): then nothing is claimed about origins."""
    try:
        out, origins = _expand(list(lines), None, base_paths, 0)
    except _UnknownIncludeError:
        return None
    return Expansion(out, origins)


class _UnknownIncludeError(Exception):
    """An include this module does not follow the way pymdownx.snippets would."""


def _expand(lines: list[str], file: Path | None, bases: Sequence[Path], depth: int) -> tuple[list[str], list[Origin]]:
    if depth > _DEPTH:
        raise _UnknownIncludeError
    out: list[str] = []
    origins: list[Origin] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "--8<--" not in line:
            out.append(line)
            origins.append(Origin(file, index + 1))
            index += 1
            continue
        single, block = _SINGLE.match(line), _BLOCK.match(line)
        if single and single["escape"]:
            out.append(line.replace(";--8<--", "--8<--", 1))
            origins.append(Origin(file, index + 1))
        elif single:
            _include(single["path"], single["space"], bases, depth, out, origins)
        elif block and not block["escape"]:
            end = next((k for k in range(index + 1, len(lines)) if _BLOCK.match(lines[k])), None)
            if end is None:
                raise _UnknownIncludeError
            for name in lines[index + 1 : end]:
                if name.strip() and not name.strip().startswith(";"):
                    _include(name.strip(), block["space"], bases, depth, out, origins)
            index = end
        elif _SECTION.search(line):
            pass  # section markers are dropped, as pymdownx.snippets drops them
        else:
            out.append(line)
            origins.append(Origin(file, index + 1))
        index += 1
    return out, origins


def _include(spec: str, space: str, bases: Sequence[Path], depth: int, out: list[str], origins: list[Origin]) -> None:
    if re.match(r"[a-z]+://", spec):
        raise _UnknownIncludeError  # a URL: not fetched here
    match = _RANGE.match(spec)
    assert match is not None
    path, section = match["path"], None
    if ":" in path and not (match["start"] or match["end"]):
        path, section = path.split(":", 1)
    found = next((base / path for base in bases if (base / path).is_file()), None)
    if found is None:
        raise _UnknownIncludeError
    text = found.read_text(encoding="utf-8").replace("\r\n", "\n")
    lines = text.split("\n")  # a final newline gives a blank last line, as pymdownx.snippets keeps it
    first, last = 1, len(lines)
    if section is not None:
        first, last = _section(lines, section)
    elif match["start"] or match["end"]:
        first = int(match["start"] or 1)
        last = int(match["end"] or len(lines))
        if first < 1 or last < first:
            raise _UnknownIncludeError
    inner, inner_origins = _expand(lines[first - 1 : last], found, bases, depth + 1)
    offset = first - 1
    out.extend(space + line if line else line for line in inner)
    origins.extend(Origin(o.file, o.line + offset) if o.file == found else o for o in inner_origins)


def _section(lines: list[str], name: str) -> tuple[int, int]:
    start = end = None
    for number, line in enumerate(lines, start=1):
        marker = _SECTION.search(line)
        if marker and marker["name"] == name:
            if marker["kind"] == "start":
                start = number + 1
            elif start is not None:
                end = number - 1
                break
    if start is None or end is None:
        raise _UnknownIncludeError
    return start, end


def where(source: str, line: int, offset: int, origins: Sequence[Origin] | None, root: str | Path) -> str:
    """`source:LINE` for a line of the expanded page (front matter counted in `offset`), or the included
    file's path (relative to `root`) and line when the line came from one."""
    index = line - 1 - offset
    if not origins or not 0 <= index < len(origins):
        return f"{source}:{line}"
    origin = origins[index]
    if origin.file is None:
        return f"{source}:{origin.line + offset}"
    try:
        shown = origin.file.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        shown = origin.file.as_posix()
    return f"{shown}:{origin.line}"
