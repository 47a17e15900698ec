"""Helpers the tests share: render Markdown through the extension as MkDocs would."""

from __future__ import annotations

from pathlib import Path

import markdown

from mkdocs_execute import ExecuteExtension

ROOT = Path(__file__).resolve().parent.parent
MATERIAL_EXTENSIONS = [
    "admonition",
    "attr_list",
    "md_in_html",
    "pymdownx.superfences",
    "pymdownx.highlight",
    "pymdownx.tabbed",
]
VALUES: dict[str, str | None] = {"HOST_IP": "10.0.0.7", "USER_NAME": None}


def render(text: str, *, plain: bool = False, source: str = "docs/page.md", **config: object) -> str:
    """Render `text` as MkDocs would with Material's usual extensions (or none)."""
    html, _ = render_with_messages(text, plain=plain, source=source, **config)
    return html


def render_with_messages(
    text: str, *, plain: bool = False, source: str = "docs/page.md", **config: object
) -> tuple[str, list[str]]:
    options: dict[str, object] = {"variables": VALUES, "language": "fr", **config}
    extension = ExecuteExtension(**options)
    messages: list[str] = []
    extension.report = messages.extend
    extension.context.source = source
    extensions: list[object] = [] if plain else list(MATERIAL_EXTENSIONS)
    html = markdown.Markdown(extensions=[*extensions, extension]).convert(text)  # type: ignore[list-item]
    return html, messages
