"""The browser side in real Chromium: Copy, Run, reader values, keyboard, instant navigation."""

from __future__ import annotations

import gzip
import importlib.util
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mkdocs_execute.strings import strings_for

if TYPE_CHECKING:  # the fixtures' types, from this folder's conftest.py
    from conftest import Site, Tab

FR = strings_for("fr")
ECHO = '[data-mx-source="docs/index.md:5"]'
TITLED = '[data-mx-source="docs/index.md:9"]'
OUTPUT = '[data-mx-kind="output"]'
INLINE_COPY = '.mx-inline[data-mx-kind="copy"]'
SECOND_TERMINAL = '[data-mx-terminal="2"]'
CURL = '[data-mx-source="docs/suite.md:5"]'
PAYLOAD = "<img src=x onerror=alert(1)>"

FAKE_TERMINAL = """() => {
  window.sent = [];
  window.mkdocsExecute.terminal = {
    send(command, options) {
      window.sent.push([command, {terminal: options.terminal, interrupt: options.interrupt,
                                  noNewline: options.noNewline}]);
      return new Promise((resolve, reject) => { window.finish = resolve; window.fail = reject; });
    },
  };
}"""


def wait_status(tab: Tab, scope: str, text: str, timeout: float = 3000) -> None:
    tab.page.wait_for_function(
        "([scope, text]) => document.querySelector(scope + ' .mx-status').textContent === text",
        arg=[scope, text],
        timeout=timeout,
    )


def status(tab: Tab, scope: str) -> str:
    return str(tab.page.locator(f"{scope} .mx-status").text_content())


def var_spans(tab: Tab, name: str) -> list[dict[str, Any]]:
    return list(
        tab.page.eval_on_selector_all(
            f'[data-mx-var="{name}"]',
            "els => els.map(el => ({text: el.textContent, unset: el.classList.contains('mx-var--unset'),"
            " children: el.children.length}))",
        )
    )


@pytest.mark.browser
def test_copy_puts_the_substituted_command_on_the_clipboard(tab: Tab) -> None:
    page = tab.page
    tab.set_clipboard("sentinel")
    assert tab.clipboard() == "sentinel"  # control: the clipboard really is read back
    assert status(tab, ECHO) == ""

    page.click(f"{ECHO} .mx-copy")
    wait_status(tab, ECHO, FR["copied"])
    assert tab.clipboard() == "echo 10.1.2.3"
    assert "mx-done" in str(page.get_attribute(f"{ECHO} .mx-copy", "class"))
    tab.screenshot("copy-light")

    # The titled block shows line numbers and an annotation marker; neither is copied.
    shown = page.inner_text(f"{TITLED} table")
    assert re.search(r"^1\s*$", shown, re.MULTILINE) and page.locator(f"{TITLED} .md-annotation").count() == 1
    page.click(f"{TITLED} .mx-copy")  # its [[TOKEN]] is still to fill in: nothing copied, the reader is asked
    wait_status(tab, TITLED, FR["missing"].format(names="TOKEN"))
    assert tab.clipboard() == "echo 10.1.2.3"
    assert page.evaluate("document.activeElement.dataset.mxInput") == "TOKEN"

    # Material's own copy button is hidden where ours replaces it, kept on expected output.
    assert not page.locator(f"{ECHO} .md-code__nav").is_visible()
    assert page.locator(f"{OUTPUT} .md-code__nav").is_visible()

    # The feedback goes away after about two seconds.
    wait_status(tab, ECHO, "", timeout=4000)
    assert "mx-done" not in str(page.get_attribute(f"{ECHO} .mx-copy", "class"))
    assert tab.errors == []


@pytest.mark.browser
def test_reader_values_fill_commands_and_stay_text(tab: Tab) -> None:
    page = tab.page
    assert {(s["text"], s["unset"]) for s in var_spans(tab, "TOKEN")} == {("TOKEN", True)}
    tab.set_clipboard("before")
    page.click(f"{TITLED} .mx-copy")
    wait_status(tab, TITLED, FR["missing"].format(names="TOKEN"))
    assert tab.clipboard() == "before"  # never `[[TOKEN]]` handed out

    page.evaluate("window.mkdocsExecute.setValue('TOKEN', 's3cr3t')")
    assert {(s["text"], s["unset"]) for s in var_spans(tab, "TOKEN")} == {("s3cr3t", False)}
    assert {s["text"] for s in var_spans(tab, "HOST_IP")} == {"10.1.2.3"}
    assert page.evaluate("window.mkdocsExecute.values()") == {"TOKEN": "s3cr3t"}
    page.click(f"{TITLED} .mx-copy")
    page.wait_for_function("navigator.clipboard.readText().then(t => t.includes('s3cr3t'))")
    assert tab.clipboard() == "login --token=s3cr3t\nwhoami"
    page.click(f"{INLINE_COPY} .mx-copy")
    page.wait_for_function("navigator.clipboard.readText().then(t => t.startsWith('cat '))")
    assert tab.clipboard() == "cat s3cr3t"

    tab.open()  # a full reload reads the stored value back
    assert {(s["text"], s["unset"]) for s in var_spans(tab, "TOKEN")} == {("s3cr3t", False)}

    images = page.evaluate("document.images.length")
    page.evaluate("value => window.mkdocsExecute.setValue('TOKEN', value)", PAYLOAD)
    spans = var_spans(tab, "TOKEN")
    assert spans and all(s["text"] == PAYLOAD and s["children"] == 0 for s in spans)
    page.click(f"{TITLED} .mx-copy")
    page.wait_for_function("navigator.clipboard.readText().then(t => t.includes('onerror'))")
    assert tab.clipboard() == f"login --token={PAYLOAD}\nwhoami"
    page.wait_for_timeout(500)
    assert page.evaluate("document.images.length") == images
    assert page.locator("article img").count() == 0
    assert tab.dialogs == []
    page.evaluate("alert('control')")  # control: a real dialog is seen
    assert tab.dialogs == ["control"]

    page.evaluate("window.mkdocsExecute.setValue('TOKEN', '')")
    assert {(s["text"], s["unset"]) for s in var_spans(tab, "TOKEN")} == {("TOKEN", True)}
    assert tab.errors == []


@pytest.mark.browser
def test_run_without_terminal_copies_and_explains(tab: Tab) -> None:
    page = tab.page
    tab.set_clipboard("sentinel")
    page.click(f"{ECHO} .mx-run")
    wait_status(tab, ECHO, FR["run_fallback"])
    assert tab.clipboard() == "echo 10.1.2.3"
    tab.screenshot("run-fallback-light")
    page.wait_for_timeout(3000)  # longer than the two seconds of "copied"
    assert status(tab, ECHO) == FR["run_fallback"]
    wait_status(tab, ECHO, "", timeout=6000)

    # Control: with a terminal attached, Run sends instead of copying, and the block is busy meanwhile.
    tab.set_clipboard("sentinel")
    page.evaluate(FAKE_TERMINAL)
    page.click(f"{SECOND_TERMINAL} .mx-run")
    page.wait_for_function("window.sent.length === 1")
    assert page.evaluate("window.sent") == [["top", {"terminal": 2, "interrupt": True, "noNewline": False}]]
    assert page.get_attribute(SECOND_TERMINAL, "aria-busy") == "true"
    assert "mx-busy" in str(page.get_attribute(SECOND_TERMINAL, "class"))
    assert status(tab, SECOND_TERMINAL) == FR["busy"]
    page.evaluate("window.finish()")
    page.wait_for_function(f"!document.querySelector('{SECOND_TERMINAL}').hasAttribute('aria-busy')")
    assert status(tab, SECOND_TERMINAL) == ""
    assert tab.clipboard() == "sentinel"

    # A terminal that fails: the command is copied instead, with its own message.
    page.click(f"{SECOND_TERMINAL} .mx-run")
    page.wait_for_function("window.sent.length === 2")
    page.evaluate("window.fail(new Error('gone'))")
    wait_status(tab, SECOND_TERMINAL, FR["terminal_unreachable"])
    assert tab.clipboard() == "top"
    assert "mx-busy" not in str(page.get_attribute(SECOND_TERMINAL, "class"))
    assert tab.errors == []


@pytest.mark.browser
def test_keyboard_reaches_and_activates_copy(tab: Tab) -> None:
    page = tab.page
    button = f"{ECHO} .mx-copy"
    focus = (
        "() => { const el = document.activeElement; const s = getComputedStyle(el);"
        " return {visible: el.matches(':focus-visible'), style: s.outlineStyle, width: s.outlineWidth}; }"
    )

    # Control: a mouse click focuses the button without a focus ring.
    tab.set_clipboard("sentinel")
    page.click(button)
    assert page.evaluate(f"document.activeElement === document.querySelector('{button}')")
    assert page.evaluate(focus)["style"] == "none"

    page.click("h1")  # sequential navigation starts after the heading
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector('{button}')"):
            break
    else:
        pytest.fail("Tab never reached the Copy button")
    ring = page.evaluate(focus)
    assert ring["visible"] and ring["style"] != "none" and ring["width"] != "0px"
    tab.screenshot("focus-light")

    wait_status(tab, ECHO, "", timeout=4000)
    tab.set_clipboard("sentinel")
    page.keyboard.press("Enter")
    wait_status(tab, ECHO, FR["copied"])
    assert tab.clipboard() == "echo 10.1.2.3"

    tab.set_clipboard("sentinel")
    page.keyboard.press("Space")
    page.wait_for_function("navigator.clipboard.readText().then(t => t !== 'sentinel')")
    assert tab.clipboard() == "echo 10.1.2.3"
    assert tab.errors == []


@pytest.mark.browser
def test_instant_navigation_keeps_buttons_and_values(tab: Tab) -> None:
    page = tab.page
    page.evaluate("window.mkdocsExecute.setValue('TOKEN', 'jeton-42')")
    page.evaluate(
        """() => {
          window.marker = 'same-document';
          window.writes = 0;
          const write = navigator.clipboard.writeText.bind(navigator.clipboard);
          navigator.clipboard.writeText = text => { window.writes += 1; return write(text); };
        }"""
    )
    tab.instant_ready()
    page.click('.md-sidebar--primary a.md-nav__link[href$="suite/"]')
    page.wait_for_url("**/suite/")
    page.wait_for_selector(CURL)
    assert page.evaluate("window.marker") == "same-document"  # control: no full reload happened
    page.wait_for_function(
        "[...document.querySelectorAll('[data-mx-var=TOKEN]')].every(el => el.textContent === 'jeton-42')"
    )
    assert {(s["text"], s["unset"]) for s in var_spans(tab, "TOKEN")} == {("jeton-42", False)}

    page.click(f"{CURL} .mx-copy")
    wait_status(tab, CURL, FR["copied"])
    assert tab.clipboard() == "curl http://10.1.2.3/?t=jeton-42"
    assert page.evaluate("window.writes") == 1  # one delegated listener, not one per page

    inline = '.mx-inline[data-mx-source="docs/suite.md:9"]'
    page.click(f"{inline} .mx-run")
    wait_status(tab, inline, FR["run_fallback"])
    assert tab.clipboard() == "pwd"
    tab.screenshot("instant-navigation")

    page.go_back()
    page.wait_for_selector(ECHO)
    page.wait_for_function("document.querySelector('[data-mx-var=TOKEN]').textContent === 'jeton-42'")
    page.click(f"{ECHO} .mx-copy")
    wait_status(tab, ECHO, FR["copied"])
    assert page.evaluate("window.writes") == 3
    assert tab.errors == []


_LOADED = "performance.getEntriesByType('resource').map(e => e.name.split('/').pop()).filter(n => n.endsWith('.js'))"


@pytest.mark.browser
def test_a_page_without_blocks_loads_only_the_loader_until_a_lesson_comes(tab: Tab) -> None:
    page = tab.page
    page.goto(tab.url + "apropos/")
    page.wait_for_load_state("load")
    loaded = page.evaluate(_LOADED)
    assert "loader.js" in loaded and "execute.js" not in loaded, loaded
    assert page.evaluate("window.mkdocsExecute === undefined")
    assert page.evaluate("document.querySelectorAll('link[href*=\"mkdocs-execute\"]').length") == 0
    # Instant navigation brings a lesson in: the loader fetches execute.js and its stylesheet, once.
    page.evaluate("window.marker = 'same-document'")
    tab.instant_ready()
    page.click('.md-sidebar--primary a.md-nav__link[href$="suite/"]')
    page.wait_for_url("**/suite/")
    page.wait_for_function("window.mkdocsExecute && window.mkdocsExecute.ready")
    assert page.evaluate("window.marker") == "same-document"  # control: no full reload happened
    inline = '.mx-inline[data-mx-source="docs/suite.md:9"]'
    page.click(f"{inline} .mx-run")
    wait_status(tab, inline, FR["run_fallback"])
    assert tab.clipboard() == "pwd"
    shown = page.eval_on_selector(f"{CURL} .mx-toolbar", "el => getComputedStyle(el).display")
    assert shown == "flex"  # the stylesheet came with it
    page.click('.md-sidebar--primary a.md-nav__link[href$="apropos/"]')
    page.wait_for_url("**/apropos/")
    page.click('.md-sidebar--primary a.md-nav__link:has-text("Accueil")')
    page.wait_for_selector(ECHO)
    page.click(f"{ECHO} .mx-copy")
    wait_status(tab, ECHO, FR["copied"])
    assert page.evaluate(_LOADED).count("execute.js") == 1
    assert tab.errors == []


@pytest.mark.browser
def test_a_lesson_page_links_its_assets_itself(tab: Tab) -> None:
    """The negative case: a lesson opened directly has execute.js from its own head, not from the loader."""
    tab.open()
    page = tab.page
    assert page.evaluate("document.querySelectorAll('head script[data-mx-execute][defer]').length") == 1
    assert page.evaluate("document.querySelectorAll('head link[href$=\"execute.css\"]').length") == 1
    assert page.evaluate(_LOADED).count("execute.js") == 1
    assert "terminal.js" not in page.evaluate(_LOADED)  # the drawer comes with the first Run only
    assert tab.errors == []


@pytest.mark.browser
def test_no_console_errors(tab: Tab) -> None:
    page = tab.page
    page.click(f"{ECHO} .mx-copy")
    page.click(f"{ECHO} .mx-run")
    page.click(f"{INLINE_COPY} .mx-copy")
    page.evaluate("window.mkdocsExecute.setValue('TOKEN', 'x')")
    page.click('.md-sidebar--primary a.md-nav__link[href$="suite/"]')
    page.wait_for_selector(CURL)
    page.click(f"{CURL} .mx-copy")
    wait_status(tab, CURL, FR["copied"])
    tab.open("suite/")
    page.click(f"{CURL} .mx-run")
    wait_status(tab, CURL, FR["run_fallback"])
    assert tab.errors == []
    page.evaluate("console.error('mx-control')")  # control: errors are collected
    page.wait_for_timeout(100)
    assert tab.errors == ["mx-control"]


def _rgba(text: str) -> tuple[float, ...]:
    parts = [float(x) for x in re.findall(r"[\d.]+", text)]
    return tuple(parts) if len(parts) == 4 else (*parts, 1.0)


def _contrast(fg: str, bg: str) -> float:
    r, g, b, a = _rgba(fg)
    br, bgg, bb, _ = _rgba(bg)
    mixed = [c * a + d * (1 - a) for c, d in ((r, br), (g, bgg), (b, bb))]

    def luminance(rgb: list[float] | tuple[float, ...]) -> float:
        lin = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(mixed), luminance((br, bgg, bb))), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.browser
def test_title_stays_clear_and_both_schemes_are_readable(tab: Tab) -> None:
    page = tab.page
    boxes = page.evaluate(
        f"""() => {{
          const title = document.querySelector('{TITLED} span.filename');
          const range = document.createRange();
          range.selectNodeContents(title);
          const r = range.getBoundingClientRect(), bar = document.querySelector('{TITLED} .mx-toolbar')
            .getBoundingClientRect(), row = title.getBoundingClientRect();
          return {{text: [r.left, r.right], bar: [bar.left, bar.right, bar.top, bar.bottom],
                   row: [row.top, row.bottom]}};
        }}"""
    )
    # The toolbar has a row of its own, above the title: neither can cover the other, however long.
    assert boxes["bar"][3] <= boxes["row"][0] + 0.5

    for scheme in ("default", "slate"):
        page.evaluate(f"document.body.setAttribute('data-md-color-scheme', '{scheme}')")
        page.click(f"{ECHO} .mx-run")
        wait_status(tab, ECHO, FR["run_fallback"])
        colours = page.eval_on_selector(
            f"{ECHO} .mx-status",
            "el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor,"
            " getComputedStyle(document.body).backgroundColor]",
        )
        assert _contrast(colours[0], colours[1]) >= 4.5, (scheme, colours)
        tab.screenshot(f"schemes-{scheme}")
    assert colours[2] != "rgb(255, 255, 255)"  # control: the dark scheme really applied
    assert tab.errors == []


def _page_weight() -> Any:
    """benchmarks/page_weight.py, so that this test and the benchmark measure the same thing."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "page_weight.py"
    spec = importlib.util.spec_from_file_location("page_weight", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_assets_fit_the_size_budget(site: Site) -> None:
    assets = site.root / "assets" / "mkdocs-execute"
    script = (assets / "execute.js").read_bytes()
    assert b"__MX_STRINGS__" not in script and b"__MX_TERMINAL__" not in script and "Copié".encode() in script
    weight = _page_weight()
    loaded = weight.plugin_weight(site.root, "index.html")
    names = {"assets/mkdocs-execute/" + name for name in ("execute.js", "execute.css", "loader.js")}
    assert set(loaded) == names
    assert loaded["assets/mkdocs-execute/execute.js"] == len(gzip.compress(script, 9))  # control
    assert sum(loaded.values()) <= weight.BUDGET == 8 * 1024, loaded
    plain = weight.plugin_weight(site.root, "apropos/index.html")
    assert set(plain) == {"assets/mkdocs-execute/loader.js"}
    assert sum(plain.values()) <= weight.PLAIN_BUDGET == 512, plain
    page = (site.root / "index.html").read_text(encoding="utf-8")
    assert "xterm" not in page  # the terminal's library is never part of the page itself
