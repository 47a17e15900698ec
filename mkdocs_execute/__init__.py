"""mkdocs-execute: runnable, truthful command-line lessons for MkDocs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

__all__ = ["ExecuteExtension", "LessonError", "__version__", "makeExtension", "parse"]

if TYPE_CHECKING:
    from .extension import ExecuteExtension, LessonError, makeExtension
    from .parsing import parse

_LAZY = {"ExecuteExtension": "extension", "LessonError": "extension", "makeExtension": "extension", "parse": "parsing"}


def __getattr__(name: str) -> Any:
    """Loaded on first use: the harness's command line starts without Python-Markdown (PEP 562)."""
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
