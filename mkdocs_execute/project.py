"""The MkDocs project a lesson belongs to: its root, docs_dir and the `execute` plugin's settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .model import variable_value

CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml")


@dataclass(frozen=True)
class Project:
    """The MkDocs project a lesson belongs to: where it lives, its docs folder, its values, and which pages share a
    shell."""

    root: Path
    docs_dir: Path
    variables: dict[str, str | None] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    timeout: float | None = None
    session: str = "page"
    """What shares one shell: each `page`, each nav `section`, or the whole `site`."""
    nav: tuple[tuple[str, str], ...] = ()
    """(page as `docs/…`, its top-level nav section) in nav order."""
    includes: tuple[Path, ...] = ()
    """pymdownx.snippets' base paths, when the site includes snippets: the harness expands them too."""

    def group_of(self, source: str) -> str:
        """The shell a page shares (a key): its own, its section's, or the site's."""
        if self.session == "site":
            return f"site:{self.root}"
        if self.session == "section":
            section = dict(self.nav).get(source)
            return f"section:{self.root}:{section}" if section is not None else f"page:{source}"
        return f"page:{source}"

    def nav_rank(self, source: str) -> int:
        """Where a page stands in the nav (pages not in it come after, in path order)."""
        order = {page: k for k, (page, _) in enumerate(self.nav)}
        return order.get(source, len(order))

    def source_of(self, path: Path) -> str:
        """`docs/page.md`: the path as messages and `data-mx-source` show it."""
        return source_path(path, self.root) or path.as_posix()

    def owns(self, path: Path) -> bool:
        return path.resolve().is_relative_to(self.docs_dir)


def source_path(path: Path | str, root: Path) -> str | None:
    """`path` with symbolic links followed, relative to `root`, as `data-mx-source` shows it; None outside `root`."""
    real = os.path.abspath(path)
    if os.path.islink(real):
        real = os.path.realpath(real)
    else:
        head, name = os.path.split(real)
        real = os.path.join(_real_folder(head), name)
    top = os.path.join(str(root), "")
    return real[len(top) :].replace(os.sep, "/") if real.startswith(top) else None


@lru_cache(maxsize=256)
def _real_folder(folder: str) -> str:
    """Following links costs a system call per path component; a folder is shared by many pages."""
    return os.path.realpath(folder)


def find_project(start: Path) -> Project | None:
    """The project whose config file is in `start` or the nearest folder above it."""
    folder = start.resolve()
    folder = folder if folder.is_dir() else folder.parent
    for candidate in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            if (candidate / name).is_file():
                return load_project(candidate / name)
    return None


@lru_cache(maxsize=8)
def load_project(config_file: Path) -> Project:
    """Read the config as MkDocs does (its own loader and validation)."""
    import logging  # only with MkDocs' config

    from mkdocs.config import load_config
    from mkdocs.exceptions import ConfigurationError

    logging.getLogger("mkdocs").setLevel(logging.ERROR)  # its info lines are not the harness's output
    try:
        config = load_config(str(config_file))
    except ConfigurationError as error:  # the command line says it as a usage error (exit 2)
        raise ValueError(str(error)) from None
    root = config_file.resolve().parent
    plugin = config.plugins.get("execute")
    settings = getattr(plugin, "config", None)
    given = getattr(settings, "variables", {}).items()
    variables = {str(k): variable_value(v) for k, v in given}
    return Project(
        root=root,
        docs_dir=Path(config.docs_dir).resolve(),
        variables=variables,
        secrets=tuple(getattr(settings, "secrets", ()) or ()),
        timeout=getattr(settings, "timeout", None),
        session=str(getattr(settings, "session", "page") or "page"),
        nav=tuple(_nav_pages(config.nav or [], root, Path(config.docs_dir).resolve())),
        includes=_includes(config, root),
    )


def _includes(config: Any, root: Path) -> tuple[Path, ...]:
    """Where pymdownx.snippets looks for included files (relative to the project, where MkDocs runs)."""
    names = [e if isinstance(e, str) else next(iter(e), "") for e in config.markdown_extensions]
    if "pymdownx.snippets" not in names:
        return ()
    bases = (config.mdx_configs.get("pymdownx.snippets") or {}).get("base_path", ["."])
    return tuple(root / base for base in ([bases] if isinstance(bases, str) else bases))


def _nav_pages(nav: Any, root: Path, docs: Path, section: str = "") -> list[tuple[str, str]]:
    """The nav's Markdown pages as `docs/…` sources with their top-level section, in order."""
    found: list[tuple[str, str]] = []
    items = nav if isinstance(nav, list) else [nav]
    for item in items:
        if isinstance(item, str):
            if item.endswith(".md"):
                found.append((source_path(docs / item, root) or item, section))
        elif isinstance(item, dict):
            for title, value in item.items():
                found += _nav_pages(value, root, docs, section or str(title))
    return found
