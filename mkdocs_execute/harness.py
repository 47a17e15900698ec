"""Running one lesson page: gates, setup, blocks in order, verdicts, cleanup, update mode.

The CLI and the pytest plugin both drive a `PageRun`; neither extracts blocks itself.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from . import rendering
from .lessons import LessonFile
from .limits import cap
from .masking import MASK, Masker
from .matching import compare, update_expected
from .model import Block
from .options import value_of
from .runners import Session, open_session, runner_for
from .running import Outcome, ShellSession, normal_environment

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
    updated: bool = False
    """Update mode rewrote its output block: the page tells the truth again."""

    @property
    def file(self) -> str:
        return self.where.rpartition(":")[0]

    @property
    def line(self) -> int:
        return int(self.where.rpartition(":")[2] or 0)

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
    """Where pages start, unless their front matter says otherwise: the run's scratch folder."""


class Spares:
    """A shell started ahead for the next page of a run: its start-up (exec, reading the loop) overlaps this
    page's work instead of following it. A spare is a fresh shell like any other; it waits for its first block
    and never sees a page before the one that takes it."""

    def __init__(self) -> None:
        self.more = False
        """Whether another page follows this one: only then is a spare worth starting."""
        self.spare: tuple[tuple[tuple[str, str], ...], str | None, ShellSession] | None = None

    def open(self, runner: str, env: Mapping[str, str], cwd: str | None) -> Session:
        """A session for a page: the spare when it was started alike (same environment and folder), else a new
        one; then, if another page follows, the next spare."""
        if runner != "shell":
            return open_session(runner, env, cwd)
        key = tuple(sorted(env.items()))
        spare, self.spare = self.spare, None
        if spare is not None and spare[:2] == (key, cwd):
            session = spare[2]
        else:
            if spare is not None:
                spare[2].close()
            session = ShellSession(env=env, cwd=cwd)
        session.start()  # it runs at once: its shell before the spare's
        if self.more:
            with contextlib.suppress(OSError):  # no spare (out of processes?): the next page starts its own
                self.spare = (key, cwd, self.started(env, cwd))
        return session

    @staticmethod
    def started(env: Mapping[str, str], cwd: str | None) -> ShellSession:
        spare = ShellSession(env=env, cwd=cwd)
        try:
            spare.start()
        except OSError:
            spare.close()
            raise
        return spare

    def close(self) -> None:
        if self.spare is not None:
            self.spare[2].close()
            self.spare = None


def new_run_id() -> str:
    """A short unique suffix so resource names do not clash with other runs."""
    return "mx" + os.urandom(3).hex()


class PageRun:
    """One page: a shell session per terminal (`T1`, `T2` …), blocks in document order."""

    def __init__(
        self,
        page: LessonFile,
        settings: Settings,
        masker: Masker | None = None,
        shared: dict[tuple[str, str], Session] | None = None,
        spares: Spares | None = None,
    ) -> None:
        self.spares = spares
        self.page = page
        self.settings = settings
        self.masker = masker or Masker()
        add_secrets(self.masker, settings.secret_names | set(page.secrets), settings.values)
        self.sessions: dict[tuple[str, str], Session] = {} if shared is None else shared
        """The page's terminals; `shared` ones belong to the lesson, which closes them after its last page."""
        self.owns_sessions = shared is None
        self.blocked: tuple[str, str] | None = None
        """Why the remaining blocks are skipped: an unmet gate, a failed setup or block."""
        self.updates: list[tuple[Block, str, Verdict]] = []
        self.update_problems: list[str] = []
        """Why update mode left a drifted block alone."""
        self.started = False
        self.unmet: dict[str | None, tuple[str, str]] = {}
        self.conditions: dict[str, bool] = {}

    # -- the page's blocks -------------------------------------------------------------

    @functools.cached_property
    def blocks(self) -> list[Block]:
        """The blocks to run, in order (worked out once: a page does not change while it runs)."""
        return run_order(self.page)

    @functools.cached_property
    def cleanup_blocks(self) -> list[Block]:
        return [b for b in self.page.lesson.runnable if b.has("cleanup")]

    def where(self, block: Block | None = None) -> str:
        return self.page.where(block.line) if block else f"{self.page.source}:1"

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Verdict | None:
        """Check the gates and run the front matter's setup; a verdict if the page cannot run."""
        self.started = True
        if self.page.error:
            self.blocked = ("bad-page", self.page.error)
            return Verdict(self.where(), Status.FAILED, reason=self.page.error, code="bad-page")
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

    def begin(self) -> Verdict | None:
        """For a page without blocks: its gates and setup still run (an imported intro prepares the machine);
        a verdict when they fail, or when the page cannot run."""
        if self.started:
            return None
        verdict = self.start()
        return None if verdict is None else self.masked(verdict)

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

    def masked(self, verdict: Verdict) -> Verdict:
        """Every verdict leaves through here: masked, then capped (so a cut can never split a secret)."""
        mask = self.masker
        if mask:  # nothing to mask until a secret is known (most pages)
            v = verdict
            v.command, v.reason, v.code, v.output, v.diff = map(mask, (v.command, v.reason, v.code, v.output, v.diff))
        verdict.output, verdict.diff = cap(verdict.output), cap(verdict.diff)
        return verdict

    def run(self, block: Block) -> Verdict:
        """Run one block, or say why it is skipped."""
        return self.masked(self.run_block(block))

    def run_block(self, block: Block) -> Verdict:
        verdict = self.refusal(block)
        if verdict is not None:
            return verdict
        verdict = self.attempt(block)
        self.settle(block, verdict)
        return verdict

    def refusal(self, block: Block) -> Verdict | None:
        """Why a block does not run (or fails without running), or None: it runs."""
        if not self.started and (verdict := self.start()) is not None:
            return verdict
        why = self.not_running(block)
        if why is None:
            return None  # the common case: no command worked out for a verdict it does not need
        status, code, reason = why
        command = self.masker(rendering.command(block, self.settings.values))
        return Verdict(self.where(block), status, command, reason=reason, code=code)

    def not_running(self, block: Block) -> tuple[Status, str, str] | None:
        """(status, code, reason) of a block that does not run, or None."""
        if block.errors:  # it cannot run as written; the state is sound, so the page goes on
            return Status.FAILED, "bad-block", "; ".join(block.errors)
        if self.blocked is not None and self.blocked[0] == "bad-page":
            return Status.SKIPPED, "bad-page", self.blocked[1]
        gated = self.gate(block)
        if gated is not None:
            return (Status.FAILED if self.settings.require_all else Status.SKIPPED), gated[0], gated[1]
        if self.blocked is not None:
            code, why = self.blocked
            required = code.startswith(("requires:", "check:"))
            return (Status.FAILED if self.settings.require_all and required else Status.SKIPPED), code, why
        left_out = not_run(block) or self.condition(block)
        if left_out is not None:
            return Status.SKIPPED, left_out[0], left_out[1]
        return None

    def settle(self, block: Block, verdict: Verdict) -> None:
        if verdict.status is Status.FAILED and not verdict.drift_only and not block.has("cleanup"):
            # Later blocks build on this one; output drift alone leaves the state sound.
            self.blocked = ("earlier-failure", f"an earlier block failed ({verdict.where})")

    def run_all(self, blocks: list[Block] | None = None) -> Generator[tuple[Block, Verdict], None, None]:
        """Every block in order (or those of `blocks`, in its order) with its verdict, as each ends. A run of
        plain shell blocks (no `when`, no `wait`, same terminal) goes to the shell in one request, which stops
        at the first block whose status is not the one it expects: what runs is what would run one block at
        a time."""
        blocks = self.blocks if blocks is None else blocks
        index = 0
        if blocks and not self.started:
            begun = self.start()  # gates and setup first, so that the first block can join a run
            if begun is not None:  # the page cannot run: its first block says why, as if it ran alone
                yield blocks[0], self.masked(begun)
                index = 1
        while index < len(blocks):
            run = self.plain_run(blocks, index)
            if len(run) < 2:
                yield blocks[index], self.run(blocks[index])
                index += 1
                continue
            for block, verdict in self.run_together(run):
                yield block, verdict
                index += 1

    def plain_run(self, blocks: list[Block], start: int) -> list[Block]:
        """The blocks from `start` on that can go to one shell in one request (none before the gates and the
        setup have run)."""
        run: list[Block] = []
        if not self.started:
            return run
        values, terminal = self.settings.values, _terminal(blocks[start])
        for block in blocks[start:]:
            if block.has("when") or block.has("wait") or _terminal(block) != terminal or runner_for(block) != "shell":
                break
            if any(name not in values for name in block.placeholders) or self.refusal(block):
                break
            run.append(block)
        return run

    def run_together(self, run: list[Block]) -> Iterator[tuple[Block, Verdict]]:
        session = self.session(_terminal(run[0]))
        assert isinstance(session, ShellSession)  # plain_run keeps to shell blocks
        commands = [rendering.command(block, self.settings.values) for block in run]
        timeouts = [(self.block_timeout(b), wanted_status(b)) for b in run]
        requests = [(command, *limits) for command, limits in zip(commands, timeouts, strict=True)]
        for block, command, outcome in zip(
            run, commands, session.run_many(requests), strict=False
        ):  # it stops at a failure
            if block.has("secret"):
                self.masker.add(outcome.output)
            verdict = self.judge(block, command, outcome)
            self.settle(block, verdict)
            yield block, self.masked(verdict)

    def finish(self) -> list[Verdict]:
        """Cleanup blocks and scripts (always), then update mode's rewrite; verdicts of the cleanup blocks."""
        verdicts = []
        try:
            verdicts += [self.masked(verdict) for verdict in self.verify()]
            for block in self.cleanup_blocks:
                self.blocked = None
                verdicts.append(self.masked(self.attempt(block)))
            for script in self.page.cleanup:
                self.session("1").run(script, self.page_timeout)
        finally:
            self.close()
        if self.settings.update and self.updates:
            self.write_updates()
        return verdicts

    def write_updates(self) -> None:
        """Rewrite the drifted output blocks; one that cannot be rewritten is left alone, and says why."""
        from .updating import replace_outputs, write_atomically  # update mode only

        text = self.page.text
        for block, body, verdict in self.updates:
            try:
                text = replace_outputs(text, [(block, body)], self.page.offset)
            except ValueError as error:
                verdict.updated, verdict.status = False, Status.FAILED
                self.refuse(verdict, str(error))
        if text != self.page.text:
            write_atomically(self.page.path, text)

    def refuse(self, verdict: Verdict, why: str) -> None:
        verdict.reason += f"; not updated: {why}"
        self.update_problems.append(f"{verdict.where}: not updated: {why}")

    def verify(self) -> list[Verdict]:
        """An imported step's verify scripts, after its blocks, each in a subshell of the page's shell."""
        verdicts = []
        for name, script in self.page.verify.items():
            command = f"verify: {name}"
            if self.blocked is not None and self.blocked[0] != "earlier-failure":
                code, why = self.blocked
                verdicts.append(Verdict(self.where(), Status.SKIPPED, command, reason=why, code=code))
                continue
            outcome = self.session("1").run(f"(\n{script.rstrip()}\n)", self.page_timeout)
            if outcome.status == 0:
                verdicts.append(Verdict(self.where(), Status.PASSED, command, duration=outcome.duration))
                continue
            why = f"the step's verify script `{name}` failed (exit {outcome.status})"
            verdicts.append(self.verdict_for(None, command, outcome, why))
        return verdicts

    def close(self) -> None:
        if not self.owns_sessions:
            return
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

    def session(self, terminal: str, runner: str = "shell") -> Session:
        key = (runner, terminal)
        if key not in self.sessions:
            env = normal_environment({"RUN_ID": self.settings.values.get("RUN_ID", "")})
            cwd = self.page.cwd or self.settings.cwd
            if self.spares is not None:
                self.sessions[key] = self.spares.open(runner, env, cwd)
            else:
                self.sessions[key] = open_session(runner, env, cwd)
        return self.sessions[key]

    def attempt(self, block: Block) -> Verdict:
        missing = [name for name in block.placeholders if name not in self.settings.values]
        command = rendering.command(block, self.settings.values)
        if missing:
            names = ", ".join(f"[[{name}]]" for name in missing)
            hint = " ".join(f"--var {name}=…" for name in missing)
            reason = f"{names} has no value: pass {hint} or set the environment variable"
            return Verdict(self.where(block), Status.FAILED, self.masker(command), reason=reason)
        timeout = self.block_timeout(block)
        deadline = time.monotonic() + float(_option(block, "wait") or 0)
        session = self.session(_terminal(block), runner_for(block) or "shell")
        delay = 0.5
        while True:
            outcome = session.run(command, timeout)
            if block.has("secret"):  # masked from the moment it is produced, its own verdict included
                self.masker.add(outcome.output)
            verdict = self.judge(block, command, outcome)
            if verdict.status is Status.PASSED or outcome.timed_out or time.monotonic() + delay > deadline:
                break
            time.sleep(delay)  # the cluster converges: wait for it, with backoff
            delay = min(delay * 2, 8.0)
        return verdict

    def block_timeout(self, block: Block) -> float:
        return float(_option(block, "timeout") or self.page_timeout)

    def judge(self, block: Block, command: str, outcome: Outcome) -> Verdict:
        output = self.masker(outcome.output)
        if outcome.timed_out:
            reason = f"timed out after {self.block_timeout(block):g} s (its processes were killed)"
            return self.verdict_for(block, command, outcome, reason)
        expected_block = block.expected
        wanted = wanted_status(block)
        if expected_block is not None:
            expected = rendering.command(expected_block, self.settings.values)
            comparison = compare(expected, output)
            if not comparison.ok:
                reason = "the output differs from the page"
                if outcome.status != wanted:
                    reason += f" (exit status {outcome.status}, expected {wanted})"
                verdict = self.verdict_for(block, command, outcome, reason, self.masker(comparison.diff))
                verdict.drift_only = outcome.status == wanted
                if verdict.drift_only:
                    self.remember_update(block, expected, output, verdict)
                return verdict
        if outcome.status != wanted:
            return self.verdict_for(block, command, outcome, f"exit status {outcome.status}, expected {wanted}")
        return Verdict(self.where(block), Status.PASSED, self.masker(command), output=output, duration=outcome.duration)

    def verdict_for(self, block: Block | None, command: str, outcome: Outcome, reason: str, diff: str = "") -> Verdict:
        output = self.masker(outcome.output)
        return Verdict(
            self.where(block), Status.FAILED, self.masker(command), reason, output, diff, duration=outcome.duration
        )

    def remember_update(self, block: Block, expected: str, output: str, verdict: Verdict) -> None:
        """Plan the rewrite of a drifted output block, from the masked output only."""
        if not self.settings.update or block.expected is None:
            return
        if block.has("secret"):
            self.refuse(verdict, "the block is marked `secret`: its output is never written to the page")
            return
        if self.page.origins is not None:
            self.refuse(verdict, "the page includes snippets (pymdownx.snippets): update mode leaves it alone")
            return
        body = update_expected(expected, output)
        if self.masker.leaks(body):
            self.refuse(verdict, "a secret's value would be written")
            return
        self.updates.append((block.expected, placeholders_back(body, self.settings), verdict))
        verdict.updated, verdict.status = True, Status.PASSED  # unless the rewrite fails (`write_updates`)
        verdict.reason = "the output differs from the page: its output block is updated"


def wanted_status(block: Block) -> int:
    """The exit status a block is expected to end with: its output block's `exit=`, else 0."""
    return int(_option(block.expected, "exit") or 0) if block.expected else 0


def not_run(block: Block) -> tuple[str, str] | None:
    """Why the harness leaves a block out whatever the environment: (code, reason), or None."""
    for option, why in _NOT_RUN.items() if block.options else ():
        if block.has(option):
            return f"not-run:{option}", why
    program = interactive(block.code)
    if program is not None:
        return f"interactive:{program}", f"`{program}` is interactive: it is for a reader's terminal"
    if runner_for(block) is None:
        return f"no-runner:{block.language}", f"no runner for `{block.language}` (mark it `runner=shell` to run it)"
    return None


def placeholders_back(text: str, settings: Settings) -> str:
    """Known values become `[[NAME]]` again where they stand as a whole token, never inside a longer word;
    a masked secret becomes a wildcard, never the secret."""
    text = text.replace(MASK, "[..]")
    names = sorted(settings.values.items(), key=lambda item: len(item[1]), reverse=True)
    for name, value in names:
        if len(value) >= 3 and name not in settings.secret_names:
            text = re.sub(_whole(value), f"[[{name}]]", text)
    return text


def _whole(value: str) -> str:
    """`value` where it is not glued to a letter, digit or `_` it would share a word with."""
    before = r"(?<![\w])" if re.match(r"\w", value) else ""
    after = r"(?![\w])" if re.search(r"\w$", value) else ""
    return before + re.escape(value) + after


def add_secrets(
    masker: Masker, names: set[str], values: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> None:
    """Mask the values of these names: from the run's values, else from the environment, placeholder or not."""
    environ = os.environ if environ is None else environ
    for name in names:
        value = values.get(name) or environ.get(name)
        if value:
            masker.add(value)


def _option(block: Block | None, name: str) -> Any:
    """A checked option's value (the parser kept blocks with bad values from running)."""
    if block is None:
        return None
    for option in block.options:
        if option.name == name:
            return value_of(option)
    return None


def run_order(page: LessonFile) -> list[Block]:
    """The blocks to run in order; cleanup blocks run at the end, whatever happens."""
    return [b for b in page.lesson.runnable if not b.has("cleanup")]


_INTERACTIVE = frozenset(
    "top htop atop vim vi nvim nano emacs less more most man watch tmux screen mc tig nmtui iftop".split()  # noqa: SIM905
)
_SHELLS = r"(?:ba|z|k|c|tc)?sh"
_INTERACTIVE_FORMS = (
    re.compile(r"^(?:oc|kubectl)\s+rsh(?:\s+-\S+)*(?:\s+[^-\s]\S*)?\s*$"),  # a shell in a pod, no command
    re.compile(rf"^(?:oc|kubectl|docker|podman)\s+(?:exec|run)\b.*\s-\w*i\w*t\w*\b.*\s(?:/bin/)?{_SHELLS}\s*$"),
    re.compile(r"^ssh(?:\s+-\S+(?:\s+\S+)?)*\s+[^-\s]\S*\s*$"),  # a login, no remote command
)


_FORM_STARTS = frozenset(("oc", "kubectl", "docker", "podman", "ssh"))
"""The first words of `_INTERACTIVE_FORMS`: other lines need no regex."""
_PREFIXES = re.compile(r"^(?:\s*(?:sudo(?:\s+-\S+)*|\w+=\S*)\s+)*")
"""`sudo -E` and `NAME=value` before the program."""


def interactive(code: str) -> str | None:
    """The program that makes a block interactive (`top`, `vim`, `oc rsh POD`…), or None: it waits for a
    reader's keys, so the harness skips it while the site keeps its Run button."""
    for line in code.splitlines():
        words = line.split()
        if words and (words[0] == "sudo" or "=" in words[0]):
            words = _PREFIXES.sub("", line.strip()).split()
        if not words:
            continue
        if words[0] in _INTERACTIVE:
            return words[0]
        if words[0] in _FORM_STARTS and any(form.match(" ".join(words)) for form in _INTERACTIVE_FORMS):
            return " ".join(words[:2])
    return None


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
