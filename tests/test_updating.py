"""Update mode's file rewriting: only output bodies change, byte for byte, and files are replaced atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mkdocs_execute.matching import compare
from mkdocs_execute.model import Block, Kind, Lesson
from mkdocs_execute.parsing import parse
from mkdocs_execute.updating import replace_output, replace_outputs, write_atomically

FRONT = "---\ntitle: Demo\ntimeout: 30\n---\n"
PAGE = """\
# Lesson

1. List the files:

    ```bash
    ls
    ```{{execute}}

    ```
    old.txt
    ```{{output}}

> Then in a quote:
>
> ```bash
> echo quoted
> ```<<execute>>
>
> ```
> stale
> ```<<output>>

Last:

```bash
uname
```{{execute}}

```
Linux
```{{output}}
"""


def _page(crlf: bool) -> tuple[str, int]:
    text = FRONT + PAGE
    return (text.replace("\n", "\r\n") if crlf else text), FRONT.count("\n")


def _lesson(text: str, offset: int) -> Lesson:
    """Parse as the harness does: front matter cut, line endings as Python's text mode reads them."""
    return parse("\n".join(text.replace("\r\n", "\n").split("\n")[offset:]), offset)


def _outputs(text: str, offset: int) -> list[Block]:
    return [block for block in _lesson(text, offset).blocks if block.kind is Kind.OUTPUT]


def _outside(text: str, block: Block, offset: int) -> tuple[str, str]:
    """The bytes before the body (up to the opening fence's line ending) and from the closing fence on."""
    assert block.body is not None
    lines = text.split("\n")
    start, end = block.body.start + offset, block.body.end + offset
    return "\n".join(lines[:start]) + "\n", "\n".join(lines[end:])


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_only_the_body_of_the_list_item_block_changes(crlf: bool) -> None:
    text, offset = _page(crlf)
    block = _outputs(text, offset)[0]
    result = replace_output(text, block, "new.txt\n\n  indented  twice", offset)
    head, tail = _outside(text, block, offset)
    eol = "\r\n" if crlf else "\n"
    assert result == head + f"    new.txt{eol}{eol}      indented  twice{eol}" + tail
    assert _outputs(result, offset)[0].code == "new.txt\n\n  indented  twice"


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_only_the_body_of_the_blockquote_block_changes(crlf: bool) -> None:
    text, offset = _page(crlf)
    block = _outputs(text, offset)[1]
    result = replace_output(text, block, "quoted\n\n> not a quote", offset)
    head, tail = _outside(text, block, offset)
    eol = "\r\n" if crlf else "\n"
    assert result == head + f"> quoted{eol}>{eol}> > not a quote{eol}" + tail
    assert _outputs(result, offset)[1].code == "quoted\n\n> not a quote"


def test_the_byte_comparison_notices_a_change_outside_the_body() -> None:
    text, offset = _page(crlf=True)
    block = _outputs(text, offset)[0]
    head, tail = _outside(text, block, offset)
    converted = replace_output(text, block, "new.txt", offset).replace("\r\n", "\n")  # endings lost on the way
    assert converted != head + "    new.txt\r\n" + tail


def test_line_endings_and_front_matter_survive() -> None:
    text, offset = _page(crlf=True)
    result = replace_output(text, _outputs(text, offset)[2], "Darwin", offset)
    assert result.startswith(FRONT.replace("\n", "\r\n"))
    assert result.count("\r\n") == text.count("\r\n") and "\n" not in result.replace("\r\n", "")
    assert result == text.replace("```\r\nLinux\r\n```{{output}}", "```\r\nDarwin\r\n```{{output}}")


def test_an_empty_body_leaves_the_fence_empty() -> None:
    text, offset = _page(crlf=False)
    result = replace_output(text, _outputs(text, offset)[2], "", offset)
    assert result.endswith("```{{execute}}\n\n```\n```{{output}}\n")
    assert _outputs(result, offset)[2].code == ""


def test_a_trailing_newline_in_the_body_adds_no_line() -> None:
    text, offset = _page(crlf=False)
    block = _outputs(text, offset)[2]
    assert replace_output(text, block, "Darwin\n", offset) == replace_output(text, block, "Darwin", offset)


def test_two_replacements_at_once() -> None:
    text, offset = _page(crlf=True)
    first, second, third = _outputs(text, offset)
    result = replace_outputs(text, [(first, "a\nb\nc"), (third, "Darwin\narm64")], offset)
    assert [block.code for block in _outputs(result, offset)] == ["a\nb\nc", second.code, "Darwin\narm64"]
    head, _ = _outside(text, first, offset)
    _, tail = _outside(text, third, offset)
    assert result.startswith(head) and result.endswith(tail)
    # Order of the list does not matter: spans are applied from the bottom up.
    assert replace_outputs(text, [(third, "Darwin\narm64"), (first, "a\nb\nc")], offset) == result


def test_the_same_block_twice_is_refused() -> None:
    text, offset = _page(crlf=False)
    block = _outputs(text, offset)[0]
    with pytest.raises(ValueError, match="twice"):
        replace_outputs(text, [(block, "a"), (block, "b")], offset)


def test_a_body_with_fence_lines_gets_a_longer_fence() -> None:
    text, offset = _page(crlf=False)
    block = _outputs(text, offset)[2]
    result = replace_output(text, block, "```\nrm -rf /\n```{{execute}}", offset)
    assert "````\n```\nrm -rf /\n```{{execute}}\n````{{output}}\n" in result
    assert result.replace("````", "```").count("```") == text.count("```") + 2  # no other byte changes
    after = parse("\n".join(result.split("\n")[offset:]), offset)
    assert [b.code for b in after.blocks if b.kind is Kind.OUTPUT][2] == "```\nrm -rf /\n```{{execute}}"
    assert replace_output(text, block, "before\n  ``not a fence``\nafter", offset).count("````") == 0


def test_a_longer_fence_in_a_list_item_keeps_its_indent() -> None:
    text, offset = _page(crlf=False)
    block = _outputs(text, offset)[0]
    result = replace_output(text, block, "~~~\n`````", offset)
    assert "    ``````\n    ~~~\n    `````\n    ``````{{output}}\n" in result


def test_a_lone_carriage_return_in_the_file_is_a_line_break() -> None:
    text = "intro\rmore\r\n```bash\r\nls\r\n```{{execute}}\n\n```\rold\r```{{output}}\rend\n"
    lesson = parse(text.replace("\r\n", "\n").replace("\r", "\n"))
    block = next(b for b in lesson.blocks if b.kind is Kind.OUTPUT)
    assert replace_output(text, block, "new\nlines", 0) == text.replace("\rold\r", "\rnew\rlines\r")


def test_a_stale_block_is_refused() -> None:
    text, offset = _page(crlf=False)
    block = _outputs(text, offset)[0]
    with pytest.raises(ValueError, match="parse the file again"):
        replace_output("intro\n" + text, block, "x", offset)  # a line was added since parsing
    with pytest.raises(ValueError, match="parse the file again"):
        replace_output(text, block, "x", offset + 1)  # wrong front-matter offset
    with pytest.raises(ValueError, match="parse the file again"):
        replace_output(text.replace("old.txt", "older.txt"), block, "x", offset)  # edited since parsing


def test_only_output_blocks_are_rewritten() -> None:
    text, offset = _page(crlf=False)
    command = _lesson(text, offset).blocks[0]
    with pytest.raises(ValueError, match="output block"):
        replace_output(text, command, "whoami", offset)


def test_a_new_line_with_a_bare_carriage_return_is_refused() -> None:
    text, offset = _page(crlf=False)
    with pytest.raises(ValueError, match="carriage return"):
        replace_output(text, _outputs(text, offset)[2], "10%\r100%", offset)


def test_hidden_block_cannot_be_given_a_comment_end() -> None:
    text = "```bash\nls\n```{{execute}}\n\n<!--\n```\nx\n```{{output}}\n-->\n"
    block = _outputs(text, 0)[0]
    assert block.hidden
    assert replace_output(text, block, "y", 0) == text.replace("\nx\n", "\ny\n")
    # `-->` would end the comment; a wildcard stands in for it, and still matches it
    assert replace_output(text, block, "a --> b", 0) == text.replace("\nx\n", "\na --[..] b\n")
    assert compare("a --[..] b", "a --> b").ok and not compare("a --[..] b", "a -> b").ok


# -- write_atomically ---------------------------------------------------------------------


def test_content_is_written_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_bytes(b"old\n")
    write_atomically(path, "caf\u00e9\r\nline\n")
    assert path.read_bytes() == "caf\u00e9\r\nline\n".encode()
    assert sorted(os.listdir(tmp_path)) == ["page.md"]


def test_permissions_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o604)  # neither mkstemp's 0600 nor a usual default
    write_atomically(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o604
    assert path.read_text(encoding="utf-8") == "new"


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    write_atomically(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"


def test_a_failed_replace_leaves_the_original_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "page.md"
    original = b"keep\r\nme\n"
    path.write_bytes(original)

    def broken(src: object, dst: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk on fire"):
        write_atomically(path, "lost")
    assert path.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["page.md"]


def test_a_failed_write_leaves_the_original_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_bytes(b"keep")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(path, "half written \ud800")  # a lone surrogate cannot be encoded
    assert path.read_bytes() == b"keep"
    assert sorted(os.listdir(tmp_path)) == ["page.md"]


def test_the_failure_check_can_fail(tmp_path: Path) -> None:
    """Without the atomic dance, a failing write does destroy the original: the checks above mean something."""
    path = tmp_path / "page.md"
    path.write_bytes(b"keep")
    with pytest.raises(UnicodeEncodeError), path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("half written \ud800")
    assert path.read_bytes() != b"keep"
