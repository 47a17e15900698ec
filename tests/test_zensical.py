"""Zensical as a supported path: the example project builds with the `zensical` package, its pages have buttons,
its assets are ready to serve, messages count the front matter, and strict ends with a clean error."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mkdocs_execute import assets

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "zensical"
pytest.importorskip("zensical", reason="the zensical package is not installed")


def build(
    tmp_path: Path, edit: str = "", toml: tuple[str, str] | None = None
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    project = tmp_path / "zensical"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("site"))
    if edit:
        with (project / "docs" / "index.md").open("a", encoding="utf-8") as page:
            page.write(edit)
    if toml:
        config = project / "zensical.toml"
        config.write_text(config.read_text().replace(*toml))
    done = subprocess.run([sys.executable, "-m", "zensical", "build"], cwd=project, capture_output=True, text=True,
                          check=False)  # fmt: skip
    return project / "site", done


def test_the_example_builds_with_buttons_and_counts_front_matter(tmp_path: Path) -> None:
    site, done = build(tmp_path)
    assert done.returncode == 0, done.stderr
    html = (site / "index.html").read_text()
    assert re.findall(r'data-mx-kind="(\w+)"', html) == ["execute", "copy"]
    assert 'data-mx-source="docs/index.md:10"' in html  # the fence's line in the file, front matter included
    assert 'aria-label="Exécuter la commande dans le terminal"' in html


def test_an_empty_toml_value_is_left_for_the_reader(tmp_path: Path) -> None:
    site, _ = build(tmp_path)
    html = (site / "index.html").read_text()
    assert '<span class="mx-var mx-var--unset" data-mx-var="HOST_IP"' in html
    assert '<span class="mx-var" data-mx-var="REGISTRY_PORT">5000</span>' in html


def test_every_asset_the_pages_load_is_there_and_ready(tmp_path: Path) -> None:
    site, _ = build(tmp_path)
    html = (site / "index.html").read_text()
    ours = re.findall(r'(?:src|href)="([^"]*mkdocs-execute[^"]*)"', html)
    assert sorted(Path(link).name for link in ours) == ["execute.css", "execute.js"]
    for link in ours:
        served = (site / link.split("?")[0]).resolve()
        assert served.is_file(), link  # no 404
        assert "__MX_" not in served.read_text()  # no template placeholder left


def test_the_examples_assets_are_what_the_assets_command_writes() -> None:
    folder = EXAMPLE / "docs" / "assets" / "mkdocs-execute"
    assert (folder / "execute.js").read_text() == assets.script()
    assert (folder / "execute.css").read_text() == assets.stylesheet()
    for name, text in assets.contents().items():  # what the first Run fetches from beside execute.js too
        assert (folder / name).read_text() == text, name
    assert "__MX_" in (Path(assets.__file__).parent / "assets" / "execute.js").read_text()  # the template's


def test_strict_ends_with_a_clean_error_at_the_line(tmp_path: Path) -> None:
    _, done = build(tmp_path, "\n`ls`{{exceute}}\n", ("strict = false", "strict = true"))
    assert done.returncode == 1
    assert "Error: docs/index.md:18: unknown marker '{{exceute}}'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_without_strict_the_same_page_builds() -> None:
    """Negative case for the above: it is `strict` that stops the build."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        _, done = build(Path(folder), "\n`ls`{{exceute}}\n")
        assert done.returncode == 0, done.stderr
