"""Secrets are masked as `***` in everything the harness prints or writes."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
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
        if not self._values or not text:
            return text
        if self._pattern is None:
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
        return self._pattern.sub(MASK, text)

    def __bool__(self) -> bool:
        return bool(self._values)
