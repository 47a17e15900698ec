"""The one lesson parser: Markdown source in, the typed lesson model out.

The site (through the Markdown extension) and the harness both read lessons
here, so what is shown is exactly what is tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

from . import options as catalogue
from .lexer import CodeSpan, Fence, Ranges, Text, code_spans, lex, open_run, run_of
from .model import Block, Diagnostic, Form, Kind, Lesson, Option, Placeholder, Span

_WORDS = r"[A-Za-z][\w-]*(?:[ \t]+[A-Za-z0-9][\w.-]*(?:=[^\s{}<>]*)?)*"
MARKER = re.compile(
    rf"(?P<escape>\\)?(?:\{{\{{[ \t]*(?P<braces>{_WORDS})[ \t]*\}}\}}|<<[ \t]*(?P<angles>{_WORDS})[ \t]*>>)"
)
_INTERESTING = re.compile(r"`|\{\{|<<|\[\[")
"""What makes a text line worth parsing: inline code, a marker or a placeholder."""
PLACEHOLDER = re.compile(r"(?P<escape>\\)?\[\[(?P<name>[A-Z][A-Z0-9_]*)\]\]")

_SPAN_LINES = 120
"""How far a multi-line code span may reach."""
_TRAILING = ".,;:!?)"
"""Punctuation a writer may put after a closing marker (`` ```{{execute}}. ``)."""

KINDS = {
    "execute": Kind.EXECUTE,
    "exec": Kind.EXECUTE,
    "copy": Kind.COPY,
    "open": Kind.OPEN,
    "output": Kind.OUTPUT,
}
VERBATIM_LANGUAGES = frozenset({"markdown", "md"})
"""Code in these languages shows Markdown source: markers and placeholders stay as written."""


class Marker(NamedTuple):
    """A parsed marker: `{{execute T1}}` → name `execute`, options `(T1,)`; no kind when unknown."""

    name: str
    options: tuple[Option, ...]
    text: str
    kind: Kind | None


@dataclass(frozen=True)
class Piece:
    """A stretch of a text line and what it is: the renderer's unit of rewriting."""

    start: int
    end: int
    role: str
    """`inline` (code span + marker), `escape`, `stray` (marker to drop), `literal` (escaped placeholder)."""
    block: Block | None = None
    name: str = ""


@dataclass
class Page:
    """The full result of parsing: the model plus what the renderer needs to rewrite."""

    lesson: Lesson
    fences: list[tuple[Fence, Block | None]] = field(default_factory=list)
    pieces: dict[int, list[Piece]] = field(default_factory=dict)
    """Text-line pieces keyed by 0-based line index."""
    verbatim: set[int] = field(default_factory=set)
    """Lines the renderer must leave alone: HTML comments and indented code."""


@lru_cache(maxsize=512)
def read_marker(text: str) -> Marker | None:
    """Parse `text` if it is exactly one marker (cached: lessons repeat a handful of markers)."""
    match = MARKER.fullmatch(text.strip()) or MARKER.fullmatch(text.strip().rstrip(_TRAILING))
    if not match or match["escape"]:
        return None
    return _marker(match)


def _marker(match: re.Match[str]) -> Marker:
    words = (match["braces"] or match["angles"]).split()
    options = tuple(_option(word) for word in words[1:])
    return Marker(words[0], options, match.group().lstrip("\\"), KINDS.get(words[0].lower()))


def _option(word: str) -> Option:
    name, sep, value = word.partition("=")
    return Option(name, value if sep else None)


def placeholders(code: str) -> tuple[str, ...]:
    """Names used in `code`, in order of first use, escaped ones left out."""
    if "[[" not in code:
        return ()
    found = (m["name"] for m in PLACEHOLDER.finditer(code) if not m["escape"])
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=256)
def language_of(info: str) -> str:
    """The language of a fence info string: ``bash``, ``{.bash title="x"}`` …"""
    word = info.strip().lstrip("{").split(maxsplit=1)[0] if info.strip() else ""
    word = word.lstrip(".").rstrip("}")
    return "" if "=" in word or word.startswith("#") else word


def front_matter_lines(raw: str, body: str) -> int:
    """Lines cut from the top of `raw` (front matter) to leave `body`."""
    if not body or not raw.endswith(body):
        return 0
    return raw[: len(raw) - len(body)].count("\n")


def parse(text: str, line_offset: int = 0) -> Lesson:
    """Parse Markdown `text`; `line_offset` lines were cut before it (front matter)."""
    return parse_lines(text.split("\n"), line_offset).lesson


def parse_lines(lines: list[str], line_offset: int = 0) -> Page:
    """Parse `lines` into the model and the renderer's rewriting plan."""
    parser = _Parser(Page(Lesson()), line_offset, lines)
    verbatim = parser.page.verbatim
    for token in lex(lines, parser.closes, _INTERESTING):
        if isinstance(token, Fence):
            parser.fence(token)
        elif token.code or token.hidden:
            verbatim.add(token.row)
        else:
            parser.text(token)
    return parser.page


@dataclass
class _Parser:
    """One page's parse in progress: the page it fills, and what it has seen so far."""

    page: Page
    offset: int
    lines: list[str] = field(default_factory=list)
    pending: int | None = None
    """Index in `lesson.blocks` of the runnable block still waiting for its output."""
    closing: dict[int, Marker] = field(default_factory=dict)
    """Markers already read on closing fence lines, by line index."""
    rejected: dict[int, str] = field(default_factory=dict)
    """Lines that look like a closing fence but carry an unknown or malformed marker: a misspelt closer."""
    consumed: set[int] = field(default_factory=set)
    """Lines taken by a code span that started on an earlier line (Katacoda's multi-line inline commands)."""

    @property
    def lesson(self) -> Lesson:
        return self.page.lesson

    def warn(self, index: int, code: str, message: str) -> None:
        self.lesson.diagnostics.append(Diagnostic(index + 1 + self.offset, message, code))

    def closes(self, index: int, suffix: str) -> bool:
        """Whether a closing fence followed by `suffix` closes: only a known marker may follow."""
        if not suffix:
            return True
        marker = self.marker_at(suffix, index)
        if marker is None or marker.kind is None:
            self.rejected[index] = suffix
            return False
        self.closing[index] = marker  # read once; `fence` takes it from here
        return True

    def fence(self, fence: Fence) -> None:
        if not fence.closed:  # its lines come next as text, as Python-Markdown shows them
            self.warn(fence.start, "unclosed-fence", f"code block opened with {fence.fence} never closes")
            return
        language = language_of(fence.info)
        code = "\n".join(fence.body)
        if language.lower() not in VERBATIM_LANGUAGES and not fence.hidden:
            self.collect(code, fence.start + 1, in_code=True)
        marker = self.closing.get(fence.end) if fence.suffix else None
        if marker is None or marker.kind is None:
            self.page.fences.append((fence, None))
            self.pending = None
            return
        block = Block(
            kind=marker.kind,
            form=Form.BLOCK,
            code=code,
            line=fence.start + 1 + self.offset,
            language=language,
            options=marker.options,
            placeholders=placeholders(code),
            marker=marker.text,
            fence=Span(fence.start, fence.end + 1),
            hidden=fence.hidden,
            errors=self.misspelt_closers(fence) if self.rejected else (),
        )
        self.page.fences.append((fence, self.add(block, fence.end)))

    def misspelt_closers(self, fence: Fence) -> tuple[str, ...]:
        """A misspelt closing marker lets the fence run on into prose: such a block must never run."""
        if not self.rejected:
            return ()
        return tuple(
            f"line {index + 1 + self.offset}: {suffix!r} looks like the end of this block with a misspelt marker;"
            " the block runs on past it, so it is not run"
            for index, suffix in self.rejected.items()
            if fence.start < index < fence.end
        )

    def marker_at(self, suffix: str, index: int) -> Marker | None:
        """The marker in marker position, warning about a malformed or unknown one."""
        marker = read_marker(suffix)
        if marker is None:
            self.warn(index, "bad-marker", f"cannot read the marker {suffix!r}")
        elif marker.kind is None:
            import difflib  # only for a diff or a hint

            close = difflib.get_close_matches(marker.name.lower(), list(KINDS), n=1, cutoff=0.6)
            hint = f" (did you mean {marker.text.replace(marker.name, close[0], 1)!r}?)" if close else ""
            self.warn(index, "unknown-marker", f"unknown marker {marker.text!r}{hint}")
        return marker

    def add(self, block: Block, index: int) -> Block:
        """Append `block`, pairing an output block with the runnable block before it."""
        blocks = self.lesson.blocks
        if block.options:
            block = self.checked(block, index)
        if block.kind is Kind.OUTPUT:
            if self.pending is None:
                self.warn(index, "orphan-output", "output block follows no runnable block")
            else:
                runnable = blocks[self.pending]  # its output's bad option is its own: it cannot be judged
                _pair(runnable, block)
            self.pending = None
        else:
            self.pending = len(blocks) if block.runnable else None
        blocks.append(block)
        return block

    def checked(self, block: Block, index: int) -> Block:
        """Options against the catalogue: a bad value keeps the block from running, an unknown key is a slip."""
        errors, warnings = catalogue.problems(block.options)
        for message in warnings:
            self.warn(index, "unknown-option", message)
        for message in errors:
            self.warn(index, "bad-option", message)
        if not errors:
            return block
        line = index + 1 + self.offset
        return replace(block, errors=block.errors + tuple(f"line {line}: {message}" for message in errors))

    def collect(self, code: str, first: int, in_code: bool) -> None:
        if "[[" not in code:
            return
        for number, line in enumerate(code.split("\n")):
            for match in PLACEHOLDER.finditer(line):
                if not match["escape"]:
                    line_number = first + number + 1 + self.offset
                    self.lesson.placeholders.append(Placeholder(match["name"], line_number, in_code))

    def text(self, token: Text) -> None:
        if token.row in self.consumed:
            return
        spans = code_spans(token.text)
        pieces = self.inline_pieces(token, spans)
        run = open_run(token.text, spans)
        if run is not None:
            pieces += self.multiline(token, *run)
        pieces += self.prose_pieces(token, spans, pieces)
        if "[[" in token.text:
            for span in spans:
                self.collect(span.content, token.row, in_code=True)
            self.collect(_blank(token.text, spans), token.row, in_code=False)
        if pieces:
            self.page.pieces[token.row] = sorted(pieces, key=lambda p: p.start)

    def multiline(self, token: Text, start: int, ticks: int) -> list[Piece]:
        """A code span that opens on this line and closes, with a marker, on a later line of the paragraph:
        `` `⏎oc login …⏎`{{execute}} ``. Katacoda ran it; Python-Markdown shows it as one code span."""
        found = self.span_end(token.row, ticks)
        if found is None:
            return []
        row, closing, end, marker = found
        between = [token.text[start + ticks :], *self.lines[token.row + 1 : row], self.lines[row][:closing]]
        code = "\n".join(between).strip()
        block = Block(
            kind=marker.kind or Kind.EXECUTE,
            form=Form.INLINE,
            code=code,
            line=token.row + 1 + self.offset,
            options=marker.options,
            placeholders=placeholders(code),
            marker=marker.text,
        )
        block = self.add(block, row)
        self.collect(code, token.row, in_code=True)
        for taken in range(token.row + 1, row + 1):
            self.consumed.add(taken)
            stop = end if taken == row else len(self.lines[taken])
            self.page.pieces.setdefault(taken, []).append(Piece(0, stop, "consumed"))
        return [Piece(start, len(token.text), "inline", block)]

    def span_end(self, first: int, ticks: int) -> tuple[int, int, int, Marker] | None:
        """Where a span opened on line `first` closes with a known marker: (line, closing run, marker end)."""
        for row in range(first + 1, min(len(self.lines), first + _SPAN_LINES)):
            line = self.lines[row]
            if not line.strip() or line.lstrip(" >").startswith(("```", "~~~")) or row in self.page.verbatim:
                return None  # the paragraph ends first: no span
            closing = run_of(line, ticks)
            if closing is None:
                continue
            match = MARKER.match(line, closing + ticks)
            marker = self.marker_at(match.group(), row) if match and not match["escape"] else None
            if match is None or marker is None or marker.kind is None:
                return None  # a span without a marker: plain Markdown shows it
            return row, closing, match.end(), marker
        return None

    def inline_pieces(self, token: Text, spans: list[CodeSpan]) -> list[Piece]:
        pieces = []
        for span in spans:
            if token.text.startswith("{{}}", span.end):  # Killercoda: plain code, no copy button
                pieces.append(Piece(span.end, span.end + 4, "stray"))
                continue
            match = MARKER.match(token.text, span.end)
            if not match or match["escape"]:
                continue
            marker = self.marker_at(match.group(), token.row)
            if marker is None or marker.kind is None:
                continue  # reported; the text stays as written
            block = self.add(self.inline_block(token.row, span, marker), token.row)
            pieces.append(Piece(span.start, match.end(), "inline", block))
        return pieces

    def inline_block(self, index: int, span: CodeSpan, marker: Marker) -> Block:
        code = span.content.strip() if span.ticks > 1 else span.content
        return Block(
            kind=marker.kind or Kind.EXECUTE,
            form=Form.INLINE,
            code=code,
            line=index + 1 + self.offset,
            options=marker.options,
            placeholders=placeholders(code),
            marker=marker.text,
        )

    def prose_pieces(self, token: Text, spans: list[CodeSpan], taken: list[Piece]) -> list[Piece]:
        """Escapes and markers that follow no code, outside code spans and inline blocks."""
        pieces: list[Piece] = []
        if "{{" not in token.text and "<<" not in token.text and "\\[[" not in token.text:
            return pieces
        busy = Ranges([(s.start, s.end) for s in spans] + [(p.start, p.end) for p in taken])
        inline = Ranges([(p.start, p.end) for p in taken])
        for match in MARKER.finditer(token.text):
            if busy.holds(match.start()) or _marker(match).kind is None:
                continue
            if match["escape"]:
                pieces.append(Piece(match.start(), match.end(), "escape"))
            elif " " not in match.group():  # `{{ copy }}` in prose is more likely Jinja than a slip
                before = token.text[: match.start()].rstrip()
                seen = f"it follows {before[-30:]!r}" if before else "it starts the line"
                self.warn(token.row, "no-code", f"marker {match.group()!r} follows no code ({seen})")
                pieces.append(Piece(match.start(), match.end(), "stray"))
        for match in PLACEHOLDER.finditer(token.text):
            if match["escape"] and not inline.holds(match.start()):
                pieces.append(Piece(match.start(), match.end(), "literal", name=match["name"]))
        return pieces


def _pair(runnable: Block, output: Block) -> None:
    """Give a runnable block its output block. The parser still owns both (nothing else has seen them), so
    the frozen block is completed in place: `dataclasses.replace` made a new one, half of a big page's parse."""
    runnable.__dict__["expected"] = output
    if output.errors:
        runnable.__dict__["errors"] = runnable.errors + output.errors


def _blank(text: str, spans: list[CodeSpan]) -> str:
    """`text` with its code spans blanked out, so prose placeholders can be told apart."""
    parts, done = [], 0
    for span in spans:
        parts += [text[done : span.start], " " * (span.end - span.start)]
        done = span.end
    return "".join(parts) + text[done:]
