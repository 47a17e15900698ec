"""Secrets are masked as `***` in everything the harness prints or writes."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .matching import render_line

MASK = "***"
_HIDING = re.compile("[\x1b\x9b\r\x08]")
"""What can split a secret in the raw bytes and still show it whole on a terminal."""
_SHORTEST = 3
"""Shorter values would mask ordinary text everywhere; such a secret is no secret."""


class Masker:
    """Replaces every known secret value in a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for value in secrets:
            self.add(value)

    def add(self, value: str) -> None:
        for part in {value, value.strip(), *value.splitlines()}:
            part = part.strip()
            if len(part) >= _SHORTEST and part not in self._values:
                self._values.add(part)
                self._pattern = None

    def __call__(self, text: str) -> str:
        """`text` with every secret masked, also where escape sequences, `\r` or backspaces hide one from a
        plain search: then the text comes back as a terminal shows it, escapes resolved, and masked."""
        if not self._values or not text:
            return text
        if self._pattern is None:
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
        masked = self._pattern.sub(MASK, text)
        if _HIDING.search(masked):
            shown = "\n".join(render_line(line) for line in masked.replace("\r\n", "\n").split("\n"))
            if self._pattern.search(shown):
                return self._pattern.sub(MASK, shown)
        return masked

    def leaks(self, text: str) -> bool:
        """Whether `text` holds a secret."""
        return self(text) != text

    def __bool__(self) -> bool:
        return bool(self._values)
