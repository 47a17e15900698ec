"""A tiny Material site built with the plugin, served locally, and a real Chromium to drive it."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

MKDOCS_YML = """\
site_name: Essai mkdocs-execute
site_url: {url}  # instant navigation follows the sitemap, which needs the exact origin
docs_dir: docs
theme:
  name: material
  language: fr
  font: false
  features:
    - navigation.instant
    - content.code.copy
    - content.code.annotate
  palette:
    - scheme: default
      toggle: {icon: material/weather-night, name: Mode sombre}
    - scheme: slate
      toggle: {icon: material/weather-sunny, name: Mode clair}
plugins:
  - search
  - execute:
      variables:
        HOST_IP: "10.1.2.3"
        TOKEN: null
markdown_extensions:
  - attr_list
  - md_in_html
  - pymdownx.superfences
  - pymdownx.highlight:
      anchor_linenums: true
nav:
  - Accueil: index.md
  - Suite: suite.md
"""

TITLE = (  # long enough to reach the toolbar if no room were kept for it
    "connexion.sh, le script qui ouvre votre session sur le cluster avec le jeton personnel "
    "que la console web affiche dans le menu de votre compte"
)
INDEX_MD = """\
# Accueil

Adresse du serveur : [[HOST_IP]], jeton : [[TOKEN]].

```bash
echo [[HOST_IP]]
```{{execute}}

```bash title="TITLE" linenums="1"
login --token=[[TOKEN]] # (1)!
whoami
```<<copy>>

1. Le jeton de votre compte.

```text
10.1.2.3
```<<output>>

Listez les fichiers : `ls -l`{{execute}}, ou copiez `cat [[TOKEN]]`{{copy}}.

Dans le terminal 2 :

```bash
top
```{{execute T2 interrupt}}

Page suivante : [Suite](suite.md).
""".replace("TITLE", TITLE)

SUITE_MD = """\
# Suite

Votre jeton : [[TOKEN]].

```bash
curl http://[[HOST_IP]]/?t=[[TOKEN]]
```{{execute}}

En ligne : `pwd`{{execute}}.
"""


@dataclass
class Site:
    url: str
    root: Path


@dataclass
class Tab:
    """A page in a fresh browser context, with everything it reported."""

    page: Any
    url: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def open(self, path: str = "") -> None:
        self.page.goto(self.url + path)
        self.page.wait_for_function("window.mkdocsExecute && window.mkdocsExecute.ready")

    def clipboard(self) -> str:
        return str(self.page.evaluate("navigator.clipboard.readText()"))

    def set_clipboard(self, text: str) -> None:
        self.page.evaluate("text => navigator.clipboard.writeText(text)", text)

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The fixture site, served on 127.0.0.1 and built there with `mkdocs build --strict`."""
    project = tmp_path_factory.mktemp("browser-site")
    built = project / "site"
    built.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built)))
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    (project / "docs").mkdir()
    (project / "mkdocs.yml").write_text(MKDOCS_YML.replace("{url}", url), encoding="utf-8")
    (project / "docs" / "index.md").write_text(INDEX_MD, encoding="utf-8")
    (project / "docs" / "suite.md").write_text(SUITE_MD, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(built)],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    if result.returncode:
        server.server_close()
        pytest.fail(f"mkdocs build failed:\n{result.stderr}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(url, built)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def tab(browser: Any, site: Site) -> Iterator[Tab]:
    """A fresh context (empty localStorage) allowed to use the clipboard, on the home page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url.rstrip("/"))
    page = context.new_page()
    state = Tab(page, site.url)
    page.on("console", lambda message: message.type == "error" and state.errors.append(message.text))
    page.on("pageerror", lambda error: state.errors.append(f"pageerror: {error}"))

    def on_dialog(dialog: Any) -> None:
        state.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    state.open()
    try:
        yield state
    finally:
        context.close()
