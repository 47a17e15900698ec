"""What a run tells people: progress lines, the summary line, and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .harness import Status, Verdict
from .updating import write_atomically

_SYMBOLS = {Status.PASSED: "ok  ", Status.FAILED: "FAIL", Status.SKIPPED: "skip"}


def progress_line(verdict: Verdict) -> str:
    first = verdict.command.splitlines()[0] if verdict.command else ""
    line = f"{_SYMBOLS[verdict.status]} {verdict.where}  {first}".rstrip()
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
        page, _, line = verdict.where.rpartition(":")
        case = ET.SubElement(suite, "testcase", classname=page, name=f"{page}::L{line}", time=f"{verdict.duration:.3f}")
        if verdict.status is Status.FAILED:
            failure = ET.SubElement(case, "failure", message=verdict.reason)
            failure.text = verdict.report
        elif verdict.status is Status.SKIPPED:
            ET.SubElement(case, "skipped", message=verdict.reason)
        if verdict.output:
            ET.SubElement(case, "system-out").text = verdict.output
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    write_atomically(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")
