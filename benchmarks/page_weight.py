"""What a page loads from the plugin, gzipped, against issue 14's budgets: 0.5 KB on a page without a marked
block, 8 KB on a lesson page while no terminal is in use.

Builds a small Material site with the plugin (a remote terminal configured, so the Run code is there), a
lesson page and a page without blocks, reads each page's own `<script src>` and `<link rel="stylesheet">`
tags, and sums the gzip size of those that come from the plugin. What the first Run fetches (terminal.js,
terminal.css, xterm.js) is not counted: no page references it; its size is printed for information.

    python3 benchmarks/page_weight.py            # print the weights
    python3 benchmarks/page_weight.py --check    # exit 1 above the budget
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

BUDGET = 8 * 1024
"""A lesson page, until its reader's first Run."""
PLAIN_BUDGET = 512
"""A page without a marked block."""
PREFIX = "assets/mkdocs-execute/"
LAZY = (
    "terminal.js",
    "terminal.css",
    "vendor/xterm/lib/xterm.js",
    "vendor/xterm/css/xterm.css",
    "vendor/xterm/addon-fit/lib/addon-fit.js",
)

CONFIG = """\
site_name: page weight
theme:
  name: material
  language: fr
  features: [navigation.instant]
plugins:
  - execute:
      terminal: wss://lab.example/terminal
      variables:
        HOST_IP:
markdown_extensions: [attr_list, pymdownx.superfences, pymdownx.highlight]
"""
LESSON = """\
# Leçon

Le serveur [[HOST_IP]].

```bash
echo [[HOST_IP]]
```{{execute}}

```bash
top
```{{execute T2 interrupt}}

Copiez `ls -l`{{copy}}.
"""


PLAIN = """\
# À propos

Une page sans bloc marqué : `ls -l` reste du code ordinaire.
"""


class _Assets(HTMLParser):
    """The URLs of a page's scripts and style sheets."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))
        elif tag == "link" and "stylesheet" in (found.get("rel") or "").split() and found.get("href"):
            self.urls.append(str(found["href"]))


def gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 9))


def plugin_weight(site: Path, page: str = "index.html") -> dict[str, int]:
    """Gzip size of each plugin asset the page itself loads, by path under the site."""
    parser = _Assets()
    parser.feed((site / page).read_text(encoding="utf-8"))
    weights = {}
    for url in parser.urls:
        path = url.split("?")[0].split("#")[0]
        while path.startswith(("./", "../")):
            path = path.split("/", 1)[1]
        if path.startswith(PREFIX):
            weights[path] = gzip_size(site / path)
    return weights


def build(where: Path) -> Path:
    (where / "docs").mkdir()
    (where / "docs" / "index.md").write_text(LESSON, encoding="utf-8")
    (where / "docs" / "about.md").write_text(PLAIN, encoding="utf-8")
    (where / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "--strict"], cwd=where, env=env, check=True)
    return where / "site"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 above the budget")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mx-weight-") as tmp:
        site = build(Path(tmp))
        weights = plugin_weight(site)
        plain = plugin_weight(site, "about/index.html")
        lazy = {name: gzip_size(site / PREFIX / name) for name in LAZY if (site / PREFIX / name).exists()}
    total, plain_total = sum(weights.values()), sum(plain.values())
    for path, size in weights.items():
        print(f"{path:48} {size:7,d} B gzip")
    print(f"{'total loaded by a lesson page':48} {total:7,d} B gzip  (budget {BUDGET:,d} B: {total / BUDGET:.0%})")
    print(f"{'total loaded by a page without blocks':48} {plain_total:7,d} B gzip  (budget {PLAIN_BUDGET:,d} B: "
          f"{plain_total / PLAIN_BUDGET:.0%}; {', '.join(plain) or 'nothing'})")  # fmt: skip
    print(f"{'terminal.js, its css, xterm.js: on first Run only':48} {sum(lazy.values()):7,d} B gzip  (not counted)")
    if not weights or not plain:
        print("no plugin asset found on a page: the measurement is broken", file=sys.stderr)
        return 1
    return 1 if args.check and (total > BUDGET or plain_total > PLAIN_BUDGET) else 0


if __name__ == "__main__":
    sys.exit(main())
