"""The browser assets as a site serves them: execute.js with its UI strings and terminal settings in place.

The MkDocs plugin ships them at build time; `mkdocs-execute assets DIR` writes the same files for a site
that has no MkDocs plugins (Zensical), where the page's `lang` picks the strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib.resources import files as package_files

from .strings import STRINGS, strings_for

NAMES = ("execute.js", "execute.css", "terminal.js", "terminal.css", "loader.js")
"""What a site serves: execute.js and execute.css on lesson pages, terminal.js and terminal.css fetched on the
first Run, loader.js on every page (it fetches the first two when instant navigation brings in a lesson)."""


def script(languages: Iterable[str] = (), terminal: dict[str, str] | None = None) -> str:
    """execute.js ready to serve: the strings of `languages` (all known ones when empty; the first is the
    default), picked by the page's `lang`, and where Run finds a terminal (None: nowhere)."""
    text = _source("execute.js")
    text = text.replace("__MX_STRINGS__", strings_table(languages))
    return compact(text.replace("__MX_TERMINAL__", json.dumps(terminal)))


def strings_table(languages: Iterable[str] = ()) -> str:
    """The JavaScript expression for the UI strings: one language's, or a table the page's `lang` picks from."""
    wanted = [_base(language) for language in languages] or ["en", *sorted(set(STRINGS) - {"en"})]
    unique = list(dict.fromkeys(wanted))
    if len(unique) == 1:
        return json.dumps(strings_for(unique[0]), ensure_ascii=False)
    table = {language: strings_for(language) for language in unique}
    pick = "(document.documentElement.lang || '').toLowerCase().split(/[-_]/)[0]"
    return f"((all) => all[{pick}] || all[{json.dumps(unique[0])}])({json.dumps(table, ensure_ascii=False)})"


def stylesheet() -> str:
    return static("execute.css")


def static(name: str) -> str:
    """An asset with nothing to fill in (all but execute.js)."""
    return compact(_source(name))


def contents(languages: Iterable[str] = (), terminal: dict[str, str] | None = None) -> dict[str, str]:
    """Every asset by name, ready to serve."""
    return {name: script(languages, terminal) if name == "execute.js" else static(name) for name in NAMES}


def _source(name: str) -> str:
    return (package_files("mkdocs_execute") / "assets" / name).read_text(encoding="utf-8")


def compact(text: str) -> str:
    """Without its comment lines and indentation: a quarter less on every page, and nothing else changed
    (the sources keep their comments; neither file has a multi-line string)."""
    kept: list[str] = []
    in_comment = False
    for line in text.split("\n"):
        stripped = line.strip()
        if in_comment:
            in_comment = "*/" not in stripped
            continue
        if stripped.startswith("/*") and (stripped.endswith("*/") or "*/" not in stripped):
            in_comment = "*/" not in stripped
            continue
        if stripped and not stripped.startswith("//"):
            kept.append(stripped)
    return "\n".join(kept) + "\n"


def _base(language: str) -> str:
    return language.replace("-", "_").split("_")[0].lower()
