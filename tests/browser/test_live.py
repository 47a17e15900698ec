"""Against a live `mkdocs serve --livereload` with `terminal: local`: the values panel, Run into real
shells through the terminal drawer, the keyboard, and hostile values and code."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from mkdocs_execute.strings import strings_for

if TYPE_CHECKING:  # the fixtures' types, from this folder's conftest.py
    from conftest import Site, Tab

FR = strings_for("fr")
ANSWER = '[data-mx-source="docs/index.md:5"]'
IP_BLOCK = '[data-mx-source="docs/index.md:9"]'
SLOW = '[data-mx-source="docs/index.md:13"]'
PID_1 = '.mx-inline[data-mx-source="docs/index.md:17"]:not([data-mx-terminal])'
PID_2 = '.mx-inline[data-mx-source="docs/index.md:17"][data-mx-terminal="2"]'
SLEEP_2 = '.mx-inline[data-mx-source="docs/index.md:19"]:not([data-mx-interrupt])'
AFTER_2 = '.mx-inline[data-mx-source="docs/index.md:19"][data-mx-interrupt]'
TYPED = '.mx-inline[data-mx-source="docs/index.md:21"]'
HOSTILE = '[data-mx-source="docs/index.md:23"]'
CURL = '[data-mx-source="docs/suite.md:5"]'
PAYLOAD = "<img src=x onerror=alert(1)>"
SCREEN = "n => window.mkdocsExecute.terminal.screen(n)"


def screen(tab: Tab, n: int = 1) -> str:
    return str(tab.page.evaluate(SCREEN, n))


def wait_line(tab: Tab, pattern: str, n: int = 1, timeout: float = 15000) -> None:
    """Wait for a whole line of terminal `n` to match `pattern` (so the echoed command does not count)."""
    tab.page.wait_for_function(
        "([n, p]) => new RegExp(p, 'm').test(window.mkdocsExecute.terminal.screen(n))",
        arg=[n, pattern],
        timeout=timeout,
    )


def wait_idle(tab: Tab, scope: str, timeout: float = 15000) -> None:
    tab.page.wait_for_function("s => !document.querySelector(s).hasAttribute('aria-busy')", arg=scope, timeout=timeout)


def var_texts(tab: Tab, name: str) -> set[str]:
    return set(tab.page.eval_on_selector_all(f'[data-mx-var="{name}"]', "els => els.map(el => el.textContent)"))


def focus_ring(tab: Tab) -> dict[str, Any]:
    return dict(
        tab.page.evaluate(
            "() => { const el = document.activeElement, s = getComputedStyle(el);"
            " return {visible: el.matches(':focus-visible'), style: s.outlineStyle, width: s.outlineWidth,"
            " label: el.getAttribute('aria-label') || el.name || el.textContent}; }"
        )
    )


def tab_to(tab: Tab, selector: str, presses: int = 40) -> dict[str, Any]:
    """Press Tab until `selector` has the focus; return how its focus indicator looks."""
    for _ in range(presses):
        tab.page.keyboard.press("Tab")
        if tab.page.evaluate("s => document.activeElement === document.querySelector(s)", selector):
            ring = focus_ring(tab)
            assert ring["visible"] and ring["style"] != "none" and ring["width"] != "0px", ring
            return ring
    pytest.fail(f"Tab never reached {selector}")


@pytest.mark.browser
def test_only_served_pages_get_the_token(live: Tab, served: Site, site: Site) -> None:
    with urllib.request.urlopen(served.url + "assets/mkdocs-execute/terminal.json") as answer:
        local = json.load(answer)
    assert re.fullmatch(r"ws://127\.0\.0\.1:\d+/", local["url"]) and len(local["token"]) >= 20
    with urllib.request.urlopen(served.url + "assets/mkdocs-execute/execute.js") as answer:
        script = answer.read().decode()
    assert local["token"] not in script and '{"config": "terminal.json"}' in script
    html = live.page.content()
    assert local["token"] not in html and "xterm" not in html  # nothing of xterm until the first Run
    built = "\n".join(p.read_text(errors="replace") for p in site.root.rglob("*") if p.is_file())
    assert "terminal.json" not in built and "ws://127.0.0.1" not in built


@pytest.mark.browser
def test_run_types_into_real_shells(live: Tab) -> None:
    page = live.page
    assert page.evaluate("typeof window.Terminal") == "undefined"  # control: xterm.js is not loaded yet
    page.click(f"{ANSWER} .mx-run")
    wait_line(live, r"^mx-42\s*$")
    assert page.evaluate("typeof window.Terminal") == "function"
    assert page.locator('.mx-drawer [role="tab"]').all_inner_texts() == ["Terminal 1"]
    wait_idle(live, ANSWER)
    assert live.errors == []

    # Busy while the shell works, idle once its prompt is back (bash's prompt marker, not a timer).
    page.click(f"{SLOW} .mx-run")
    page.wait_for_function(f"document.querySelector('{SLOW}').getAttribute('aria-busy') === 'true'")
    assert "mx-busy" in str(page.get_attribute(SLOW, "class"))
    assert not re.search(r"^slept-2\s*$", screen(live), re.MULTILINE)
    wait_idle(live, SLOW)
    assert re.search(r"^slept-2\s*$", screen(live), re.MULTILINE)  # idle only after the output
    live.screenshot("terminal-run")

    # T2 opens a second tab with a shell of its own.
    page.click(f"{PID_1} .mx-run")
    wait_line(live, r"^pid=\d+\s*$")
    page.click(f"{PID_2} .mx-run")
    wait_line(live, r"^pid=\d+\s*$", n=2)
    assert page.locator('.mx-drawer [role="tab"]').all_inner_texts() == ["Terminal 1", "Terminal 2"]
    assert page.get_attribute("#mx-tab-2", "aria-selected") == "true"
    pids = [re.findall(r"^pid=(\d+)\s*$", screen(live, n), re.MULTILINE) for n in (1, 2)]
    assert pids[0] and pids[1] and pids[0] != pids[1]

    # `interrupt` sends Ctrl-C first: the sleep ends and the next command runs at once.
    page.click(f"{SLEEP_2} .mx-run")
    page.wait_for_function(f"document.querySelector('{SLEEP_2}').getAttribute('aria-busy') === 'true'")
    # The sleep's own process printed this, so it holds the terminal: a Ctrl-C sent now must reach it
    # (a fixed wait raced a loaded machine, where bash had not yet handed the terminal over).
    wait_line(live, r"^up-8\s*$", n=2)
    page.click(f"{AFTER_2} .mx-run")
    wait_line(live, r"^after-7\s*$", n=2, timeout=5000)
    wait_idle(live, SLEEP_2, timeout=3000)

    # `no-newline` types the command and leaves it for the reader to finish.
    page.click("#mx-tab-1")
    page.click(f"{TYPED} .mx-run")
    wait_line(live, r"echo typed-\$\(\(1\+1\)\)\s*$")
    page.wait_for_timeout(500)
    assert not re.search(r"^typed-2\s*$", screen(live), re.MULTILINE)
    live.screenshot("terminal-two-tabs")
    assert live.errors == []


@pytest.mark.browser
def test_values_panel_fills_blocks_prose_copy_and_run(live: Tab) -> None:
    page = live.page
    panel = page.locator("article .mx-values")
    assert panel.count() == 1 and panel.get_attribute("open") is not None  # a value is missing: open
    assert panel.locator("summary").inner_text() == FR["values_title"]
    assert FR["values_help"] in panel.inner_text()
    assert page.locator(".mx-values label span").all_inner_texts() == ["HOST_IP"]  # TOKEN is not on this page
    field = page.get_by_label("HOST_IP", exact=True)
    assert var_texts(live, "HOST_IP") == {"HOST_IP"}

    field.fill("192.0.2.7")
    assert var_texts(live, "HOST_IP") == {"192.0.2.7"}  # the prose and the blocks
    assert "Le serveur 192.0.2.7 vous attend." in page.inner_text("article")
    page.click(f"{IP_BLOCK} .mx-copy")
    page.wait_for_function("navigator.clipboard.readText().then(t => t === 'echo ip=192.0.2.7')")
    page.click(f"{IP_BLOCK} .mx-run")
    wait_line(live, r"^ip=192\.0\.2\.7\s*$")
    live.screenshot("values-panel")

    # Instant navigation keeps the value, in the new page's blocks, prose and panel.
    page.evaluate("window.marker = 'same-document'")
    live.instant_ready()
    page.click('.md-sidebar--primary a.md-nav__link[href$="suite/"]')
    page.wait_for_url("**/suite/")
    page.wait_for_selector(CURL)
    assert page.evaluate("window.marker") == "same-document"  # control: no full reload
    page.wait_for_function("document.querySelector('[data-mx-var=HOST_IP]').textContent === '192.0.2.7'")
    assert var_texts(live, "HOST_IP") == {"192.0.2.7"}
    assert page.get_by_label("HOST_IP", exact=True).input_value() == "192.0.2.7"
    assert page.locator("article .mx-values").get_attribute("open") is None  # nothing left to fill here
    assert page.locator(".mx-drawer").is_visible()  # the terminal survives instant navigation too
    page.click(f"{CURL} .mx-copy")
    page.wait_for_function("navigator.clipboard.readText().then(t => t === 'curl http://192.0.2.7/')")

    live.open("suite/")  # a full reload
    assert var_texts(live, "HOST_IP") == {"192.0.2.7"}
    assert page.get_by_label("HOST_IP", exact=True).input_value() == "192.0.2.7"
    assert live.errors == []


@pytest.mark.browser
def test_hostile_values_and_code_stay_text(live: Tab) -> None:
    page = live.page
    images = page.evaluate("document.images.length")
    scripts = page.evaluate("document.scripts.length")
    page.get_by_label("HOST_IP", exact=True).fill(PAYLOAD)
    assert var_texts(live, "HOST_IP") == {PAYLOAD}
    assert page.evaluate("[...document.querySelectorAll('[data-mx-var]')].every(el => !el.children.length)")
    page.click(f"{HOSTILE} .mx-copy")
    page.wait_for_function("navigator.clipboard.readText().then(t => t.includes('alert'))")
    assert live.clipboard() == "echo '</code><script>alert(1)</script>'"
    page.click(f"{IP_BLOCK} .mx-copy")
    page.wait_for_function("navigator.clipboard.readText().then(t => t.includes('onerror'))")
    assert live.clipboard() == f"echo ip={PAYLOAD}"
    live.open()  # and again from storage, on a fresh page
    assert var_texts(live, "HOST_IP") == {PAYLOAD}
    page.click("article .mx-values summary")  # every value is set: the panel starts closed
    page.get_by_label("HOST_IP", exact=True).fill(PAYLOAD + "!")
    page.wait_for_timeout(500)
    assert page.evaluate("document.images.length") == images
    assert page.evaluate("document.scripts.length") == scripts
    assert page.locator("article script, article img").count() == 0
    assert live.dialogs == []
    page.evaluate("alert('control')")  # control: a real dialog would be seen
    assert live.dialogs == ["control"]
    assert live.errors == []


@pytest.mark.browser
def test_keyboard_alone(live: Tab) -> None:
    page = live.page
    page.click("h1")  # sequential navigation starts after the heading
    tab_to(live, "article .mx-values summary")
    page.keyboard.press("Enter")  # closes the open panel ...
    assert page.locator("article .mx-values").get_attribute("open") is None
    page.keyboard.press("Space")  # ... and opens it again
    assert page.locator("article .mx-values").get_attribute("open") is not None
    tab_to(live, 'article .mx-values input[name="HOST_IP"]')
    page.keyboard.type("198.51.100.9")
    assert var_texts(live, "HOST_IP") == {"198.51.100.9"}

    ring = tab_to(live, f"{ANSWER} .mx-copy")
    assert ring["label"] == FR["copy_label"]
    live.set_clipboard("sentinel")
    page.keyboard.press("Enter")
    page.wait_for_function("navigator.clipboard.readText().then(t => t === 'echo mx-$((6*7))')")
    tab_to(live, f"{ANSWER} .mx-run", presses=2)
    live.screenshot("keyboard-run-focus")
    page.keyboard.press("Space")
    wait_line(live, r"^mx-42\s*$")
    tab_to(live, f"{IP_BLOCK} .mx-run", presses=3)
    page.keyboard.press("Enter")
    wait_line(live, r"^ip=198\.51\.100\.9\s*$")

    # The drawer: its tab and its close button are reachable, and closing gives the focus back.
    tab_to(live, "#mx-tab-1", presses=80)
    page.keyboard.press("Enter")
    assert page.get_attribute("#mx-tab-1", "aria-selected") == "true"
    tab_to(live, ".mx-drawer__close", presses=2)
    live.screenshot("keyboard-drawer-close")
    page.keyboard.press("Enter")
    assert not page.locator(".mx-drawer").is_visible()
    assert page.evaluate(f"document.activeElement === document.querySelector('{IP_BLOCK} .mx-run')")
    assert live.errors == []


@pytest.mark.browser
def test_unreachable_terminal_copies_instead(live: Tab) -> None:
    page = live.page
    page.route("**/terminal.json", lambda route: route.abort())
    live.set_clipboard("sentinel")
    page.click(f"{ANSWER} .mx-run")
    page.wait_for_function(
        "t => document.querySelector('[data-mx-source=\"docs/index.md:5\"] .mx-status').textContent === t",
        arg=FR["terminal_unreachable"],
    )
    assert live.clipboard() == "echo mx-$((6*7))"
    assert "mx-busy" not in str(page.get_attribute(ANSWER, "class"))
    # The only error is the browser's own report of the refused request.
    assert all("ERR_FAILED" in e or "Failed to fetch" in e for e in live.errors), live.errors


SLEEP_3 = '.mx-inline[data-mx-source="docs/suite.md:9"]:not([data-mx-ctrl-seq])'
CTRL_C = '.mx-inline[data-mx-source="docs/suite.md:9"][data-mx-ctrl-seq]'
HOST_2 = '.mx-inline[data-mx-source="docs/suite.md:11"]'


@pytest.mark.browser
def test_ctrl_seq_sends_the_control_key_it_names(live: Tab) -> None:
    page = live.page
    live.open("suite/")
    page.click(f"{SLEEP_3} .mx-run")
    page.wait_for_function(f"document.querySelector('{SLEEP_3}').getAttribute('aria-busy') === 'true'")
    wait_line(live, r"^up-9\s*$", n=3)  # the sleep holds the terminal (see above)
    assert page.get_attribute(SLEEP_3, "aria-busy") == "true"  # control: the sleep runs
    page.click(f"{CTRL_C} .mx-run")
    wait_idle(live, SLEEP_3, timeout=15000)  # Ctrl-C ended it: its prompt came back long before 60 s
    assert "bash: :s^C" not in screen(live, 3) and "substitution failed" not in screen(live, 3)
    assert live.errors == []


@pytest.mark.browser
def test_a_host_the_terminal_lacks_is_said_not_run_in_terminal_1(live: Tab) -> None:
    page = live.page
    live.open("suite/")
    tabs = page.locator('.mx-drawer [role="tab"]').count()
    page.click(f"{HOST_2} .mx-run")
    page.wait_for_function(
        "([s, t]) => document.querySelector(s + ' .mx-status').textContent === t",
        arg=[HOST_2, FR["no_host"].format(n=2)],
    )
    assert live.clipboard() == "hostname"  # copied instead
    assert page.locator('.mx-drawer [role="tab"]').count() == tabs  # no terminal opened for it


@pytest.mark.browser
def test_the_drawer_resizes_and_the_page_remembers(live: Tab) -> None:
    page = live.page
    page.click(f"{ANSWER} .mx-run")
    wait_line(live, r"^mx-42\s*$")
    before = page.evaluate("document.querySelector('.mx-drawer').offsetHeight")
    grip = page.locator(".mx-drawer__grip").bounding_box()
    assert grip is not None
    page.mouse.move(grip["x"] + 50, grip["y"] + 2)
    page.mouse.down()
    page.mouse.move(grip["x"] + 50, grip["y"] - 150, steps=5)
    page.mouse.up()
    after = page.evaluate("document.querySelector('.mx-drawer').offsetHeight")
    assert after > before + 100  # dragged up: taller
    page.focus(".mx-drawer__grip")
    page.keyboard.press("ArrowDown")  # the keyboard can do it too
    assert page.evaluate("document.querySelector('.mx-drawer').offsetHeight") < after
    kept = page.evaluate("document.querySelector('.mx-drawer').offsetHeight")
    live.open()  # a new page load: the drawer opens at the size the reader chose
    page.click(f"{ANSWER} .mx-run")
    wait_line(live, r"^mx-42\s*$")
    assert abs(page.evaluate("document.querySelector('.mx-drawer').offsetHeight") - kept) <= 2
    assert live.errors == []
