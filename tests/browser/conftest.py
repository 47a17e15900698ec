"""A tiny Material site built with the plugin, served locally, and a real Chromium to drive it."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
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
  - À propos: apropos.md
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

LONG = "oc new-app --name=une-application-au-nom-vraiment-tres-long --image-stream=openshift/flux:latest " * 2
SUITE_MD = """\
# Suite

Votre jeton : [[TOKEN]].

```bash
curl http://[[HOST_IP]]/?t=[[TOKEN]]
```{{execute}}

En ligne : `pwd`{{execute}}.

Une très longue commande : `LONG`{{execute}}.

```bash
oc get pods
```{{execute}}

```
NAME [..] READY
...
```{{output}}
""".replace("LONG", LONG.strip())


APROPOS_MD = """\
# À propos

Une page sans bloc marqué : `ls -l` n'est ici que du code.
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

    def instant_ready(self) -> None:
        """Material intercepts a click only once it has its sitemap: a click before that is a full load (for a
        reader too), so a test of instant navigation waits for it."""
        self.page.wait_for_function(
            "performance.getEntriesByType('resource').some(e => e.name.endsWith('/sitemap.xml') && e.responseEnd > 0)"
        )

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


@contextlib.contextmanager
def _built_and_served(project: Path, config: str, pages: dict[str, str]) -> Iterator[Site]:
    """`pages` and `config` (its `{url}` filled in) built with `mkdocs build --strict`, served on 127.0.0.1."""
    built = project / "site"
    built.mkdir(parents=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built)))
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    (project / "docs").mkdir()
    (project / "mkdocs.yml").write_text(config.replace("{url}", url), encoding="utf-8")
    for name, text in pages.items():
        (project / "docs" / name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(built)],
        cwd=project, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, check=False,
    )  # fmt: skip
    if result.returncode:
        server.server_close()
        pytest.fail(f"mkdocs build failed:\n{result.stderr}")
    with _serving(server):
        yield Site(url, built)


@contextlib.contextmanager
def _serving(server: ThreadingHTTPServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The fixture site, served on 127.0.0.1 and built there with `mkdocs build --strict`."""
    pages = {"index.md": INDEX_MD, "suite.md": SUITE_MD, "apropos.md": APROPOS_MD}
    with _built_and_served(tmp_path_factory.mktemp("browser-site"), MKDOCS_YML, pages) as served_site:
        yield served_site


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


LIVE_YML = MKDOCS_YML.replace('HOST_IP: "10.1.2.3"', "HOST_IP: null").replace(
    "      variables:", "      terminal: local\n      variables:"
)
LIVE_INDEX_MD = """\
# Laboratoire

Le serveur [[HOST_IP]] vous attend.

```bash
echo mx-$((6*7))
```{{execute}}

```bash
echo ip=[[HOST_IP]]
```<<execute>>

```bash
sleep 1; echo slept-$((1+1))
```{{execute}}

Deux terminaux : `echo pid=$$`{{execute}} et `echo pid=$$`{{execute T2}}.

Dans T2 : `sh -c 'echo up-$((4+4)); exec sleep 60'`{{execute T2}}, puis `echo after-$((3+4))`{{execute T2 interrupt}}.

Sans Entrée : `echo typed-$((1+1))`{{execute no-newline}}.

```bash
echo '</code><script>alert(1)</script>'
```{{copy}}

Page suivante : [Suite](suite.md).
"""
LIVE_SUITE_MD = """\
# Suite

Toujours [[HOST_IP]].

```bash
curl http://[[HOST_IP]]/
```{{execute}}

Dans le terminal 3 : `sh -c 'echo up-$((4+5)); exec sleep 60'`{{execute T3}}, puis `^C`{{execute T3 ctrl-seq}}.

Sur l'hôte 2 : `hostname`{{execute HOST2}}.
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_served(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mkdocs serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "assets/mkdocs-execute/terminal.json", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("mkdocs serve did not answer in time")


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`mkdocs serve --livereload` with `terminal: local`, stopped with Ctrl-C (SIGINT) as a writer would."""
    project = tmp_path_factory.mktemp("browser-live")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    (project / "docs").mkdir()
    (project / "mkdocs.yml").write_text(LIVE_YML.replace("{url}", url), encoding="utf-8")
    (project / "docs" / "index.md").write_text(LIVE_INDEX_MD, encoding="utf-8")
    (project / "docs" / "suite.md").write_text(LIVE_SUITE_MD, encoding="utf-8")
    log = (project / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--livereload", "-a", f"127.0.0.1:{port}"],
        cwd=project,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "SHELL": "/bin/bash"},
        start_new_session=True,  # our own group: a stuck server can be killed with all it started
    )
    try:
        _wait_until_served(url, process)
        yield Site(url, project)
    except RuntimeError as error:
        pytest.fail(f"{error}:\n{(project / 'serve.log').read_text(errors='replace')}")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        log.close()


def _tab(browser: Any, url: str) -> Iterator[Tab]:
    """A fresh context (empty localStorage) allowed to use the clipboard, on the home page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    state = Tab(page, url)

    def on_console(message: Any) -> None:
        if message.type == "error":
            state.errors.append(message.text)

    page.on("console", on_console)
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


@pytest.fixture
def tab(browser: Any, site: Site) -> Iterator[Tab]:
    """The built site, in a fresh context."""
    yield from _tab(browser, site.url)


@pytest.fixture
def live(browser: Any, served: Site) -> Iterator[Tab]:
    """The served site (with its local terminal), in a fresh context."""
    yield from _tab(browser, served.url)


ZENSICAL_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "zensical"


@pytest.fixture(scope="session")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """examples/zensical, built with the `zensical` package and served on 127.0.0.1."""
    pytest.importorskip("zensical", reason="the zensical package is not installed")
    import shutil

    project = tmp_path_factory.mktemp("zensical") / "project"
    shutil.copytree(ZENSICAL_EXAMPLE, project, ignore=shutil.ignore_patterns("site"))
    result = subprocess.run(
        [sys.executable, "-m", "zensical", "build"], cwd=project, capture_output=True, text=True, check=False
    )
    if result.returncode:
        pytest.fail(f"zensical build failed:\n{result.stderr}")
    built = project / "site"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built)))
    with _serving(server):
        yield Site(f"http://127.0.0.1:{server.server_address[1]}/", built)


@pytest.fixture
def zensical_tab(browser: Any, zensical_site: Site) -> Iterator[Tab]:
    yield from _tab(browser, zensical_site.url)


VALUES_YML = """\
site_name: Valeurs
site_url: {url}
theme: {name: material, language: fr, font: false}
plugins:
  - execute:
      secrets: [OPENSHIFT_TOKEN]
      variables:
        HOST_IP: {label: "Adresse IP du cluster", help: "Celle que la console affiche", value: null}
        OPENSHIFT_TOKEN:
markdown_extensions: [attr_list, md_in_html, pymdownx.superfences, pymdownx.highlight]
"""
VALUES_MD = """\
# Valeurs

```bash
oc login --token=[[OPENSHIFT_TOKEN]] https://[[HOST_IP]]:6443
```{{execute}}

```bash
ping -c 1 [[HOST_IP]]
```{{copy}}
"""


@pytest.fixture(scope="session")
def values_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A site whose placeholders carry a label, a help text, and a secret."""
    with _built_and_served(tmp_path_factory.mktemp("values-site"), VALUES_YML, {"index.md": VALUES_MD}) as built:
        yield built


@pytest.fixture
def values_tab(browser: Any, values_site: Site) -> Iterator[Tab]:
    yield from _tab(browser, values_site.url)
