"""pytest plugin: `pytest --mkdocs-execute docs/` runs every runnable block, one item per block (`docs/PAGE.md::L42`).

Running shell commands from Markdown is opt-in: with `--mkdocs-execute` (or `mkdocs_execute = true` in the
ini file), the Markdown files in the `docs_dir` of the nearest `mkdocs.yml` are lessons; a Markdown file
named on the command line always is. The file's collector owns the page's sessions: its setup checks the
gates, its teardown runs the cleanup (also after a failure, `-x`, Ctrl-C or SIGTERM). Blocks build on the
ones before them, so selecting one (`-k`, `--lf`, a node id) first runs the earlier blocks of its page, as
its setup, and under pytest-xdist a page always stays on one worker, whatever `--dist` says.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from .harness import PageRun, Settings, Status, Verdict, new_run_id, resolve_values, run_order
from .lessons import LessonFile, LessonFileError, read_lesson
from .masking import Masker
from .model import Block
from .project import Project, find_project
from .runners import Session

_RUN_ID = "mx_run_id"
_run_id_key = pytest.StashKey[str]()
_scratch_key = pytest.StashKey[str]()
_masker_key = pytest.StashKey[Masker]()
_named_key = pytest.StashKey[set[Path]]()
_lessons_key = pytest.StashKey[dict[str, "_Lesson"]]()
_ITEM = re.compile(r"L\d+(?:@.*)?")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mkdocs-execute", "run Markdown lessons")
    group.addoption(
        "--mkdocs-execute",
        action="store_true",
        help="collect the runnable blocks of the Markdown files in the docs_dir of mkdocs.yml, and run them",
    )
    group.addoption("--var", action="append", default=[], metavar="NAME=VALUE", help="a placeholder's value")
    group.addoption("--secret", action="append", default=[], metavar="NAME", help="mask this variable's value")
    group.addoption("--update-outputs", action="store_true", help="rewrite {{output}} blocks with actual output")
    group.addoption("--require-all", action="store_true", help="a page whose requirements are unmet fails")
    parser.addini("mkdocs_execute", "run the lessons' blocks without --mkdocs-execute", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    worker = getattr(config, "workerinput", None)
    config.stash[_run_id_key] = worker[_RUN_ID] if worker and _RUN_ID in worker else new_run_id()
    config.stash[_masker_key] = Masker()
    config.stash[_named_key] = {Path(arg.split("::")[0]).resolve() for arg in config.args}
    if hasattr(signal, "SIGTERM") and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _interrupt)


def pytest_unconfigure(config: pytest.Config) -> None:
    for lesson in config.stash.get(_lessons_key, {}).values():
        for shell in lesson.sessions.values():
            shell.close()
    scratch = config.stash.get(_scratch_key, None)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker shares the controller's RUN_ID."""
    node.workerinput[_RUN_ID] = node.config.stash[_run_id_key]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Every distribution keeps each page (or each lesson that shares a shell) on one worker; other tests
    spread as they would have."""
    dist = config.getoption("dist")
    if dist not in ("load", "worksteal", "loadgroup", "loadfile", "loadscope") or not _enabled(config):
        return None
    from xdist.scheduler import LoadScopeScheduling

    root = config.rootpath

    class PageScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path, _, rest = nodeid.partition("::")
            if path.endswith(".md") and _ITEM.fullmatch(rest):
                return _group(root / path) or path
            if dist == "loadgroup" and "@" in nodeid:
                return nodeid.rsplit("@", 1)[-1]
            if dist == "loadfile":
                return path
            return nodeid.rsplit("::", 1)[0] if dist == "loadscope" else nodeid

    return PageScheduling(config, log)


def _group(path: Path) -> str | None:
    """The lesson a page shares its shell with (plugin `session: section` or `site`), or None."""
    project = find_project(path)
    if project is None or project.session == "page":
        return None
    key = project.group_of(project.source_of(path))
    return None if key.startswith("page:") else key


@dataclass
class _Lesson:
    """Pages that share one shell, in one pytest process: their sessions, and the pages already begun."""

    sessions: dict[tuple[str, str], Session] = field(default_factory=dict)
    begun: set[str] = field(default_factory=set)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Pages that share a shell run in their nav order; everything else keeps its place."""
    first: dict[str, int] = {}

    def rank(pair: tuple[int, pytest.Item]) -> tuple[int, int, int]:
        position, item = pair
        parent = item.parent
        if not isinstance(item, BlockItem) or not isinstance(parent, LessonCollector) or parent.group is None:
            return position, 0, 0
        start = first.setdefault(parent.group, position)
        return start, parent.project.nav_rank(parent.lesson_file.source), item.block.line

    items[:] = [item for _, item in sorted(enumerate(items), key=rank)]


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt("SIGTERM")  # pytest then tears down, so cleanup blocks run


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("mkdocs_execute") or config.getini("mkdocs_execute"))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> LessonCollector | None:
    if file_path.suffix != ".md":
        return None
    config = parent.config
    named = file_path.resolve() in config.stash[_named_key]
    if not named and not _enabled(config):
        return None
    project = find_project(file_path)
    if project is None or not project.owns(file_path):
        if not named:
            return None
        project = Project(root=config.rootpath, docs_dir=file_path.resolve().parent)
    collector: LessonCollector = LessonCollector.from_parent(parent, path=file_path)
    collector.project = project
    return collector


class LessonCollector(pytest.File):
    project: Project
    page_run: PageRun | None = None
    group: str | None = None
    """The lesson whose shell this page shares, if any."""

    def collect(self) -> Iterator[BlockItem]:
        try:
            source = self.project.source_of(self.path)
            self.lesson_file = read_lesson(self.path, source, self.project.includes, str(self.project.root))
        except LessonFileError as error:
            raise self.CollectError(str(error)) from None
        if self.lesson_file.error:
            raise self.CollectError(self.lesson_file.error)
        self.group = _group(self.path) if self.lesson_file.session != "page" else None
        self.done: dict[int, Verdict] = {}
        self.order = run_order(self.lesson_file)
        self.position = {block.line: k for k, block in enumerate(self.order)}
        self.caught_up = 0
        """Every block of `order` before this index has run: catching up starts there (linear, not quadratic)."""
        for block in self.order:
            yield BlockItem.from_parent(self, name=f"L{block.line}", block=block)

    def setup(self) -> None:
        self.done = {}
        self.caught_up = 0
        self.ahead: Generator[tuple[Block, Verdict], None, None] | None = None
        shared = None
        if self.group is not None:
            lesson = self.config.stash.setdefault(_lessons_key, {}).setdefault(self.group, _Lesson())
            self.catch_up_pages(lesson)
            lesson.begun.add(self.lesson_file.source)
            shared = lesson.sessions
        self.page_run = PageRun(self.lesson_file, self.settings(), self.config.stash[_masker_key], shared)

    def catch_up_pages(self, lesson: _Lesson) -> None:
        """The lesson's earlier pages that have not run here (deselected, or on no worker) run first, whole,
        in the shared shell: as a reader's terminal would have them."""
        for source, _ in self.project.nav:
            if source == self.lesson_file.source:
                return
            path = self.project.root / source
            if source in lesson.begun or _group(path) != self.group:
                continue
            lesson.begun.add(source)
            page = read_lesson(path, source, self.project.includes, str(self.project.root))
            earlier = PageRun(page, self.settings(), self.config.stash[_masker_key], lesson.sessions)
            verdicts = [earlier.run(block) for block in run_order(earlier.page)]
            if not verdicts:
                begun = earlier.begin()
                verdicts = [begun] if begun else []
            verdicts += earlier.finish()
            failed = [v for v in verdicts if v.status is Status.FAILED and not v.drift_only]
            if failed:
                pytest.fail(f"an earlier page of this lesson, run first, failed:\n{failed[0].report}", pytrace=False)

    def settings(self) -> Settings:
        options = self.config.option
        given = dict(_pair(item) for item in options.var)
        names: dict[str, str | None] = dict(self.project.variables)
        names.update({name: names.get(name) for name in self.lesson_file.lesson.names})
        environ = {**os.environ, "RUN_ID": os.environ.get("RUN_ID", self.config.stash[_run_id_key])}
        return Settings(
            resolve_values(names, given, environ),
            set(options.secret) | set(self.project.secrets),
            update=options.update_outputs,
            require_all=options.require_all,
            timeout=self.project.timeout or Settings.timeout,
            cwd=_scratch(self.config),
        )

    def teardown(self) -> None:
        if self.page_run is None:
            return
        if self.ahead is not None:  # pytest stopped early: what still runs of the request is stopped
            self.ahead.close()
            self.ahead = None
        run, self.page_run = self.page_run, None
        failed = [v for v in run.finish() if v.status is Status.FAILED]
        if failed:
            raise BlockError(failed[0])

    def start(self) -> PageRun:
        if self.page_run is None:  # pragma: no cover (pytest always sets up the parent first)
            self.setup()
        assert self.page_run is not None
        return self.page_run

    def run(self, block: Block) -> Verdict:
        """A block's verdict; a block already run (as another's setup, or ahead in a run of blocks) is not run
        twice."""
        if block.line not in self.done:
            page_run = self.start()
            if self.ahead is None:
                self.ahead = page_run.run_all(self.plan())
            for ran, verdict in self.ahead:
                self.done[ran.line] = verdict
                if ran.line == block.line:
                    return verdict
            self.done[block.line] = page_run.run(block)
        return self.done[block.line]

    def plan(self) -> list[Block]:
        """What this session runs of the page, in order: every block up to the last one selected (earlier ones
        are its setup), so that runs of plain blocks go to the shell in one request, as the CLI sends them.
        With --maxfail (-x) a block never runs before its own item: nothing may run after the stop."""
        if self.config.option.maxfail:
            return []
        mine = [item for item in self.session.items if item.parent is self and isinstance(item, BlockItem)]
        selected = [self.position[item.block.line] for item in mine]
        return self.order[: max(selected) + 1] if selected else []

    def catch_up(self, block: Block) -> None:
        """Run the blocks before `block` that have not run (it was selected alone), as its setup."""
        due = self.position[block.line]
        for earlier in self.order[self.caught_up : due]:
            if earlier.line in self.done:
                continue
            verdict = self.run(earlier)
            if verdict.status is Status.FAILED and not verdict.drift_only:
                pytest.fail(BlockError(verdict, setup_of=block).report(), pytrace=False)
        self.caught_up = max(self.caught_up, due)


def _scratch(config: pytest.Config) -> str:
    """One scratch folder per pytest process where pages start, removed at the end."""
    if _scratch_key not in config.stash:
        config.stash[_scratch_key] = tempfile.mkdtemp(prefix="mkdocs-execute-run-")
    return config.stash[_scratch_key]


class BlockError(Exception):
    def __init__(self, verdict: Verdict, setup_of: Block | None = None) -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict
        self.setup_of = setup_of

    def report(self) -> str:
        if self.setup_of is None:
            return self.verdict.report
        return f"an earlier block, run first as setup of L{self.setup_of.line}, failed:\n{self.verdict.report}"


class BlockItem(pytest.Item):
    def __init__(self, *, block: Block, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block = block

    @property
    def lesson(self) -> LessonCollector:
        parent = self.parent
        assert isinstance(parent, LessonCollector)
        return parent

    def setup(self) -> None:
        self.lesson.catch_up(self.block)

    def runtest(self) -> None:
        verdict = self.lesson.run(self.block)
        if verdict.status is Status.SKIPPED:
            raise pytest.skip.Exception(verdict.reason, _use_item_location=True)  # at docs/PAGE.md:LINE
        if verdict.status is Status.FAILED:
            raise BlockError(verdict)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, BlockError):
            return excinfo.value.report()
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.block.line - 1, f"{self.lesson.project.source_of(self.path)}:{self.block.line}"


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise pytest.UsageError(f"--var takes NAME=VALUE, not {item!r}")
    return name, value


__all__ = ["BlockItem", "LessonCollector", "LessonFile"]
