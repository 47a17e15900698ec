"""`mkdocs-execute run PATH...` runs lessons in a real shell and reports drift; `mkdocs-execute terminal` serves Run."""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from . import __version__, processes
from .harness import PageRun, Settings, Spares, Status, Verdict, add_secrets, not_run, resolve_values, run_order, uses
from .lessons import LessonFile, LessonFileError, read_lesson, unreadable
from .masking import Masker
from .model import Block
from .project import Project, find_project
from .reporting import progress_line, summary, write_json, write_junit
from .runners import Session, runner_for


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["terminal"]:
        from .terminal import main as terminal_main  # POSIX-only (PTY): imported on demand

        return terminal_main(argv[1:])
    parser = _parser(argv[0] if argv and argv[0] in _SUBPARSERS else None)
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args)
    if args.command == "import":
        return import_command(args)
    if args.command == "list":
        return list_command(args)
    if args.command == "assets":
        return assets_command(args)
    parser.print_help()
    return 2


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `only`, just that command's part (each help text is a gettext lookup, and
    `run` should not pay for the others')."""
    parser = argparse.ArgumentParser(prog="mkdocs-execute", description=__doc__, epilog=EXIT_CODES)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # The usage names every command, also when only one was built (an error in `run` prints it).
    commands = parser.add_subparsers(dest="command", metavar="{" + ",".join(_SUBPARSERS) + "}")
    for name, add in _SUBPARSERS.items():
        if only in (None, name):
            add(commands)
    return parser


def _run_parser(commands: Any) -> None:
    run = commands.add_parser("run", help="run the blocks of lessons and compare their output with the page")
    run.formatter_class = argparse.RawDescriptionHelpFormatter
    run.epilog = EXIT_CODES
    run.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a lesson file or a folder of them")
    run.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a placeholder's value")
    run.add_argument("--secret", action="append", default=[], metavar="NAME", help="mask this variable's value")
    run.add_argument("--update", action="store_true", help="rewrite {{output}} blocks with the actual output")
    run.add_argument("--junitxml", type=Path, metavar="FILE", help="write a JUnit XML report")
    run.add_argument("--json", type=Path, metavar="FILE", help="write a JSON report, one entry per block")
    run.add_argument("--require-all", action="store_true", help="a page whose requirements are unmet fails")
    run.add_argument("--record", type=Path, metavar="FILE", help="write a verification record for the site's stamps")
    run.add_argument("--environment", default="", metavar="TEXT", help="where the run happens, as the stamp shows it")
    run.add_argument("--cwd", type=Path, metavar="DIR", help="start pages here instead of a scratch folder")


def _terminal_parser(commands: Any) -> None:
    commands.add_parser("terminal", help="serve a local terminal for the Run buttons (see --help)", add_help=False)


def _assets_parser(commands: Any) -> None:
    what = "write execute.js, execute.css and what they load, for a site without the plugin"
    shipping = commands.add_parser("assets", help=what)
    shipping.add_argument("folder", type=Path, metavar="DIR", help="where the site serves them from")
    shipping.add_argument("--language", action="append", default=[], metavar="LANG", help="UI languages (all)")


def _list_parser(commands: Any) -> None:
    listing = commands.add_parser("list", help="show what `run` would run, without running anything")
    listing.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a lesson file or a folder of them")


def _import_parser(commands: Any) -> None:
    bring = commands.add_parser(
        "import", help="turn a Katacoda or Killercoda scenario (or a folder of them) into a site"
    )
    bring.add_argument("source", type=Path, metavar="SRC", help="a scenario folder (index.json), or a folder of them")
    bring.add_argument("out", type=Path, metavar="OUT", help="the new MkDocs project's folder")
    bring.add_argument("--force", action="store_true", help="replace OUT if it is not empty")
    bring.add_argument("--language", choices=("fr", "en"), help="the site's language (default: guessed from the text)")


_SUBPARSERS = {
    "run": _run_parser,
    "terminal": _terminal_parser,
    "assets": _assets_parser,
    "list": _list_parser,
    "import": _import_parser,
}


def assets_command(args: argparse.Namespace) -> int:
    """The browser assets, ready to serve (Zensical loads Python-Markdown extensions, not MkDocs plugins)."""
    from . import assets
    from .updating import write_atomically

    args.folder.mkdir(parents=True, exist_ok=True)
    for name, text in assets.contents(args.language).items():
        write_atomically(args.folder / name, text)
    print(f"wrote {', '.join(assets.NAMES)} in {args.folder} (pages link execute.js and execute.css)")
    return 0


def list_command(args: argparse.Namespace) -> int:
    """Each block `run` would take, in order: file:line, runner and language, options, the first line of code,
    and why it would be left out where that is known without running anything."""
    try:
        pages = list(_lessons(args.paths))
    except ValueError as error:
        print(f"mkdocs-execute: {error}", file=sys.stderr)
        return 2
    count = 0
    for page, _ in _in_lesson_order(pages):
        if page.error:
            print(f"{page.source}:1  (the page cannot run: {page.error})")
        missing = [c for c in page.requirements.commands if shutil.which(c) is None]
        for block in run_order(page) + [b for b in page.lesson.runnable if b.has("cleanup")]:
            count += 1
            print(_listed(page, block, missing))
    print(f"{count} block{'s' * (count != 1)} in {len(pages)} page{'s' * (len(pages) != 1)}")
    return 0 if count else 5


def _listed(page: LessonFile, block: Block, missing: list[str]) -> str:
    runner = runner_for(block) or "-"
    language = block.language or ("inline" if block.form.value == "inline" else "-")
    options = " ".join(str(option) for option in block.options)
    first = (block.code.splitlines() or [""])[0][:60]
    line = f"{page.source}:{block.line}  {runner}/{language}  {options or '-'}  {first}"
    left_out = not_run(block)
    if block.errors:
        return f"{line}  (would fail: {'; '.join(block.errors)})"
    if left_out is not None:
        return f"{line}  (skipped: {left_out[1]})"
    used = [command for command in missing if uses(block.code, command)]
    if used:
        return f"{line}  (skipped here: `{used[0]}` is not installed)"
    return f"{line}  (when `{block.option('when')}` holds)" if block.has("when") else line


def import_command(args: argparse.Namespace) -> int:
    from .importing import ScenarioError, import_scenarios

    try:
        report = import_scenarios(args.source, args.out, force=args.force, language=args.language)
    except ScenarioError as error:
        print(f"mkdocs-execute import: {error}", file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(report.summary())
    print(f"placeholders: {', '.join(sorted(report.placeholders)) or 'none'}")
    print(f"next: cd {args.out} && mkdocs serve   (or: mkdocs-execute run docs/)")
    return 0


EXIT_CODES = """exit status:
  0  every block that ran passed (with --update: every drift was repaired)
  1  a block failed
  2  usage or configuration error
  5  no runnable block was found"""


def run(args: argparse.Namespace) -> int:
    # What parsing makes lives as long as the run: a collection that walks it is wasted (a full one was 5 % of a
    # 5,000-block run), so none runs meanwhile, and it is frozen after (the few cycles freed at the end).
    collecting = gc.isenabled()  # a caller's own choice stays
    gc.disable()
    try:
        given = dict(_pair(item) for item in args.var)
        pages = list(_lessons(args.paths))
        if args.cwd is not None and not args.cwd.is_dir():
            raise ValueError(f"--cwd {args.cwd}: no such folder")
    except ValueError as error:
        print(f"mkdocs-execute: {error}", file=sys.stderr)
        return 2
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    try:
        return _run_parsed(args, pages, given)
    finally:
        gc.unfreeze()  # for a caller that goes on in this process


def _run_parsed(args: argparse.Namespace, pages: list[tuple[LessonFile, Project | None]], given: dict[str, str]) -> int:
    settings, masker = _settings(args, pages, given)
    _warn(pages, masker)
    for path in args.paths:
        if (path / "index.json").is_file() and find_project(path / "index.json") is None:
            print(f"note: {path} is a Katacoda or Killercoda scenario: `mkdocs-execute import {path} OUT` makes "
                  "it a site whose steps share one shell and run their verify scripts", file=sys.stderr)  # fmt: skip
    verdicts: list[Verdict] = []
    started = time.monotonic()
    # This process starts nothing but the pages' sessions: it can be their subreaper, so they need no fork of it.
    with _scratch(args.cwd) as cwd, processes.adopting():
        settings.cwd = cwd
        stopped, updates = _run_pages(pages, settings, masker, verdicts)
    duration = time.monotonic() - started
    nothing = not verdicts and all(not page.error for page, _ in pages)
    code = 128 + stopped if stopped else 5 if nothing else 1 if any(v.status is Status.FAILED for v in verdicts) else 0
    _report(verdicts, updates, masker)
    if nothing:
        print(f"no runnable block found in {' '.join(str(p) for p in args.paths)}")
    print(summary(verdicts))
    if args.junitxml is not None:
        write_junit(args.junitxml, verdicts, duration)
    if args.json is not None:
        write_json(args.json, verdicts, duration, code)
    if args.record is not None:
        from .recording import build_record, write_record

        texts = {page.source: page.text for page, _ in pages}
        commands = {c for page, _ in pages for c in page.requirements.commands}
        record = build_record(texts, verdicts, args.environment or _machine(), commands)
        write_record(args.record, record, masker)
    return code


def _settings(
    args: argparse.Namespace, pages: list[tuple[LessonFile, Project | None]], given: dict[str, str]
) -> tuple[Settings, Masker]:
    projects = {id(project): project for _, project in pages if project}
    names: dict[str, str | None] = {}
    secret_names = set(args.secret)
    for project in projects.values():
        names.update(project.variables)
        secret_names.update(project.secrets)
    for page, _ in pages:
        names.update({name: names.get(name) for name in page.lesson.names})
        secret_names.update(page.secrets)
    settings = Settings(resolve_values(names, given, os.environ), secret_names, args.update, args.require_all)
    masker = Masker()
    add_secrets(masker, secret_names, settings.values)
    return settings, masker


def _warn(pages: list[tuple[LessonFile, Project | None]], masker: Masker) -> None:
    """What the writer should fix in the blocks this run reads (the build says the rest)."""
    for page, _ in pages:
        for diagnostic in page.lesson.diagnostics:
            if diagnostic.code in _WARNED:
                print(f"warning: {masker(page.where(diagnostic.line))}: {masker(diagnostic.message)}", file=sys.stderr)


_WARNED = {"unknown-option", "bad-option", "unknown-marker", "bad-marker", "unclosed-fence"}


@contextlib.contextmanager
def _scratch(cwd: Path | None) -> Iterator[str]:
    """Pages start in a scratch folder, removed afterwards, unless `--cwd` names one."""
    if cwd is not None:
        yield str(cwd.resolve())
        return
    folder = tempfile.mkdtemp(prefix="mkdocs-execute-run-")
    try:
        yield folder
    finally:
        _remove(folder)


def _remove(folder: str) -> None:
    def writable(function: object, path: str, _info: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            (os.rmdir if os.path.isdir(path) else os.unlink)(path)

    shutil.rmtree(folder, onerror=writable)


def _run_pages(
    pages: list[tuple[LessonFile, Project | None]], settings: Settings, masker: Masker, verdicts: list[Verdict]
) -> tuple[int, Counter[str]]:
    """Run every page; on SIGINT/SIGTERM stop the running block, clean up, and return the signal; also the
    blocks updated, by page."""
    current: list[PageRun] = []
    stop: list[int] = []
    updates: Counter[str] = Counter()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.append(signum)
        for page_run in current:
            page_run.interrupt()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    lessons = _Lessons()
    spares = Spares()
    try:
        ordered = _in_lesson_order(pages)
        for page, project in ordered:
            timeout = project.timeout if project and project.timeout else settings.timeout
            shared = lessons.sessions(page, project)
            spares.more = page is not ordered[-1][0]
            page_run = PageRun(page, Settings(**{**vars(settings), "timeout": timeout}), masker, shared, spares)
            current[:] = [page_run]
            shown: list[Verdict] = []
            try:
                following = page_run.blocks if _live() else []  # run_all yields them in this order
                if following:
                    _announce(page_run.where(following[0]), masker(following[0].code))
                for position, (_block, verdict) in enumerate(page_run.run_all(), 1):
                    _show(verdict, shown)
                    if stop:
                        break
                    if position < len(following):
                        _announce(page_run.where(following[position]), masker(following[position].code))
                if not page_run.blocks and (begun := page_run.begin()) is not None:
                    _show(begun, shown)
            finally:
                for verdict in page_run.finish():
                    _show(verdict, shown)
            verdicts += shown
            updates[page.source] += sum(v.updated for v in shown)
            for problem in page_run.update_problems:
                print(problem)
            if stop:
                break
    finally:
        spares.close()
        lessons.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return (stop[0] if stop else 0), +updates


class _Lessons:
    """The shells that pages of one lesson share (plugin `session: section` or `site`), opened with its
    first page and closed after its last: `$POD` and functions carry from step to step."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.shared: dict[tuple[str, str], Session] = {}

    def sessions(self, page: LessonFile, project: Project | None) -> dict[tuple[str, str], Session] | None:
        key = project.group_of(page.source) if project and page.session != "page" else None
        if key is None or key.startswith("page:"):
            self.close()
            return None
        if key != self.key:
            self.close()
            self.key = key
        return self.shared

    def close(self) -> None:
        for session in self.shared.values():
            session.close()
        self.shared = {}
        self.key = None


def _in_lesson_order(pages: list[tuple[LessonFile, Project | None]]) -> list[tuple[LessonFile, Project | None]]:
    """Pages of a project that shares shells run in its nav order; others keep the order they came in."""

    def rank(item: tuple[int, tuple[LessonFile, Project | None]]) -> tuple[int, int]:
        position, (page, project) = item
        if project is None or project.session == "page":
            return position, 0
        first = min(k for k, (_, other) in enumerate(pages) if other is project)
        return first, project.nav_rank(page.source)

    return [item for _, item in sorted(enumerate(pages), key=rank)]


def _announce(where: str, code: str) -> None:
    """On a terminal, say which block is running now; its verdict line overwrites this one."""
    if _live():
        first = code.splitlines()[0] if code else ""
        print(f"\r\033[K...  {where}  {first}"[:200], end="", flush=True)


def _live() -> bool:
    return _live_stream(sys.stdout)


@functools.lru_cache(maxsize=4)
def _live_stream(out: Any) -> bool:
    """Whether progress goes to a terminal that can overwrite a line (asked once per stream: a verdict line
    would otherwise cost a system call)."""
    return bool(out.isatty()) and os.environ.get("TERM") != "dumb"


def _show(verdict: Verdict, verdicts: list[Verdict]) -> None:
    """A verdict's progress line: at once on a terminal, else flushed at most every 0.2 s (a CI log still
    moves, and thousands of quick blocks do not pay one write each)."""
    verdicts.append(verdict)
    live = _live()
    sys.stdout.write(("\r\033[K" if live else "") + progress_line(verdict) + "\n")
    now = time.monotonic()
    if live or now - _FLUSHED[0] >= 0.2:
        sys.stdout.flush()
        _FLUSHED[0] = now


_FLUSHED = [0.0]


def _report(verdicts: list[Verdict], updates: Counter[str], masker: Masker) -> None:
    failures = [v for v in verdicts if v.status is Status.FAILED]
    if failures:
        print("\n" + "=" * 30 + " failures " + "=" * 30)
        for verdict in failures:
            print("\n" + masker(verdict.report))
    if updates:
        blocks, files = sum(updates.values()), len(updates)
        print(f"updated {blocks} block{'s' * (blocks != 1)} in {files} page{'s' * (files != 1)}")


def _machine() -> str:
    import platform

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
            try:
                includes = project.includes if project else ()
                yield read_lesson(file, source, includes, str(project.root) if project else "."), project
            except LessonFileError as error:  # unreadable: that page fails, the others run
                yield unreadable(file, source, str(error)), project


def entry() -> int:
    """The console script: `main`, quiet when its reader goes away (`mkdocs-execute list docs | head`). It ends
    without the interpreter's teardown (freeing every module takes about 10 ms, as long as a short lesson's
    run): by then every file it wrote is closed and every shell ended; only its output is left to flush."""
    try:
        code = main()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    if sys.argv[1:2] == ["terminal"]:  # a server: its threads end the usual way
        return code
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
