"""The Python-Markdown extension: markers and placeholders become the HTML contract.

A preprocessor rewrites marked fences before any fence extension sees them
(after pymdownx.snippets, before SuperFences), so highlighting, titles, line
numbers and annotations keep working. A postprocessor adds the toolbars and
turns placeholders into elements once the highlighter has run.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from . import rendering
from .including import Origin, expand, has_snippets, where
from .lexer import Fence, Ranges
from .model import Block, Diagnostic, Kind, Lesson
from .parsing import PLACEHOLDER, VERBATIM_LANGUAGES, Page, Piece, front_matter_lines, language_of, parse_lines
from .strings import strings_for

log = logging.getLogger("mkdocs_execute")

BUILTIN_VARIABLES = frozenset({"RUN_ID"})
"""Placeholders every run provides, so they are never undefined."""


class LessonError(Exception):
    """Raised in strict mode when a lesson has problems; its message names `file:line`."""


class ExtensionVersionError(Exception):
    """A Markdown extension too old to render marked blocks right: a clear error, never a silent mis-render."""


SUPERFENCES_FLOOR = (10, 11)
"""pymdown-extensions before 10.11 mis-render the attributes marked blocks carry through SuperFences."""


def check_superfences() -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("pymdown-extensions")
    except PackageNotFoundError:
        return
    numbers = tuple(int(part) for part in re.findall(r"\d+", found)[:2])
    if numbers < SUPERFENCES_FLOOR:
        raise ExtensionVersionError(
            f"pymdown-extensions {found} is too old: marked blocks need 10.11 or newer "
            "(older versions mis-render them); pip install -U 'pymdown-extensions>=10.11'"
        )


@dataclass
class PageContext:
    """Where the page being converted comes from, for `data-mx-source` and messages."""

    source: str = "<string>"
    line_offset: int = 0
    root: str = "."
    """The folder `source` is relative to: included files are named relative to it too."""
    origins: list[Origin] | None = None
    """Where each line of the converted text came from, when snippets were included."""

    def where(self, line: int) -> str:
        """`docs/page.md:LINE`, or the included file's path and line when the line came from one."""
        return where(self.source, line, self.line_offset, self.origins, self.root)


@dataclass
class _Standins:
    """Alphanumeric stand-ins that survive highlighting, swapped for HTML afterwards."""

    names: list[tuple[str, str]] = field(default_factory=list)

    def token(self, role: str, name: str) -> str:
        self.names.append((role, name))
        return f"mxq{_letters(len(self.names) - 1)}qxm"


_STANDIN = re.compile(r"mxq([a-z]+?)qxm")  # lazy: two stand-ins side by side stay two
_SLOT = 'data-mx-slot="'
"""The attribute a fence carries through SuperFences; `_Finish` writes ours in its place."""
_TOKENS = re.compile(_STANDIN.pattern + "|" + PLACEHOLDER.pattern + "|" + re.escape(_SLOT))
_IN_TAG = re.compile(_STANDIN.pattern + "|" + PLACEHOLDER.pattern)


def _letters(number: int) -> str:
    text = ""
    while True:
        number, rest = divmod(number, 26)
        text = chr(97 + rest) + text
        if not number:
            return text


class ExecuteExtension(Extension):
    """`markdown.Markdown(extensions=["mkdocs_execute"])` or with options."""

    def __init__(self, **kwargs: Any) -> None:
        self.config = {
            "variables": [{}, "Placeholder values by name; None leaves the value to the reader."],
            "strict": [False, "Fail on an unknown marker or an undefined placeholder."],
            "language": ["en", "Language of the UI strings (fr, en)."],
            "fields": [{}, "Per placeholder a reader fills in: {label, help, secret} for the values panel."],
            "defer_toolbars": [
                "",
                "A key: toolbars stay in an HTML comment until `open_toolbars` opens them (the plugin does).",
            ],
        }
        super().__init__(**kwargs)
        self.context = PageContext()
        self.report: Callable[[list[str]], None] = self._default_report
        self.lesson: Lesson | None = None
        self.state: _State | None = None
        self.superfences_checked = False
        self.hosted = False
        """Converting for a host that is not MkDocs (Zensical), which gave the page's path."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's API)
        md.registerExtension(self)
        state = self.state = _State(self, md)
        md.preprocessors.register(_Source(md, state), "mkdocs_execute_source", 33)  # before pymdownx.snippets (32)
        md.preprocessors.register(_Rewrite(md, state), "mkdocs_execute", 31.5)
        # Python-Markdown's whitespace normaliser (30) deletes stash markers: stash after it.
        md.preprocessors.register(_Stash(md, state), "mkdocs_execute_stash", 29.5)
        md.postprocessors.register(_Finish(md, state), "mkdocs_execute", 25)

    def reset(self) -> None:
        self.lesson = None

    def release(self) -> None:
        """Forget the last conversion's working state once it is over.

        MkDocs drops each page's Markdown object to the cycle collector; leaving it little
        keeps the collector's full passes as rare as without the plugin.
        """
        if self.state is not None:
            self.state.clear()

    @cached_property
    def values(self) -> dict[str, str | None]:
        """Read once: the plugin fixes them for the whole build. An empty value (`""`, how TOML, which has no
        null, leaves a value out) is for each reader to fill in, as `None` is."""
        given = self.getConfig("variables") or {}
        return {str(name): None if value in (None, "") else str(value) for name, value in given.items()}

    @cached_property
    def fields(self) -> dict[str, str]:
        """Attributes for the values panel, by placeholder name (its label, help and whether it is secret)."""
        given = self.getConfig("fields") or {}
        return {
            str(name): rendering.field_attributes(spec.get("label"), spec.get("help"), bool(spec.get("secret")))
            for name, spec in given.items()
            if isinstance(spec, dict)
        }

    @cached_property
    def strings(self) -> dict[str, str]:
        return strings_for(self.getConfig("language"))

    @cached_property
    def toolbars(self) -> rendering.Toolbars:
        """Toolbars always start deferred, so the postprocessor never rewrites their markup."""
        return rendering.Toolbars(self.strings, self.getConfig("defer_toolbars") or secrets.token_hex(4), self.fields)

    def set_language(self, language: str) -> None:
        """Another language for the pages that follow (mkdocs-static-i18n builds one language after another)."""
        if language != self.getConfig("language"):
            self.setConfig("language", language)
            self.__dict__.pop("strings", None)
            if "toolbars" in self.__dict__:  # the same key: toolbars written before still open
                self.__dict__["toolbars"] = self.toolbars.again(self.strings, self.fields)

    def open_toolbars(self, html: str) -> str:
        """`html` with its deferred toolbars written out."""
        return self.toolbars.open(html)

    def _default_report(self, messages: list[str]) -> None:
        if self.getConfig("strict"):
            if self.hosted:  # Zensical turns any exception into a traceback: end the build with the message
                print("\n".join(f"Error: {message}" for message in messages), file=sys.stderr, flush=True)
                sys.stdout.flush()
                os._exit(1)
            raise LessonError("\n".join(messages))
        for message in messages:
            log.warning(message)

    def check(self, lesson: Lesson) -> list[Diagnostic]:
        """Parser diagnostics plus the placeholders no value is declared for."""
        found = list(lesson.diagnostics)
        declared = set(self.values) | BUILTIN_VARIABLES
        seen: set[str] = set()
        for placeholder in lesson.placeholders:
            if placeholder.name not in declared and placeholder.name not in seen:
                seen.add(placeholder.name)
                message = f"placeholder [[{placeholder.name}]] is not declared in the plugin's variables"
                found.append(Diagnostic(placeholder.line, message, "undefined-placeholder"))
        return sorted(found, key=lambda d: d.line)


class _State:
    """Per-conversion state shared by the preprocessor and the postprocessor."""

    def __init__(self, extension: ExecuteExtension, md: Markdown) -> None:
        self.extension = extension
        self.md = md
        self.reset()

    def reset(self) -> None:
        """Before a conversion: other extensions have registered by now."""
        self.highlighted = self.fences_take_attributes()
        self.clear()

    def clear(self) -> None:
        self.source_lines: list[str] | None = None
        self.active = False
        self.standins = _Standins()
        self.slots: list[Block] = []
        self.html: list[str] = []

    def stash(self, html: str) -> str:
        """A token for raw HTML, swapped for a real stash marker after whitespace normalisation."""
        self.html.append(html)
        return f"mxh{_letters(len(self.html) - 1)}hxm"

    @property
    def strings(self) -> dict[str, str]:
        return self.extension.strings

    def fences_take_attributes(self) -> bool:
        """Whether SuperFences and attr_list will render fences with our attributes."""
        registry = self.md.preprocessors
        fenced = registry["fenced_code_block"] if "fenced_code_block" in registry else None  # noqa: SIM401
        superfences = type(fenced).__module__.startswith("pymdownx")
        if superfences and not self.extension.superfences_checked:
            check_superfences()  # once per extension: a too old SuperFences is an error, not a mis-render
            self.extension.superfences_checked = True
        return superfences and "attr_list" in self.md.treeprocessors


class _Source(Preprocessor):
    """Keeps the page's lines as they were before pymdownx.snippets included anything."""

    def __init__(self, md: Markdown, state: _State) -> None:
        super().__init__(md)
        self.state = state

    def run(self, lines: list[str]) -> list[str]:
        self.state.source_lines = lines
        return lines


def _host_context(md: Markdown, lines: list[str]) -> PageContext | None:
    """The page Zensical is rendering (its `rendering_context` preprocessor holds it): its path, and the
    front matter lines Zensical cut before handing the text over, so messages name the right line."""
    host = md.preprocessors["rendering_context"] if "rendering_context" in md.preprocessors else None  # noqa: SIM401
    page, config = getattr(host, "page", None), getattr(host, "config", None)
    path = getattr(page, "path", None)
    if not isinstance(path, str) or not isinstance(config, dict):
        return None
    docs = Path(str(config.get("docs_dir") or "docs"))
    try:
        raw = (docs / path).read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    except OSError:
        raw = ""
    source = (Path(docs.name) / path).as_posix()
    return PageContext(source, front_matter_lines(raw, "\n".join(lines)) if raw else 0)


def _origins(md: Markdown, before: list[str] | None, after: list[str]) -> list[Origin] | None:
    """Where each line came from, when pymdownx.snippets included files and our expansion agrees with it."""
    snippets = md.preprocessors["snippet"] if "snippet" in md.preprocessors else None  # noqa: SIM401
    if snippets is None or not before or not has_snippets("\n".join(before)):
        return None
    bases = [Path(base) for base in getattr(snippets, "base_path", ["."]) or ["."]]
    expansion = expand(before, bases)
    return expansion.origins if expansion is not None and expansion.lines == after else None


class _Rewrite(Preprocessor):
    def __init__(self, md: Markdown, state: _State) -> None:
        super().__init__(md)
        self.state = state

    def run(self, lines: list[str]) -> list[str]:
        state = self.state
        before = state.source_lines
        state.reset()
        context = state.extension.context
        if context.source == PageContext.source or state.extension.hosted:  # no MkDocs plugin: Zensical?
            hosted = _host_context(self.md, lines)
            if hosted is not None:
                context = state.extension.context = hosted
                state.extension.hosted = True
        context.origins = _origins(self.md, before, lines)
        page = parse_lines(lines, context.line_offset)
        state.extension.lesson = page.lesson
        problems = state.extension.check(page.lesson)
        if problems:
            state.extension.report([f"{context.where(d.line)}: {d.message}" for d in problems])
        if not (page.lesson.blocks or page.lesson.placeholders or page.pieces or _has_suffix(page)):
            return lines
        state.active = True
        return _Rewriter(state, page, list(lines)).run()


def _has_suffix(page: Page) -> bool:
    return any(fence.suffix for fence, _ in page.fences)


@dataclass
class _Rewriter:
    state: _State
    page: Page
    lines: list[str]

    @property
    def values(self) -> dict[str, str | None]:
        return self.state.extension.values

    def run(self) -> list[str]:
        for index, pieces in self.page.pieces.items():
            self.lines[index] = self.text(self.lines[index], pieces)
        self.prose_placeholders()
        for fence, block in reversed(self.page.fences):
            self.fence(fence, block)
        return self.lines

    def prose_placeholders(self) -> None:
        """Swap prose placeholders for stand-ins: `http://[[HOST_IP]]/` is no URL to MkDocs.

        Headings keep theirs as written, so the table of contents shows `[[NAME]]`.
        """
        found = [index for index, line in enumerate(self.lines) if "[[" in line]
        if not found:
            return
        skip = {i for fence, _ in self.page.fences for i in range(fence.start, fence.end + 1)}
        skip |= self.page.verbatim
        for index in found:
            if index not in skip and not _heading(self.lines, index):
                self.lines[index] = self.code_line(self.lines[index], verbatim=False)

    def text(self, line: str, pieces: list[Piece]) -> str:
        parts, done = [], 0
        for piece in pieces:
            parts += [line[done : piece.start], self.piece(line[piece.start : piece.end], piece)]
            done = piece.end
        return "".join(parts) + line[done:]

    def piece(self, raw: str, piece: Piece) -> str:
        if piece.role == "inline" and piece.block is not None:
            where = self.state.extension.context.where(piece.block.line)
            html = rendering.inline_html(piece.block, where, self.values, self.state.extension.toolbars)
            return self.state.stash(html)
        if piece.role == "escape":
            return rendering.escape(raw[1:]).replace("{", "&#123;").replace("}", "&#125;")
        if piece.role == "literal":
            return self.state.standins.token("literal", rendering.placeholder(piece.name))
        if piece.role == "consumed":  # a line of a multi-line command: kept non-blank, so the paragraph holds
            return self.state.stash("")
        return ""  # a stray marker: reported, never shown

    def fence(self, fence: Fence, block: Block | None) -> None:
        if fence.hidden:  # inside an HTML comment: for the harness, never for readers
            self.lines[fence.start : fence.end + 1] = [""] * (fence.end + 1 - fence.start)
            return
        verbatim = language_of(fence.info).lower() in VERBATIM_LANGUAGES
        first = fence.start if fence.info_code else fence.start + 1
        for index in range(first, fence.end if fence.closed and not fence.glued else fence.end + 1):
            if "[[" in self.lines[index]:
                self.lines[index] = self.code_line(self.lines[index], verbatim)
        if fence.suffix:
            self.lines[fence.end] = self.closing(fence)
        if block is None:
            return
        if block.kind is Kind.OUTPUT and self.state.highlighted:  # readers see what a wildcard stands for
            for index in range(fence.start + 1, fence.end):
                if "[..]" in self.lines[index] or "..." in self.lines[index]:
                    self.lines[index] = rendering.WILDCARDS.sub(self.wild, self.lines[index])
        if self.state.highlighted:
            first_code = self.lines[fence.start][self.lines[fence.start].index(fence.fence) + len(fence.fence) :]
            self.lines[fence.start] = self.opening(fence, block)
            if fence.info_code:  # Katacoda's ```code on the opening line: that text is the first line of code
                self.lines[fence.start] += "\n" + self.indent(fence) + first_code.strip()
        else:
            self.replace_with_html(fence, block)

    def indent(self, fence: Fence) -> str:
        line = self.lines[fence.start]
        return line[: line.index(fence.fence)]

    def closing(self, fence: Fence) -> str:
        """The closing line without its marker, and a closer SuperFences reads: Katacoda's glued closer
        (`cp a b```{{execute}}`) goes on a line of its own, a shorter one takes the opening fence's length."""
        line = self.lines[fence.end]
        head = line[: line.rstrip().rfind(fence.suffix)].rstrip()
        if fence.glued:
            return head.rstrip("`").rstrip() + "\n" + self.indent(fence) + fence.fence
        if len(head.lstrip(" >\t")) < len(fence.fence):
            return self.indent(fence) + fence.fence
        return head

    def wild(self, match: re.Match[str]) -> str:
        indent = match.group()[: len(match.group()) - len(match.group().lstrip(" \t"))]
        return indent + self.state.standins.token("wild", match.group().strip())

    def code_line(self, line: str, verbatim: bool) -> str:
        def swap(match: re.Match[str]) -> str:
            if verbatim:
                return self.state.standins.token("literal", match.group())
            if match["escape"]:
                return self.state.standins.token("literal", rendering.placeholder(match["name"]))
            return self.state.standins.token("var", match["name"])

        return PLACEHOLDER.sub(swap, line)

    def opening(self, fence: Fence, block: Block) -> str:
        """The opening line with a slot number, in SuperFences' brace form; `_Finish` puts our attributes there."""
        extra = f'{_SLOT}{len(self.state.slots)}"'
        self.state.slots.append(block)
        line = self.lines[fence.start]
        head = line[: line.index(fence.fence) + len(fence.fence)]
        info = fence.info.strip()
        if info.endswith("}") and "{" in info:
            return f"{head}{info[:-1].rstrip()} {extra}}}"
        language, _, options = info.partition(" ")
        if "=" in language:
            language, options = "", info
        return f"{head}{language} {{{options} {extra}}}".replace("{ ", "{")

    def replace_with_html(self, fence: Fence, block: Block) -> None:
        where = self.state.extension.context.where(block.line)
        html = rendering.block_html(block, where, self.values, self.state.extension.toolbars)
        line = self.lines[fence.start]
        prefix = line[: line.index(fence.fence)]
        self.lines[fence.start : fence.end + 1] = [prefix + self.state.stash(html)]
        # Keep line count stable for anything that reports lines after us.
        self.lines[fence.start + 1 : fence.start + 1] = [prefix.rstrip()] * (fence.end - fence.start)


def _heading(lines: list[str], index: int) -> bool:
    """Whether line `index` is an ATX heading or the text of a setext one."""
    if lines[index].lstrip(" >").startswith("#"):
        return True
    following = lines[index + 1].strip(" >") if index + 1 < len(lines) else ""
    return (bool(following) and set(following) <= {"="}) or (len(following) > 1 and set(following) <= {"-"})


_HTML_TOKEN = re.compile(r"mxh([a-z]+)hxm")


class _Stash(Preprocessor):
    def __init__(self, md: Markdown, state: _State) -> None:
        super().__init__(md)
        self.state = state

    def run(self, lines: list[str]) -> list[str]:
        if not self.state.html:
            return lines
        html = self.state.html

        def store(match: re.Match[str]) -> str:
            return self.md.htmlStash.store(html[_number(match[1])])

        return [_HTML_TOKEN.sub(store, line) if "mxh" in line else line for line in lines]


class _Finish(Postprocessor):
    def __init__(self, md: Markdown, state: _State) -> None:
        super().__init__(md)
        self.state = state

    def run(self, text: str) -> str:
        text = self.rewrite(text)
        return text if self.state.extension.getConfig("defer_toolbars") else self.state.extension.open_toolbars(text)

    def rewrite(self, text: str) -> str:
        state = self.state
        if not state.active or not ("mxq" in text or "[[" in text or _SLOT in text):
            return text
        values = state.extension.values
        strings = state.strings
        comments = Ranges(_comments(text))
        parts: list[str] = []
        done = 0
        # Visit only our tokens; most of a page is Pygments markup we must not spend time on.
        for match in _find_tokens(text):
            at = match.start()
            if at < done or comments.holds(at):
                continue
            opening = text.rfind("<", done, at)
            if opening > text.rfind(">", done, at):  # inside a tag: rewrite the whole tag once
                closing = text.find(">", at) + 1
                parts += [text[done:opening], self.tag(text[opening:closing], values)]
                done = closing
            else:
                parts += [text[done:at], self.text(match, values, strings)]
                done = match.end()
        parts.append(text[done:])
        return "".join(parts)

    def text(self, match: re.Match[str], values: Mapping[str, str | None], strings: Mapping[str, str]) -> str:
        role, text = self.resolve(match)
        if role == "literal":
            return rendering.literal(text)
        if role == "wild":
            return rendering.wildcard(text, strings)
        return rendering.variable(text, values, strings, self.state.extension.fields)

    def resolve(self, match: re.Match[str]) -> tuple[str, str]:
        whole = match.group()
        standin = _STANDIN.fullmatch(whole)
        if standin is None:
            return "var", match["name"]
        return self.state.standins.names[_number(standin[1])]

    def tag(self, tag: str, values: Mapping[str, str | None]) -> str:
        """A fence's container gets our attributes and its toolbar; placeholders in a tag become text."""
        at = tag.find(_SLOT)
        block = None
        if at != -1:  # the container of a fence: our attributes where SuperFences put the slot
            end = tag.index('"', at + len(_SLOT))
            block = self.state.slots[int(tag[at + len(_SLOT) : end])]
            where = self.state.extension.context.where(block.line)
            attrs = rendering.attribute_string(rendering.attributes(block, where))
            tag = f"{tag[:at]}{attrs}{tag[end + 1 :]}"
        if "mxq" in tag or "[[" in tag:
            tag = _IN_TAG.sub(self.inside(values), tag)
        return tag if block is None else tag + self.state.extension.toolbars(block, values)

    def inside(self, values: Mapping[str, str | None]) -> Callable[[re.Match[str]], str]:
        """Inside a tag, a placeholder can only be text: its value, or as written."""

        def inside(match: re.Match[str]) -> str:
            role, text = self.resolve(match)
            value = values.get(text) if role == "var" else None
            if value is not None:
                return rendering.escape(value)
            return rendering.literal(rendering.placeholder(text) if role == "var" else text)

        return inside


def _find_tokens(text: str) -> list[re.Match[str]]:
    """Our tokens in document order; `str.find` skips the rest of the page far faster than a regex scan."""
    found: dict[int, re.Match[str]] = {}
    for literal in ("mxq", "[[", _SLOT):
        at = text.find(literal)
        while at != -1:
            start = at - 1 if literal == "[[" and text[at - 1 : at] == "\\" else at
            match = _TOKENS.match(text, start)
            if match is not None:
                found[start] = match
            at = text.find(literal, at + 1)
    return [found[at] for at in sorted(found)]


def _comments(text: str) -> list[tuple[int, int]]:
    """Spans of HTML comments, which keep what the writer wrote."""
    spans = []
    start = text.find("<!--")
    while start != -1:
        end = text.find("-->", start + 4)
        end = len(text) if end == -1 else end + 3
        spans.append((start, end))
        start = text.find("<!--", end)
    return spans


def _number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 97
    return number


def makeExtension(**kwargs: Any) -> ExecuteExtension:  # noqa: N802 (Python-Markdown's API)
    return ExecuteExtension(**kwargs)
