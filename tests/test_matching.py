"""Output matching: normalisation, the `...` and `[..]` wildcards, diffs, and update mode's rewrite."""

from __future__ import annotations

import difflib
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mkdocs_execute.matching import _Pattern, _trace, compare, normalize, update_expected

# -- normalize ----------------------------------------------------------------------------


def test_ansi_colours_cursor_codes_and_titles_are_stripped() -> None:
    coloured = "\x1b[1;31mERROR\x1b[0m: \x1b[4mdisk\x1b[24m full\x1b[?25l\x1b[2A\x1b]0;my title\x07\x1b(B\x1b7"
    assert normalize(coloured) == ["ERROR: disk full"]
    link = "\x1b]8;;https://example.org\x1b\\site\x1b]8;;\x1b\\"
    assert normalize(link) == ["site"]


def test_stripped_codes_leave_real_text_differences() -> None:
    assert normalize("\x1b[31mERROR\x1b[0m") != normalize("WARNING")


def test_crlf_is_lf() -> None:
    assert normalize("a\r\nb\r\n") == normalize("a\nb\n") == ["a", "b"]


def test_carriage_return_progress_shows_the_last_state() -> None:
    assert normalize("10%\r50%\r100%\ndone") == ["100%", "done"]
    assert normalize("downloading 10%\r\x1b[Kdone") == ["done"]  # the line was cleared before redrawing
    assert normalize("abcdef\rXY") == ["XYcdef"]  # without clearing, a terminal shows the overwrite
    assert normalize("100%\r") == ["100%"]


def test_progress_does_not_hide_a_different_final_state() -> None:
    assert normalize("10%\r50%\rfailed") != normalize("100%")


def test_trailing_spaces_and_blank_edges_are_dropped() -> None:
    assert normalize("\n\n  \nhello   \n\nworld\t\n\n") == ["hello", "", "world"]
    assert normalize("") == normalize("\n \n") == []


def test_aligned_columns_compare_on_content() -> None:
    assert normalize("NAME    TAGS\nnginx   1.25,latest") == normalize("NAME TAGS\nnginx\t1.25,latest")


def test_column_content_still_differs() -> None:
    assert normalize("NAME    TAGS\nnginx   1.25") != normalize("NAME    TAGS\nnginx   1.26")
    assert normalize("NAME TAGS") != normalize("NAMETAGS")  # collapsed, never removed


def test_indentation_is_kept_as_some_indent() -> None:
    assert normalize("    indented") == normalize("\tindented") == [" indented"]
    assert normalize("    indented") != normalize("indented")


# -- compare: literal ---------------------------------------------------------------------


def test_exact_match() -> None:
    result = compare("hello\nworld", "hello\nworld\n")
    assert result.ok and result.diff == "" and result.resolved == ["hello", "world"]


def test_a_changed_line_fails() -> None:
    assert not compare("hello\nworld", "hello\nearth").ok


def test_a_missing_line_fails() -> None:
    result = compare("a\nb\nc", "a\nc")
    assert not result.ok and "\n-b\n" in result.diff


def test_an_extra_line_fails_unless_covered_by_an_ellipsis() -> None:
    assert not compare("a\nc", "a\nb\nc").ok
    assert compare("a\n...\nc", "a\nb\nc").ok


# -- compare: `...` -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("...\nlast", "one\ntwo\nlast"),  # start
        ("first\n...\nlast", "first\ntwo\nthree\nlast"),  # middle
        ("first\n...", "first\ntwo\nthree"),  # end
        ("...\nb\n...\nd\n...", "a\nb\nc\nd\ne"),  # several
        ("a\n...\nb", "a\nb"),  # zero lines
        ("...\na\n...", "a"),  # zero lines on both sides
        ("...", ""),  # only an ellipsis, no output
        ("...", "anything\nat all"),
        ("a\n...\n...\nb", "a\nx\nb"),  # adjacent ellipses
    ],
)
def test_ellipsis_matches_any_number_of_lines(expected: str, actual: str) -> None:
    assert compare(expected, actual).ok


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("...\nlast", "one\ntwo\nlast\nmore"),  # nothing covers what follows `last`
        ("first\n...", "zeroth\nfirst\ntwo"),  # nothing covers what precedes `first`
        ("...\nb\n...\nd\n...", "a\nd\nc\nb\ne"),  # order still matters
        ("a\n...\nb", "a"),  # a line after the ellipsis is missing
        ("a ... b", "a x b"),  # `...` inside a line is literal
    ],
)
def test_ellipsis_does_not_match_everything(expected: str, actual: str) -> None:
    assert not compare(expected, actual).ok


def test_ellipsis_resolves_to_the_lines_it_matched() -> None:
    assert compare("a\n...\nd", "a\nb\nc\nd").resolved == ["a", "b", "c", "d"]
    assert compare("a\n...\nb", "a\nb").resolved == ["a", "b"]


# -- compare: `[..]` ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("[..] created", "pod/nginx-7c9f created"),  # start
        ("Now using project [..] on server", "Now using project demo on server"),  # middle
        ("Login successful as [..]", "Login successful as alice"),  # end
        ("[..]-[..]-[..]", "a-b-c"),  # several in a line
        ("[..]-[..]-[..]", "--"),  # each may match nothing
        ("id=[..] host=[..]", "id=42   host=db1"),  # after spaces collapse
        ("a\n[..]\nc", "a\n\nc"),  # alone: any single line, a blank one too
    ],
)
def test_anything_matches_text_within_a_line(expected: str, actual: str) -> None:
    assert compare(expected, actual).ok


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("[..] created", "pod/nginx created!"),  # the literal end must still match
        ("Now using project [..] on server", "Now using cluster demo on server"),
        ("[..]-[..]-[..]", "a-b"),
        ("start [..] end", "start\nmiddle\nend"),  # never crosses lines
        ("[..]", "one\ntwo"),  # one line, not two
        ("[..]", ""),  # nor none: blank edges are dropped, so there is no line to match
        ("a[..]a[..]a[..]b", "a" * 200),
    ],
)
def test_anything_stays_within_its_line_and_pattern(expected: str, actual: str) -> None:
    assert not compare(expected, actual).ok


def test_anything_resolves_to_the_matched_line() -> None:
    assert compare("user [..] logged in", "user alice logged in").resolved == ["user alice logged in"]


# -- compare: diffs -----------------------------------------------------------------------


def test_diff_shows_only_the_real_difference() -> None:
    expected = "Status: [..]\nItems:\n...\nTotal: 3\nDone"
    actual = "Status: ok\nItems:\n- a\n- b\n- c\nTotal: 4\nDone"
    result = compare(expected, actual)
    assert not result.ok
    assert result.diff == "\n".join(
        [
            "--- expected",
            "+++ actual",
            "@@ -3,5 +3,5 @@",
            " - a",
            " - b",
            " - c",
            "-Total: 3",
            "+Total: 4",
            " Done",
        ]
    )
    assert result.resolved == ["Status: ok", "Items:", "- a", "- b", "- c", "Total: 3", "Done"]


def test_diff_pairs_what_it_can() -> None:
    assert compare("a\nb", "b\nc").diff.endswith("@@ -1,2 +1,2 @@\n-a\n b\n+c")
    assert compare("a\nb\nc", "A\nB\nc").diff.endswith("\n-a\n-b\n+A\n+B\n c")


def test_diff_format_is_difflib_unified_for_literal_output() -> None:
    expected = [f"line {k}" for k in range(30)]
    actual = [*expected]
    actual[3], actual[20] = "changed 3", "changed 20"
    del actual[25]
    wanted = difflib.unified_diff(expected, actual, "expected", "actual", lineterm="")
    assert compare("\n".join(expected), "\n".join(actual)).diff == "\n".join(wanted)


def test_diff_of_an_empty_side() -> None:
    assert compare("", "hello").diff == "--- expected\n+++ actual\n@@ -0,0 +1 @@\n+hello"
    assert compare("hello", "").diff == "--- expected\n+++ actual\n@@ -1 +0,0 @@\n-hello"


def test_pathological_wildcards_finish_fast() -> None:
    actual = "\n".join(f"line {k}" for k in range(2000))
    cases = [
        "\n".join(["..."] * 50),
        "\n".join(["...", "line [..]"] * 50),
        "\n".join(["...", "missing"] * 25),
        "\n".join(["[..]a[..]a[..]a[..]b", "..."] * 25),
    ]
    started = time.perf_counter()
    results = [compare(expected, actual).ok for expected in cases]
    results += [compare(update_expected(expected, actual), actual).ok for expected in cases]
    assert time.perf_counter() - started < 5
    assert results == [True, True, False, False, True, True, True, True]


# -- update_expected ----------------------------------------------------------------------


def test_update_keeps_matching_wildcard_lines_and_replaces_changed_literals() -> None:
    expected = "Status: [..]\nItems:\n...\nTotal: 3\nDone"
    actual = "Status: ok\nItems:\n- a\n- b\n- c\n- d\nTotal: 4\nDone"
    assert update_expected(expected, actual) == "Status: [..]\nItems:\n...\nTotal: 4\nDone"


def test_update_keeps_an_expected_text_that_still_matches() -> None:
    expected = "NAME    READY\n...\nweb-[..]   1/1"
    assert update_expected(expected, "NAME  READY\ndb 1/1\nweb-x 1/1") == expected


def test_update_changes_what_no_longer_matches() -> None:
    assert update_expected("a\nb\nc", "a\nB\nc") == "a\nB\nc"
    assert update_expected("a\nb\nc", "a\nB\nc") != "a\nb\nc"


def test_update_replaces_the_literal_line_next_to_an_ellipsis() -> None:
    # The changed line takes the actual line in its place; the ellipsis keeps only the lines it stood for.
    assert update_expected("a\n...\nz", "a\nb\nc\ny") == "a\n...\ny"
    assert update_expected("z\n...\nend", "y\nb\nc\nend") == "y\n...\nend"


def test_update_keeps_an_ellipsis_alone() -> None:
    assert update_expected("...", "anything\nat all") == "..."
    assert update_expected("\n...\n", "") == "..."


def test_update_writes_actual_lines_with_their_own_spacing() -> None:
    actual = "\x1b[1mNAME\x1b[0m    TAGS   \nnginx   1.25\r\n10%\r100%"
    assert update_expected("NAME TAGS\nnginx 1.24", actual) == "NAME TAGS\nnginx   1.25\n100%"


def test_update_removes_lines_that_are_gone_and_adds_new_ones() -> None:
    assert update_expected("a\nold\nb", "a\nb\nnew") == "a\nb\nnew"
    assert update_expected("old", "") == ""
    assert update_expected("", "new") == "new"


ROUND_TRIPS = [
    ("a\nb\nc", "a\nB\nc"),
    ("...\nz", "z\ny"),
    ("[..]\n[..]", "one"),
    ("...\n[..]x\n...", "x\ny\nzx"),
    ("a [..] b", "a  b"),
    ("...", ""),
    ("", "..."),
    ("x", "[..]"),
    ("a\n\n\nb", "a\n\nc\n\nb"),
    ("  indented\n...", "\tindented\nmore"),
]


@pytest.mark.parametrize(("expected", "actual"), ROUND_TRIPS)
def test_updated_text_matches_the_output(expected: str, actual: str) -> None:
    assert compare(update_expected(expected, actual), actual).ok


def test_round_trip_check_can_fail() -> None:
    assert not compare("a\nb\nc", "a\nB\nc").ok  # the table above holds real mismatches


_LINES = st.sampled_from(
    ["a", "b", "c", "a b", "a   b", "  a", "", "...", "[..]", "a [..]", "[..] b", "x[..]y[..]z", "xyz", "1.25"]
)
_RAW = st.sampled_from(["\x1b[32mok\x1b[0m", "10%\r100%", "a\t b ", "line\r", "[..]", "...", " ..."])


@st.composite
def _texts(draw: st.DrawFn) -> str:
    return "\n".join(draw(st.lists(st.one_of(_LINES, _RAW), max_size=12)))


@settings(max_examples=400, deadline=None)
@given(_texts(), _texts())
def test_update_always_round_trips(expected: str, actual: str) -> None:
    assert compare(update_expected(expected, actual), actual).ok


@settings(max_examples=200, deadline=None)
@given(_texts(), _texts())
def test_update_leaves_a_matching_text_as_written(expected: str, actual: str) -> None:
    if compare(expected, actual).ok:
        assert normalize(update_expected(expected, actual)) == normalize(expected)


@settings(max_examples=200, deadline=None)
@given(_texts())
def test_a_text_matches_itself(text: str) -> None:
    assert compare(text, text).ok


@settings(max_examples=200, deadline=None)
@given(_texts(), _texts())
def test_diff_is_empty_exactly_when_ok(expected: str, actual: str) -> None:
    result = compare(expected, actual)
    assert (result.diff == "") == result.ok
    if not result.ok:
        assert result.diff.startswith("--- expected\n+++ actual\n@@ -")


# -- near-linear alignment: the same verdicts as the exact table, valid alignments on large texts --------------


@settings(max_examples=400, deadline=None)
@given(_texts(), _texts())
def test_the_wildcard_scan_agrees_with_the_exact_table(expected: str, actual: str) -> None:
    patterns = [_Pattern.of(line) for line in normalize(expected)]
    exact = all(op.tag in ("match", "absorb", "ellipsis") for op in _trace(patterns, normalize(actual)))
    assert compare(expected, actual).ok == exact


@pytest.mark.parametrize("seed", range(4))
def test_large_drifted_texts_get_a_diff_and_an_update_that_matches(seed: int) -> None:
    rng = random.Random(seed)
    expected = [
        rng.choice(["...", "pod/[..] Running", "line [..]"]) if rng.random() < 0.1 else f"line {k}" for k in range(1500)
    ]
    actual = [f"line {k + (rng.random() < 0.2)}" for k in range(3000)]
    result = compare("\n".join(expected), "\n".join(actual))
    assert not result.ok and result.diff.startswith("--- expected\n+++ actual\n@@ -")
    updated = update_expected("\n".join(expected), "\n".join(actual))
    assert compare(updated, "\n".join(actual)).ok


def test_a_large_matching_text_still_matches() -> None:
    actual = "\n".join(f"line {k}" for k in range(100_000))
    assert compare("line 0\n...\nline 500[..]\n...\nline 99999", actual).ok
    assert not compare("line 0\n...\nline 500[..]\n...\nline 99998", actual).ok
