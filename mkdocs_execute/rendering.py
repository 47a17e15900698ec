"""HTML for marked blocks: the container attributes, the toolbar and placeholder values.

This is the HTML contract documented in the README; tests and themers rely on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .model import Block, Kind
from .options import spec_of
from .parsing import PLACEHOLDER

_ANNOTATION = re.compile(r"[ \t]*(?:#|//)[ \t]*\(\d+\)!?[ \t]*$", re.MULTILINE)
"""A comment that only holds a Material code annotation marker such as ``# (1)!``."""
_RESERVED = frozenset({"kind", "source", "var", "vars", "slot", "command", "fill", "action"})
"""Attribute names the contract or the browser script use; an option by that name gets `opt-`."""
Values = Mapping[str, "str | None"]
_SPECIAL = re.compile("[&<>\"']")


def escape(text: str, quote: bool = True) -> str:
    """`html.escape`, skipped for the usual text that has nothing to escape (a regex scan is far cheaper)."""
    if not _SPECIAL.search(text):
        return text
    import html  # the site's side only: a run of the harness never escapes

    return html.escape(text, quote)


def attributes(block: Block, where: str) -> dict[str, str]:
    """The `data-mx-*` attributes of a block's container, in a stable order."""
    attrs = {"data-mx-kind": block.kind.value}
    for option in block.options:
        attrs.update([_option_attribute(option.name, option.value)])
    attrs["data-mx-source"] = where
    return attrs


def _option_attribute(name: str, value: str | None) -> tuple[str, str]:
    spec = spec_of(name)
    if spec is not None and spec.attribute is not None:  # a family such as `T2`: its number
        return f"data-mx-{spec.attribute}", re.sub(r"\D", "", name)
    key = re.sub(r"[^a-z0-9-]", "-", name.lower())
    if key in _RESERVED or key.startswith("ui-"):
        key = f"opt-{key}"
    return f"data-mx-{key}", value or ""


def attribute_string(attrs: Mapping[str, str]) -> str:
    return " ".join(f'{key}="{escape(value)}"' for key, value in attrs.items())


def command(block: Block, values: Values) -> str:
    """The command as Copy and Run use it: configured values in, unset names kept as `[[NAME]]`."""

    def value(match: re.Match[str]) -> str:
        if match["escape"]:
            return match.group()[1:]
        known = values.get(match["name"])
        return match.group() if known is None else known

    code = _ANNOTATION.sub("", block.code) if "(" in block.code else block.code
    return PLACEHOLDER.sub(value, code) if "[[" in code else code


def variable(name: str, values: Values, strings: Mapping[str, str], fields: Mapping[str, str] | None = None) -> str:
    """The element that stands for one placeholder occurrence; one the reader fills carries what the values
    panel needs (`fields`: ready attributes by name, such as its label and whether it is secret)."""
    known = values.get(name)
    if known is None:
        title = escape(strings["unset"].format(name=name))
        extra = fields.get(name, "") if fields else ""
        return f'<span class="mx-var mx-var--unset" data-mx-var="{name}"{extra} title="{title}">{name}</span>'
    return f'<span class="mx-var" data-mx-var="{name}">{escape(known)}</span>'


def field_attributes(label: str | None, help_text: str | None, secret: bool) -> str:
    """` data-mx-label="…" data-mx-help="…" data-mx-secret=""`, for what is given."""
    parts = []
    if label:
        parts.append(f' data-mx-label="{escape(label)}"')
    if help_text:
        parts.append(f' data-mx-help="{escape(help_text)}"')
    if secret:
        parts.append(' data-mx-secret=""')
    return "".join(parts)


def code_html(
    code: str, values: Values, strings: Mapping[str, str], output: bool = False, fields: Mapping[str, str] | None = None
) -> str:
    """Escaped code with placeholder elements, for blocks rendered without a highlighter; in an expected
    output, the harness's wildcards shown as `wildcard` shows them."""
    parts = []
    last = 0
    for match in PLACEHOLDER.finditer(code):
        parts.append(_text(code[last : match.start()], strings, output))
        name = match["name"]
        parts.append(literal(placeholder(name)) if match["escape"] else variable(name, values, strings, fields))
        last = match.end()
    parts.append(_text(code[last:], strings, output))
    return "".join(parts)


WILDCARDS = re.compile(r"\[\.\.\]|^[ \t]*\.\.\.[ \t]*$", re.MULTILINE)
"""The harness's wildcards in an expected output: `[..]` within a line, `...` alone on one."""


def wildcard(text: str, strings: Mapping[str, str]) -> str:
    """What a reader sees for a wildcard: an ellipsis that says what it stands for (copied as `…`)."""
    label = escape(strings["wild_lines"] if text.strip() == "..." else strings["wild"])
    return f'<span class="mx-wild" role="img" aria-label="{label}" title="{label}">…</span>'


def _text(text: str, strings: Mapping[str, str], output: bool) -> str:
    if not output or ("[..]" not in text and "..." not in text):
        return escape(text, quote=False)
    parts, done = [], 0
    for match in WILDCARDS.finditer(text):
        parts += [escape(text[done : match.start()], quote=False), wildcard(match.group(), strings)]
        done = match.end()
    return "".join(parts) + escape(text[done:], quote=False)


class Toolbars:
    """Writes the toolbars of one site, buttons made once, and opens them again.

    Each toolbar travels as a short HTML comment (its kind, the names a reader fills in and the command)
    until `open` writes it out, so that nothing rewrites its markup on the way and nothing scans it: the
    extension opens them at the end of its postprocessor, or the MkDocs plugin once search has indexed the
    page. Material's search strips `data-search-*` attributes with a regex that visits every character of a
    page, so each byte a toolbar carries until then is paid for; the buttons, most of its bytes, come at
    the opening only.
    """

    def __init__(
        self,
        strings: Mapping[str, str],
        key: str,
        fields: Mapping[str, str] | None = None,
        *,
        sets: list[dict[str, str]] | None = None,
    ) -> None:
        self.strings = strings
        self.fields = fields or {}
        self.key = key
        self.opening = f"<!--mx-toolbar-{key} "
        copy = _button("copy", strings)
        buttons = {"c": copy, "x": copy + _button("run", strings)}  # by the letters of _KIND
        # The site's button sets, one per language, shared by its Toolbars: a page converted in one language
        # and opened after the next language's pages were converted keeps its own labels.
        self.sets: list[dict[str, str]] = [] if sets is None else sets
        if buttons not in self.sets:
            self.sets.append(buttons)
        self.set = self.sets.index(buttons)

    def again(self, strings: Mapping[str, str], fields: Mapping[str, str] | None = None) -> Toolbars:
        """The same site's toolbars in another language: the same key, so toolbars written before still open."""
        return Toolbars(strings, self.key, fields, sets=self.sets)

    def __call__(self, block: Block, values: Values) -> str:
        """Real buttons, present in the built HTML before any script runs."""
        kind = _KIND.get(block.kind)
        if kind is None:
            return ""
        payload = escape(command(block, values))
        fill = " ".join(name for name in block.placeholders if values.get(name) is None)
        # Escaping leaves no `>` in the payload, so `-->` cannot end the comment early; names hold no `|`.
        return f"{self.opening}{kind}{self.set} {fill}|{payload}-->"

    def open(self, html: str) -> str:
        """`html` with this site's toolbars written out."""
        start = html.find(self.opening)
        if start == -1:
            return html
        parts = []
        done = 0
        while start != -1:
            end = html.find("-->", start)
            if end == -1:  # cut short by someone else: leave the rest as it is
                break
            markup = self.markup(html[start + len(self.opening) : end])
            parts += [html[done:start], html[start : end + 3] if markup is None else markup]
            done = end + 3
            start = html.find(self.opening, done)
        parts.append(html[done:])
        return "".join(parts)

    def markup(self, written: str) -> str | None:
        """The toolbar a comment's text stands for; None for text that is not one of ours."""
        head, bar, payload = written.partition("|")
        tag, _, fill = head.partition(" ")
        number = int(tag[1:]) if tag[1:].isdigit() else len(self.sets)
        buttons = self.sets[number].get(tag[:1]) if bar and number < len(self.sets) else None
        if buttons is None:
            return None
        return (
            f'<span class="mx-toolbar" data-search-exclude data-mx-command="{payload}" data-mx-vars="{fill}">'
            f'{buttons}<span class="mx-status" role="status" aria-live="polite"></span></span>'
        )


_KIND = {Kind.COPY: "c", Kind.OPEN: "c", Kind.EXECUTE: "x"}
"""A toolbar's kind in its comment: Copy alone, or Copy and Run."""


def _button(action: str, strings: Mapping[str, str]) -> str:
    label = escape(strings[f"{action}_label"])
    return (
        f'<button type="button" class="mx-button mx-{action}" data-mx-action="{action}" '
        f'aria-label="{label}"><span class="mx-label">{escape(strings[action])}</span></button>'
    )


def inline_html(block: Block, where: str, values: Values, toolbars: Toolbars) -> str:
    attrs = attribute_string(attributes(block, where))
    code = code_html(block.code, values, toolbars.strings, fields=toolbars.fields)
    return f'<span class="mx-inline" {attrs}><code>{code}</code>{toolbars(block, values)}</span>'


def block_html(block: Block, where: str, values: Values, toolbars: Toolbars) -> str:
    """A whole block, for Markdown set-ups with no fence highlighter to hand the code to."""
    attrs = attribute_string(attributes(block, where))
    language = f' class="language-{escape(block.language)}"' if block.language else ""
    code = code_html(block.code, values, toolbars.strings, block.kind is Kind.OUTPUT, toolbars.fields)
    return (
        f'<div class="mx-block highlight" {attrs}>{toolbars(block, values)}'
        f"<pre><code{language}>{code}</code></pre></div>"
    )


def placeholder(name: str) -> str:
    return f"[[{name}]]"


def literal(text: str) -> str:
    """Text shown as written; entities keep `[[NAME]]` in it from being read again."""
    return escape(text, quote=False).replace("[", "&#91;")
