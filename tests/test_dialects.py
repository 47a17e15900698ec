"""Katacoda's and Killercoda's dialects, read as they rendered them, through the one parser (site and harness)."""

from __future__ import annotations

import pytest
from support import render

from mkdocs_execute.model import Form, Kind
from mkdocs_execute.parsing import parse

CASES = {
    "multi-line span": ("Log in:\n\n`\noc login -u developer\n`{{execute}}\n\nNext.\n", [("oc login -u developer", 3)]),
    "multi-line double span": ("``\noc get pods\n``{{execute T2}}\n", [("oc get pods", 1)]),
    "multi-line triple span": (
        "```val num = List(1, 2)\nval rdd = sc.parallelize(num)```{{execute}}\n\nThen `ls`{{execute}}\n",
        [("val num = List(1, 2)\nval rdd = sc.parallelize(num)", 1), ("ls", 4)],
    ),
    "glued closer": (
        "```\nmkdir -p /opt\ncp -r a /opt/```{{execute}}\n\n`oc new-project t`{{execute}}\n\n```\nyaml: 1\n```\n",
        [("mkdir -p /opt\ncp -r a /opt/", 1), ("oc new-project t", 5)],
    ),
    "one-line triple span": ("```oc get pods```{{execute}} and ```ls```{{copy}}\n", [("oc get pods", 1), ("ls", 1)]),
    "trailing punctuation": ("```\nls\n```{{execute}}.\n\nRun `pwd`{{execute}}, then `id`{{exec}}!\n",
                             [("ls", 1), ("pwd", 5), ("id", 5)]),
    "short closer in a longer fence": ("````\nls -l\n```{{execute}}\n\nText `pwd`{{execute}}\n",
                                       [("ls -l", 1), ("pwd", 5)]),
    "killercoda": ("`ls -lh`{{exec}} `whoami`{{exec interrupt}} `copying disabled`{{}}\n",
                   [("ls -lh", 1), ("whoami", 1)]),
}  # fmt: skip

LITERAL = {
    "an example inside a longer fence": "````markdown\n```bash\nls\n```{{execute}}\n````\n",
    "an inner fence open in a longer one": "````\n```bash\nls\n```{{execute}}\n````\n",
    "a span that closes without a marker": "`\noc login\n` is the command\n",
    "a span past the paragraph's end": "`\noc login\n\n`{{execute}}\n",
    "jinja in yaml": '```yaml\nreplicas: {{ nginx_replicas }}\nstate: "{{ state }}"\n```\n',
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_dialect_is_read_as_katacoda_read_it(case: str) -> None:
    text, expected = CASES[case]
    lesson = parse(text)
    assert [(b.code, b.line) for b in lesson.blocks if b.kind is not Kind.OUTPUT] == expected
    assert not [d for d in lesson.diagnostics if d.code in {"no-code", "bad-marker", "unclosed-fence"}]
    html = render(text)
    assert html.count("data-mx-kind=") == len(expected)
    assert "{{" not in html and "```" not in html  # no marker, no stray fence left for readers


@pytest.mark.parametrize("case", list(LITERAL))
def test_what_katacoda_showed_as_text_stays_text(case: str) -> None:
    text = LITERAL[case]
    assert [b for b in parse(text).blocks if b.kind is not Kind.OUTPUT] == []
    assert "data-mx-kind" not in render(text)


def test_a_jinja_page_renders_as_without_the_plugin() -> None:
    import markdown

    text = LITERAL["jinja in yaml"] + "\nPlain {{ value }} and `code` {{ other }}.\n"
    plain = markdown.markdown(text, extensions=["pymdownx.superfences", "pymdownx.highlight", "attr_list"])
    assert render(text) == plain


def test_a_multi_line_command_keeps_its_lines_and_placeholders() -> None:
    text = "Then:\n`curl -X POST [[HOST_IP]] \\\n  --data 'x'`{{execute T2}}\n"
    (block,) = parse(text).blocks
    assert (block.form, block.code, block.placeholders, block.option("T2")) == (
        Form.INLINE,
        "curl -X POST [[HOST_IP]] \\\n  --data 'x'",
        ("HOST_IP",),
        "T2",
    )
    assert 'data-mx-command="curl -X POST 10.0.0.7 \\\n  --data &#x27;x&#x27;"' in render(text)


def test_messages_say_what_was_seen() -> None:
    lesson = parse("Just prose {{execute}} here.\n\n```\nls\n```{{exceute}}\n")
    messages = [d.message for d in lesson.diagnostics]
    assert "marker '{{execute}}' follows no code (it follows 'Just prose')" in messages
    assert "unknown marker '{{exceute}}' (did you mean '{{execute}}'?)" in messages


def test_a_fence_that_never_closes_is_text_so_later_markers_count() -> None:
    text = "```sh\n$ oc get deployment\nexample 4 53s```\n\n`oc get memcached`{{execute}}\n"
    lesson = parse(text)
    assert [b.code for b in lesson.blocks] == ["oc get memcached"]
    assert [d.code for d in lesson.diagnostics] == ["unclosed-fence"]
    assert render(text).count("data-mx-kind=") == 1


# -- expected outputs as readers see them ---------------------------------------------------------------------

WILD = "```bash\necho '...'\nls [..]\n```{{execute}}\n\n```\nNAME [..] READY\n...\nend\n```{{output}}\n"


@pytest.mark.parametrize("plain", [False, True], ids=["material", "plain"])
def test_wildcards_show_as_an_ellipsis_that_says_what_it_stands_for(plain: bool) -> None:
    html = render(WILD, plain=plain)
    output = html[html.index('data-mx-kind="output"') :]
    assert "[..]" not in output and "\n...\n" not in output
    assert output.count('class="mx-wild"') == 2
    assert 'aria-label="varie selon votre environnement"' in output
    assert 'aria-label="des lignes qui varient selon votre environnement"' in output
    command = html[: html.index('data-mx-kind="output"')]
    assert "mx-wild" not in command and "ls [..]" in command  # a command keeps its text: only outputs change
    (_, expected) = parse(WILD).blocks
    assert expected.code == "NAME [..] READY\n...\nend"  # the harness still reads the source


def test_placeholders_and_wildcards_side_by_side_stay_apart() -> None:
    html = render("```bash\nls\n```{{execute}}\n\n```\nNamespace:[..][[HOST_IP]]\n```{{output}}\n")
    assert 'mx-wild" role="img"' in html and '<span class="mx-var" data-mx-var="HOST_IP">10.0.0.7</span>' in html
    both = render("```bash\necho [[HOST_IP]][[USER_NAME]]\n```{{execute}}\n")
    assert 'data-mx-var="HOST_IP"' in both and 'data-mx-var="USER_NAME"' in both
