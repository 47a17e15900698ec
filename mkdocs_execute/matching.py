"""Compare a command's output with the output block on the page, and rewrite that block in update mode.

Both sides are normalised first (terminal escapes, carriage returns, spacing), then aligned line by line with
two wildcards: `...` alone on a line stands for any number of lines, `[..]` inside a line for any text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

ELLIPSIS = "..."
ANYTHING = "[..]"
CONTEXT = 3
"""Lines of context around each hunk of a diff, as `diff -u`."""

ESCAPES = (
    r"\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?"  # OSC (titles, hyperlinks), BEL- or ST-terminated
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b[ -/]*[0-~]"  # simple ESC sequences: charset, keypad, save/restore cursor
)
_TOKEN = re.compile(rf"\x1b\[(?P<erase>[0-2]?)K|{ESCAPES}|\r|\x08|[^\x1b\x9b\r\x08]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BLANKS = re.compile(r"[ \t]+")


# -- normalisation ----------------------------------------------------------------------


_SPACES = re.compile(r"[ \t]{2,}|\t")


def normalize(text: str) -> list[str]:
    r"""Lines as compared: ANSI escape sequences stripped (CSI, OSC, and simple ESC sequences), carriage-return
    overwrites resolved (a line `10%\r50%\r100%` shows as `100%`), CRLF → LF, trailing spaces removed, runs of
    spaces and tabs inside a line collapsed to one space (aligned tables compare on content), leading and trailing
    blank lines dropped. Leading indentation is collapsed too (to one space) but kept as 'some indent'."""
    text = text.replace("\r\n", "\n")
    if not _shown_as_is(text):
        lines = _display(text)
        return _BLANKS.sub(" ", "\n".join(lines)).split("\n") if lines else []
    # Whole-text passes run at C speed; a line at a time they were most of a large comparison.
    if "  " in text or "\t" in text:  # a substring search is far cheaper than a regex scan that finds nothing
        text = _SPACES.sub(" ", text)
    return _edges(text.replace(" \n", "\n").rstrip(" ").split("\n"))


def _edges(lines: list[str]) -> list[str]:
    """Without the blank lines at either end."""
    start = next((k for k, line in enumerate(lines) if line), len(lines))
    end = len(lines)
    while end > start and not lines[end - 1]:
        end -= 1
    return lines[start:end]


_CONTROLS = frozenset(range(0x09)) | frozenset(range(0x0B, 0x20)) | {0x7F, 0x9B}
_PLAIN = bytes(b for b in range(256) if b not in _CONTROLS)
"""Bytes of a text that shows as written; a text with no other byte (most outputs) needs no rendering."""


def _shown_as_is(text: str) -> bool:
    # Deleting the plain bytes runs at memory speed, five times a regex scan: `\x9b` inside a UTF-8
    # character only costs the slow, exact path.
    return not text.encode("utf-8", "surrogatepass").translate(None, _PLAIN)


_TRAILING = re.compile(r"[ \t]+$", re.MULTILINE)


def _display(text: str) -> list[str]:
    """Lines as a terminal shows them, trailing spaces and blank edges dropped, inner spacing kept."""
    text = text.replace("\r\n", "\n")
    if not _shown_as_is(text):
        lines = [render_line(line).rstrip() for line in text.split("\n")]
    else:
        lines = _TRAILING.sub("", text).split("\n")
    return _edges(lines)


def render_line(line: str) -> str:
    r"""What a terminal shows for one line: `\r` and backspace move the cursor back, text overwrites."""
    if not any(c in line for c in "\x1b\x9b\r\x08") and not _CONTROL.search(line):
        return line
    cells: list[str] = []
    column = 0
    for match in _TOKEN.finditer(line):
        token = match.group()
        if token == "\r":
            column = 0
        elif token == "\x08":
            column = max(column - 1, 0)
        elif match["erase"] is not None:
            cells = _erase(cells, column, match["erase"])
        elif token[0] not in "\x1b\x9b":
            token = _CONTROL.sub("", token)
            cells[column : column + len(token)] = token
            column += len(token)
    return "".join(cells)


def _erase(cells: list[str], column: int, mode: str) -> list[str]:
    """`ESC [ K`: progress bars clear the line before redrawing it, so the old text must not survive."""
    if mode in ("", "0"):
        return cells[:column]
    if mode == "1":
        return [" "] * min(column + 1, len(cells)) + cells[column + 1 :]
    return [" "] * len(cells)


def _collapse(line: str) -> str:
    return _BLANKS.sub(" ", line)


# -- wildcards --------------------------------------------------------------------------


class _Pattern(NamedTuple):
    """One normalised expected line, ready to be matched (a tuple: large outputs make thousands)."""

    text: str
    ellipsis: bool
    segments: tuple[str, ...] | None
    """The literal pieces around each `[..]`, or None for a literal line."""

    @classmethod
    def of(cls, line: str) -> _Pattern:
        segments = tuple(line.split(ANYTHING)) if ANYTHING in line else None
        return cls(line, line.strip() == ELLIPSIS, segments)

    def matches(self, line: str) -> bool:
        if self.segments is None:
            return self.text == line
        first, *middle, last = self.segments
        if len(line) < len(first) + len(last) or not line.startswith(first) or not line.endswith(last):
            return False
        # `[..]` is a glob star: taking each middle piece at its leftmost place never loses a match,
        # so this stays linear where a backtracking regex could explode.
        position, stop = len(first), len(line) - len(last)
        for piece in middle:
            found = line.find(piece, position, stop)
            if found < 0:
                return False
            position = found + len(piece)
        return True


# -- alignment --------------------------------------------------------------------------


class _Op(NamedTuple):
    """One step of an alignment.

    `match` pairs a line with a line, `absorb` gives an actual line to a `...`, `ellipsis` closes that `...`,
    `delete` drops an expected line, `insert` adds an actual line, `replace` swaps one for the other.
    """

    tag: str
    expected: int = -1
    actual: int = -1


_BUDGET = 250_000
"""Cells of the exact alignment's table (n·m); past it a stretch is aligned on anchors, in near-linear time."""


def _align(patterns: list[_Pattern], actual: list[str]) -> list[_Op]:
    """An alignment: when the text matches, the one the wildcards give (no search); otherwise a best one
    (fewest unmatched lines, then most lines matched) where the table stays small, and one built around
    difflib's anchors where it would not."""
    matched = _glob(patterns, actual)
    if matched is not None:
        return matched
    head = 0
    while head < min(len(patterns), len(actual)) and _anchors(patterns[head], actual[head]):
        head += 1
    tail = 0
    while tail < min(len(patterns), len(actual)) - head and _anchors(patterns[-1 - tail], actual[-1 - tail]):
        tail += 1
    middle = _middle(patterns[head : len(patterns) - tail], actual[head : len(actual) - tail])
    ops = [_Op("match", k, k) for k in range(head)]
    ops += [_Op(op.tag, _shift(op.expected, head), _shift(op.actual, head)) for op in middle]
    ops += [_Op("match", len(patterns) - tail + k, len(actual) - tail + k) for k in range(tail)]
    return ops


def _glob(patterns: list[_Pattern], actual: list[str]) -> list[_Op] | None:
    """The alignment of a text that matches, or None: runs of lines between `...` are found leftmost, in
    order (as a glob matches `*`), which never misses a match and needs no table."""
    runs: list[list[int]] = [[]]
    for index, pattern in enumerate(patterns):
        if pattern.ellipsis:
            runs.append([])
        else:
            runs[-1].append(index)
    first, last = runs[0], runs[-1]
    if len(runs) == 1:
        return _run_ops(patterns, first, actual, 0) if len(first) == len(actual) else None
    if len(first) + len(last) > len(actual):
        return None
    ops = _run_ops(patterns, first, actual, 0)
    end = len(actual) - len(last)
    tail = _run_ops(patterns, last, actual, end)
    if ops is None or tail is None:
        return None
    position = len(first)
    ellipses = [index for index, pattern in enumerate(patterns) if pattern.ellipsis]
    for ellipsis, run in zip(ellipses, runs[1:], strict=True):
        found = _find_run(patterns, run, actual, position, end) if run is not last else end
        if found is None:
            return None
        ops += [_Op("absorb", ellipsis, j) for j in range(position, found)] + [_Op("ellipsis", ellipsis)]
        if run is not last:
            ops += _run_ops(patterns, run, actual, found) or []
        position = found + (len(run) if run is not last else 0)
    return ops + tail


def _run_ops(patterns: list[_Pattern], run: list[int], actual: list[str], at: int) -> list[_Op] | None:
    """Matches of a run of lines at `at`, or None."""
    if at + len(run) > len(actual):
        return None
    for k, index in enumerate(run):
        if not patterns[index].matches(actual[at + k]):
            return None
    return [_Op("match", index, at + k) for k, index in enumerate(run)]


def _find_run(patterns: list[_Pattern], run: list[int], actual: list[str], start: int, stop: int) -> int | None:
    """The leftmost place in actual[start:stop] where the whole run matches."""
    for at in range(start, stop - len(run) + 1):
        if all(patterns[index].matches(actual[at + k]) for k, index in enumerate(run)):
            return at
    return None


def _middle(patterns: list[_Pattern], actual: list[str]) -> list[_Op]:
    """A best alignment where the table is small; else difflib's anchors on literal lines, and the stretches
    between them aligned the same way."""
    if len(patterns) * len(actual) <= _BUDGET:
        return _trace(patterns, actual)
    if not any(p.ellipsis or p.segments is not None for p in patterns):
        return _literal([p.text for p in patterns], actual)
    keys: list[object] = [p.text if p.segments is None and not p.ellipsis else object() for p in patterns]
    import difflib  # only for a diff or a hint

    matcher = difflib.SequenceMatcher(None, keys, actual, autojunk=True)  # type: ignore[arg-type]
    ops: list[_Op] = []
    i = j = 0
    for a, b, size in matcher.get_matching_blocks():
        gap = _trace(patterns[i:a], actual[j:b]) if (a - i) * (b - j) <= _BUDGET else _rough(patterns[i:a], actual[j:b])
        ops += [_Op(op.tag, _shift(op.expected, i), _shift(op.actual, j)) for op in gap]
        ops += [_Op("match", a + k, b + k) for k in range(size)]
        i, j = a + size, b + size
    return ops


def _literal(wanted: list[str], got: list[str]) -> list[_Op]:
    """Plain lines aligned as difflib aligns them."""
    ops: list[_Op] = []
    import difflib  # only for a diff or a hint

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, wanted, got, autojunk=True).get_opcodes():
        if tag == "equal":
            ops += [_Op("match", i1 + k, j1 + k) for k in range(i2 - i1)]
            continue
        both = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        ops += [_Op("replace", i1 + k, j1 + k) for k in range(both)]
        ops += [_Op("delete", i) for i in range(i1 + both, i2)]
        ops += [_Op("insert", actual=j) for j in range(j1 + both, j2)]
    return ops


def _rough(patterns: list[_Pattern], actual: list[str]) -> list[_Op]:
    """A valid alignment of a stretch too large for the table: lines paired in place, the first `...`
    taking what is left between the lines before it and those after the last one."""
    n, m = len(patterns), len(actual)
    ellipses = [index for index, pattern in enumerate(patterns) if pattern.ellipsis]
    if not ellipses:
        both = min(n, m)
        ops = _pairs(patterns, actual, 0, 0, both)
        return ops + [_Op("delete", i) for i in range(both, n)] + [_Op("insert", actual=j) for j in range(both, m)]
    first, last = ellipses[0], ellipses[-1]
    head = min(first, m)
    tail = min(n - last - 1, m - head)
    ops = _pairs(patterns, actual, 0, 0, head) + [_Op("delete", i) for i in range(head, first)]
    ops += [_Op("absorb", first, j) for j in range(head, m - tail)] + [_Op("ellipsis", first)]
    ops += [_Op("ellipsis" if patterns[i].ellipsis else "delete", i) for i in range(first + 1, n - tail)]
    return ops + _pairs(patterns, actual, n - tail, m - tail, tail)


def _pairs(patterns: list[_Pattern], actual: list[str], i: int, j: int, count: int) -> list[_Op]:
    return [_Op("match" if patterns[i + k].matches(actual[j + k]) else "replace", i + k, j + k) for k in range(count)]


def _anchors(pattern: _Pattern, line: str) -> bool:
    """A matching pair at either end is always part of some best alignment: take it without search."""
    return not pattern.ellipsis and pattern.matches(line)


def _shift(index: int, by: int) -> int:
    return index + by if index >= 0 else index


def _costs(patterns: list[_Pattern], actual: list[str], edit: int) -> list[list[int]]:
    """cost[i][j]: the best alignment of patterns[i:] with actual[j:] (dynamic programming, O(n·m)).

    An unmatched line costs `edit`, a matched one earns 1; `edit` outweighs every possible match, so the
    number of unmatched lines decides first.
    """
    n, m = len(patterns), len(actual)
    cost = [[0] * (m + 1) for _ in range(n)] + [[(m - j) * edit for j in range(m + 1)]]
    for i in range(n - 1, -1, -1):
        row, below, pattern = cost[i], cost[i + 1], patterns[i]
        if pattern.ellipsis:
            row[m] = below[m]
            for j in range(m - 1, -1, -1):
                row[j] = min(below[j], row[j + 1])
            continue
        row[m] = below[m] + edit
        for j in range(m - 1, -1, -1):
            paired = below[j + 1] - 1 if pattern.matches(actual[j]) else below[j + 1] + edit  # match or replace
            row[j] = min(paired, min(below[j], row[j + 1]) + edit)  # or delete, or insert
    return cost


def _trace(patterns: list[_Pattern], actual: list[str]) -> list[_Op]:
    """Walk one best path; on ties a `...` stops early, so a changed line after it is shown as changed."""
    n, m = len(patterns), len(actual)
    edit = n + m + 1
    cost = _costs(patterns, actual, edit)
    i = j = 0
    ops: list[_Op] = []
    while i < n or j < m:
        here = cost[i][j]
        if i == n:
            ops.append(_Op("insert", actual=j))
        elif patterns[i].ellipsis:
            ops.append(_Op("ellipsis", i) if cost[i + 1][j] == here else _Op("absorb", i, j))
        elif j < m and cost[i + 1][j + 1] - 1 == here and patterns[i].matches(actual[j]):
            ops.append(_Op("match", i, j))
        elif j < m and cost[i + 1][j + 1] + edit == here:
            ops.append(_Op("replace", i, j))
        elif cost[i + 1][j] + edit == here:
            ops.append(_Op("delete", i))
        else:
            ops.append(_Op("insert", actual=j))
        i, j = _advance(ops[-1], i, j)
    return ops


def _advance(op: _Op, i: int, j: int) -> tuple[int, int]:
    if op.tag in ("match", "replace"):
        return i + 1, j + 1
    if op.tag in ("ellipsis", "delete"):
        return i + 1, j
    return i, j + 1


# -- comparison -------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """What comparing a block's expected output with its actual output found."""

    ok: bool
    diff: str
    """'' when ok; otherwise a unified diff, `--- expected` / `+++ actual`, in which wildcard lines that DID match are
    shown as the actual text they matched (so only real differences appear as -/+)."""
    expected: str = field(repr=False)
    actual: str = field(repr=False)

    @cached_property
    def wanted(self) -> list[str]:
        """The expected lines, normalised (only messages need them once the texts are equal)."""
        return normalize(self.expected)

    @cached_property
    def got(self) -> list[str]:
        return normalize(self.actual)

    @cached_property
    def resolved(self) -> list[str]:
        """Expected lines with every wildcard that matched replaced by what it matched (for messages)."""
        ops = _align([_Pattern.of(line) for line in self.wanted], self.got)
        return [
            self.wanted[op.expected] if op.expected >= 0 and op.tag in ("delete", "replace") else self.got[op.actual]
            for op in ops
            if op.tag not in ("ellipsis", "insert")
        ]


def compare(expected: str, actual: str) -> Comparison:
    """`...` alone on a line (after normalisation) matches any number of lines, zero included; `[..]` inside a line
    matches any text within that line (zero or more characters, never a newline). Everything else matches literally
    after normalize(). Near-linear in time and memory, however many wildcards and lines there are."""
    if actual == expected or actual == expected + "\n":  # as the page says it: normalised alike, nothing to find
        return Comparison(True, "", expected, actual)
    wanted, got = normalize(expected), normalize(actual)
    if ("..." not in expected and ANYTHING not in expected) or not _has_wildcards(
        wanted
    ):  # the common case: plain text, compared and diffed as difflib does
        if wanted == got:
            return Comparison(True, "", expected, actual)
        import difflib  # only for a diff or a hint

        return Comparison(False, "\n".join(difflib.unified_diff(wanted, got, *_NAMES, lineterm="")), expected, actual)
    ops = _align([_Pattern.of(line) for line in wanted], got)
    ok = all(op.tag in ("match", "absorb", "ellipsis") for op in ops)
    return Comparison(ok, "" if ok else _unified(_diff_lines(ops, wanted, got)), expected, actual)


_NAMES = ("expected", "actual")


def _has_wildcards(lines: list[str]) -> bool:
    return any(ANYTHING in line or line.strip() == ELLIPSIS for line in lines)


def _diff_lines(ops: list[_Op], wanted: list[str], got: list[str]) -> list[tuple[str, str]]:
    """(sign, text) lines; within each run of changes, removals first, as `diff -u` shows them."""
    lines: list[tuple[str, str]] = []
    removed: list[tuple[str, str]] = []
    added: list[tuple[str, str]] = []
    for op in ops:
        if op.tag in ("delete", "replace"):
            removed.append(("-", wanted[op.expected]))
        if op.tag in ("insert", "replace"):
            added.append(("+", got[op.actual]))
        if op.tag in ("match", "absorb"):
            lines += [*removed, *added, (" ", got[op.actual])]  # a wildcard shows what it matched
            removed, added = [], []
    return [*lines, *removed, *added]


def _unified(lines: list[tuple[str, str]]) -> str:
    """Format (sign, text) lines as `diff -u` does, hunks with CONTEXT lines around each change."""
    changed = [k for k, (sign, _) in enumerate(lines) if sign != " "]
    hunks: list[tuple[int, int]] = []
    for k in changed:
        start, end = max(k - CONTEXT, 0), min(k + CONTEXT + 1, len(lines))
        if hunks and start <= hunks[-1][1]:
            start = hunks.pop()[0]
        hunks.append((start, end))
    old_before, new_before = [0], [0]  # lines of each side before index k
    for sign, _ in lines:
        old_before.append(old_before[-1] + (sign != "+"))
        new_before.append(new_before[-1] + (sign != "-"))
    out = ["--- expected", "+++ actual"]
    for start, end in hunks:
        old = _range(old_before[start], old_before[end] - old_before[start])
        new = _range(new_before[start], new_before[end] - new_before[start])
        out.append(f"@@ -{old} +{new} @@")
        out += [sign + text for sign, text in lines[start:end]]
    return "\n".join(out)


def _range(start: int, length: int) -> str:
    """A hunk range as difflib writes it: 1-based, `,length` unless 1, the line before when empty."""
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


# -- update mode ------------------------------------------------------------------------


def update_expected(expected: str, actual: str) -> str:
    """The new text of an output block for update mode: keep each expected line that still matches (literal, `[..]`
    lines, and `...` lines as long as the surrounding lines still align), and replace what no longer matches with the
    actual lines (normalised for trailing spaces only — keep the actual line's own spacing). If expected is entirely
    `...` it stays `...`. The result must itself `compare(...)` ok against `actual`.

    Actual lines are written as a terminal shows them, escape sequences and carriage-return overwrites resolved:
    neither belongs in a Markdown file.
    """
    written, shown = _display(expected), _display(actual)
    patterns = [_Pattern.of(_collapse(line)) for line in written]
    ops = _align(patterns, [_collapse(line) for line in shown])
    lines = [_kept(op, written, shown) for op in ops if op.tag in ("match", "ellipsis", "replace", "insert")]
    return "\n".join(lines)


def _kept(op: _Op, written: list[str], shown: list[str]) -> str:
    return written[op.expected] if op.tag in ("match", "ellipsis") else shown[op.actual]
