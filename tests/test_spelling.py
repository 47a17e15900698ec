"""Spelling and French typography of the prose of the built documentation.

The prose of a page is the text of its ``<article>`` element, without code
(``<pre>``, ``<code>``, ``<kbd>``), without the reader's fields (elements
carrying a ``data-mx-var`` attribute), without non-prose elements such as
scripts or buttons, and without text marked as written in another language
(``*Copy Login Command*{lang=en}`` in Markdown gives ``<em lang="en">``).
It is checked with Hunspell and Debian's French dictionary (``hunspell`` and
``hunspell-fr``), plus the project's word list in ``tests/spelling/wordlist.txt``.

The ``built_site`` fixture (a directory produced by ``mkdocs build``) is
provided by ``tests/conftest.py``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

HERE = Path(__file__).parent
WORDLIST = HERE / "spelling" / "wordlist.txt"
DICTIONARY = "fr_FR"
DICTIONARY_DIRS = (Path("/usr/share/hunspell"), Path("/usr/share/myspell/dicts"))

HUNSPELL = shutil.which("hunspell")
HAS_FRENCH = any((d / f"{DICTIONARY}.dic").exists() for d in DICTIONARY_DIRS)

needs_hunspell = pytest.mark.skipif(
    HUNSPELL is None or not HAS_FRENCH,
    reason=(
        "hunspell or its French dictionary (Debian packages 'hunspell' and "
        "'hunspell-fr') is not installed; the project's test script installs them"
    ),
)

# Elements whose text is not prose.
EXCLUDED_TAGS = frozenset({"pre", "code", "kbd", "script", "style", "svg", "button", "textarea", "select", "template"})
# Elements that never have an end tag.
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
# Elements whose boundaries separate words.
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "caption",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "label",
        "li",
        "nav",
        "ol",
        "p",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)

NBSP = "\u00a0"
NNBSP = "\u202f"
#: Stands for a removed element when checking typography, so that removing
#: ``<code>x</code>`` from ``voir <code>x</code>:`` does not invent a space.
REMOVED = "\ufffc"


def is_excluded(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    """Tells whether an element's text is left out of the prose."""
    if tag in EXCLUDED_TAGS:
        return True
    for name, value in attrs:
        if name == "data-mx-var":
            return True
        if name == "lang" and not (value or "").lower().startswith("fr"):
            return True
    return False


class ProseExtractor(HTMLParser):
    """Collects the prose of every ``<article>`` of an HTML page."""

    def __init__(self, removed: str = " ") -> None:
        super().__init__(convert_charrefs=True)
        self.removed = removed
        self.parts: list[str] = []
        # Open non-void elements: (tag, excluded, is_article).
        self._stack: list[tuple[str, bool, bool]] = []

    def _skipping(self) -> bool:
        return any(excluded for _, excluded, _ in self._stack)

    def _in_article(self) -> bool:
        return any(article for _, _, article in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        excluded = is_excluded(tag, attrs)
        if self._in_article() and not self._skipping():
            if excluded:
                self.parts.append(self.removed)
            elif tag in BLOCK_TAGS:
                self.parts.append("\n")
        if tag not in VOID_TAGS:
            self._stack.append((tag, excluded, tag == "article"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._in_article() and not self._skipping():
            if is_excluded(tag, attrs):
                self.parts.append(self.removed)
            elif tag in BLOCK_TAGS:
                self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                break
        else:
            return
        if tag in BLOCK_TAGS and self._in_article() and not self._skipping():
            self.parts.append("\n")
        if tag == "article":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_article() and not self._skipping():
            self.parts.append(data)

    def text(self) -> str:
        return "".join(self.parts)


def prose_of(html: str, removed: str = " ") -> str:
    """Returns the prose of the ``<article>`` elements of ``html``."""
    parser = ProseExtractor(removed)
    parser.feed(html)
    parser.close()
    return parser.text()


def _wordlist_words() -> list[str]:
    words = []
    for line in WORDLIST.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(line)
    return words


#: A word: letters and digits, possibly joined by apostrophes or hyphens
#: (« l'image », « arrière-plan »); underscores and other signs separate words.
WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")
#: An elided article or pronoun before an apostrophe (« d'OpenShift »).
ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['\u2019](?=[^\W_])", re.IGNORECASE)


def words_of(text: str) -> list[str]:
    """Splits prose into words, without elided prefixes, trailing dots or other signs."""
    return [ELISION.sub("", word) for word in WORD.findall(text)]


def unknown_words(text: str) -> list[str]:
    """Returns the words of ``text`` that Hunspell does not know, in order, once each."""
    # One word per line: Hunspell's own tokenizer would keep a sentence's final dot,
    # and the project's word list has no affix rules for elided forms such as « d'OpenShift ».
    text = "\n".join(words_of(text)) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        personal = Path(tmp) / "wordlist.dic"
        personal.write_text("\n".join(_wordlist_words()) + "\n", encoding="utf-8")
        result = subprocess.run(
            [HUNSPELL or "hunspell", "-d", DICTIONARY, "-p", str(personal), "-i", "utf-8", "-l"],
            input=text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
    assert result.returncode == 0, f"hunspell failed: {result.stderr}"
    seen: dict[str, None] = {}
    for word in result.stdout.split():
        seen.setdefault(word, None)
    return list(seen)


# (pattern, explanation) pairs; each match in prose is an error.
TYPOGRAPHY_RULES = (
    (re.compile(r" [:;?!]"), "espace ordinaire avant une ponctuation haute (U+00A0 ou U+202F attendue)"),
    (re.compile(r"« "), "espace ordinaire après « (U+00A0 attendue)"),
    (re.compile(r" »"), "espace ordinaire avant » (U+00A0 attendue)"),
    (re.compile(r"«(?![\u00a0\u202f])"), "aucune espace insécable après «"),
    (re.compile(r"(?<![\u00a0\u202f])»"), "aucune espace insécable avant »"),
)


def typography_errors(text: str) -> list[str]:
    """Returns a description, with context, of every typography error in ``text``."""
    errors = []
    for line in text.splitlines():
        for pattern, explanation in TYPOGRAPHY_RULES:
            for match in pattern.finditer(line):
                start = max(match.start() - 25, 0)
                context = line[start : match.end() + 25].replace(REMOVED, "…").strip()
                errors.append(f"{explanation} : « {context} »")
    return errors


def site_pages(site: Path) -> dict[str, str]:
    """Maps each page of the built site (by path) to its HTML, for pages with an article."""
    pages = {}
    for path in sorted(site.rglob("*.html")):
        relative = path.relative_to(site).as_posix()
        if relative == "404.html":
            continue
        html = path.read_text(encoding="utf-8")
        if "<article" in html:
            pages[relative] = html
    return pages


# --- The documentation itself -------------------------------------------------


@needs_hunspell
def test_docs_prose_has_no_unknown_word(built_site: Path) -> None:
    pages = site_pages(built_site)
    assert pages, f"no page with an <article> in {built_site}"
    problems = [f"{page}: {word}" for page, html in pages.items() for word in unknown_words(prose_of(html))]
    assert not problems, (
        "Mots inconnus de Hunspell (corrigez-les, ou ajoutez un terme technique à "
        "tests/spelling/wordlist.txt) :\n" + "\n".join(problems)
    )


def test_docs_prose_follows_french_typography(built_site: Path) -> None:
    pages = site_pages(built_site)
    assert pages, f"no page with an <article> in {built_site}"
    problems = [
        f"{page}: {error}"
        for page, html in pages.items()
        for error in typography_errors(prose_of(html, removed=REMOVED))
    ]
    assert not problems, "Typographie :\n" + "\n".join(problems)


# --- The checks themselves -----------------------------------------------------


def test_prose_excludes_code_fields_and_text_outside_the_article() -> None:
    html = (
        "<html><body><nav>Menu inatendu</nav><article>"
        "<h1>Titre</h1><p>Lancez <code>oc get is</code> puis "
        '<span data-mx-var="HOST_IP"><input data-mx-var="HOST_IP" value="x">valeur</span> '
        "avec <kbd>Ctrl</kbd>.</p><pre><code>docker pushh</code></pre>"
        "<ul><li>premier</li><li>second</li></ul>"
        "</article><footer>Pied commes</footer></body></html>"
    )
    text = prose_of(html)
    assert "Lancez" in text and "Titre" in text
    for absent in ("oc get is", "valeur", "Ctrl", "pushh", "Menu", "commes"):
        assert absent not in text
    assert "premier" in text and "second" in text and "premiersecond" not in text


@needs_hunspell
def test_misspellings_are_reported() -> None:
    text = "Votre application ne cassera pas de manière inatendu, commes les pods."
    unknown = unknown_words(text)
    assert "inatendu" in unknown
    assert "commes" in unknown


@needs_hunspell
def test_seed_misspellings_are_reported() -> None:
    seed_errors = ["commes", "inatendu", "confuré", "dlus", "aimges", "poru", "précédentente", "Ngninx"]
    assert unknown_words(" ".join(seed_errors)) == seed_errors


@needs_hunspell
def test_correct_french_passes() -> None:
    text = (
        "Les flux d\u2019images ne sont pas utiles en eux-mêmes\u00a0: ils existent pour "
        "accompagner le cycle de vie de l'application. Étiquetez-la, puis vérifiez "
        "qu'elle a bien été créée en arrière-plan\u202f!"
    )
    assert unknown_words(text) == []


@needs_hunspell
def test_misspelling_in_a_built_page_is_reported_with_its_page() -> None:
    html = "<article><p>Une erreur <code>commes</code> ici, et une autre inatendu.</p></article>"
    unknown = unknown_words(prose_of(html))
    assert unknown == ["inatendu"]


@needs_hunspell
def test_project_wordlist_is_used() -> None:
    assert unknown_words("OpenShift Lighttpd ImageStream") == []


def test_typography_errors_are_reported() -> None:
    assert typography_errors("Voici la liste : un ; deux ? trois !")
    assert len(typography_errors("Voici la liste : un ; deux ? trois !")) == 4
    assert typography_errors("la ligne « Chemin de dépôt Docker »")
    assert typography_errors("la ligne «Chemin de dépôt Docker»")


def test_correct_typography_passes() -> None:
    text = (
        "Voici la liste\u00a0: un\u202f; deux\u202f? trois\u00a0!"
        " La ligne «\u00a0Chemin de dépôt Docker\u00a0» et l'URL https://example.org:8443."
    )
    assert typography_errors(text) == []


def test_removed_code_does_not_invent_a_space() -> None:
    good = "<article><p>Lancez <code>oc get is</code>\u00a0:</p><p><code>a</code>: b</p></article>"
    bad = "<article><p>Lancez <code>oc get is</code> :</p></article>"
    assert typography_errors(prose_of(good, removed=REMOVED)) == []
    assert typography_errors(prose_of(bad, removed=REMOVED))
