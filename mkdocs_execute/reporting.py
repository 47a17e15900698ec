"""What a run tells people and tools: progress lines, the summary line, JUnit XML and the JSON report.

Everything here is already masked (verdicts are) and capped (see `limits`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .harness import Status, Verdict
from .matching import ESCAPES

_SYMBOLS = {Status.PASSED: "ok  ", Status.FAILED: "FAIL", Status.SKIPPED: "skip"}
_ESCAPE = re.compile(ESCAPES)
_NOT_XML = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
"""Characters XML 1.0 cannot hold, even escaped: most C0 controls, lone surrogates, U+FFFE and U+FFFF (compiled
only for a JUnit report: the pattern is slow to compile)."""


def progress_line(verdict: Verdict) -> str:
    first = verdict.command.splitlines()[0] if verdict.command else ""
    symbol = "upd " if verdict.updated else _SYMBOLS[verdict.status]
    line = f"{symbol} {verdict.where}  {first}".rstrip()
    if verdict.status is Status.SKIPPED and verdict.reason:
        line += f"  ({verdict.reason})"
    elif verdict.duration >= 1:
        line += f"  [{verdict.duration:.1f} s]"
    return line


def summary(verdicts: Iterable[Verdict]) -> str:
    """`N passed, N failed, N skipped`, the line CI reads."""
    counts = Counter(v.status for v in verdicts)
    return ", ".join(f"{counts[s]} {s.value}" for s in (Status.PASSED, Status.FAILED, Status.SKIPPED))


def write_junit(path: Path, verdicts: list[Verdict], duration: float) -> None:
    counts = Counter(v.status for v in verdicts)
    import xml.etree.ElementTree as ET  # only for --junitxml

    suite = ET.Element(
        "testsuite",
        name="mkdocs-execute",
        tests=str(len(verdicts)),
        failures=str(counts[Status.FAILED]),
        skipped=str(counts[Status.SKIPPED]),
        errors="0",
        time=f"{duration:.3f}",
    )
    for verdict in verdicts:
        page, line = xml_text(verdict.file), verdict.line
        case = ET.SubElement(suite, "testcase", classname=page, name=f"{page}::L{line}", time=f"{verdict.duration:.3f}")
        if verdict.status is Status.FAILED:
            failure = ET.SubElement(case, "failure", message=xml_text(verdict.reason))
            failure.text = xml_text(verdict.report)
        elif verdict.status is Status.SKIPPED:
            ET.SubElement(case, "skipped", message=xml_text(verdict.reason))
        if verdict.output:
            ET.SubElement(case, "system-out").text = xml_text(verdict.output)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    from .updating import write_atomically

    write_atomically(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


def xml_text(text: str) -> str:
    """Text any XML parser accepts: terminal escape sequences dropped, other forbidden characters spelt out."""
    if "\x1b" in text or "\x9b" in text:
        text = _ESCAPE.sub("", text)
    return re.sub(_NOT_XML, _spelt, text)


def _spelt(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


def write_json(path: Path, verdicts: list[Verdict], duration: float, exit_status: int) -> None:
    """The run for machines: a summary and one entry per block, in the order they ran."""
    counts = Counter(v.status for v in verdicts)
    report = {
        "format": 1,
        "exit_status": exit_status,
        "duration": round(duration, 3),
        "summary": {status.value: counts[status] for status in Status},
        "updated": sum(v.updated for v in verdicts),
        "blocks": [
            {
                "file": v.file,
                "line": v.line,
                "status": v.status.value,
                "updated": v.updated,
                "command": v.command,
                "duration": round(v.duration, 3),
                "reason": v.reason,
                "skip_reason": v.reason if v.status is Status.SKIPPED else None,
                "code": v.code or None,
                "diff": v.diff or None,
                "output": v.output,
            }
            for v in verdicts
        ],
    }
    import json  # only for --json

    from .updating import write_atomically

    write_atomically(path, json.dumps(report, ensure_ascii=False, indent=2) + "\n")
