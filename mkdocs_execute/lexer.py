"""A small Markdown lexer: fenced code blocks and inline code spans.

It knows when a fence really closes (same character, at least as long, same
blockquote depth, a compatible indent), so fences nested in longer fences, in
list items and in blockquotes are told apart from the text around them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from typing import NamedTuple

_TICKS = re.compile(r"`+")
_CONTAINER = re.compile(r"[ \t]*(?:[-*+][ \t]|\d{1,9}[.)][ \t]|!!!|\?\?\?|===)")
"""Lines that open a block whose content is indented: list items, admonitions, details, tabs."""
Closes = Callable[[int, str], bool]
_INDENTS = (" ", "\t")
_PREFIXED = frozenset((" ", "\t", ">"))
_FENCE_CHARS = frozenset("`~")


# Tokens are named tuples: the lexer makes one per line, and tuples are built three times faster.


class Prefix(NamedTuple):
    """The container prefix of a line: blockquote depth, then indentation."""

    quotes: int
    indent: int
    quote_width: int
    """Characters of the line taken by the blockquote markers."""
    width: int
    """Characters of the line taken by the whole prefix."""


class Fence(NamedTuple):
    """A fenced code block: line indexes are 0-based in the lexed text."""

    start: int
    end: int
    """Index of the closing line, or of the last line when the fence never closes."""
    prefix: Prefix
    fence: str
    info: str
    closed: bool
    suffix: str
    """What follows the closing fence characters, stripped (a marker, or empty)."""
    body: tuple[str, ...]
    """Content lines with the container prefix removed."""
    hidden: bool = False
    """Inside an HTML comment: not shown to readers, still there for the harness."""
    glued: str = ""
    """Katacoda's span-like block: the closer was glued to the end of a code line (`cp a b```{{execute}}`);
    this is that line's code, already the last line of `body`. Empty for a closer on a line of its own."""
    info_code: bool = False
    """The text after the opening fence is the first line of code, not a language (`` ```val x = 1 ``)."""


class Text(NamedTuple):
    """A line outside any fence."""

    row: int
    """0-based line index."""
    text: str
    code: bool = False
    """Part of an indented code block: shown verbatim."""
    hidden: bool = False
    """Inside an HTML comment."""


class CodeSpan(NamedTuple):
    """An inline code span within one line: `start`/`end` cover the backticks."""

    start: int
    end: int
    content: str
    ticks: int


_TOP = Prefix(0, 0, 0, 0)


def prefix_of(line: str) -> Prefix:
    """Measure the blockquote markers and indentation that start `line`."""
    if line[:1] not in _PREFIXED:
        return _TOP
    quotes = 0
    pos = 0
    while True:
        rest = line[pos:]
        stripped = rest.lstrip(" \t")
        if stripped.startswith(">") and len(rest) - len(stripped) < 4:
            quotes += 1
            pos += len(rest) - len(stripped) + 1
            if line[pos : pos + 1] == " ":
                pos += 1
            continue
        break
    rest = line[pos:]
    indent_text = rest[: len(rest) - len(rest.lstrip(" \t"))]
    return Prefix(quotes, len(indent_text.expandtabs(4)), pos, pos + len(indent_text))


def _opening(line: str) -> tuple[Prefix, str, str] | None:
    first = line[:1]
    if first in _FENCE_CHARS:  # at the top level, the most common opening: no prefix to measure
        prefix, rest = _TOP, line
    else:
        prefix = prefix_of(line)
        rest = line[prefix.width :]
        first = rest[:1]
        if first not in _FENCE_CHARS:
            return None
    after = rest.lstrip(first)
    run = len(rest) - len(after)
    if run < 3:
        return None
    fence, info = rest[:run], after.strip()
    if fence[0] == "`" and "`" in info:
        return None
    if info.startswith(("{{", "<<")) and info.endswith(("}}", ">>")):
        return None  # a stray marker, not an info string
    return prefix, fence, info


def _closing(line: str, opened: Prefix, fence: str) -> str | None:
    """The suffix after a closing fence on `line`, or None if it does not close."""
    prefix = prefix_of(line)
    if prefix is not opened:  # the same prefix (the top level's, most often) is always at the fence's level
        if prefix.quotes != opened.quotes:
            return None
        if not (opened.indent - 3 <= prefix.indent <= opened.indent + 3 or prefix.indent <= 3):
            return None
    rest = line[prefix.width :]
    run = _run(rest, fence[0])
    if run < len(fence):
        return None
    suffix = rest[run:].strip()
    if suffix and not suffix.startswith(_SUFFIXES):
        return None
    return suffix


def _run(text: str, char: str) -> int:
    """How many times `char` repeats at the start of `text`."""
    return len(text) - len(text.lstrip(char))


_SUFFIXES = ("{{", "<<", "\\{{", "\\<<")
"""How what follows a closing fence may start: a marker, or an escaped one."""


def _strip_prefix(line: str, opened: Prefix) -> str:
    """Remove the blockquote markers and at most the fence's own indentation (tabs in code stay)."""
    prefix = prefix_of(line)
    rest = line[min(prefix.quote_width, opened.quote_width) :]
    column = index = 0
    while index < len(rest) and column < opened.indent and rest[index] in " \t":
        column = column + 1 if rest[index] == " " else (column // 4 + 1) * 4
        index += 1
    return " " * max(column - opened.indent, 0) + rest[index:]


def lex(
    lines: list[str], closes: Closes = lambda index, suffix: not suffix, wanted: re.Pattern[str] | None = None
) -> list[Fence | Text]:
    """Split `lines` into fences and the text lines between them.

    `closes(index, suffix)` decides whether a closing fence followed by `suffix`
    (a marker) really closes: the parser knows which markers exist. With `wanted`,
    a plain text line becomes a token only if the pattern occurs in it (most lines
    interest no one, and a token per line was most of the lexer's time); indented
    code and comment lines always do.
    """
    tokens: list[Fence | Text] = []
    index = 0
    comment = after_code = False
    outline = _Outline(lines)
    unclosed: dict[tuple[str, Prefix], set[int]] = {}
    while index < len(lines):
        line = lines[index]
        code = line[:1] in _INDENTS and _indented_code(lines, index, after_code, outline)
        opening = None if code or ("```" not in line and "~~~" not in line) else _opening(line)
        if opening is not None:
            fence = _fence(lines, index, *opening, closes, comment, unclosed)
            tokens.append(fence)
            after_code = False
            if fence.closed:
                index = fence.end + 1
                continue
            # Python-Markdown shows a fence that never closes as text, and so does this lexer (the parser
            # warns about the fence): markers after it still count.
        opens = "<!--" in line and _opens_comment(line)
        after_code = code and not comment
        if comment or opens or code or wanted is None or wanted.search(line):
            tokens.append(Text(index, line, code=after_code, hidden=comment or opens))
        if comment or opens:
            comment = _comment_state(line, comment)
        index += 1
    return tokens


def _opens_comment(line: str) -> bool:
    return line.lstrip(" >").startswith("<!--")


def _comment_state(line: str, inside: bool) -> bool:
    """Whether an HTML comment block is still open after `line`."""
    if not inside and not _opens_comment(line):
        return False
    return line.rfind("-->") < max(line.rfind("<!--"), 0) if "-->" in line else True


class _Outline:
    """The previous non-blank lines, kept as a stack of strictly increasing indents: the nearest line less
    indented than a given one is always on it, so finding it is not a walk back through the page."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.fed = 0
        self.stack: list[tuple[int, int]] = []  # (indent, index)

    def nearest_below(self, index: int, indent: int) -> int | None:
        """The nearest line before `index` that is not blank and less indented than `indent`."""
        lines, stack = self.lines, self.stack
        while self.fed < index:
            line = lines[self.fed]
            if line.strip():
                width = prefix_of(line).indent
                while stack and stack[-1][0] >= width:
                    stack.pop()
                stack.append((width, self.fed))
            self.fed += 1
        for width, at in reversed(stack):
            if width < indent:
                return at
        return None


def _indented_code(lines: list[str], index: int, after_code: bool, outline: _Outline) -> bool:
    """An indented code block line: four spaces in, outside any list item or admonition."""
    line = lines[index]
    if not line.startswith(("    ", "\t")) or not line.strip():
        return False
    if after_code:
        return True
    if index and lines[index - 1].strip():
        return False  # a lazy continuation of the paragraph above
    container = outline.nearest_below(index, prefix_of(line).indent)
    return container is None or not _CONTAINER.match(lines[container])


_GLUED = re.compile(r"(?P<code>.*[^`\s].*?)(?P<fence>`{3,})[ \t]*(?P<suffix>(?:\{\{|<<).*?)[ \t]*$")
"""A code line that ends with the closing backticks and a marker: `cp a b```{{execute}}`."""
_LANGUAGE = re.compile(r"\{?\.?[\w+#.-]*(?:[ \t]+[\w-]+=.*|[ \t]*\{.*)?$")
"""An info string that names a language (with options), as opposed to a line of code."""


def _fence(
    lines: list[str],
    start: int,
    prefix: Prefix,
    fence: str,
    info: str,
    closes: Closes,
    hidden: bool,
    unclosed: dict[tuple[str, Prefix], set[int]],
) -> Fence:
    """The fence that opens at `start`. Besides CommonMark's closers, Katacoda's renderer closed a backtick
    fence at a code line ending in the fence and a marker, and an unpaired longer fence at a shorter closer
    with a marker, when no inner fence was open (an example inside a longer fence stays literal)."""
    inner: tuple[str, int] | None = None  # an inner fence open in the body: (character, length)
    char = fence[0]
    triple = char * 3
    if unclosed and start in unclosed.get((fence, prefix), ()):
        # An earlier fence like this one scanned past this line, with no inner fence open there, and found
        # no closer to the end: from here this one would scan the same way (so unclosed fences stay linear).
        return Fence(start, len(lines) - 1, prefix, fence, info, False, "", (), hidden)
    longer = len(fence) > 3
    top = prefix is _TOP
    free = [start]  # lines after which no inner fence is open (only a longer fence has inner ones)
    for end in range(start + 1, len(lines)):
        line = lines[end]
        if triple not in line:
            continue
        if top and line.startswith(fence):  # `_closing` of the most common closer, without its calls
            suffix: str | None = line.lstrip(char).strip()
            if suffix and not suffix.startswith(_SUFFIXES):
                suffix = None
        else:
            suffix = _closing(line, prefix, fence)
        if suffix is not None and closes(end, suffix):
            return Fence(start, end, prefix, fence, info, True, suffix, _body(lines[start + 1 : end], prefix), hidden)
        glued = _GLUED.match(line, prefix_of(line).width) if inner is None and char == "`" else None
        if glued and len(glued["fence"]) == len(fence) and closes(end, glued["suffix"]):
            return _glued_fence(lines, start, end, prefix, fence, info, glued, hidden)
        if longer:
            inner, short = _inner(line, prefix, fence, inner, end, closes)
            if short is not None:
                body = _body(lines[start + 1 : end], prefix)
                return Fence(start, end, prefix, fence, info, True, short, body, hidden)
            if inner is None:
                free.append(end)
    unclosed.setdefault((fence, prefix), set()).update(free if longer else range(start, len(lines)))
    return Fence(start, len(lines) - 1, prefix, fence, info, False, "", (), hidden)


def _glued_fence(
    lines: list[str], start: int, end: int, prefix: Prefix, fence: str, info: str, glued: re.Match[str], hidden: bool
) -> Fence:
    code = glued["code"].rstrip()
    last = _strip_prefix(lines[end][: glued.start("code")] + code, prefix) if prefix.width else code
    info_code = bool(info) and not _LANGUAGE.match(info)
    body = (*((info,) if info_code else ()), *_body(lines[start + 1 : end], prefix), last)
    shown = "" if info_code else info
    return Fence(start, end, prefix, fence, shown, True, glued["suffix"], body, hidden, code, info_code)


def _inner(
    line: str, prefix: Prefix, fence: str, inner: tuple[str, int] | None, end: int, closes: Closes
) -> tuple[tuple[str, int] | None, str | None]:
    """Follow the fences opened inside a longer one; a shorter closer with a marker while none is open
    closes the longer fence (its marker is returned)."""
    rest = line[prefix_of(line).width :]
    run = _run(rest, fence[0])
    after = rest[run:].strip()
    if inner is not None:
        if run >= inner[1] and (not after or after.startswith(("{{", "<<"))):
            return None, None  # the inner fence closes here
        return inner, None
    if 3 <= run < len(fence):
        if after.startswith(("{{", "<<")):
            return None, after if closes(end, after) else None
        return (fence[0], run), None  # an inner fence opens (`` ```bash ``)
    return None, None


def _body(lines: list[str], opened: Prefix) -> tuple[str, ...]:
    if not opened.width:
        return tuple(lines)  # a top-level fence: the common case, and nothing to remove
    return tuple(_strip_prefix(line, opened) for line in lines)


def code_spans(text: str) -> list[CodeSpan]:
    """Inline code spans of one line, as CommonMark pairs backtick runs (linear: each length's runs are
    visited in order once)."""
    if "`" not in text:
        return []
    spans: list[CodeSpan] = []
    runs = [(run.start(), run.end()) for run in _TICKS.finditer(text)]
    by_length: dict[int, list[int]] = {}
    for k, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(k)
    cursor = dict.fromkeys(by_length, 0)
    used = -1
    for k, (start, end) in enumerate(runs):
        if start <= used:
            continue
        ticks = end - start
        if _escaped(text, start):
            start, ticks = start + 1, ticks - 1
            if not ticks:
                continue
        closing = _next_run(by_length.get(ticks, ()), cursor, ticks, k)
        if closing is None:
            continue
        close_start, close_end = runs[closing]
        spans.append(CodeSpan(start, close_end, text[start + ticks : close_start], ticks))
        used = close_end - 1
    return spans


def open_run(text: str, spans: list[CodeSpan]) -> tuple[int, int] | None:
    """The first backtick run of a line left unpaired by its code spans: (position, length)."""
    if "`" not in text:
        return None
    taken = Ranges([(span.start, span.end) for span in spans])
    for run in _TICKS.finditer(text):
        start, ticks = run.start(), len(run.group())
        if taken.holds(start):
            continue
        if _escaped(text, start):
            start, ticks = start + 1, ticks - 1
        if ticks and not taken.holds(start):
            return start, ticks
    return None


def run_of(text: str, ticks: int) -> int | None:
    """Where the first run of exactly `ticks` backticks starts in `text`, or None."""
    for run in _TICKS.finditer(text):
        if len(run.group()) == ticks:
            return run.start()
    return None


def _next_run(indexes: list[int] | tuple[()], cursor: dict[int, int], ticks: int, after: int) -> int | None:
    """The first run of `ticks` backticks after run `after`; the cursor only moves forward."""
    at = cursor.get(ticks, 0)
    while at < len(indexes) and indexes[at] <= after:
        at += 1
    if ticks in cursor:
        cursor[ticks] = at
    return indexes[at] if at < len(indexes) else None


def _escaped(text: str, pos: int) -> bool:
    slashes = 0
    while pos > slashes and text[pos - slashes - 1] == "\\":
        slashes += 1
    return slashes % 2 == 1


class Ranges:
    """Half-open ranges that do not overlap, asked in logarithmic time whether they hold a position."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        self.ranges = sorted(ranges)
        self.starts = [start for start, _ in self.ranges]

    def holds(self, pos: int) -> bool:
        at = bisect.bisect_right(self.starts, pos) - 1
        return at >= 0 and pos < self.ranges[at][1]
