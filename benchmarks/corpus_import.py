"""Import and build every scenario of a corpus: does each arrive whole, and does every marker render?

    python3 benchmarks/corpus_import.py [CORPUS] [--limit N]

CORPUS defaults to ../shared/corpus (read-only: each scenario is imported into a temporary folder). For
each scenario: `mkdocs_execute.importing.import_scenarios`, then a MkDocs build in this process. It prints
the scenarios imported, import and build failures (with their message), warnings by kind, and markers
rendered (blocks with `data-mx-kind` execute, copy or open in the built HTML) against markers written
(`{{execute…}}`, `{{exec…}}`, `{{copy}}`, `{{open}}` in the pages the scenario's index.json names).
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mkdocs.commands.build import build  # noqa: E402
from mkdocs.config import load_config  # noqa: E402

from mkdocs_execute.importing import ScenarioError, find_scenarios, import_scenarios  # noqa: E402

WRITTEN = re.compile(r"(?<!\\)\{\{\s*(?:execute|exec|copy|open)\b[^{}]*\}\}", re.IGNORECASE)
RENDERED = re.compile(r'data-mx-kind="(?:execute|copy|open)"')


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.kinds: collections.Counter[str] = collections.Counter()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.messages.append(message)
        self.kinds[_kind(message)] += 1


def _kind(message: str) -> str:
    for pattern, kind in (
        (r"contains a link|link to|not found among documentation files|unrecognized relative link", "broken link"),
        (r"unknown marker|cannot read the marker", "marker"),
        (r"never closes", "unclosed fence"),
        (r"follows no code", "marker without code"),
        (r"option", "option"),
        (r"placeholder", "placeholder"),
    ):
        if re.search(pattern, message, re.IGNORECASE):
            return kind
    return "other"


def written(scenario: Path) -> int:
    data = json.loads((scenario / "index.json").read_text(encoding="utf-8"))
    details = data.get("details") or {}
    parts = [details.get("intro") or {}, *(details.get("steps") or []), details.get("finish") or {}]
    count = 0
    for part in parts:
        path = scenario / str(part.get("text", "")) if isinstance(part, dict) and part.get("text") else None
        if path is not None and path.is_file():
            count += len(WRITTEN.findall(path.read_text(encoding="utf-8", errors="replace")))
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--limit", type=int, default=0, help="only the first N scenarios")
    args = parser.parse_args()
    scenarios = find_scenarios(args.corpus)[: args.limit or None]
    warnings = _Warnings()
    logging.getLogger("mkdocs").addHandler(warnings)
    logging.getLogger("mkdocs").propagate = False
    imported = failed = marks_written = marks_rendered = 0
    failures: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        for number, scenario in enumerate(scenarios):
            out = Path(work) / f"s{number}"
            try:
                import_scenarios(scenario, out)
                imported += 1
                build(load_config(str(out / "mkdocs.yml"), site_dir=str(out / "site")))
            except (ScenarioError, Exception) as error:
                failed += 1
                failures.append(f"{scenario.relative_to(args.corpus)}: {type(error).__name__}: {error}")
                continue
            marks_written += written(scenario)
            marks_rendered += sum(len(RENDERED.findall(p.read_text())) for p in (out / "site").rglob("*.html"))
    elapsed = time.perf_counter() - started
    print(f"scenarios: {len(scenarios)}, imported: {imported}, failures: {failed} ({elapsed:.0f} s)")
    for line in failures:
        print("  failure:", line)
    print("warnings by kind:", dict(warnings.kinds.most_common()) or "none")
    for message in warnings.messages:
        if _kind(message) != "broken link":
            print("  warning:", message.splitlines()[0][:300])
    share = marks_rendered / marks_written if marks_written else 1.0
    print(f"markers rendered: {marks_rendered} of {marks_written} written ({share:.2%})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
