"""Writing verification records: what a harness run really checked, page by page (the harness's side)."""

from __future__ import annotations

import platform
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from .harness import Status, Verdict
from .records import PageRecord, Record, digest
from .updating import write_atomically


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
