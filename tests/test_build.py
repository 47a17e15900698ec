"""Real MkDocs builds: the plugin's config, assets, strictness and messages."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import markdown
import pytest
from mkdocs.config import load_config
from mkdocs.config.base import ValidationError
from mkdocs.exceptions import Abort, ConfigurationError, PluginError
from support import MATERIAL_EXTENSIONS, render

from mkdocs_execute import ExecuteExtension
from mkdocs_execute.plugin import ExecutePlugin
from mkdocs_execute.project import source_path

GOLDEN = Path(__file__).parent / "golden"
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def project(tmp_path: Path, pages: dict[str, str], execute: str = "{variables: {HOST_IP: 10.0.0.7}}") -> Path:
    (tmp_path / "docs").mkdir(parents=True)
    for name, text in pages.items():
        (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Test\n"
        "theme: {name: material, language: fr, font: false, features: [navigation.instant]}\n"
        f"plugins: [search, execute: {execute}]\n"
        "markdown_extensions: [attr_list, md_in_html, admonition, pymdownx.superfences, pymdownx.highlight]\n",
        encoding="utf-8",
    )
    return tmp_path


def build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-d", str(root / "site"), *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )


def test_strict_build_of_every_golden_case(tmp_path: Path) -> None:
    clean = {f"{p.stem}.md": p.read_text() for p in GOLDEN.glob("*.md") if p.stem not in {"output", "unknown-marker"}}
    clean["placeholders.md"] = clean["placeholders.md"].replace("[[USER_NAME]]", "[[HOST_IP]]")
    root = project(tmp_path, clean)
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    html = (root / "site" / "block-execute" / "index.html").read_text()
    assert 'data-mx-source="docs/block-execute.md:3"' in html
    assert "assets/mkdocs-execute/execute.js" in html and "assets/mkdocs-execute/execute.css" in html
    script = (root / "site" / "assets" / "mkdocs-execute" / "execute.js").read_text()
    assert "__MX_STRINGS__" not in script and "Copié" in script


@pytest.mark.parametrize("case", ["block-execute", "inline", "options", "angle-markers"])
def test_the_built_page_holds_exactly_what_the_extension_renders(tmp_path: Path, case: str) -> None:
    """The plugin writes toolbars out only after search has indexed the page: nothing may be lost on the way."""
    text = (GOLDEN / f"{case}.md").read_text(encoding="utf-8")
    root = project(tmp_path, {f"{case}.md": text})
    assert build(root, "--strict").returncode == 0
    built = (root / "site" / case / "index.html").read_text(encoding="utf-8")
    expected = render(text, source=f"docs/{case}.md")
    assert expected.count("mx-toolbar") > 0 and "<!--mx-toolbar" not in built
    assert expected in built


def test_a_comment_that_looks_like_a_deferred_toolbar_stays_a_comment(tmp_path: Path) -> None:
    page = "# T\n\n<!--mx-toolbar-00000000 <button>x</button>-->\n\n```bash\nls\n```{{execute}}\n"
    root = project(tmp_path, {"index.md": page})
    assert build(root, "--strict").returncode == 0
    built = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert "<!--mx-toolbar-00000000 <button>x</button>-->" in built
    assert built.count('class="mx-toolbar"') == 1


@pytest.mark.parametrize(
    ("page", "line"),
    [
        ("---\ntitle: Front\ntags: [a]\n---\n\n# Title\n\n```bash\nls\n```{{execute}}\n", 8),
        ("\n\n# Title\n\n```bash\nls\n```{{execute}}\n", 5),  # MkDocs drops leading blank lines too
        ("Title: Meta\n\n# Title\n\n```bash\nls\n```{{execute}}\n", 5),  # MultiMarkdown meta
        ("\ufeff# Title\n\n```bash\nls\n```{{execute}}\n", 3),  # a byte order mark is no line
        ("# Title\n\n```bash\nls\n```{{execute}}\n", 3),
    ],
)
def test_front_matter_keeps_source_lines_true(tmp_path: Path, page: str, line: int) -> None:
    root = project(tmp_path, {"index.md": page})
    assert build(root, "--strict").returncode == 0
    assert f'data-mx-source="docs/index.md:{line}"' in (root / "site" / "index.html").read_text()


def test_warnings_name_file_and_line_and_fail_mkdocs_strict(tmp_path: Path) -> None:
    root = project(tmp_path, {"index.md": "# T\n\n[[NOPE]]\n\n{{execute}}\n\n```\nls\n```{{exeucte}}\n"})
    relaxed = build(root)
    assert relaxed.returncode == 0
    for line in [
        "docs/index.md:3: placeholder [[NOPE]] is not declared",
        "docs/index.md:5: marker '{{execute}}' follows no code (it starts the line)",
        "docs/index.md:9: unknown marker '{{exeucte}}'",
    ]:
        assert f"WARNING -  {line}" in relaxed.stderr
    strict = build(root, "--strict")
    assert strict.returncode != 0 and "Traceback" not in strict.stderr


def test_plugin_strict_fails_without_traceback(tmp_path: Path) -> None:
    root = project(tmp_path, {"index.md": "[[NOPE]]\n"}, "{strict: true}")
    result = build(root)
    assert result.returncode == 1
    assert "docs/index.md:1: placeholder [[NOPE]] is not declared" in result.stderr
    assert "Traceback" not in result.stderr
    ok = project(tmp_path / "ok", {"index.md": "[[HOST_IP]]\n"}, "{strict: true, variables: {HOST_IP: }}")
    assert build(ok).returncode == 0


def test_config_is_typed_in_process(tmp_path: Path) -> None:
    root = project(tmp_path, {"index.md": "# T\n"}, "{variables: {HOST_IP: , PORT: 5000}, strict: true}")
    config = load_config(str(root / "mkdocs.yml"))
    plugin = config.plugins["execute"]
    assert isinstance(plugin, ExecutePlugin)
    assert plugin.config.strict is True
    assert plugin.values == {"HOST_IP": None, "PORT": "5000"}
    config = plugin.on_config(config)
    assert plugin.extension in config.markdown_extensions
    assert plugin.language == "fr"


@pytest.mark.parametrize(
    ("execute", "error"),
    [
        ("{variables: [HOST_IP]}", (Abort, ConfigurationError, ValidationError)),
        ("{strict: maybe}", (Abort, ConfigurationError, ValidationError)),
        ("{variables: {host_ip: x}}", (PluginError,)),
    ],
)
def test_bad_config_is_refused(tmp_path: Path, execute: str, error: tuple[type[Exception], ...]) -> None:
    root = project(tmp_path, {"index.md": "# T\n"}, execute)
    with pytest.raises(error):
        config = load_config(str(root / "mkdocs.yml"))
        config.plugins["execute"].on_config(config)


def test_serve_reports_errors_without_traceback(tmp_path: Path) -> None:
    root = project(tmp_path, {"index.md": "```\nls\n```{{execute}}\n"}, "{strict: true}")
    with _serving(root) as (_, log):
        _wait_for(log, "Serving on")
        time.sleep(1)  # let the watcher settle before the change
        (root / "docs" / "index.md").write_text("```\nls\n```{{execute}}\n\n[[NOPE]]\n")
        _wait_for(log, "error happened during the rebuild")
    text = "".join(log)
    assert "docs/index.md:5: placeholder [[NOPE]] is not declared" in text
    assert "Traceback" not in text


@contextlib.contextmanager
def _serving(
    root: Path, env: dict[str, str] | None = None, stop: signal.Signals = signal.SIGTERM
) -> Iterator[tuple[int, list[str]]]:
    """`mkdocs serve --livereload` on a free port, its output collected line by line; `stop` ends it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--livereload", "-a", f"127.0.0.1:{port}"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**ENV, **(env or {})},
    )  # fmt: skip
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(iter(server.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        yield port, log
    finally:
        server.send_signal(stop)
        server.wait(timeout=10)
        reader.join(timeout=5)


def _wait_for(log: list[str], text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in "".join(log):
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not seen in:\n{''.join(log)}")


def test_source_paths_follow_links_like_the_harness(tmp_path: Path) -> None:
    """The site and the harness name a page alike: links followed, relative to the project, else as given."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "lesson.md").write_text("x", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "lesson.md").symlink_to(tmp_path / "shared" / "lesson.md")
    (tmp_path / "docs" / "plain.md").write_text("x", encoding="utf-8")
    (tmp_path / "linked-docs").symlink_to(tmp_path / "docs", target_is_directory=True)
    assert source_path(tmp_path / "docs" / "lesson.md", tmp_path) == "shared/lesson.md"
    assert source_path(tmp_path / "linked-docs" / "plain.md", tmp_path) == "docs/plain.md"
    assert source_path(tmp_path / "docs" / "plain.md", tmp_path / "docs") == "plain.md"
    assert source_path(tmp_path / "docs" / "plain.md", tmp_path / "doc") is None  # a prefix is not a parent


def test_deferred_toolbars_open_to_exactly_what_the_extension_writes_directly() -> None:
    text = (GOLDEN / "inline.md").read_text(encoding="utf-8")
    direct = render(text)
    deferred = render(text, defer_toolbars="k1")
    assert deferred != direct and deferred.count("<!--mx-toolbar-k1 ") == direct.count('class="mx-toolbar"') == 5
    assert "<button" not in deferred  # until opened, a toolbar's comment is short: search scans every byte
    opener = ExecuteExtension(defer_toolbars="k1", language="fr")
    assert opener.open_toolbars(deferred) == direct
    forged = deferred.replace("<!--mx-toolbar-k1 x0 ", "<!--mx-toolbar-k1 x7 ", 1)  # not a set of this site's
    assert forged != deferred and opener.open_toolbars(forged).count("<!--mx-toolbar-k1 x7 ") == 1
    assert ExecuteExtension(defer_toolbars="k2").open_toolbars(deferred) == deferred  # another site's key
    cut = deferred[: deferred.rindex("-->")]  # the last comment cut short by someone else
    assert opener.open_toolbars(cut).endswith(cut[cut.rindex("<!--mx-toolbar-k1 ") :])


def test_a_page_deferred_in_one_language_opens_in_it_after_the_next_language_began() -> None:
    extension = ExecuteExtension(defer_toolbars="k1", language="fr")
    convert = markdown.Markdown(extensions=[*MATERIAL_EXTENSIONS, extension]).convert
    french = convert("```bash\nls | grep [[HOST_IP]]\n```{{execute}}\n")
    extension.set_language("en")  # mkdocs-static-i18n: the next pages are English; none is opened yet
    english = convert("```bash\nls\n```{{execute}}\n")
    assert 'aria-label="Exécuter' in extension.open_toolbars(french)
    assert 'data-mx-command="ls | grep [[HOST_IP]]" data-mx-vars="HOST_IP"' in extension.open_toolbars(french)
    assert 'aria-label="Run' in extension.open_toolbars(english) and "Exécuter" not in extension.open_toolbars(english)


WRONG_TYPE = '{"format": 1, "date": "d", "environment": "e", "tools": {}, "pages": {"docs/p.md": {"sha256": "x", '
WRONG_TYPE += '"passed": "3"}}}'


@pytest.mark.parametrize("text", [WRONG_TYPE, "{cut short"])
def test_a_malformed_record_is_a_warning_and_the_stamp_says_unverified(tmp_path: Path, text: str) -> None:
    root = project(tmp_path, {"p.md": "# P\n\n```bash\necho a\n```{{execute}}\n"}, "{record: rec.json}")
    (root / "rec.json").write_text(text)
    result = build(root)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "execute: the verification record rec.json cannot be trusted" in result.stderr
    assert 'data-mx-stamp="unverified"' in (root / "site" / "p" / "index.html").read_text()
    assert build(root, "--strict").returncode != 0  # a warning: strict builds stop on it


def test_a_misspelt_option_key_is_a_warning_with_a_suggestion(tmp_path: Path) -> None:
    root = project(tmp_path, {"p.md": "```bash\nsleep 1\n```{{execute timout=5}}\n\n`ls`{{execute timeout=abc}}\n"})
    result = build(root)
    assert "docs/p.md:3: unknown option `timout=5` (did you mean `timeout`?)" in result.stderr
    assert "docs/p.md:5: bad option `timeout=abc`: 'abc' is not a number of seconds" in result.stderr
    assert build(root, "--strict").returncode != 0
    clean = project(tmp_path / "ok", {"p.md": "```bash\nsleep 1\n```{{execute timeout=5 test-uname}}\n"})
    assert build(clean, "--strict").returncode == 0  # a known key and a free-form flag


def test_serve_shows_a_new_record_at_once(tmp_path: Path) -> None:
    root = project(tmp_path, {"index.md": "# P\n\n```bash\necho a\n```{{execute}}\n"}, "{record: rec.json}")

    def page() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return str(response.read().decode())

    with _serving(root) as (port, log):
        _wait_for(log, "Serving on")
        assert 'data-mx-stamp="unverified"' in page()  # control: no record yet
        time.sleep(1)
        done = subprocess.run([sys.executable, "-m", "mkdocs_execute.cli", "run", "docs", "--record", "rec.json"],
                              cwd=root, capture_output=True, text=True, env=ENV, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout
        deadline = time.monotonic() + 30
        while 'data-mx-stamp="verified"' not in page() and time.monotonic() < deadline:
            time.sleep(0.3)
        assert 'data-mx-stamp="verified"' in page()  # no page was edited: the record alone was watched


def test_the_lesson_tells_readers_how_to_run_commands_from_the_published_site(built_site: Path) -> None:
    html = (built_site / "executer-depuis-ce-site" / "index.html").read_text()
    assert "Exécuter les commandes depuis ce site" in html and "Vos valeurs" in html
    assert "terminal" in html and "--origin" in html and "Sécurité" in html


def test_serve_stopped_by_sigterm_leaves_no_folder_behind(tmp_path: Path) -> None:
    """An editor or a process manager stops `mkdocs serve` with SIGTERM: the assets folder goes, as on Ctrl-C."""
    root, scratch = tmp_path / "site", tmp_path / "tmp"
    scratch.mkdir()
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text("site_name: T\nplugins:\n  - execute\n", encoding="utf-8")
    (root / "docs" / "index.md").write_text("```bash\nls\n```{{execute}}\n", encoding="utf-8")
    for stop in (signal.SIGTERM, signal.SIGKILL):
        with _serving(root, {"TMPDIR": str(scratch)}, stop) as (_port, log):
            _wait_for(log, "Serving on")
            assert list(scratch.glob("mkdocs-execute-assets-*"))
        left = list(scratch.glob("mkdocs-execute-assets-*"))
        assert (left == []) is (stop == signal.SIGTERM), left  # SIGKILL cannot be caught: the check can fail
