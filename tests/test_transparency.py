"""Transparency: a page without any marker renders byte-identical with and without the plugin.

The same docs (``tests/transparency/``: real-world pages full of Material syntax
and text that merely looks like markers) are built twice with a real
``mkdocs build`` and the Material theme: once with ``plugins: [search, execute]``,
once with ``[search]`` only. Only the plugin's own ``<link>`` and ``<script>``
tags (and its asset files) may differ; every other byte of every page, of the
search index and of the sitemap must be the same.
"""

from __future__ import annotations

import difflib
import gzip
import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import markdown
import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

from mkdocs_execute.extension import ExecuteExtension

FIXTURES = Path(__file__).parent / "transparency"
PAGES = sorted(p.stem for p in (FIXTURES / "docs").glob("*.md"))
ASSETS = "assets/mkdocs-execute/"

CONFIG = """\
site_name: Transparence
site_url: https://example.com/docs/
docs_dir: docs
use_directory_urls: true
theme:
  name: material
  language: fr
  font: false
  features:
    - content.code.annotate
    - content.code.copy
    - content.tabs.link
    - navigation.instant
    - search.highlight
plugins:
{plugins}
markdown_extensions:
  - abbr
  - admonition
  - attr_list
  - def_list
  - footnotes
  - md_in_html
  - tables
  - toc:
      permalink: true
  - pymdownx.arithmatex:
      generic: true
  - pymdownx.betterem
  - pymdownx.caret
  - pymdownx.mark
  - pymdownx.tilde
  - pymdownx.critic
  - pymdownx.details
  - pymdownx.emoji:
      emoji_index: !!python/name:material.extensions.emoji.twemoji
      emoji_generator: !!python/name:material.extensions.emoji.to_svg
  - pymdownx.highlight:
      anchor_linenums: true
      line_spans: __span
      pygments_lang_class: true
  - pymdownx.inlinehilite
  - pymdownx.keys
  - pymdownx.smartsymbols
  - pymdownx.snippets:
      base_path: [{snippets}]
      check_paths: true
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
  - pymdownx.tabbed:
      alternate_style: true
  - pymdownx.tasklist:
      custom_checkbox: true
"""

WITH = """\
  - search
  - execute:
      variables:
        HOST_IP:
        TOKEN: s3cret
"""
WITHOUT = "  - search\n"

MARKED = """\
# Marked

Run this:

```bash
echo hello [[HOST_IP]]
```{{execute}}
"""
"""A page with a marker: it must differ, or the comparison proves nothing."""

_ASSET_TAG = re.compile(
    r"^(?:[ \t]*\n)?[ \t]*(?:<link\b[^>]*" + re.escape(ASSETS) + r"[^>]*>"
    r"|<script\b[^>]*" + re.escape(ASSETS) + r"[^>]*>[ \t]*</script>)[ \t]*\r?\n",
    re.MULTILINE,
)


def strip_assets(html: str) -> str:
    """Remove only the lines holding the plugin's own `<link>`/`<script>` tags.

    The theme's `{% for %}` loop over `extra_css`/`extra_javascript` emits a
    whitespace-only line before each item: it goes with its tag.
    """
    return _ASSET_TAG.sub("", html)


def difference(with_plugin: bytes, without_plugin: bytes, name: str = "page") -> list[str]:
    """A unified diff of two built files once the plugin's asset tags are gone; empty if identical."""
    if name.endswith(".gz"):
        with_plugin, without_plugin = gzip.decompress(with_plugin), gzip.decompress(without_plugin)
    if name.endswith(".html"):
        left = strip_assets(with_plugin.decode("utf-8"))
        right = without_plugin.decode("utf-8")
    else:
        if with_plugin == without_plugin:
            return []
        left, right = with_plugin.decode("utf-8", "replace"), without_plugin.decode("utf-8", "replace")
    if left == right:
        return []
    diff = difflib.unified_diff(
        right.splitlines(keepends=True),
        left.splitlines(keepends=True),
        f"without/{name}",
        f"with/{name}",
        n=1,
    )
    return list(diff) or [f"{name}: differs only in line endings or trailing bytes\n"]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _build(root: Path, plugins: str) -> list[str]:
    """Build the fixture docs plus the marked page under `root`; return the warnings logged."""
    shutil.copytree(FIXTURES / "docs", root / "docs")
    (root / "docs" / "marked.md").write_text(MARKED, encoding="utf-8")
    snippets = str(FIXTURES / "snippets").replace("'", "''")
    config_file = root / "mkdocs.yml"
    config_file.write_text(CONFIG.format(plugins=plugins, snippets=f"'{snippets}'"), encoding="utf-8")
    handler = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    try:
        config = load_config(str(config_file), site_dir=str(root / "site"))
        build(config)
    finally:
        logger.removeHandler(handler)
    return handler.messages


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, list[str]]]:
    with_root = tmp_path_factory.mktemp("with-plugin")
    without_root = tmp_path_factory.mktemp("without-plugin")
    warnings = _build(with_root, WITH)
    _build(without_root, WITHOUT)
    yield with_root / "site", without_root / "site", warnings


def _html(page: str) -> str:
    return "index.html" if page == "index" else f"{page}/index.html"


def test_fixtures_are_rich_and_unmarked() -> None:
    assert len(PAGES) >= 4
    text = "\n".join((FIXTURES / "docs" / f"{page}.md").read_text(encoding="utf-8") for page in PAGES)
    for needle in ("=== ", "??? ", "# (1)!", "{{ state }}", "[[ x ]]", "~~~", "++ctrl+", ".md-button"):
        assert needle in text, needle
    for marker in ("{{execute", "{{copy", "{{output", "<<execute", "<<copy", "<<output"):
        assert marker not in text, marker


@pytest.mark.parametrize("page", PAGES)
def test_unmarked_page_is_byte_identical(sites: tuple[Path, Path, list[str]], page: str) -> None:
    with_site, without_site, _ = sites
    name = _html(page)
    with_bytes = (with_site / name).read_bytes()
    text = with_bytes.decode("utf-8")
    assert ASSETS + "loader.js" in text, "the plugin's loader is linked"
    assert ASSETS + "execute.js" not in text and ASSETS + "execute.css" not in text  # not on a page without blocks
    diff = difference(with_bytes, (without_site / name).read_bytes(), name)
    assert not diff, "".join(diff)


def test_no_warning_for_unmarked_pages(sites: tuple[Path, Path, list[str]]) -> None:
    _, _, warnings = sites
    assert not [w for w in warnings if any(f"{page}.md" in w for page in PAGES)], warnings


def test_every_other_file_is_identical(sites: tuple[Path, Path, list[str]]) -> None:
    """Search index, sitemap, 404 page and theme assets: the same bytes; only our assets are added."""
    with_site, without_site, _ = sites
    with_files = {p.relative_to(with_site).as_posix() for p in with_site.rglob("*") if p.is_file()}
    without_files = {p.relative_to(without_site).as_posix() for p in without_site.rglob("*") if p.is_file()}
    assert {f for f in with_files if not f.startswith(ASSETS)} == without_files
    shipped = {"execute.js", "execute.css", "terminal.js", "terminal.css", "loader.js"}
    assert {f for f in with_files if f.startswith(ASSETS)} == {ASSETS + name for name in shipped}
    assert {"search/search_index.json", "sitemap.xml", "404.html"} <= without_files
    skip = {_html(page) for page in PAGES} | {"marked/index.html", "search/search_index.json"}
    for name in sorted(without_files - skip):
        diff = difference((with_site / name).read_bytes(), (without_site / name).read_bytes(), name)
        assert not diff, "".join(diff)


def test_search_index_is_identical_for_unmarked_pages(sites: tuple[Path, Path, list[str]]) -> None:
    """The search index differs only in the marked page's entries."""
    with_site, without_site, _ = sites
    index = "search/search_index.json"

    def entries(site: Path, marked: bool) -> list[object]:
        docs = json.loads((site / index).read_text(encoding="utf-8"))["docs"]
        return [d for d in docs if d["location"].startswith("marked/") == marked]

    assert entries(with_site, False) == entries(without_site, False)
    with_config = json.loads((with_site / index).read_text(encoding="utf-8"))["config"]
    assert with_config == json.loads((without_site / index).read_text(encoding="utf-8"))["config"]


def test_marked_page_differs(sites: tuple[Path, Path, list[str]]) -> None:
    """The negative case: the comparison does fail when the page has a marker."""
    with_site, without_site, _ = sites
    name = "marked/index.html"
    diff = difference((with_site / name).read_bytes(), (without_site / name).read_bytes(), name)
    assert diff
    assert any("data-mx-kind" in line for line in diff if line.startswith("+"))


def test_comparison_only_forgives_asset_tags() -> None:
    page = (
        "<head>\n"
        '  <link rel="stylesheet" href="../assets/mkdocs-execute/execute.css">\n'
        "</head><body>\n"
        '  <script src="../assets/mkdocs-execute/execute.js"></script>\n'
        "</body>\n"
    )
    assert difference(page.encode(), b"<head>\n</head><body>\n</body>\n", "a.html") == []
    moved = page.replace("<body>", "<body class=x>")
    assert difference(moved.encode(), b"<head>\n</head><body>\n</body>\n", "a.html")
    inline = '<p>see <a href="assets/mkdocs-execute/execute.js">x</a></p>\n'
    assert difference(inline.encode(), b"<p>see</p>\n", "a.html")


# Text that is not one of our markers, seen in real pages (Jinja, Ansible, UML, C++).
# Converted with Python-Markdown alone, with and without the extension: same HTML expected.
_EXTENSIONS = ["admonition", "attr_list", "md_in_html", "toc", "pymdownx.highlight", "pymdownx.superfences"]
LOOKALIKES = [
    pytest.param("Ansible loops over {{ item }} and {{ state }}.", id="jinja-prose"),
    pytest.param("The <<interface>> stereotype, `a << b >> c`.", id="uml-prose"),
    pytest.param("GitHub: `${{ secrets.TOKEN }}` and ${{ github.sha }}.", id="actions"),
    pytest.param("Print {{ output.stdout }} from the registered result.", id="jinja-attribute"),
    pytest.param("Wiki [[glossary]], [[ x ]], [[Page]] and `[[ -f x ]]`.", id="double-brackets"),
    pytest.param("```yaml\nmsg: '{{ output }}'\n```\n", id="jinja-in-fence"),
    pytest.param("```bash\necho\n", id="unclosed-fence"),
    pytest.param(
        "The class `Foo`<<interface>> is abstract.",
        id="uml-after-code-span",
    ),
    pytest.param(
        "Ansible's {{ copy }} module stores its result in {{ output }}.",
        id="jinja-kind-word-prose",
    ),
    pytest.param(
        "Escape Jinja as \\{{ state }} in prose.",
        id="escaped-jinja",
    ),
    pytest.param(
        "```yaml\nx: 1\n```{{ state }}\n\ntext\n",
        id="jinja-on-closing-fence",
    ),
    pytest.param(
        "Katacoda syntax, as an indented code block:\n\n    ```bash\n    echo\n    ```{{execute}}\n",
        id="indented-code-block",
    ),
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalike_text_is_untouched(text: str) -> None:
    extension = ExecuteExtension(variables={"HOST_IP": None})
    extension.report = lambda messages: None
    plain = markdown.markdown(text, extensions=_EXTENSIONS)
    assert markdown.markdown(text, extensions=[*_EXTENSIONS, extension]) == plain
