"""Update mode: rewrite the body of output blocks in a lesson file, touching nothing else.

The file must be read without newline translation (`open(path, encoding="utf-8", newline="")`): the line
endings found there are the ones written back.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from .lexer import prefix_of
from .matching import ANYTHING
from .model import Block, Form, Kind, Lesson, Span
from .parsing import parse

_BOM = "\ufeff"


@dataclass(frozen=True)
class _Change:
    """One replacement, located in the raw file's lines."""

    block: Block
    lines: list[str]
    """The new body, one entry per line, without prefix or line ending."""
    start: int
    """Raw line index of the opening fence."""
    end: int
    """Raw line index of the closing fence."""


def replace_output(text: str, block: Block, new_body: str, line_offset: int = 0) -> str:
    """`text` (the whole raw file, front matter included) with the body of output block `block` replaced by
    `new_body`. `line_offset` = lines of front matter cut before parsing (block spans are relative to the parsed text).
    Each new line gets the container prefix of the block's opening fence line (its indentation in a list item, or `> `
    in a blockquote). The file's line endings (LF or CRLF) are kept, and NO other byte of the file changes: the fences,
    the marker line, everything else byte-identical. An empty new_body leaves the fence empty.

    Raises ValueError when `block` no longer describes the file (parse it again), or when the new body would change
    the page's structure (a line that closes the fence, `-->` in a block hidden in a comment).
    """
    return replace_outputs(text, [(block, new_body)], line_offset)


def replace_outputs(text: str, changes: list[tuple[Block, str]], line_offset: int = 0) -> str:
    """Several replacements at once (applied from the bottom up so spans stay valid)."""
    bom = _BOM if text.startswith(_BOM) else ""
    lines, endings = _split(text[len(bom) :])
    before = _parse(lines, line_offset)
    located = sorted((_locate(before, block, body, line_offset) for block, body in changes), key=_start)
    _check_disjoint(located)
    for change in reversed(located):
        opening, closing = _fences(change, lines)
        ending = endings[change.start]
        lines[change.start : change.end + 1] = [opening, *_body(change, lines[change.start]), closing]
        endings[change.start + 1 : change.end] = [ending] * len(change.lines)
    _check_structure(before, _parse(lines, line_offset), located, line_offset)
    return bom + "".join(line + ending for line, ending in zip(lines, endings, strict=True))


_ENDING = re.compile(r"\r\n|\r|\n")


def _split(text: str) -> tuple[list[str], list[str]]:
    """Lines and their endings (LF, CRLF, or a lone CR, which MkDocs reads as a line break too); the last
    line's ending may be empty."""
    lines: list[str] = []
    endings: list[str] = []
    at = 0
    for match in _ENDING.finditer(text):
        lines.append(text[at : match.start()])
        endings.append(match.group())
        at = match.end()
    lines.append(text[at:])
    endings.append("")
    return lines, endings


def _fences(change: _Change, lines: list[str]) -> tuple[str, str]:
    """The opening and closing fence lines, their fence lengthened if a new line would close it early."""
    opening, closing = lines[change.start], lines[change.end]
    rest = opening[prefix_of(opening).width :]
    char = rest[:1]
    fence = rest[: len(rest) - len(rest.lstrip(char))]
    longest = max((_run(line, char) for line in change.lines), default=0)
    if longest < len(fence):
        return opening, closing
    longer = char * (longest + 1)
    return _lengthen(opening, fence, longer), _lengthen(closing, fence, longer)


def _run(line: str, char: str) -> int:
    """The fence characters a line starts with (after up to three spaces), as a closing fence would."""
    rest = line.lstrip(" ")
    if len(line) - len(rest) > 3:
        return 0
    return len(rest) - len(rest.lstrip(char))


def _lengthen(line: str, fence: str, longer: str) -> str:
    at = line.index(fence)
    run = len(line) - at - len(line[at:].lstrip(fence[0]))
    return line[:at] + longer + line[at + run :]


def _start(change: _Change) -> int:
    return change.start


def _parse(lines: list[str], line_offset: int) -> Lesson:
    """Parse the page as the harness does (lines without their endings)."""
    return parse("\n".join(lines[line_offset:]), line_offset)


def _locate(lesson: Lesson, block: Block, body: str, line_offset: int) -> _Change:
    """Check `block` is still what the file holds there, and find its raw lines."""
    if block.kind is not Kind.OUTPUT or block.form is not Form.BLOCK or block.fence is None:
        raise ValueError(f"line {block.line}: only the body of an output block can be replaced")
    current = next((b for b in lesson.blocks if b.fence == block.fence), None)
    if current is None or (current.kind, current.marker, current.body) != (block.kind, block.marker, block.body):
        raise ValueError(f"line {block.line}: the output block is not where it was; parse the file again")
    if current.code != _without_cr(block.code):
        raise ValueError(f"line {block.line}: the output block changed since it was parsed; parse the file again")
    new = _lines(body)
    if block.hidden:  # `-->` would end the comment that hides the block: a wildcard still matches it
        new = [line.replace("-->", "--" + ANYTHING) for line in new]
    return _Change(block, new, block.fence.start + line_offset, block.fence.end - 1 + line_offset)


def _without_cr(code: str) -> str:
    r"""Code parsed from CRLF text keeps a `\r` at the end of each line; compare without it."""
    return "\n".join(line.removesuffix("\r") for line in code.replace("\r\n", "\n").split("\n"))


def _lines(body: str) -> list[str]:
    r"""The new body as lines; one final newline is allowed, a lone `\r` is not (it would split a line in MkDocs)."""
    body = body.replace("\r\n", "\n").removesuffix("\n")
    if "\r" in body:
        raise ValueError("a new output line contains a carriage return; resolve it first (matching.normalize)")
    return body.split("\n") if body else []


def _check_disjoint(changes: list[_Change]) -> None:
    for first, second in pairwise(changes):
        if second.start <= first.end:
            raise ValueError(f"line {second.block.line}: the same output block is replaced twice")


def _body(change: _Change, opening: str) -> list[str]:
    """The new lines, each behind the opening fence's container prefix."""
    prefix = opening[: prefix_of(opening).width]
    # A blank line keeps the `>` of a blockquote (else the quote would end) but no trailing indentation.
    return [prefix + line if line else prefix.rstrip() for line in change.lines]


def _check_structure(before: Lesson, after: Lesson, changes: list[_Change], line_offset: int) -> None:
    """Re-parse: the same blocks in the same order, each changed one holding exactly its new body."""
    if [(b.kind, b.form, b.marker) for b in before.blocks] != [(b.kind, b.form, b.marker) for b in after.blocks]:
        raise ValueError("the new output would change the page's blocks (does it contain a fence line?)")
    fences = {b.fence: b for b in after.blocks if b.fence is not None}
    shift = 0
    for change in changes:
        start = change.start - line_offset + shift
        block = fences.get(Span(start, start + len(change.lines) + 2))
        if block is None or block.kind is not Kind.OUTPUT:
            raise ValueError(f"line {change.block.line}: the new output would not stay inside its code block")
        shift += len(change.lines) - (change.end - change.start - 1)


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory, fsync, then os.replace; keep the original file's permission
    bits; on any error the original stays untouched and the temp file is removed. Encoding UTF-8, newline='' (no
    translation)."""
    target = Path(os.path.realpath(path))  # through a symlink: replace the file, not the link
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)  # mkstemp creates 0600
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform can open a directory."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
