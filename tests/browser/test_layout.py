"""The repository's own site on real screens: no toolbar covers a command's text, inline commands stay in their
column, at 1280, 768 and 390 px; screenshots go to test-artifacts/."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import SCREENSHOTS, _QuietHandler, _serving

WIDTHS = (1280, 768, 390)
MEASURE = """() => {
  const meets = (a, b) => a.width && a.height && a.left < b.right - 0.5 && a.right > b.left + 0.5
    && a.top < b.bottom - 0.5 && a.bottom > b.top + 0.5;
  let blocks = 0, covered = 0, outside = 0;
  const column = (document.querySelector('article') || document.body).getBoundingClientRect();
  for (const box of document.querySelectorAll('[data-mx-kind]:not([data-mx-kind=output])')) {
    const bar = box.querySelector('.mx-toolbar');
    const code = box.querySelector('code');
    if (!bar || !code) continue;
    blocks++;
    const bars = [...bar.getClientRects()];
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    let hit = false;
    while (walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(walker.currentNode);
      for (const text of range.getClientRects()) if (bars.some((b) => meets(text, b))) hit = true;
    }
    if (hit) covered++;
    if (box.matches('.mx-inline') && [...code.getClientRects()].some((r) => r.right > column.right + 1)) outside++;
  }
  return {blocks, covered, outside};
}"""


@pytest.fixture(scope="module")
def own_site(built_site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built_site)))
    with _serving(server):
        yield f"http://127.0.0.1:{server.server_address[1]}/"


def pages(built: Path) -> list[str]:
    return sorted(
        str(p.parent.relative_to(built)) for p in built.rglob("index.html") if "data-mx-kind" in p.read_text()
    )


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_no_toolbar_covers_a_command_at_this_width(browser: Any, own_site: str, built_site: Path, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    page = context.new_page()
    totals = {"blocks": 0, "covered": 0, "outside": 0}
    try:
        for path in pages(built_site):
            page.goto(own_site + ("" if path == "." else path + "/"))
            page.wait_for_function("window.mkdocsExecute && window.mkdocsExecute.ready")
            found = page.evaluate(MEASURE)
            for key in totals:
                totals[key] += found[key]
            shots = SCREENSHOTS / "layout"
            shots.mkdir(parents=True, exist_ok=True)
            name = (path.replace("/", "-").strip(".") or "index") + f"-{width}.png"
            page.screenshot(path=str(shots / name), full_page=True)
    finally:
        context.close()
    print(f"{width} px: {totals}")
    assert totals["blocks"] > 40  # control: the measure saw the lesson's blocks
    assert totals["covered"] == 0 and totals["outside"] == 0, totals


@pytest.mark.browser
def test_the_measure_sees_an_overlap(browser: Any, own_site: str) -> None:
    """Negative case: a toolbar put back over the code, as before, is counted."""
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    try:
        page.goto(own_site + "05-pousser-une-image/")
        page.wait_for_function("window.mkdocsExecute && window.mkdocsExecute.ready")
        page.add_style_tag(content=".highlight > .mx-toolbar{position:absolute;top:.35rem;right:.35rem}")
        assert page.evaluate(MEASURE)["covered"] > 0
    finally:
        context.close()


OUTPUT_COPY = '[data-mx-kind="output"] :is(.md-code__button[data-md-type="copy"], .md-clipboard)'


@pytest.mark.browser
def test_a_long_inline_command_wraps_inside_its_column_on_a_phone(browser: Any, site: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 900}, locale="fr-FR")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url.rstrip("/"))
    page = context.new_page()
    try:
        page.goto(site.url + "suite/")
        page.wait_for_function("window.mkdocsExecute && window.mkdocsExecute.ready")
        found = page.evaluate(MEASURE)
        assert found["blocks"] >= 3 and found["outside"] == 0 and found["covered"] == 0
        page.add_style_tag(content=".mx-inline code{white-space:nowrap!important}")
        assert page.evaluate(MEASURE)["outside"] > 0  # negative: unwrapped, it runs past the column
        # Material's copy button on an expected output copies what the reader sees: an ellipsis, no `[..]`.
        page.click(OUTPUT_COPY)
        page.wait_for_function("navigator.clipboard.readText().then(t => t.includes('NAME'))")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "[..]" not in copied and "…" in copied
    finally:
        context.close()


DRAWER = (
    '<section class="mx-drawer"><button class="mx-button mx-drawer__close">×</button>'
    '<button class="mx-button mx-copy">c</button></section>'
)
ICONS = "[...document.querySelectorAll('.mx-drawer button')].map(b => getComputedStyle(b, '::before').display)"


TERMINAL_CSS = """() => new Promise((ok, ko) => document.head.append(Object.assign(document.createElement("link"),
  { rel: "stylesheet", href: "assets/mkdocs-execute/terminal.css", onload: ok, onerror: ko })))"""


@pytest.mark.browser
def test_the_drawer_close_button_has_no_blank_icon(browser: Any, site: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(site.url)
        page.wait_for_function("window.mkdocsExecute && window.mkdocsExecute.ready")
        page.evaluate(TERMINAL_CSS)  # as the first Run fetches it with the drawer
        page.evaluate("html => document.body.insertAdjacentHTML('beforeend', html)", DRAWER)
        close, copy = page.evaluate(ICONS)
        assert close == "none" and copy != "none"  # negative beside it: another button keeps its icon
    finally:
        context.close()
