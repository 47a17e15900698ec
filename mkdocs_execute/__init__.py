"""mkdocs-execute: runnable, truthful command-line lessons for MkDocs."""

__version__ = "0.2.0"

from .extension import ExecuteExtension, LessonError, makeExtension
from .parsing import parse

__all__ = ["ExecuteExtension", "LessonError", "__version__", "makeExtension", "parse"]
