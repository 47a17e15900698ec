"""`mkdocs-execute run PATH...` runs lessons in a real shell and reports drift; `mkdocs-execute terminal` serves Run."""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from .harness import PageRun, Settings, Status, Verdict, resolve_values
from .lessons import LessonFile, LessonFileError, read_lesson
from .masking import Masker
from .project import Project, find_project
from .records import build_record, write_record
from .reporting import progress_line, summary, write_junit


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["terminal"]:
        from .terminal import main as terminal_main  # POSIX-only (PTY): imported on demand

        return terminal_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args)
    parser.print_help()
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mkdocs-execute", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="run the blocks of lessons and compare their output with the page")
    commands.add_parser("terminal", help="serve a local terminal for the Run buttons (see --help)", add_help=False)
    run.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a lesson file or a folder of them")
    run.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a placeholder's value")
    run.add_argument("--secret", action="append", default=[], metavar="NAME", help="mask this variable's value")
    run.add_argument("--update", action="store_true", help="rewrite {{output}} blocks with the actual output")
    run.add_argument("--junitxml", type=Path, metavar="FILE", help="write a JUnit XML report")
    run.add_argument("--require-all", action="store_true", help="a page whose requirements are unmet fails")
    run.add_argument("--record", type=Path, metavar="FILE", help="write a verification record for the site's stamps")
    run.add_argument("--environment", default="", metavar="TEXT", help="where the run happens, as the stamp shows it")
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        given = dict(_pair(item) for item in args.var)
        pages = list(_lessons(args.paths))
    except (ValueError, LessonFileError) as error:
        print(f"mkdocs-execute: {error}", file=sys.stderr)
        return 2
    projects = {id(project): project for _, project in pages if project}
    names: dict[str, str | None] = {}
    secret_names = set(args.secret)
    for project in projects.values():
        names.update(project.variables)
        secret_names.update(project.secrets)
    for page, _ in pages:
        names.update({name: names.get(name) for name in page.lesson.names})
    settings = Settings(resolve_values(names, given, os.environ), secret_names, args.update, args.require_all)
    masker = Masker(settings.values[n] for n in secret_names if settings.values.get(n))
    verdicts: list[Verdict] = []
    started = time.monotonic()
    stopped = _run_pages(pages, settings, masker, verdicts)
    _report(verdicts, args.junitxml, time.monotonic() - started)
    if args.record is not None:
        texts = {page.source: page.text for page, _ in pages}
        commands = {c for page, _ in pages for c in page.requirements.commands}
        write_record(args.record, build_record(texts, verdicts, args.environment or _machine(), commands))
    if stopped:
        return 128 + stopped
    return 1 if any(v.status is Status.FAILED for v in verdicts) else 0


def _run_pages(
    pages: list[tuple[LessonFile, Project | None]], settings: Settings, masker: Masker, verdicts: list[Verdict]
) -> int:
    """Run every page; on SIGINT/SIGTERM stop the running block, clean up, and return the signal."""
    current: list[PageRun] = []
    stop: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.append(signum)
        for page_run in current:
            page_run.interrupt()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for page, project in pages:
            timeout = project.timeout if project and project.timeout else settings.timeout
            page_run = PageRun(page, Settings(**{**vars(settings), "timeout": timeout}), masker)
            current[:] = [page_run]
            try:
                for block in page_run.blocks:
                    if stop:
                        break
                    _announce(page_run.where(block), block.code)
                    _show(page_run.run(block), verdicts)
            finally:
                for verdict in page_run.finish():
                    _show(verdict, verdicts)
            if stop:
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return stop[0] if stop else 0


def _announce(where: str, code: str) -> None:
    """On a terminal, say which block is running now; its verdict line overwrites this one."""
    if sys.stdout.isatty():
        first = code.splitlines()[0] if code else ""
        print(f"\r\033[K...  {where}  {first}"[:200], end="", flush=True)


def _show(verdict: Verdict, verdicts: list[Verdict]) -> None:
    verdicts.append(verdict)
    prefix = "\r\033[K" if sys.stdout.isatty() else ""
    print(prefix + progress_line(verdict), flush=True)


def _report(verdicts: list[Verdict], junit: Path | None, duration: float) -> None:
    failures = [v for v in verdicts if v.status is Status.FAILED]
    if failures:
        print("\n" + "=" * 30 + " failures " + "=" * 30)
        for verdict in failures:
            print("\n" + verdict.report)
    if junit is not None:
        write_junit(junit, verdicts, duration)
    print(summary(verdicts))


def _machine() -> str:
    return f"{platform.node() or 'this machine'} ({platform.system()} {platform.machine()})"


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise ValueError(f"--var takes NAME=VALUE, not {item!r}")
    return name, value


def _lessons(paths: list[Path]) -> Iterator[tuple[LessonFile, Project | None]]:
    for path in paths:
        if not path.exists():
            raise ValueError(f"{path}: no such file or folder")
        files = sorted(path.rglob("*.md")) if path.is_dir() else [path]
        for file in files:
            project = find_project(file)
            source = project.source_of(file) if project else file.as_posix()
            yield read_lesson(file, source), project


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
