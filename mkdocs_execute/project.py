"""The MkDocs project a lesson belongs to: its root, docs_dir and the `execute` plugin's settings."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml")


@dataclass(frozen=True)
class Project:
    root: Path
    docs_dir: Path
    variables: dict[str, str | None] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    timeout: float | None = None

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
    from mkdocs.config import load_config

    logging.getLogger("mkdocs").setLevel(logging.ERROR)  # its info lines are not the harness's output
    config = load_config(str(config_file))
    root = config_file.resolve().parent
    plugin = config.plugins.get("execute")
    settings = getattr(plugin, "config", None)
    variables = {str(k): None if v in (None, "") else str(v) for k, v in getattr(settings, "variables", {}).items()}
    return Project(
        root=root,
        docs_dir=Path(config.docs_dir).resolve(),
        variables=variables,
        secrets=tuple(getattr(settings, "secrets", ()) or ()),
        timeout=getattr(settings, "timeout", None),
    )
