"""Verification records: what a harness run really checked, page by page, as the site reads them.

The harness writes one small JSON record per run (`recording`); the site reads the latest one to
stamp each lesson page. A page whose text changed since the record is not verified. This module is
the site's side: it imports nothing of the harness, so a site builds wherever MkDocs runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT = 1


@dataclass
class PageRecord:
    sha256: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    """Why blocks were skipped (the verdicts' codes, e.g. `requires:oc`), and how many."""


@dataclass
class Record:
    date: str
    environment: str
    tools: dict[str, str]
    pages: dict[str, PageRecord]
    format: int = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def digest(text: str) -> str:
    """The page's identity, blind to line endings and a byte-order mark (MkDocs drops both)."""
    normal = text.removeprefix("\ufeff").replace("\r\n", "\n")
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


class RecordError(ValueError):
    """A record that cannot be trusted; the message says what is wrong with it."""


def read_record(path: Path) -> Record | None:
    """The record at `path`, or None if there is none; RecordError if it cannot be trusted."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise RecordError(f"cannot read it: {error}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise RecordError(f"it is not JSON: {error}") from None
    return _record(data)


def _record(data: Any) -> Record:
    """Every field checked for its type: a record comes from a file anyone can edit."""
    _expect(isinstance(data, dict), "it is not a JSON object")
    _expect(data.get("format") == FORMAT, f"its format is {data.get('format')!r}, not {FORMAT}")
    for key in ("date", "environment"):
        _expect(isinstance(data.get(key), str), f"`{key}` must be a string")
    tools, pages = data.get("tools"), data.get("pages")
    _expect(isinstance(tools, dict) and all(isinstance(v, str) for v in tools.values()), "`tools` must map to strings")
    _expect(isinstance(pages, dict), "`pages` must be an object")
    return Record(data["date"], data["environment"], dict(tools), {str(k): _page(k, v) for k, v in pages.items()})


def _page(source: str, page: Any) -> PageRecord:
    _expect(isinstance(page, dict) and isinstance(page.get("sha256"), str), f"page {source!r} has no `sha256` string")
    counts = {key: page.get(key, 0) for key in ("passed", "failed", "skipped")}
    for key, value in counts.items():
        _expect(_count(value), f"page {source!r}: `{key}` must be a count, not {value!r}")
    reasons = page.get("reasons", {})
    _expect(
        isinstance(reasons, dict) and all(isinstance(k, str) and _count(v) for k, v in reasons.items()),
        f"page {source!r}: `reasons` must map reasons to counts",
    )
    unknown = set(page) - {"sha256", "passed", "failed", "skipped", "reasons"}
    _expect(not unknown, f"page {source!r} has unknown fields: {', '.join(sorted(unknown))}")
    return PageRecord(page["sha256"], **counts, reasons=dict(reasons))


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _expect(condition: bool, problem: str) -> None:
    if not condition:
        raise RecordError(problem)
