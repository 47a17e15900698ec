"""pytest plugin: `pytest docs/` runs every runnable block, one item per block (`docs/PAGE.md::L42`).

A Markdown file is a lesson when it lies in the `docs_dir` of the nearest `mkdocs.yml`. The
file's collector owns the page's shell sessions: its setup checks the gates, its teardown
runs the cleanup (also after a failure, `-x`, Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from .harness import PageRun, Settings, Status, Verdict, new_run_id, resolve_values, run_order
from .lessons import LessonFile, LessonFileError, read_lesson
from .masking import Masker
from .model import Block
from .project import Project, find_project

_RUN_ID = "mx_run_id"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mkdocs-execute", "run Markdown lessons")
    group.addoption("--var", action="append", default=[], metavar="NAME=VALUE", help="a placeholder's value")
    group.addoption("--secret", action="append", default=[], metavar="NAME", help="mask this variable's value")
    group.addoption("--update-outputs", action="store_true", help="rewrite {{output}} blocks with actual output")
    group.addoption("--require-all", action="store_true", help="a page whose requirements are unmet fails")


def pytest_configure(config: pytest.Config) -> None:
    worker = getattr(config, "workerinput", None)
    config.stash[_run_id_key] = worker[_RUN_ID] if worker and _RUN_ID in worker else new_run_id()
    if hasattr(signal, "SIGTERM") and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _interrupt)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker shares the controller's RUN_ID."""
    node.workerinput[_RUN_ID] = node.config.stash[_run_id_key]


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt("SIGTERM")  # pytest then tears down, so cleanup blocks run


_run_id_key = pytest.StashKey[str]()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> LessonCollector | None:
    if file_path.suffix != ".md":
        return None
    project = find_project(file_path)
    if project is None or not project.owns(file_path):
        return None
    collector: LessonCollector = LessonCollector.from_parent(parent, path=file_path)
    collector.project = project
    return collector


class LessonCollector(pytest.File):
    project: Project
    page_run: PageRun | None = None

    def collect(self) -> Iterator[BlockItem]:
        try:
            self.lesson_file = read_lesson(self.path, self.project.source_of(self.path))
        except LessonFileError as error:
            raise self.CollectError(str(error)) from None
        for block in run_order(self.lesson_file):
            yield BlockItem.from_parent(self, name=f"L{block.line}", block=block)

    def setup(self) -> None:
        self.page_run = PageRun(self.lesson_file, self.settings(), _masker(self.config))

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
        )

    def teardown(self) -> None:
        if self.page_run is None:
            return
        run, self.page_run = self.page_run, None
        failed = [v for v in run.finish() if v.status is Status.FAILED]
        if failed:
            raise BlockError(failed[0])

    def start(self) -> PageRun:
        if self.page_run is None:  # pragma: no cover (pytest always sets up the parent first)
            self.setup()
        assert self.page_run is not None
        return self.page_run


def _masker(config: pytest.Config) -> Masker:
    if not hasattr(config, "_mx_masker"):
        config._mx_masker = Masker()  # type: ignore[attr-defined]
    masker: Masker = config._mx_masker  # type: ignore[attr-defined]
    return masker


class BlockError(Exception):
    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict


class BlockItem(pytest.Item):
    def __init__(self, *, block: Block, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block = block

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, LessonCollector)
        verdict = parent.start().run(self.block)
        if verdict.status is Status.SKIPPED:
            pytest.skip(verdict.reason)
        if verdict.status is Status.FAILED:
            raise BlockError(verdict)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, BlockError):
            return excinfo.value.verdict.report
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int, str]:
        parent = self.parent
        assert isinstance(parent, LessonCollector)
        return self.path, self.block.line - 1, f"{parent.project.source_of(self.path)}:{self.block.line}"


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise pytest.UsageError(f"--var takes NAME=VALUE, not {item!r}")
    return name, value


__all__ = ["BlockItem", "LessonCollector", "LessonFile"]
