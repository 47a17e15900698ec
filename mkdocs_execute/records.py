"""Verification records: what a harness run really checked, page by page.

The harness writes one small JSON record per run; the site reads the latest one to
stamp each lesson page. A page whose text changed since the record is not verified.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .harness import Status, Verdict
from .updating import write_atomically

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


def build_record(
    pages: dict[str, str], verdicts: list[Verdict], environment: str, commands: set[str], now: datetime | None = None
) -> Record:
    """`pages` maps each run page's source path to its text, as it was run."""
    records = {source: PageRecord(digest(text)) for source, text in pages.items()}
    for verdict in verdicts:
        page = records.get(verdict.where.rpartition(":")[0])
        if page is None:
            continue
        setattr(page, verdict.status.value, getattr(page, verdict.status.value) + 1)
        if verdict.status is Status.SKIPPED:
            page.reasons = dict(Counter(page.reasons) + Counter({verdict.code or verdict.reason: 1}))
    moment = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    return Record(moment.isoformat(), environment, tool_versions(commands), records)


def tool_versions(commands: set[str]) -> dict[str, str]:
    """The first line each tool prints about its version; absent tools are left out."""
    found = {"bash": _first_line(["bash", "--version"]), "python": platform.python_version()}
    for command in sorted(commands):
        if shutil.which(command):
            arguments = ["version", "--client"] if command in {"oc", "kubectl"} else ["--version"]
            found[command] = _first_line([command, *arguments])
    return {name: version for name, version in found.items() if version}


def _first_line(argv: list[str]) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0].strip() if lines else ""


def write_record(path: Path, record: Record, masker: Callable[[str], str] = str) -> None:
    """Written through the run's masker: skip reasons quote front matter checks, which may hold a secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, masker(record.to_json()))


def read_record(path: Path) -> Record | None:
    """The record at `path`, or None if there is none or it cannot be trusted."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            return None
        pages = {source: PageRecord(**page) for source, page in data["pages"].items()}
        return Record(data["date"], data["environment"], dict(data["tools"]), pages)
    except (OSError, ValueError, KeyError, TypeError):
        return None
