"""Verification records and the stamps built from them: never a claim that was not earned."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mkdocs_execute.harness import Status, Verdict
from mkdocs_execute.recording import build_record, write_record
from mkdocs_execute.records import RecordError, digest, read_record
from mkdocs_execute.stamps import format_date, plural, stamp_html
from mkdocs_execute.strings import strings_for

FR = strings_for("fr")
EN = strings_for("en")
PAGE = "# Page\n\n```bash\necho a\n```<<execute>>\n"
WHEN = datetime(2026, 11, 26, 23, 0, tzinfo=timezone.utc)


def record(*verdicts: Verdict, text: str = PAGE):  # type: ignore[no-untyped-def]
    return build_record({"docs/p.md": text}, list(verdicts), "le lab local", set(), now=WHEN)


def ok(line: int = 3) -> Verdict:
    return Verdict(f"docs/p.md:{line}", Status.PASSED)


def skipped(code: str, line: int = 9) -> Verdict:
    return Verdict(f"docs/p.md:{line}", Status.SKIPPED, reason="why", code=code)


def test_record_counts_per_page_and_round_trips(tmp_path: Path) -> None:
    made = record(ok(), skipped("requires:oc"), skipped("requires:oc", 12), Verdict("docs/other.md:1", Status.FAILED))
    page = made.pages["docs/p.md"]
    assert (page.passed, page.failed, page.skipped, page.reasons) == (1, 0, 2, {"requires:oc": 2})
    assert "docs/other.md" not in made.pages and page.sha256 == digest(PAGE)
    write_record(tmp_path / "r.json", made)
    assert read_record(tmp_path / "r.json") == made
    assert read_record(tmp_path / "missing.json") is None  # no record: nothing to warn about


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"format": 2}', "format is 2"),
        ('{"format": 1, "date": 3, "environment": "x", "tools": {}, "pages": {}}', "`date` must be a string"),
        ('{"format": 1, "date": "d", "environment": "x", "tools": {}, "pages": {"p": {"sha256": "s", "passed": "3"}}}',
         "`passed` must be a count"),
        ('{"format": 1, "date": "d", "environment": "x", "tools": {}, "pages": {"p": {"sha256": "s", "failed": true}}}',
         "`failed` must be a count"),
        ('{"format": 1, "date": "d", "environment": "x", "tools": {}, "pages": {"p": {"sha256": 1}}}', "sha256"),
        ('{"format": 1, "date": "d", "environment": "x", "tools": {}, "pages": {"p": {"sha256": "s", "extra": 1}}}',
         "unknown fields: extra"),
    ],
)  # fmt: skip
def test_a_malformed_record_says_what_is_wrong(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(RecordError, match=re.escape(problem)):
        read_record(tmp_path / "bad.json")


def test_verified_stamp_says_when_where_and_what_was_skipped() -> None:
    html = stamp_html(record(ok(), skipped("requires:oc")), "docs/p.md", PAGE, FR, "fr")
    assert 'data-mx-stamp="verified"' in html
    assert "Vérifié le 26 novembre 2026 sur le lab local." in html
    assert "1 bloc exécuté\u00a0; 1 non exécuté\u00a0: <code>oc</code> n’est pas installé (1)." in html


@pytest.mark.parametrize(
    ("verdicts", "text", "state", "words"),
    [
        ((), PAGE, "unverified", "Non vérifié."),
        ((ok(),), PAGE + "changed\n", "unverified", "La page a changé depuis la vérification du 26 novembre 2026"),
        ((skipped("requires:oc"),), PAGE, "unverified", "Aucun bloc n’a pu être exécuté"),
        ((ok(), Verdict("docs/p.md:5", Status.FAILED)), PAGE, "failed", "Échec de la vérification du 26 novembre"),
    ],
)
def test_no_claim_that_was_not_earned(verdicts: tuple[Verdict, ...], text: str, state: str, words: str) -> None:
    html = stamp_html(record(*verdicts), "docs/p.md", text, FR, "fr")
    assert f'data-mx-stamp="{state}"' in html and words in html
    assert "Vérifié le" not in html


def test_no_record_at_all_is_unverified() -> None:
    assert 'data-mx-stamp="unverified"' in stamp_html(None, "docs/p.md", PAGE, FR, "fr")


def test_line_endings_do_not_unverify_a_page() -> None:
    html = stamp_html(record(ok()), "docs/p.md", PAGE.replace("\n", "\r\n"), FR, "fr")
    assert 'data-mx-stamp="verified"' in html


def test_english_stamp_and_dates() -> None:
    html = stamp_html(record(ok(), ok(4), skipped("not-run:ctrl-seq")), "docs/p.md", PAGE, EN, "en")
    assert "Verified on November 26, 2026 against le lab local." in html
    assert "2 blocks ran; 1 did not: <code>ctrl-seq</code> is for a live terminal (1)." in html
    assert format_date("2026-03-01T00:00:00+00:00", "fr") == "1er mars 2026"


@pytest.mark.parametrize(
    ("count", "french", "english"),
    [
        (0, "0 bloc exécuté\u00a0;", "0 blocks ran;"),
        (1, "1 bloc exécuté\u00a0;", "1 block ran;"),
        (2, "2 blocs exécutés\u00a0;", "2 blocks ran;"),
    ],
)
def test_counts_read_right_in_both_languages(count: int, french: str, english: str) -> None:
    assert plural(FR["stamp_ran"], count, "fr") == french
    assert plural(EN["stamp_ran"], count, "en") == english


def test_a_failure_count_is_one_sentence() -> None:
    failing = record(ok(), Verdict("docs/p.md:5", Status.FAILED), Verdict("docs/p.md:7", Status.FAILED))
    html = stamp_html(failing, "docs/p.md", PAGE, EN, "en")
    assert "2 blocks failed." in html and "|" not in html
    assert "1 bloc en échec." in stamp_html(record(Verdict("docs/p.md:5", Status.FAILED)), "docs/p.md", PAGE, FR, "fr")
