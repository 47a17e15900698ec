"""How much of an output or a diff a report keeps: the head and the tail, with a notice between them.

The comparison always sees everything; only what people and tools read is capped.
"""

from __future__ import annotations

LIMIT = 64 * 1024
"""Characters kept of one output or diff, in the terminal, JUnit and JSON alike."""


def cap(text: str, limit: int = LIMIT) -> str:
    """`text`, or its first and last lines within `limit` characters and a line saying what was cut."""
    if len(text) <= limit:
        return text
    head_end = text.rfind("\n", 0, limit * 3 // 4) + 1 or limit * 3 // 4
    tail_start = text.find("\n", len(text) - limit // 4) + 1 or len(text) - limit // 4
    tail_start = max(tail_start, head_end)
    cut = text[head_end:tail_start]
    lines = cut.count("\n")
    notice = f"[… {lines} lines ({len(cut)} characters) cut here: the report keeps the first and last lines …]\n"
    return text[:head_end] + notice + text[tail_start:]
