"""Verification records and the stamps built from them: never a claim that was not earned."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from mkdocs_execute.harness import Status, Verdict
from mkdocs_execute.records import build_record, digest, read_record, write_record
from mkdocs_execute.stamps import format_date, stamp_html
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
    (tmp_path / "bad.json").write_text("{not json")
    assert read_record(tmp_path / "bad.json") is None and read_record(tmp_path / "missing.json") is None


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
