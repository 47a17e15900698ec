"""The stamp on each lesson page: « Vérifié le … sur … », or « Non vérifié ». Never a claim not earned."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html import escape

from .records import Record, digest

_MONTHS = {
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def stamp_html(record: Record | None, source: str, text: str, strings: Mapping[str, str], language: str) -> str:
    """The stamp for page `source` whose current text is `text`."""
    page = record.pages.get(source) if record else None
    if record is None or page is None:
        return _stamp("unverified", strings["stamp_unverified"], "")
    when = format_date(record.date, language)
    if page.sha256 != digest(text):
        return _stamp("unverified", strings["stamp_unverified"], strings["stamp_changed"].format(date=when))
    details = _details(page.passed, page.reasons, strings, language)
    if page.failed:
        headline = strings["stamp_failed"].format(date=when, environment=record.environment)
        return _stamp("failed", headline, plural(strings["stamp_failures"], page.failed, language) + details)
    if not page.passed:
        return _stamp(
            "unverified", strings["stamp_unverified"], strings["stamp_nothing_ran"].format(date=when) + details
        )
    headline = strings["stamp_verified"].format(date=when, environment=record.environment)
    return _stamp("verified", headline, details)


def _details(passed: int, reasons: Mapping[str, int], strings: Mapping[str, str], language: str) -> str:
    text = " " + plural(strings["stamp_ran"], passed, language)
    if reasons:
        skipped = sum(reasons.values())
        why = ", ".join(f"{_reason(code, strings)} ({count})" for code, count in sorted(reasons.items()))
        text += " " + plural(strings["stamp_skipped"], skipped, language).format(reasons=why)
    return text


def plural(pattern: str, count: int, language: str) -> str:
    """`one|many` for `count`: French takes the singular for 0 and 1 (« 0 bloc exécuté »), English for 1 only."""
    one, _, many = pattern.partition("|")
    singular = count in (0, 1) if language.lower().startswith("fr") else count == 1
    return (one if singular else many).replace("{count}", str(count))


def _reason(code: str, strings: Mapping[str, str]) -> str:
    kind, _, argument = code.partition(":")
    pattern = strings.get(f"stamp_reason_{kind.replace('-', '_')}")
    if pattern is None:
        return escape(code)
    return pattern.format(argument=f"<code>{escape(argument)}</code>")


def format_date(iso: str, language: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return escape(iso)
    months = _MONTHS.get(language.split("_")[0].split("-")[0], _MONTHS["en"])
    if language.startswith("fr"):
        day = "1er" if moment.day == 1 else str(moment.day)
        return f"{day} {months[moment.month - 1]} {moment.year}"
    return f"{months[moment.month - 1]} {moment.day}, {moment.year}"


def _stamp(state: str, headline: str, details: str) -> str:
    return (
        f'<p class="mx-stamp mx-stamp--{state}" data-mx-stamp="{state}" role="note">'
        f"<strong>{escape(headline)}</strong>{details.rstrip()}</p>\n"
    )
