"""The lesson model the site and the harness share."""

from __future__ import annotations

from pathlib import Path

import pytest

from mkdocs_execute.model import Form, Kind, Option
from mkdocs_execute.options import markdown_table, problems
from mkdocs_execute.parsing import language_of, parse, read_marker

GOLDEN = Path(__file__).parent / "golden"


def lesson(name: str):  # type: ignore[no-untyped-def]
    return parse((GOLDEN / f"{name}.md").read_text(encoding="utf-8"))


def test_block_form_kinds_languages_and_lines() -> None:
    blocks = lesson("block-execute").blocks
    assert [(b.kind, b.language, b.code, b.line) for b in blocks] == [
        (Kind.EXECUTE, "", "oc get pods", 3),
        (Kind.EXECUTE, "bash", "oc get is -n openshift", 7),
        (Kind.COPY, "shell", "cat /etc/os-release", 11),
    ]
    assert all(b.form is Form.BLOCK for b in blocks)


def test_every_marker_spelling() -> None:
    for text, name, options in [
        ("{{execute}}", "execute", ()),
        ("{{exec}}", "exec", ()),
        ("{{ execute }}", "execute", ()),
        ("<<execute T1>>", "execute", (Option("T1"),)),
        ("<< copy >>", "copy", ()),
        ("{{open}}", "open", ()),
        ("{{execute test-x timeout=30}}", "execute", (Option("test-x"), Option("timeout", "30"))),
    ]:
        marker = read_marker(text)
        assert marker is not None and (marker.name, marker.options) == (name, options), text
    assert read_marker("{{ state }}") is not None and read_marker("{{ state }}").kind is None  # type: ignore[union-attr]
    assert read_marker("\\{{execute}}") is None
    assert read_marker("{{ nginx_replicas | default(2) }}") is None


def test_options_and_their_values() -> None:
    blocks = lesson("options").blocks
    assert blocks[1].options == (Option("T2"), Option("interrupt"))
    assert blocks[2].has("HOST2")
    assert blocks[5].option("timeout") == "30" and blocks[5].has("test-uname")
    assert blocks[6].option("wait") == "10" and blocks[6].option("missing", "x") == "x"


def test_inline_form_with_single_and_double_backticks() -> None:
    blocks = lesson("inline").blocks
    assert [(b.form, b.kind, b.code) for b in blocks] == [
        (Form.INLINE, Kind.EXECUTE, "ls -l"),
        (Form.INLINE, Kind.EXECUTE, "echo `date`"),
        (Form.INLINE, Kind.COPY, "export A=1"),
        (Form.INLINE, Kind.OPEN, "app.py"),
        (Form.INLINE, Kind.EXECUTE, "printf '`x`'"),
    ]
    assert blocks[4].options == (Option("T1"),) and blocks[4].line == 3


def test_output_pairs_with_the_runnable_block_before_it() -> None:
    parsed = lesson("output")
    first, output, second, empty, orphan = parsed.blocks
    assert first.expected == output and output.code == "hello"
    assert second.expected == empty and empty.option("exit") == "1"
    assert orphan.kind is Kind.OUTPUT and [d.code for d in parsed.diagnostics] == ["orphan-output"]
    assert [b.code for b in parsed.runnable] == ["echo hello", "false"]


def test_fences_inside_longer_fences_lists_and_quotes() -> None:
    nested = lesson("nested-fences").blocks
    assert [(b.kind, b.line) for b in nested] == [(Kind.EXECUTE, 7), (Kind.COPY, 11)]
    assert nested[0].code == 'echo "```{{execute}}"'
    assert nested[1].code == "````\n```\nnot a block\n```{{execute}}\n````"
    containers = lesson("containers").blocks
    assert [(b.code, b.line) for b in containers] == [
        ("oc login -u alice", 3),
        ("oc projects", 9),
        ("oc whoami", 17),
        ("echo quoted", 23),
        ("echo deep", 29),
    ]


def test_placeholders_in_code_and_prose() -> None:
    parsed = lesson("placeholders")
    assert parsed.names == ["HOST_IP", "USER_NAME"]
    assert parsed.blocks[0].placeholders == ("HOST_IP", "USER_NAME")
    prose = [p.line for p in parsed.placeholders if not p.in_code]
    assert prose == [1, 1, 5, 5]
    assert (1, False) in [(p.line, p.in_code) for p in parsed.placeholders]


def test_escapes_and_jinja_are_not_markers() -> None:
    assert lesson("escape").blocks[0].placeholders == ("HOST_IP",)
    assert [b.code for b in lesson("escape").blocks] == ["echo '\\[[HOST_IP]] stays literal, [[HOST_IP]] does not'"]
    jinja = lesson("jinja")
    assert len(jinja.blocks) == 1 and jinja.diagnostics == [] and jinja.placeholders == []


def test_verbatim_markdown_blocks_hold_nothing() -> None:
    parsed = lesson("verbatim-markdown")
    assert parsed.blocks == [] and parsed.placeholders == [] and parsed.diagnostics == []


def test_line_offset_counts_cut_front_matter() -> None:
    assert parse("```\nls\n```{{execute}}\n", line_offset=4).blocks[0].line == 5


def test_language_of_info_strings() -> None:
    assert [language_of(i) for i in ["bash", "{.bash .x}", 'bash title="x"', "", 'title="x"', "{ #id }"]] == [
        "bash",
        "bash",
        "bash",
        "",
        "",
        "",
    ]


def test_a_plain_page_has_no_blocks() -> None:
    parsed = lesson("no-marker")
    assert parsed.blocks == [] and parsed.diagnostics == []
    assert parse("```\nls\n```{{execute}}\n").blocks != []


def test_tabs_in_code_stay_tabs() -> None:
    top = parse("```bash\ncat <<-EOF\n\tindented by a tab\n\tEOF\n```{{execute}}\n").blocks[0]
    assert top.code == "cat <<-EOF\n\tindented by a tab\n\tEOF"
    listed = parse("- step:\n\n    ```bash\n    cat <<-EOF\n    \tx\n    \tEOF\n    ```{{execute}}\n").blocks[0]
    assert listed.code == "cat <<-EOF\n\tx\n\tEOF"  # only the list's own indentation goes


# -- the option catalogue: one table, in the README and the writer's guide alike ------------------------------


def _documented(path: str) -> str:
    text = (Path(__file__).resolve().parent.parent / path).read_text(encoding="utf-8")
    return text.split("<!-- options-table -->")[1].strip()


def test_the_readme_and_the_guide_carry_the_catalogue() -> None:
    assert _documented("README.md") == markdown_table("en")
    assert _documented("docs/guide-redaction.md") == markdown_table("fr")


def test_the_table_check_can_fail() -> None:
    assert markdown_table("en") != markdown_table("fr")
    assert "`timeout=…`" in markdown_table("en") and "`secret`" in markdown_table("en")


@pytest.mark.parametrize(
    ("option", "errors", "warnings"),
    [
        ("timeout=30", [], []),
        ("timeout=abc", ["bad option `timeout=abc`: 'abc' is not a number of seconds"], []),
        ("timeout=nan", ["bad option `timeout=nan`: 'nan' is not a finite number of seconds, more than zero"], []),
        ("exit=300", ["bad option `exit=300`: '300' is not an exit status (0 to 255)"], []),
        ("timout=5", [], ["unknown option `timout=5` (did you mean `timeout`?)"]),
        ("colour=red", [], ["unknown option `colour=red`"]),
        ("test-uname", [], []),
        ("T12", [], []),
        ("timeout", ["option `timeout` needs a value: `timeout=…` (seconds, finite, > 0)"], []),
    ],
)
def test_options_are_checked_against_the_catalogue(option: str, errors: list[str], warnings: list[str]) -> None:
    name, sep, value = option.partition("=")
    assert problems([Option(name, value if sep else None)]) == (errors, warnings)


def test_model_constructors_match_their_fields_and_stay_frozen() -> None:
    import dataclasses
    import inspect

    from mkdocs_execute.model import Block, Span

    for cls in (Block, Span):
        wanted = [(f.name, f.default) for f in dataclasses.fields(cls)]
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        assert [(p.name, p.default if p.default is not p.empty else dataclasses.MISSING) for p in params] == wanted
    block = parse("```bash\necho hi\n```{{execute}}\n").blocks[0]
    assert (block.fence, block.body) == (Span(0, 3), Span(1, 2))
    assert dataclasses.replace(block, code="x") == Block(**{**vars(block), "code": "x"})
    assert dataclasses.replace(block, code="x") != block
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.code = "rm -rf /"  # type: ignore[misc]
    assert hash(Span(1, 2)) == hash(Span(1, 2)) and Span(1, 2) != Span(1, 3)
