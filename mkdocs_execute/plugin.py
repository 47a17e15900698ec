"""The thin MkDocs plugin `execute`: config, assets and page context for the extension."""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import secrets
import shutil
import signal
import tempfile
import threading
from importlib.resources import files as package_files
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url
from mkdocs.utils.templates import TemplateContext

from . import assets
from .extension import ExecuteExtension, ExtensionVersionError, PageContext, check_superfences
from .model import variable_value
from .parsing import front_matter_lines
from .project import source_path
from .records import RecordError, read_record
from .stamps import stamp_html
from .strings import strings_for

if TYPE_CHECKING:  # the terminal needs a POSIX PTY: imported only when `terminal: local` is served
    from collections.abc import Callable
    from typing import Any

    from mkdocs.livereload import LiveReloadServer

    from .terminal import TerminalServer

log = logging.getLogger("mkdocs.plugins.execute")

ASSETS = "assets/mkdocs-execute"
_JINJA_MARKER = re.compile(r"\\?\{\{[ \t]*(?:(?:execute|exec|copy|open|output)\b[^{}\n]*)?\}\}", re.IGNORECASE)
"""Our markers in Jinja's syntax (and Killercoda's `{{}}`): what mkdocs-macros would render or reject."""
_TOKEN = re.compile(r"mxmarker(\d+)x")
_NAME = re.compile(r"[A-Z][A-Z0-9_]*$")


class ExecuteConfig(base.Config):
    variables = c.DictOfItems(c.Optional(c.Type((str, int, float, dict))), default={})
    """Placeholder values by name; an empty value is filled in by each reader. A mapping gives a reader-filled
    one a label and a help text: `HOST_IP: {label: "Adresse IP du cluster", help: "…", value: null}`."""
    strict = c.Type(bool, default=False)
    """Fail the build on an unknown marker or an undeclared placeholder."""
    secrets = c.ListOfItems(c.Type(str), default=[])
    """Variables whose values the harness masks as `***` everywhere."""
    timeout = c.Type((int, float), default=60)
    """The harness's default time limit for one block, in seconds."""
    session = c.Choice(("page", "section", "site"), default="page")
    """What shares one shell in the harness: each page (default), each nav section, or the whole site, in nav
    order, as a reader's terminal would; a page's front matter (`execute.session: page`) can opt out."""
    record = c.Optional(c.Type(str))
    """A verification record written by `mkdocs-execute run --record`: lesson pages show its stamp."""
    terminal = c.Optional(c.Type(str))
    """Where Run sends commands: `local` (a shell that `mkdocs serve` starts), `wss://…` (a remote terminal)."""


class ExecutePlugin(BasePlugin[ExecuteConfig]):
    """Turns Katacoda-style markers into blocks with Copy and Run buttons."""

    command = "build"
    terminal_server: TerminalServer | None = None

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Defining this keeps one plugin object for a whole `mkdocs serve`: the terminal outlives rebuilds."""
        self.command = command

    def on_serve(self, server: LiveReloadServer, *, config: MkDocsConfig, builder: Callable[..., Any]) -> None:
        """`mkdocs serve` rebuilds when the verification record changes, so a new `--record` shows at once."""
        if self.config.record:
            record = self.root / self.config.record
            # A record not written yet: its nearest existing folder, alone, until it appears.
            watched = record if record.exists() else next(p for p in record.parents if p.is_dir())
            server.watch(str(watched), recursive=False)

    def on_shutdown(self) -> None:
        if self.terminal_server is not None:
            self.terminal_server.stop()
            self.terminal_server = None

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        if "pymdownx.superfences" in config.markdown_extensions:
            try:
                check_superfences()
            except ExtensionVersionError as error:
                raise PluginError(f"execute: {error}") from None
        bad = [name for name in self.config.variables if not _NAME.match(name)]
        if bad:
            raise PluginError(f"execute: variable names must be upper-case like HOST_IP, not {', '.join(bad)}")
        self.language = str(config.theme.get("language") or config.theme.get("locale") or "en")
        self.check_variables()
        self.extension = ExecuteExtension(
            variables=self.values,
            fields=self.fields,
            strict=self.config.strict,
            language=self.language,
            defer_toolbars=secrets.token_hex(4),  # a writer's own comment can never look like ours
        )
        self.extension.report = self.report
        self.copies_excerpts = any(name.split("/")[-1] == "blog" for name in config.plugins)
        self.root = Path(config.config_file_path or ".").resolve().parent
        config.markdown_extensions.append(self.extension)  # type: ignore[arg-type]
        config.extra_javascript.append(f"{ASSETS}/loader.js")  # lesson pages link the rest (on_post_page)
        self.start_terminal(config)
        return config

    def check_variables(self) -> None:
        for name, given in self.config.variables.items():
            if isinstance(given, dict) and (set(given) - {"label", "help", "value"} or not all(
                value is None or isinstance(value, (str, int, float)) for value in given.values()
            )):  # fmt: skip
                raise PluginError(f"execute: variable {name} takes a value, or a mapping of label, help and value")

    def start_terminal(self, config: MkDocsConfig) -> None:
        """`terminal: local` under `mkdocs serve`: one terminal server for the whole session."""
        where = self.config.terminal
        if where is not None and where != "local" and not where.startswith(("ws://", "wss://")):
            raise PluginError(f"execute: terminal must be 'local' or a ws:// or wss:// URL, not {where!r}")
        if where != "local" or self.command != "serve" or self.terminal_server is not None:
            return
        try:
            from .terminal import Settings, TerminalServer
        except ImportError as error:  # the terminal needs a POSIX PTY; the site itself does not
            raise PluginError(f"execute: `terminal: local` needs a POSIX system (Linux, macOS): {error}") from None

        host, port = config.dev_addr
        origins = [f"http://{name}:{port}" for name in dict.fromkeys((host, "127.0.0.1", "localhost"))]
        self.terminal_server = TerminalServer(Settings(origins=origins, cwd=str(self.root))).start()
        log.info("execute: terminal for Run at %s (origins %s)", self.terminal_server.url, ", ".join(origins))

    def terminal_client(self) -> dict[str, str] | None:
        """What execute.js learns about the terminal; a token only ever goes to served pages, via terminal.json."""
        if self.terminal_server is not None:
            return {"config": "terminal.json"}
        if self.config.terminal and self.config.terminal != "local":
            return {"url": self.config.terminal}
        return None

    @property
    def values(self) -> dict[str, str | None]:
        return {k: variable_value(v) for k, v in self.config.variables.items()}

    @property
    def fields(self) -> dict[str, dict[str, object]]:
        """What the values panel shows for each reader-filled placeholder: label, help, secret (a password field)."""
        found: dict[str, dict[str, object]] = {}
        for name, given in self.config.variables.items():
            spec = given if isinstance(given, dict) else {}
            found[name] = {"label": spec.get("label"), "help": spec.get("help"), "secret": name in self.config.secrets}
        return found

    def report(self, messages: list[str]) -> None:
        if self.config.strict:
            raise PluginError("execute: " + "\n".join(messages))
        for message in messages:
            log.warning(message)

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        client = self.terminal_client()
        # Files on disk, not in memory: plugins such as mkdocs-static-i18n expect every file to have a source.
        for name, text in assets.contents(self.languages(config), client).items():
            files.append(File.generated(config, f"{ASSETS}/{name}", abs_src_path=self.asset(name, text)))
        if client is not None:  # xterm.js is only shipped where Run can reach a terminal; pages load it on first Run
            self.add_vendor_files(files, config)
        if self.terminal_server is not None:
            server = self.terminal_server
            local = json.dumps({"url": server.url, "token": server.settings.token})
            files.append(
                File.generated(config, f"{ASSETS}/terminal.json", abs_src_path=self.asset("terminal.json", local))
            )
        return files

    def asset(self, name: str, text: str) -> str:
        """`text` as a file of this build's own folder (removed when MkDocs shuts down)."""
        if getattr(self, "assets_folder", None) is None:
            self.assets_folder = tempfile.mkdtemp(prefix="mkdocs-execute-assets-")
            atexit.register(shutil.rmtree, self.assets_folder, True)
            _exit_on_sigterm()
        path = os.path.join(self.assets_folder, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path

    def languages(self, config: MkDocsConfig) -> list[str]:
        """The site's language, then each one mkdocs-static-i18n builds: execute.js carries their strings."""
        languages = [self.language]
        i18n = config.plugins.get("i18n")
        for language in getattr(getattr(i18n, "config", None), "languages", None) or []:
            languages.append(str(getattr(language, "locale", language)))
        return languages

    def add_vendor_files(self, files: Files, config: MkDocsConfig) -> None:
        vendor = Path(str(package_files("mkdocs_execute") / "assets" / "vendor"))
        for path in sorted(vendor.rglob("*")):
            if path.is_file() and path.suffix in {".js", ".css", ""}:
                uri = f"{ASSETS}/vendor/{path.relative_to(vendor).as_posix()}"
                files.append(File.generated(config, uri, abs_src_path=str(path)))

    @event_priority(100)
    def _protect_markers(self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        """Before a Jinja plugin (mkdocs-macros) renders the page: markers become tokens it leaves alone."""
        self.extension.context = PageContext(self.source_of(page), line_offset(page, markdown), str(self.root))
        self.extension.set_language(self.page_language(config))
        self.protected: list[str] = []
        if "macros" not in config.plugins or "{{" not in markdown:
            return markdown
        return _JINJA_MARKER.sub(self._protect, markdown)

    def page_language(self, config: MkDocsConfig) -> str:
        """The language pages are built in now: mkdocs-static-i18n sets the theme's for each language it builds."""
        return str(config.theme.get("language") or config.theme.get("locale") or self.language)

    def _protect(self, match: re.Match[str]) -> str:
        self.protected.append(match.group())
        return f"mxmarker{len(self.protected) - 1}x"

    @event_priority(-100)
    def _restore_markers(self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        if not self.protected:
            return markdown
        return _TOKEN.sub(lambda match: self.protected[int(match[1])], markdown)

    on_page_markdown = CombinedEvent(_protect_markers, _restore_markers)

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        self.record = None
        if self.config.record:
            try:
                self.record = read_record(self.root / self.config.record)
            except RecordError as error:  # never a crash, never a claim: the pages show « Non vérifié »
                log.warning("execute: the verification record %s cannot be trusted: %s", self.config.record, error)

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        """Lesson pages (those with runnable blocks) say whether, when and where they were checked."""
        self.extension.release()
        lesson = self.extension.lesson
        if self.config.record is None or lesson is None or not lesson.runnable:
            return html
        record = self.record
        strings = strings_for(self.language)
        source = self.source_of(page)
        stamp = stamp_html(record, source, page.file.content_string, strings, self.language)
        title_end = html.find("</h1>") + len("</h1>") if html.lstrip().startswith("<h1") else 0
        return html[:title_end] + "\n" + stamp + html[title_end:]

    @event_priority(-100)
    def on_page_context(
        self, context: TemplateContext, *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> TemplateContext:
        """Toolbars come out once search plugins (priority 0) have indexed the page without them."""
        if page.content is not None:
            page.content = self.extension.open_toolbars(page.content)
        return context

    @event_priority(-100)
    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        """Material's blog copies post excerpts into its index, archive and category pages before we open a
        page's toolbars: those pages get theirs opened here. Other sites pay nothing."""
        if self.copies_excerpts and "mx-toolbar-" in output:
            output = self.extension.open_toolbars(output)
        return link_assets(output, page.url)

    def source_of(self, page: Page) -> str:
        path = page.file.abs_src_path
        found = source_path(path, self.root) if path else None  # None: generated by a plugin, or outside
        return found or PurePath(page.file.src_path).as_posix()


_USES_SCRIPT = (' data-mx-kind="', ' data-mx-var="', ' data-mx-vars="')
"""What execute.js acts on, as the extension writes it: a marked block, or a placeholder (in a code block's
text a quote is escaped, so a page that only shows such markup does not match)."""


def link_assets(output: str, url: str) -> str:
    """A page with something for execute.js links it and its stylesheet in its head, so that its buttons
    are styled from the first paint; other pages only carry the loader (config's extra_javascript)."""
    head = output.find("</head>")
    if head < 0 or not any(output.find(attribute, head) >= 0 for attribute in _USES_SCRIPT):
        return output
    folder = get_relative_url(f"{ASSETS}/", url)
    tags = (
        f'<link rel="stylesheet" href="{folder}execute.css">\n'
        f'<script src="{folder}execute.js" defer data-mx-execute></script>\n'
    )
    return output[:head] + tags + output[head:]


def line_offset(page: Page, markdown: str) -> int:
    """Lines MkDocs cut from the top of the file (front matter) before `markdown`."""
    path = page.file.abs_src_path
    try:
        if path and os.stat(path).st_size == len(markdown.encode()):
            return 0  # nothing was cut: no need to read the file a second time
        raw = page.file.content_string
    except (OSError, UnicodeDecodeError, TypeError):
        return 0
    return front_matter_lines(raw, markdown)


def _exit_on_sigterm() -> None:
    """SIGTERM (an editor's stop button, a process manager) ends Python without its atexit handlers, and left
    the assets folder behind at every stop of `mkdocs serve`: exit as on Ctrl-C instead, so MkDocs shuts down
    and the folders go. Only where nobody else handles the signal."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)
