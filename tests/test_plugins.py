"""The plugins writers combine with ours, each in a real build: mkdocs-static-i18n, mkdocs-macros, Material's blog."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_build import ENV

PAGE = "# {title}\n\n```bash\necho {word}\n```{{{{execute T2 timeout=30}}}}\n\nInline `ls`{{{{execute}}}}.\n"
EXTENSIONS = "markdown_extensions: [attr_list, md_in_html, pymdownx.superfences, pymdownx.highlight]\n"


def build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", *args], cwd=root, capture_output=True, text=True, env=ENV, check=False
    )


def write(root: Path, config: str, pages: dict[str, str]) -> Path:
    for name, text in pages.items():
        (root / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / name).write_text(text, encoding="utf-8")
    (root / "mkdocs.yml").write_text(config + EXTENSIONS, encoding="utf-8")
    return root


def labels(html: str) -> list[str]:
    return re.findall(r'data-mx-action="copy" aria-label="([^"]*)"', html)


I18N = """site_name: I
theme: {{name: material}}
plugins:
  - search
  - i18n:
      docs_structure: {structure}
      languages:
        - {{locale: en, default: true, name: English, build: true}}
        - {{locale: fr, name: Français, build: true}}
  - execute
"""


@pytest.mark.parametrize(
    ("structure", "pages"),
    [
        ("suffix", {"index.md": PAGE.format(title="Home", word="hi"),
                    "index.fr.md": PAGE.format(title="Accueil", word="salut")}),
        ("folder", {"en/index.md": PAGE.format(title="Home", word="hi"),
                    "fr/index.md": PAGE.format(title="Accueil", word="salut")}),
    ],
)  # fmt: skip
def test_static_i18n_builds_with_labels_in_each_pages_language(tmp_path: Path, structure: str, pages: dict) -> None:
    pytest.importorskip("mkdocs_static_i18n")
    root = write(tmp_path, I18N.format(structure=structure), pages)
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    english, french = (root / "site" / "index.html").read_text(), (root / "site" / "fr" / "index.html").read_text()
    assert labels(english) == ["Copy the command", "Copy the command"]
    assert labels(french) == ["Copier la commande", "Copier la commande"]
    script = (root / "site" / "assets" / "mkdocs-execute" / "execute.js").read_text()
    assert "Copié" in script and "Copied!" in script and "__MX_" not in script  # the page's `lang` picks


def test_a_single_language_site_ships_one_language() -> None:
    """Negative case for the above: without i18n the script carries only the site's strings."""
    root = Path(__file__).resolve().parent.parent
    from mkdocs.config import load_config

    from mkdocs_execute.plugin import ExecutePlugin

    config = load_config(str(root / "mkdocs.yml"))
    plugin = config.plugins["execute"]
    assert isinstance(plugin, ExecutePlugin)
    config = config.plugins.on_config(config)
    from mkdocs_execute.assets import strings_table

    table = strings_table(plugin.languages(config))
    assert "Copié" in table and "Copied!" not in table


MACROS = "site_name: M\ntheme: material\nextra: {project: demo}\nplugins: [search, macros, execute]\n"


def test_macros_leave_markers_with_options_and_render_jinja_elsewhere(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs_macros")
    page = (
        "# Project {{ config.extra.project }}\n\n```bash\noc new-project {{ config.extra.project }}\n"
        "```{{execute T2 timeout=30}}\n\n`ls`{{execute}} `x`{{ copy }} `y`{{}} and {{ config.extra.project }}.\n"
    )
    root = write(tmp_path, MACROS, {"index.md": page})
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    html = (root / "site" / "index.html").read_text()
    assert re.findall(r'data-mx-kind="(\w+)"', html) == ["execute", "execute", "copy"]
    assert 'data-mx-terminal="2" data-mx-timeout="30"' in html and "oc new-project demo" in html
    assert "Project demo" in html and "and demo." in html and "{{" not in html


def test_macros_without_our_protection_would_break_the_page(tmp_path: Path) -> None:
    """Negative case: the same page under macros alone fails on the marker with options."""
    pytest.importorskip("mkdocs_macros")
    root = write(tmp_path, "site_name: M\nplugins: [macros]\n", {"index.md": "`ls`{{execute T2 timeout=30}}\n"})
    result = build(root)
    assert "got 'T2'" in result.stderr  # macros' own Jinja error: the page is replaced by an error message


BLOG = "site_name: B\ntheme: material\nplugins: [search, blog, execute]\n"
POST = "---\ndate: 2026-11-30\ncategories: [Demo]\n---\n\n# First post\n\n```bash\necho hello\n```{{execute}}\n\n"
POST += "<!-- more -->\n\nRest `ls`{{execute}}.\n"


def test_blog_excerpts_get_working_buttons_on_index_archive_and_category_pages(tmp_path: Path) -> None:
    root = write(tmp_path, BLOG, {"blog/index.md": "# Blog\n", "blog/posts/first.md": POST})
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    site = root / "site" / "blog"
    for page in ("index.html", "archive/2026/index.html", "category/demo/index.html"):
        html = (site / page).read_text()
        assert "First post" in html, page
        assert html.count('data-mx-action="copy"') == 1 and html.count('data-mx-action="run"') == 1, page
        assert "mx-toolbar-" not in html, page  # no toolbar left inside a comment
    post = (site / "2026" / "11" / "30" / "first-post" / "index.html").read_text()
    assert post.count('data-mx-action="copy"') == 2


SNIPPETS = """site_name: S
theme: material
plugins: [search, execute]
markdown_extensions:
  - attr_list
  - pymdownx.superfences
  - pymdownx.highlight
  - pymdownx.snippets: {base_path: [snippets], check_paths: true}
"""
STEPS = (
    "Step one:\n\n```bash\necho from-snippet\n```{{execute}}\n\n```\nfrom-snippet\n```{{output}}\n\n`x`{{exceute}}\n"
)
SECTIONS = "# --8<-- [start:only]\n```bash\necho section\n```{{execute}}\n# --8<-- [end:only]\nnot included\n"


def snippets_project(root: Path) -> Path:
    (root / "snippets").mkdir(parents=True)
    (root / "snippets" / "steps.md").write_text(STEPS)
    (root / "snippets" / "more.md").write_text(SECTIONS)
    page = '# Page\n\nIntro.\n\n--8<-- "steps.md"\n\n--8<-- "more.md:only"\n\nAfter `pwd`{{execute}}\n'
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text(page)
    (root / "mkdocs.yml").write_text(SNIPPETS)
    return root


def test_snippets_name_the_included_file_and_line_in_the_site(tmp_path: Path) -> None:
    root = snippets_project(tmp_path)
    result = build(root)
    assert "snippets/steps.md:11: unknown marker '{{exceute}}'" in result.stderr
    html = (root / "site" / "index.html").read_text()
    sources = re.findall(r'data-mx-source="([^"]*)"', html)
    assert sources == ["snippets/steps.md:3", "snippets/steps.md:7", "snippets/more.md:2", "docs/index.md:9"]


def test_the_harness_runs_included_blocks_and_reports_them_there(tmp_path: Path) -> None:
    root = snippets_project(tmp_path)
    cli = [sys.executable, "-m", "mkdocs_execute.cli", "run", "docs"]
    done = subprocess.run(cli, cwd=root, capture_output=True, text=True, env=ENV, check=False)
    assert done.returncode == 0, done.stdout
    assert "ok   snippets/steps.md:3  echo from-snippet" in done.stdout
    assert "ok   snippets/more.md:2  echo section" in done.stdout and "ok   docs/index.md:9  pwd" in done.stdout
    (root / "snippets" / "steps.md").write_text(STEPS.replace("from-snippet\n```{{output}}", "drift\n```{{output}}"))
    updated = subprocess.run([*cli, "--update"], cwd=root, capture_output=True, text=True, env=ENV, check=False)
    assert updated.returncode == 1 and "update mode leaves it alone" in updated.stdout
    assert "drift" in (root / "snippets" / "steps.md").read_text()  # nothing rewritten


def test_without_the_snippets_extension_nothing_is_included(tmp_path: Path) -> None:
    """Negative case: the same page, snippets not configured, runs only its own block."""
    root = snippets_project(tmp_path)
    (root / "mkdocs.yml").write_text("site_name: S\nplugins: [execute]\n")
    cli = [sys.executable, "-m", "mkdocs_execute.cli", "run", "docs"]
    done = subprocess.run(cli, cwd=root, capture_output=True, text=True, env=ENV, check=False)
    assert "snippets/" not in done.stdout and "1 passed" in done.stdout


COMBINED = {
    "navigation.instant": "theme: {name: material, features: [navigation.instant]}\nplugins: [search, execute]\n",
    "minify": "theme: material\nplugins: [search, execute, {minify: {minify_html: true, minify_js: true}}]\n",
    "offline": "theme: material\nplugins: [search, offline, execute]\n",
    # privacy downloads a theme's external scripts: here none may be fetched (no network), ours are local anyway
    "privacy": "theme: {name: material, font: false}\nplugins: [search, {privacy: {assets_exclude: ['unpkg.com/*']}}, "
    "execute]\n",
    "awesome-nav": "theme: material\nplugins: [search, awesome-nav, execute]\n",
    "tags": "theme: material\nplugins: [search, tags, execute]\n",
}


@pytest.mark.parametrize("name", list(COMBINED))
def test_what_already_works_with_other_plugins_keeps_working(tmp_path: Path, name: str) -> None:
    if name == "minify":
        pytest.importorskip("mkdocs_minify_plugin")
    if name == "awesome-nav":
        pytest.importorskip("mkdocs_awesome_nav")
        (tmp_path / "docs").mkdir()
        (tmp_path / "docs" / ".nav.yml").write_text("nav:\n  - index.md\n")
    page = "---\ntags: [demo]\n---\n\n" + PAGE.format(title="Home", word="hi")
    root = write(tmp_path, "site_name: C\n" + COMBINED[name], {"index.md": page})
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    html = (root / "site" / "index.html").read_text()
    assert (
        len(re.findall(r"data-mx-action=\"?copy", html)) == 2 and len(re.findall(r"data-mx-action=\"?run", html)) == 2
    )
    assert "mx-toolbar-" not in html
    assert (root / "site" / "assets" / "mkdocs-execute" / "execute.js").is_file()


def test_only_pages_with_something_for_the_script_link_it() -> None:
    from mkdocs_execute.plugin import link_assets

    page = '<html><head><title>x</title></head><body><div class="mx-block" data-mx-kind="execute">…</div></body>'
    linked = link_assets(page, "lesson/")
    assert '<link rel="stylesheet" href="../assets/mkdocs-execute/execute.css">' in linked
    assert '<script src="../assets/mkdocs-execute/execute.js" defer data-mx-execute></script>\n</head>' in linked
    assert link_assets(page.replace("data-mx-kind", "data-mx-vars"), "index.html").count("execute.js") == 1
    # Negative: a page that only shows such markup, in a code block, is left as it is.
    shown = "<html><head></head><body><pre><code>&lt;div data-mx-kind=&quot;execute&quot;&gt;</code></pre></body>"
    assert link_assets(shown, "doc/") == shown
