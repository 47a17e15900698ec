"""mkdocs-execute: runnable, truthful command-line lessons for MkDocs."""

from .extension import ExecuteExtension, LessonError, makeExtension
from .parsing import parse

__all__ = ["ExecuteExtension", "LessonError", "makeExtension", "parse"]
