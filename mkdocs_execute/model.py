"""The lesson model: what the parser produces and every consumer reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Kind(str, Enum):
    """What a marked block is for."""

    EXECUTE = "execute"
    COPY = "copy"
    OUTPUT = "output"
    OPEN = "open"


class Form(str, Enum):
    """Where the marker sits: on a closing fence line, or after inline code."""

    BLOCK = "block"
    INLINE = "inline"


@dataclass(frozen=True)
class Option:
    """One marker option: a flag (`interrupt`, `T1`) or a `key=value` pair."""

    name: str
    value: str | None = None

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}={self.value}"


# The parser makes a Block and a Span per block of a page, by the thousand: a frozen dataclass's own __init__
# sets each field through object.__setattr__ and took a fifth of a big page's parse. These __init__ fill the
# instance's dict at once; dataclass keeps them (a test holds their signatures to the fields).


@dataclass(frozen=True)
class Span:
    """A half-open range of 0-based line indexes in the parsed text."""

    start: int
    end: int

    def __init__(self, start: int, end: int) -> None:
        fields = self.__dict__
        fields["start"], fields["end"] = start, end


@dataclass(frozen=True)
class Block:
    """A marked code block or inline command, in document order."""

    kind: Kind
    form: Form
    code: str
    line: int
    """1-based line in the source file where the block starts (its opening fence)."""
    language: str = ""
    options: tuple[Option, ...] = ()
    placeholders: tuple[str, ...] = ()
    marker: str = ""
    """The marker exactly as written, e.g. ``<<execute T1>>``."""
    fence: Span | None = None
    """Lines of the whole fence, opening and closing lines included (block form)."""
    expected: Block | None = None
    """The `output` block that states what this block prints, if any."""
    hidden: bool = False
    """Written inside an HTML comment: run by the harness, never shown to readers."""
    errors: tuple[str, ...] = ()
    """Why the harness must not run it (a bad option value, a misspelt marker inside it), `line N: …`."""

    def __init__(
        self,
        kind: Kind,
        form: Form,
        code: str,
        line: int,
        language: str = "",
        options: tuple[Option, ...] = (),
        placeholders: tuple[str, ...] = (),
        marker: str = "",
        fence: Span | None = None,
        expected: Block | None = None,
        hidden: bool = False,
        errors: tuple[str, ...] = (),
    ) -> None:
        fields = self.__dict__  # one store per field: a keyword dict to update from cost a third more
        fields["kind"], fields["form"], fields["code"], fields["line"] = kind, form, code, line
        fields["language"], fields["options"], fields["placeholders"] = language, options, placeholders
        fields["marker"], fields["fence"], fields["expected"] = marker, fence, expected
        fields["hidden"], fields["errors"] = hidden, errors

    @property
    def body(self) -> Span | None:
        """Lines of the code between the fences (block form)."""
        return None if self.fence is None else Span(self.fence.start + 1, self.fence.end - 1)

    def option(self, name: str, default: str | None = None) -> str | None:
        """The value of option `name` (its name for a flag), or `default`."""
        for option in self.options:
            if option.name == name:
                return option.name if option.value is None else option.value
        return default

    def has(self, name: str) -> bool:
        return bool(self.options) and any(option.name == name for option in self.options)

    @property
    def runnable(self) -> bool:
        return self.kind is Kind.EXECUTE


@dataclass(frozen=True)
class Diagnostic:
    """A problem a writer should fix, located at a 1-based source line."""

    line: int
    message: str
    code: str

    def format(self, path: str) -> str:
        return f"{path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Placeholder:
    """One `[[NAME]]` occurrence."""

    name: str
    line: int
    in_code: bool


@dataclass
class Lesson:
    """A parsed page: its marked blocks in order, its placeholders and its problems."""

    blocks: list[Block] = field(default_factory=list)
    placeholders: list[Placeholder] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def runnable(self) -> list[Block]:
        return [block for block in self.blocks if block.runnable]

    @property
    def names(self) -> list[str]:
        """Placeholder names in order of first use."""
        return list(dict.fromkeys(p.name for p in self.placeholders))


def variable_value(given: object) -> str | None:
    """A placeholder's value in a config: plain, or the `value` of a `{label, help, value}` mapping; empty
    (None or `""`, as TOML leaves it) means each reader fills it in."""
    value = given.get("value") if isinstance(given, dict) else given
    return None if value is None or value == "" else str(value)
