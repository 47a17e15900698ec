"""Running one lesson page: gates, setup, blocks in order, verdicts, cleanup, update mode.

The CLI and the pytest plugin both drive a `PageRun`; neither extracts blocks itself.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from . import rendering
from .lessons import LessonFile
from .masking import MASK, Masker
from .matching import compare, update_expected
from .model import Block
from .running import Outcome, ShellSession, normal_environment
from .updating import replace_outputs, write_atomically

DEFAULT_TIMEOUT = 60.0
_NOT_RUN = {
    "ctrl-seq": "a control sequence for a live terminal: nothing to run",
    "no-newline": "typed without Enter in a live terminal: nothing to run",
}


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class Verdict:
    """What happened to one block (or to a page's gate or cleanup), already masked."""

    where: str
    """`docs/PAGE.md:LINE`."""
    status: Status
    command: str = ""
    reason: str = ""
    output: str = ""
    diff: str = ""
    duration: float = 0.0
    drift_only: bool = False
    """Failed only because the output differs: the command itself succeeded."""
    code: str = ""
    """Why it was skipped, for machines: `requires:oc`, `check:oc whoami`, `not-run:ctrl-seq`, `earlier-failure`."""

    @property
    def report(self) -> str:
        """The failure message: where, the command, why, and the diff or output."""
        parts = [f"{self.where}: {self.reason}"]
        if self.command:
            parts.append("$ " + self.command.replace("\n", "\n  "))
        if self.diff:
            parts.append(self.diff.rstrip("\n"))
        elif self.output and self.status is Status.FAILED:
            parts.append(self.output.rstrip("\n"))
        return "\n".join(parts)


@dataclass
class Settings:
    """How a run goes; values are already resolved (command line, environment, config)."""

    values: dict[str, str] = field(default_factory=dict)
    secret_names: set[str] = field(default_factory=set)
    update: bool = False
    require_all: bool = False
    timeout: float = DEFAULT_TIMEOUT
    cwd: str | None = None


def new_run_id() -> str:
    """A short unique suffix so resource names do not clash with other runs."""
    return "mx" + secrets.token_hex(3)


class PageRun:
    """One page: a shell session per terminal (`T1`, `T2` …), blocks in document order."""

    def __init__(self, page: LessonFile, settings: Settings, masker: Masker | None = None) -> None:
        self.page = page
        self.settings = settings
        self.masker = masker or Masker()
        for name in settings.secret_names:
            if settings.values.get(name):
                self.masker.add(settings.values[name])
        self.sessions: dict[str, ShellSession] = {}
        self.blocked: tuple[str, str] | None = None
        """Why the remaining blocks are skipped: an unmet gate, a failed setup or block."""
        self.updates: list[tuple[Block, str]] = []
        self.started = False
        self.unmet: dict[str | None, tuple[str, str]] = {}
        self.conditions: dict[str, bool] = {}

    # -- the page's blocks -------------------------------------------------------------

    @property
    def blocks(self) -> list[Block]:
        return run_order(self.page)

    @property
    def cleanup_blocks(self) -> list[Block]:
        return [b for b in self.page.lesson.runnable if b.has("cleanup")]

    def where(self, block: Block | None = None) -> str:
        return f"{self.page.source}:{block.line if block else 1}"

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Verdict | None:
        """Check the gates and run the front matter's setup; a verdict if the page cannot run."""
        self.started = True
        self.unmet = self.unmet_requirements()
        if None in self.unmet:
            self.blocked = self.unmet[None]
            return None
        for script in self.page.setup:
            outcome = self.session("1").run(script, self.page_timeout)
            if outcome.status != 0:
                self.blocked = ("setup-failed", f"the page's setup failed ({self.where()})")
                return self.verdict_for(None, script, outcome, "setup failed")
        return None

    def unmet_requirements(self) -> dict[str | None, tuple[str, str]]:
        """Why blocks cannot run, by the command they use (None: the whole page).

        A check belongs to the command it starts with, so a failing `oc whoami` skips the
        blocks that run `oc` and lets the `docker` blocks run.
        """
        env = normal_environment(base=None)
        unmet: dict[str | None, tuple[str, str]] = {}
        for command in self.page.requirements.commands:
            if shutil.which(command, path=env.get("PATH")) is None:
                unmet[command] = (f"requires:{command}", f"requires `{command}`, which is not installed")
        for check in self.page.requirements.checks:
            owner = check.split()[0] if check.split() else None
            key = owner if owner in self.page.requirements.commands else None
            if key in unmet:
                continue
            outcome = self.session("1").run(check, self.page_timeout)
            if outcome.status != 0:
                lines = outcome.output.strip().splitlines()
                said = f": {self.masker(lines[-1])}" if lines else ""
                unmet[key] = (f"check:{check}", f"requires `{check}` to succeed (exit {outcome.status}){said}")
        return unmet

    def condition(self, block: Block) -> tuple[str, str] | None:
        """A block marked `when=NAME` runs only if the page's check NAME succeeds (evaluated once)."""
        name = block.option("when")
        if name is None:
            return None
        check = self.page.conditions.get(name)
        if check is None:
            return f"condition:{name}", f"`when={name}` names no condition in the front matter"
        if name not in self.conditions:
            outcome = self.session(_terminal(block)).run(check, self.page_timeout)
            self.conditions[name] = outcome.status == 0
        if self.conditions[name]:
            return None
        return f"condition:{name}", f"only when `{name}` holds (`{check}` did not succeed)"

    def gate(self, block: Block) -> tuple[str, str] | None:
        for command, reason in self.unmet.items():
            if command is not None and uses(block.code, command):
                return reason
        return None

    def run(self, block: Block) -> Verdict:
        """Run one block, or say why it is skipped."""
        if not self.started and (verdict := self.start()) is not None:
            return verdict
        command = self.masker(rendering.command(block, self.settings.values))
        gated = self.gate(block)
        if gated is not None:
            status = Status.FAILED if self.settings.require_all else Status.SKIPPED
            return Verdict(self.where(block), status, command, reason=gated[1], code=gated[0])
        if self.blocked is not None:
            code, why = self.blocked
            required = code.startswith(("requires:", "check:"))
            status = Status.FAILED if self.settings.require_all and required else Status.SKIPPED
            return Verdict(self.where(block), status, command, reason=why, code=code)
        for option, why in _NOT_RUN.items():
            if block.has(option):
                return Verdict(self.where(block), Status.SKIPPED, command, reason=why, code=f"not-run:{option}")
        unmet = self.condition(block)
        if unmet is not None:
            return Verdict(self.where(block), Status.SKIPPED, command, reason=unmet[1], code=unmet[0])
        verdict = self.attempt(block)
        if verdict.status is Status.FAILED and not verdict.drift_only and not block.has("cleanup"):
            # Later blocks build on this one; output drift alone leaves the state sound.
            self.blocked = ("earlier-failure", f"an earlier block failed ({verdict.where})")
        return verdict

    def finish(self) -> list[Verdict]:
        """Cleanup blocks and scripts (always), then update mode's rewrite; verdicts of the cleanup blocks."""
        verdicts = []
        try:
            for block in self.cleanup_blocks:
                self.blocked = None
                verdicts.append(self.attempt(block))
            for script in self.page.cleanup:
                self.session("1").run(script, self.page_timeout)
        finally:
            self.close()
        if self.settings.update and self.updates:
            text = replace_outputs(self.page.text, self.updates, self.page.offset)
            if text != self.page.text:
                write_atomically(self.page.path, text)
        return verdicts

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()
        self.sessions.clear()

    def interrupt(self) -> None:
        """Stop whatever block is running now (Ctrl-C, SIGTERM); cleanup still follows."""
        for session in list(self.sessions.values()):
            session.interrupt()

    # -- one block ---------------------------------------------------------------------

    @property
    def page_timeout(self) -> float:
        return self.page.timeout or self.settings.timeout

    def session(self, terminal: str) -> ShellSession:
        if terminal not in self.sessions:
            env = normal_environment({"RUN_ID": self.settings.values.get("RUN_ID", "")})
            self.sessions[terminal] = ShellSession(env=env, cwd=self.settings.cwd)
        return self.sessions[terminal]

    def attempt(self, block: Block) -> Verdict:
        missing = [name for name in block.placeholders if name not in self.settings.values]
        command = rendering.command(block, self.settings.values)
        if missing:
            names = ", ".join(f"[[{name}]]" for name in missing)
            hint = " ".join(f"--var {name}=…" for name in missing)
            reason = f"{names} has no value: pass {hint} or set the environment variable"
            return Verdict(self.where(block), Status.FAILED, self.masker(command), reason=reason)
        timeout = float(block.option("timeout") or self.page_timeout)
        deadline = time.monotonic() + float(block.option("wait") or 0)
        session = self.session(_terminal(block))
        delay = 0.5
        while True:
            outcome = session.run(command, timeout)
            verdict = self.judge(block, command, outcome)
            if verdict.status is Status.PASSED or outcome.timed_out or time.monotonic() + delay > deadline:
                break
            time.sleep(delay)  # the cluster converges: wait for it, with backoff
            delay = min(delay * 2, 8.0)
        if block.has("secret"):
            self.masker.add(outcome.output)
            verdict.output = self.masker(verdict.output)
        return verdict

    def judge(self, block: Block, command: str, outcome: Outcome) -> Verdict:
        output = self.masker(outcome.output)
        if outcome.timed_out:
            limit = float(block.option("timeout") or self.page_timeout)
            reason = f"timed out after {limit:g} s (its processes were killed)"
            return self.verdict_for(block, command, outcome, reason)
        expected_block = block.expected
        wanted = int(expected_block.option("exit") or 0) if expected_block else 0
        if expected_block is not None:
            expected = rendering.command(expected_block, self.settings.values)
            comparison = compare(expected, output)
            if not comparison.ok:
                self.remember_update(block, expected, output)
                reason = "the output differs from the page"
                if outcome.status != wanted:
                    reason += f" (exit status {outcome.status}, expected {wanted})"
                verdict = self.verdict_for(block, command, outcome, reason)
                verdict.diff = self.masker(comparison.diff)
                verdict.drift_only = outcome.status == wanted
                return verdict
        if outcome.status != wanted:
            return self.verdict_for(block, command, outcome, f"exit status {outcome.status}, expected {wanted}")
        return Verdict(self.where(block), Status.PASSED, self.masker(command), output=output, duration=outcome.duration)

    def verdict_for(self, block: Block | None, command: str, outcome: Outcome, reason: str) -> Verdict:
        return Verdict(
            self.where(block),
            Status.FAILED,
            self.masker(command),
            reason=reason,
            output=self.masker(outcome.output),
            duration=outcome.duration,
        )

    def remember_update(self, block: Block, expected: str, output: str) -> None:
        if not self.settings.update or block.expected is None:
            return
        body = update_expected(expected, output)
        self.updates.append((block.expected, self.placeholders_back(body)))

    def placeholders_back(self, text: str) -> str:
        """Known values become `[[NAME]]` again; a masked secret becomes a wildcard, never the secret."""
        text = text.replace(MASK, "[..]")
        names = sorted(self.settings.values.items(), key=lambda item: len(item[1]), reverse=True)
        for name, value in names:
            if len(value) >= 3 and name not in self.settings.secret_names:
                text = text.replace(value, f"[[{name}]]")
        return text


def run_order(page: LessonFile) -> list[Block]:
    """The blocks to run in order; cleanup blocks run at the end, whatever happens."""
    return [b for b in page.lesson.runnable if not b.has("cleanup")]


def uses(code: str, command: str) -> bool:
    """Whether `code` runs `command` (as a word, not inside a path or a longer name)."""
    return re.search(rf"(?<![\w./-]){re.escape(command)}(?![\w./-])", code) is not None


def _terminal(block: Block) -> str:
    for option in block.options:
        if match := re.fullmatch(r"[Tt](\d+)", option.name):
            return match[1]
    return "1"


def resolve_values(
    names: Mapping[str, str | None], given: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, str]:
    """Values by precedence: `--var`, then the environment, then the plugin config; plus `RUN_ID`."""
    values = {name: value for name, value in names.items() if value is not None}
    for name in set(names) | {"RUN_ID"}:
        if name in environ:
            values[name] = environ[name]
    values.update(given)
    values.setdefault("RUN_ID", new_run_id())
    return values
