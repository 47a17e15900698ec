"""The option catalogue: every marker option, its type, allowed values, default and readers.

The parser checks options against it, the renderer and the harness read their meaning from it,
and the README and the writer's guide carry tables generated from it (a test keeps them equal).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .model import Option

HARNESS, BROWSER, BOTH = "harness", "browser", "both"


class OptionError(ValueError):
    """A value an option cannot take; the message says what it takes."""


def seconds(text: str, *, zero: bool = False) -> float:
    """A finite number of seconds, positive (or also zero)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise OptionError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        least = "zero or more" if zero else "more than zero"
        raise OptionError(f"{text!r} is not a finite number of seconds, {least}") from None
    return value


def _positive(text: str) -> float:
    return seconds(text)


def _non_negative(text: str) -> float:
    return seconds(text, zero=True)


def _status(text: str) -> int:
    if not re.fullmatch(r"\d{1,3}", text or "") or int(text) > 255:
        raise OptionError(f"{text!r} is not an exit status (0 to 255)")
    return int(text)


def _name(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][\w-]*", text or ""):
        raise OptionError(f"{text!r} is not a condition name")
    return text


RUNNERS = ("shell", "python")


def _runner(text: str) -> str:
    if text not in RUNNERS:
        raise OptionError(f"{text!r} is not a runner ({', '.join(RUNNERS)})")
    return text


@dataclass(frozen=True)
class Spec:
    """One option of the catalogue."""

    name: str
    """As written: `timeout`, or a pattern's shape such as `Tn`."""
    kind: str
    """`flag` (a bare word) or `value` (`name=value`)."""
    type: str
    default: str
    readers: str
    en: str
    fr: str
    parse: Callable[[str], object] | None = None
    pattern: str | None = None
    """A regular expression for a family of flags (`T1`, `T2` …)."""
    attribute: str | None = None
    """The HTML attribute that carries it, when not `data-mx-NAME`."""

    def matches(self, name: str) -> bool:
        return re.fullmatch(self.pattern, name) is not None if self.pattern else name == self.name


CATALOGUE: tuple[Spec, ...] = (
    Spec(
        "Tn", "flag", "`T1`, `T2` …", "`T1`", BOTH,
        "the terminal to run in; each has its own shell", "le terminal où exécuter\u00a0; chacun a son shell",
        pattern=r"[Tt]\d+", attribute="terminal",
    ),
    Spec(
        "HOSTn", "flag", "`HOST1`, `HOST2` …", "`HOST1`", BROWSER,
        "the host whose terminal runs it", "l’hôte dont le terminal l’exécute",
        pattern=r"(?i:host)\d+", attribute="host",
    ),
    Spec(
        "interrupt", "flag", "—", "off", BROWSER,
        "send Ctrl-C before the command", "envoyer Ctrl-C avant la commande",
    ),
    Spec(
        "ctrl-seq", "flag", "—", "off", BOTH,
        "a control sequence for a live terminal (the harness skips it)",
        "une séquence de contrôle pour un terminal interactif (le banc de test l’ignore)",
    ),
    Spec(
        "no-newline", "flag", "—", "off", BOTH,
        "typed without Enter (the harness skips it)", "saisie sans Entrée (le banc de test l’ignore)",
    ),
    Spec(
        "secret", "flag", "—", "off", HARNESS,
        "its output is masked as `***` everywhere", "sa sortie est masquée en `***` partout",
    ),
    Spec(
        "setup", "flag", "—", "off", HARNESS,
        "a visible preparation step", "une étape de préparation visible",
    ),
    Spec(
        "cleanup", "flag", "—", "off", HARNESS,
        "runs at the end of the page, whatever happened", "exécuté en fin de page, quoi qu’il arrive",
    ),
    Spec(
        "timeout", "value", "seconds, finite, > 0", "front matter, plugin, else 60", HARNESS,
        "the block's time limit", "la durée maximale du bloc", parse=_positive,
    ),
    Spec(
        "wait", "value", "seconds, finite, ≥ 0", "0", HARNESS,
        "re-run with backoff until the output matches", "relancer jusqu’à ce que la sortie corresponde",
        parse=_non_negative,
    ),
    Spec(
        "exit", "value", "0 to 255", "0", HARNESS,
        "on an output block: the expected exit status", "sur un bloc de sortie\u00a0: le code de retour attendu",
        parse=_status,
    ),
    Spec(
        "when", "value", "a condition's name", "—", HARNESS,
        "run only where the front matter's condition holds", "exécuter seulement si la condition tient",
        parse=_name,
    ),
    Spec(
        "runner", "value", "`shell`, `python`", "from the language", HARNESS,
        "what runs the block, whatever its language", "ce qui exécute le bloc, quel que soit son langage",
        parse=_runner,
    ),
)  # fmt: skip

_FR = {
    "off": "non",
    "seconds, finite, > 0": "secondes, finies, > 0",
    "seconds, finite, ≥ 0": "secondes, finies, ≥ 0",
    "0 to 255": "de 0 à 255",
    "a condition's name": "le nom d’une condition",
    "front matter, plugin, else 60": "en-tête, plugin, sinon 60",
    "from the language": "selon le langage",
}
_BY_NAME = {spec.name: spec for spec in CATALOGUE if spec.pattern is None}


def spec_of(name: str) -> Spec | None:
    """The catalogue entry for an option name, or None for a free-form flag."""
    found = _BY_NAME.get(name)
    if found is not None:
        return found
    return next((spec for spec in CATALOGUE if spec.pattern and spec.matches(name)), None)


def value_of(option: Option) -> object:
    """The parsed value of a known `key=value` option (raises OptionError)."""
    spec = spec_of(option.name)
    if spec is None or spec.parse is None or option.value is None:
        return option.value
    return spec.parse(option.value)


def problems(options: Iterable[Option]) -> tuple[list[str], list[str]]:
    """(errors, warnings): values an option cannot take, and unknown `key=value` options."""
    errors: list[str] = []
    warnings: list[str] = []
    for option in options:
        spec = spec_of(option.name)
        if spec is None:
            if option.value is not None:
                warnings.append(f"unknown option `{option}`{_suggestion(option.name)}")
            continue  # bare flags stay free-form, as Katacoda allows (`test-uname`)
        if spec.kind == "value" and option.value is None:
            errors.append(f"option `{option.name}` needs a value: `{option.name}=…` ({spec.type})")
            continue
        try:
            value_of(option)
        except OptionError as error:
            errors.append(f"bad option `{option}`: {error}")
    return errors, warnings


def _suggestion(name: str) -> str:
    names = [spec.name for spec in CATALOGUE if spec.kind == "value"]
    import difflib  # only for a diff or a hint

    close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def markdown_table(language: str = "en") -> str:
    """The catalogue as a Markdown table, for the README (`en`) and the writer's guide (`fr`)."""
    if language == "fr":
        head = "| Option | Forme | Valeurs | Par défaut | Lue par | Effet |"
        readers = {HARNESS: "banc de test", BROWSER: "navigateur", BOTH: "les deux"}
    else:
        head = "| Option | Form | Values | Default | Read by | Effect |"
        readers = {HARNESS: "harness", BROWSER: "browser", BOTH: "both"}
    rows = [head, "| --- | --- | --- | --- | --- | --- |"]
    for spec in CATALOGUE:
        shown = f"`{spec.name}`" if spec.kind == "flag" else f"`{spec.name}=…`"
        form = {"flag": "flag" if language != "fr" else "drapeau", "value": "clé=valeur"}[spec.kind]
        if language != "fr" and spec.kind == "value":
            form = "key=value"
        effect, kind, default = spec.en, spec.type, spec.default
        if language == "fr":
            effect, kind, default = spec.fr, _FR.get(kind, kind), _FR.get(default, default)
        rows.append(f"| {shown} | {form} | {kind} | {default} | {readers[spec.readers]} | {effect} |")
    return "\n".join(rows)
