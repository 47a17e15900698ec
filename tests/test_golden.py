"""Golden input/HTML pairs: every dialect and edge case, with Material's extensions and with none.

Regenerate after an intended change with `MX_UPDATE_GOLDEN=1 pytest tests/test_golden.py`,
then review the diff.
"""

from __future__ import annotations

import os
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support import render, render_with_messages

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.md"))
SHOWS_MARKERS_ON_PURPOSE = {
    "escape",
    "nested-fences",
    "verbatim-markdown",
    "unknown-marker",
    "comments",
    "indented-code",
}
MARKER_TEXT = re.compile(
    r"(\{\{|&#123;&#123;|<<|&lt;&lt;)\s*(execute|exec|copy|open|output)\b|<(execute|copy|output)[\s>]"
)


@pytest.mark.parametrize("flavour", ["material", "plain"])
@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, flavour: str) -> None:
    source = (GOLDEN / f"{case}.md").read_text(encoding="utf-8")
    html = render(source, plain=flavour == "plain", source=f"docs/{case}.md")
    expected = GOLDEN / f"{case}.{flavour}.html"
    if os.environ.get("MX_UPDATE_GOLDEN"):
        expected.write_text(html + "\n", encoding="utf-8")
    assert html + "\n" == expected.read_text(encoding="utf-8")


def marker_leaks(html: str) -> list[str]:
    return [m.group() for m in MARKER_TEXT.finditer(html)]


def test_the_leak_check_can_fail() -> None:
    assert marker_leaks("<p>run {{execute}}</p>") == ["{{execute"]
    assert marker_leaks("<p>&lt;&lt;execute&gt;&gt;</p>")
    assert marker_leaks("<code _execute></code><execute>")
    assert marker_leaks("<p>{{ state }} and <code>ls</code></p>") == []


@pytest.mark.parametrize("flavour", ["material", "plain"])
@pytest.mark.parametrize("case", [c for c in CASES if c not in SHOWS_MARKERS_ON_PURPOSE])
def test_no_marker_text_in_output(case: str, flavour: str) -> None:
    html = render((GOLDEN / f"{case}.md").read_text(encoding="utf-8"), plain=flavour == "plain")
    assert marker_leaks(html) == []


class _Blocks(HTMLParser):
    """Collects each marked container's kind and the buttons inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[dict[str, object]] = []
        self.blocks: list[dict[str, object]] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "data-mx-kind" in attributes:
            block: dict[str, object] = {
                "kind": attributes["data-mx-kind"],
                "buttons": [],
                "depth": self.depth,
            }
            self.blocks.append(block)
            self.stack.append(block)
        if tag == "button" and self.stack:
            buttons = self.stack[-1]["buttons"]
            assert isinstance(buttons, list)
            buttons.append((attributes.get("type"), attributes.get("data-mx-action"), attributes.get("aria-label")))
        if tag not in {"br", "img", "input", "hr", "meta", "link"}:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        self.depth -= 1
        if self.stack and self.stack[-1]["depth"] == self.depth:
            self.stack.pop()


def buttons_by_kind(html: str) -> list[tuple[str, list[str]]]:
    parser = _Blocks()
    parser.feed(html)
    found = []
    for block in parser.blocks:
        buttons = block["buttons"]
        assert isinstance(buttons, list)
        actions = [f"{kind}:{action}:{label}" for kind, action, label in buttons]
        found.append((str(block["kind"]), actions))
    return found


COPY = "button:copy:Copier la commande"
RUN = "button:run:Exécuter la commande dans le terminal"


@pytest.mark.parametrize("flavour", ["material", "plain"])
def test_real_buttons_with_french_names(flavour: str) -> None:
    source = "\n\n".join((GOLDEN / f"{c}.md").read_text(encoding="utf-8") for c in CASES)
    blocks = buttons_by_kind(render(source, plain=flavour == "plain"))
    assert {kind for kind, _ in blocks} == {"execute", "copy", "output", "open"}
    for kind, buttons in blocks:
        expected = {"execute": [COPY, RUN], "copy": [COPY], "open": [COPY], "output": []}[kind]
        assert buttons == expected, kind


def test_the_button_check_can_fail() -> None:
    html = '<div data-mx-kind="execute"><button type="submit" data-mx-action="copy" aria-label="x"></button></div>'
    assert buttons_by_kind(html) == [("execute", ["submit:copy:x"])]


@pytest.mark.parametrize("flavour", ["material", "plain"])
@pytest.mark.parametrize(
    "form", ["`echo \\[[HOST_IP]] [[HOST_IP]]`{{execute}}", "```\necho \\[[HOST_IP]] [[HOST_IP]]\n```{{execute}}"]
)
def test_copy_keeps_an_escaped_placeholder_literal(form: str, flavour: str) -> None:
    commands = re.findall(r'data-mx-command="([^"]*)"', render(form + "\n", plain=flavour == "plain"))
    assert [unescape(command) for command in commands] == ["echo [[HOST_IP]] 10.0.0.7"]


def test_english_names_follow_the_language() -> None:
    html = render("```\nls\n```{{execute}}\n", language="en")
    assert 'aria-label="Copy the command"' in html and 'aria-label="Run the command in the terminal"' in html
    assert "Copier" not in html


@pytest.mark.parametrize(
    ("case", "messages"),
    [
        ("output", ["docs/output.md:22: output block follows no runnable block"]),
        (
            "unknown-marker",
            [
                "docs/unknown-marker.md:1: unknown marker '{{run T1}}'",
                "docs/unknown-marker.md:3: marker '{{execute}}' follows no code (it starts the line)",
                "docs/unknown-marker.md:5: code block opened with ``` never closes",
                "docs/unknown-marker.md:7: unknown marker '{{exceute}}' (did you mean '{{execute}}'?)",
            ],
        ),
        ("block-execute", []),
        ("jinja", []),
    ],
)
def test_writer_feedback_names_file_and_line(case: str, messages: list[str]) -> None:
    source = (GOLDEN / f"{case}.md").read_text(encoding="utf-8")
    assert render_with_messages(source, source=f"docs/{case}.md")[1] == messages


def test_undeclared_placeholder_is_reported_once_per_page() -> None:
    _, messages = render_with_messages("[[NOPE]] and `[[NOPE]]` and [[HOST_IP]]\n", source="docs/a.md")
    assert messages == ["docs/a.md:1: placeholder [[NOPE]] is not declared in the plugin's variables"]
