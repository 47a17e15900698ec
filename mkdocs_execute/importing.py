"""`mkdocs-execute import SRC OUT`: a Katacoda or Killercoda scenario (or a folder of them) becomes a MkDocs project.

A scenario is a folder with an `index.json` naming its intro, steps and finish pages and their scripts.
The project is built in a temporary folder beside OUT and moved into place only once it is whole.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .parsing import parse

INDEX = "index.json"
HOST_URL = re.compile(r"\[\[HOST_SUBDOMAIN\]\]-(?P<port>\d+)-\[\[KATACODA_HOST\]\]\.environments\.katacoda\.com")
"""Katacoda's per-reader URL of a port of the lesson's machine."""
_LINK = re.compile(r"(?P<head>!?\[[^\]\n]*\]\(|<img[^>]*\bsrc=[\"']|href=[\"'])(?P<target>[^)\"'\s]+)")
_SCRIPTS = ("background", "courseData", "code")
"""Katacoda's and Killercoda's scripts that prepare the machine before a page: hidden setup here."""
_FRENCH = re.compile(r"\b(?:le|la|les|des|est|et|une|pour|dans|vous|avec)\b", re.IGNORECASE)
_ENGLISH = re.compile(r"\b(?:the|and|is|to|you|with|for|this|of)\b", re.IGNORECASE)
_WORDS = {
    "fr": {"finish": "Conclusion", "intro": "Introduction", "step": "Étape", "environment": "Environnement",
           "expects": "Cette leçon attend l’environnement « {image} » (Katacoda : `backend.imageid`).",
           "dashboards": "Tableaux de bord"},
    "en": {"finish": "Finish", "intro": "Introduction", "step": "Step", "environment": "Environment",
           "expects": "This lesson expects the « {image} » environment (Katacoda: `backend.imageid`).",
           "dashboards": "Dashboards"},
}  # fmt: skip


class ScenarioError(Exception):
    """A scenario that cannot be imported; the message names the file."""


@dataclass
class Report:
    """What an import did, for its summary line."""

    scenarios: int = 0
    pages: int = 0
    blocks: int = 0
    placeholders: set[str] = field(default_factory=set)
    assets: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"imported {self.scenarios} scenario{'s' * (self.scenarios != 1)}: {self.pages} pages, "
            f"{self.blocks} blocks, {len(self.placeholders)} placeholders, {self.assets} assets, "
            f"{len(self.warnings)} warnings"
        )


@dataclass
class _Page:
    path: str
    """Relative to docs/."""
    title: str
    text: str


@dataclass
class _Scenario:
    folder: Path
    data: dict[str, Any]
    prefix: str
    """Its folder in docs/ ('' when the project holds one scenario)."""
    pages: list[_Page] = field(default_factory=list)
    ports: set[str] = field(default_factory=set)

    shown: str = ""
    """Its folder as messages name it."""

    @property
    def title(self) -> str:
        return str(self.data.get("title") or self.folder.name)


def find_scenarios(source: Path) -> list[Path]:
    """The scenario folders under `source` (itself, when it holds an index.json), in path order."""
    if not source.is_dir():
        raise ScenarioError(f"{source}: no such folder")
    if (source / INDEX).is_file():
        return [source]
    found = sorted({path.parent for path in source.rglob(INDEX)})
    if not found:
        raise ScenarioError(f"{source}: no {INDEX} here or below: not a Katacoda or Killercoda scenario")
    return found


def load_index(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ScenarioError(f"{path}:{error.lineno}: not valid JSON: {error.msg}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("details", {}), dict):
        raise ScenarioError(f"{path}: not a scenario (expected an object with `details`)")
    return data


def import_scenarios(source: Path, out: Path, force: bool = False, language: str | None = None) -> Report:
    """Import every scenario under `source` into a new project at `out`."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise ScenarioError(f"{out}: not empty (use --force to replace it)")
    folders = find_scenarios(source)
    many = len(folders) > 1
    scenarios = [
        _Scenario(f, load_index(f / INDEX), _slug(f.relative_to(source).as_posix()) if many else "", shown=str(f))
        for f in folders
    ]
    report = Report(scenarios=len(scenarios))
    lang = language or _guess_language(scenarios)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".mkdocs-execute-import-", dir=out.parent))
    try:
        for scenario in scenarios:
            _convert(scenario, work / "docs", lang, report)
        (work / "docs").mkdir(exist_ok=True)
        _write_config(work, source, scenarios, lang, report)
        _move_into_place(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report


def _move_into_place(work: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.replaced-{os.getpid()}")
        os.replace(out, old)
    os.replace(work, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# -- one scenario ---------------------------------------------------------------------------------------------


def _convert(scenario: _Scenario, docs: Path, lang: str, report: Report) -> None:
    details = scenario.data.get("details") or {}
    words = _WORDS[lang]
    steps = details.get("steps") or []
    if not isinstance(steps, list):
        raise ScenarioError(f"{scenario.folder / INDEX}: `details.steps` must be a list")
    parts: list[tuple[str, dict[str, Any], str]] = []
    if isinstance(details.get("intro"), dict) and details["intro"].get("text"):
        parts.append(("index.md", details["intro"], scenario.title))
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, dict) or not step.get("text"):
            raise ScenarioError(f"{scenario.folder / INDEX}: step {number} names no `text` file")
        title = str(step.get("title") or f"{words['step']} {number}")
        parts.append((f"{number:02d}-{_slug(title) or 'step'}.md", step, title))
    if isinstance(details.get("finish"), dict) and details["finish"].get("text"):
        parts.append(("finish.md", details["finish"], str(details["finish"].get("title") or words["finish"])))
    parts = [part for part in parts if _present(scenario, part[1], report)]
    if not parts:  # a scenario with no page of its own (only an environment): its title and description
        parts = [("index.md", {"text": ""}, scenario.title)]
    for index, (name, part, title) in enumerate(parts):
        note = _environment_note(scenario, lang, report) if index == 0 else ""
        page = _page(scenario, name, part, title, report, note)
        scenario.pages.append(page)
        _write_page(docs, scenario, page, report)


def _present(scenario: _Scenario, part: dict[str, Any], report: Report) -> bool:
    """Whether a page's text is there; one the scenario names but lacks is left out, with a warning."""
    if (scenario.folder / str(part["text"])).is_file():
        return True
    report.warnings.append(f"{scenario.shown}/{part['text']}: named in its {INDEX} but missing: page left out")
    return False


def _page(scenario: _Scenario, name: str, part: dict[str, Any], title: str, report: Report, note: str) -> _Page:
    source = scenario.folder / str(part["text"])
    try:
        text = source.read_text(encoding="utf-8").replace("\r\n", "\n") if part["text"] else ""
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{source}: cannot read: {error}") from None
    if not part["text"]:
        text = str(scenario.data.get("description") or "") + "\n"
    text = _host_urls(text, scenario)
    if not re.match(r"\s*(?:<[^>]+>\s*)*#\s", text):
        text = f"# {title}\n\n{text}"
    foreground = _script(scenario, part.get("foreground"), report)
    if foreground:  # Killercoda types it into the terminal when the page opens: a visible first block
        text = _after_heading(text, f"```bash\n{foreground.rstrip()}\n```{{{{exec}}}}\n")
    if note:
        text = _after_heading(text, note)
    front = _front_matter(scenario, part, report)
    path = f"{scenario.prefix}/{name}" if scenario.prefix else name
    return _Page(path, title, front + text)


def _front_matter(scenario: _Scenario, part: dict[str, Any], report: Report) -> str:
    execute: dict[str, Any] = {}
    # Each in a subshell, as the platform ran it apart from the reader's shell: its `exit` and `set -e` stay there.
    setup = [f"(\n{text.rstrip()}\n)" for key in _SCRIPTS if (text := _script(scenario, part.get(key), report))]
    if setup:
        execute["setup"] = setup
    verify = part.get("verify")
    if verify and (text := _script(scenario, verify, report)):
        execute["verify"] = {str(verify): text}
    if not execute:
        return ""
    return "---\n" + yaml.dump({"execute": execute}, Dumper=_Dumper, allow_unicode=True, sort_keys=False) + "---\n"


class _Dumper(yaml.SafeDumper):
    """Scripts as YAML literal blocks (`|`), as a writer would keep them."""


def _literal(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _literal)


def _script(scenario: _Scenario, name: Any, report: Report) -> str:
    """A script's text; a script the scenario names but lacks is a warning (collections often leave them out)."""
    if not name or not isinstance(name, str):
        return ""
    path = scenario.folder / name
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        report.warnings.append(f"{scenario.shown}/{name}: named in its {INDEX} but missing: not imported")
        return ""


def _host_urls(text: str, scenario: _Scenario) -> str:
    def port(match: re.Match[str]) -> str:
        scenario.ports.add(match["port"])
        return f"[[HOST_{match['port']}]]"

    return HOST_URL.sub(port, text)


def _after_heading(text: str, block: str) -> str:
    lines = text.split("\n")
    at = next((k + 1 for k, line in enumerate(lines) if line.lstrip().startswith("#")), 0)
    return "\n".join([*lines[:at], "", block, *lines[at:]])


def _environment_note(scenario: _Scenario, lang: str, report: Report) -> str:
    """The environment the lesson expects, and its dashboards as links, on its first page."""
    words = _WORDS[lang]
    notes = []
    image = (scenario.data.get("backend") or {}).get("imageid")
    if image:
        notes.append(words["expects"].format(image=image))
    links = []
    for board in (scenario.data.get("environment") or {}).get("dashboards") or []:
        if not isinstance(board, dict):
            continue
        name = str(board.get("name") or board.get("port") or "Dashboard")
        if board.get("port"):
            scenario.ports.add(str(board["port"]))
            links.append(f"[{name}](http://[[HOST_{board['port']}]]/)")
        elif board.get("href"):
            links.append(f"[{name}]({_host_urls(str(board['href']), scenario)})")
    if links:
        colon = "\u00a0: " if lang == "fr" else ": "
        notes.append(words["dashboards"] + colon + ", ".join(links) + ".")
    if not notes:
        return ""
    body = "\n".join(f"    {line}\n" for line in notes)
    return f'!!! info "{words["environment"]}"\n\n{body}\n'


def _write_page(docs: Path, scenario: _Scenario, page: _Page, report: Report) -> None:
    target = docs / page.path
    target.parent.mkdir(parents=True, exist_ok=True)
    page.text = _assets(page.text, scenario, docs, target.parent, report)
    target.write_text(page.text, encoding="utf-8")
    lesson = parse(page.text.split("\n---\n", 1)[1] if page.text.startswith("---\n") else page.text)
    report.pages += 1
    report.blocks += len(lesson.runnable)
    report.placeholders.update(lesson.names)


def _assets(text: str, scenario: _Scenario, docs: Path, folder: Path, report: Report) -> str:
    """Copy the files a page links to (images, downloads) beside it, and point the links at the copies."""

    def link(match: re.Match[str]) -> str:
        target = match["target"]
        if re.match(r"[a-z]+:|#|\[\[", target) or target.endswith(".md"):
            return match.group()
        relative = PurePosixPath(target.lstrip("/"))
        source = scenario.folder / relative
        if not source.is_file():
            report.warnings.append(f"{scenario.shown}: a page links to {target}, which the scenario lacks")
            return match.group()
        copy = folder / relative
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
            report.assets += 1
        return match["head"] + relative.as_posix()

    return _LINK.sub(link, text)


# -- the project ----------------------------------------------------------------------------------------------


def _write_config(work: Path, source: Path, scenarios: list[_Scenario], lang: str, report: Report) -> None:
    many = len(scenarios) > 1
    variables = dict.fromkeys(sorted(report.placeholders - {"RUN_ID"}))
    nav: list[Any] = []
    for scenario in scenarios:
        entries = [{page.title: page.path} for page in scenario.pages]
        nav.extend([{scenario.title: entries}] if many else entries)
    config = {
        "site_name": scenarios[0].title if not many else source.resolve().name,
        "theme": {"name": "material", "language": lang},
        "plugins": ["search", {"execute": {"variables": variables, "session": "section" if many else "site"}}],
        "markdown_extensions": [
            "admonition", "attr_list", "md_in_html", "tables", "toc",
            "pymdownx.details", "pymdownx.superfences", "pymdownx.highlight",
        ],
        "nav": nav,
    }  # fmt: skip
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False, width=1000)
    ports = sorted({port for scenario in scenarios for port in scenario.ports}, key=int)
    for port in ports:  # Katacoda's per-reader URLs: each reader fills in where that port is reached
        text = text.replace(
            f"      HOST_{port}: null\n",
            f"      HOST_{port}: null  # where port {port} of the lesson's machine is reached, e.g. localhost:{port}\n",
        )
    header = f"# Imported by mkdocs-execute from {len(scenarios)} Katacoda/Killercoda scenario(s).\n"
    (work / "mkdocs.yml").write_text(header + text, encoding="utf-8")


def _guess_language(scenarios: list[_Scenario]) -> str:
    sample = " ".join(
        (scenario.folder / str(step.get("text", ""))).read_text(encoding="utf-8", errors="replace")[:4000]
        for scenario in scenarios[:20]
        for step in ((scenario.data.get("details") or {}).get("steps") or [])[:3]
        if isinstance(step, dict) and (scenario.folder / str(step.get("text", ""))).is_file()
    )
    return "fr" if len(_FRENCH.findall(sample)) > len(_ENGLISH.findall(sample)) else "en"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
