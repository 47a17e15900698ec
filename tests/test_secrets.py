"""The README's masking table, checked channel by channel: no secret reaches any of them.

One scenario prints secrets every way a CI meets them: a token named with `--secret`, one named in the
plugin's `secrets`, one in the page's front matter (all three from the environment, none a placeholder),
a `secret` block's own output, a token split by an escape sequence, one rebuilt with `\\r`, and one
quoted in a front matter check that ends up in the record and the stamp. The same scenario without the
declarations shows the values in every channel: each check can fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_harness import ENV, fence, output

ROOT = Path(__file__).resolve().parent.parent
TOKENS = {
    "TOKEN": "tok3n-from-the-cli-8f2a91",
    "PLUGIN_TOKEN": "plug1n-token-77c0de",
    "PAGE_TOKEN": "page-token-5b6e4d",
}
GENERATED = "generated-42-value"


def scenario(masked: bool) -> str:
    token = TOKENS["TOKEN"]
    front = "---\nexecute:\n"
    if masked:
        front += "  secrets: [PAGE_TOKEN]\n"
    front += f"  requires:\n    commands: [grep]\n    checks: ['grep -q never-{token} /dev/null']\n---\n"
    secret = "<<execute secret>>" if masked else "<<execute>>"
    return (
        front
        + fence('echo "plain $TOKEN $PLUGIN_TOKEN $PAGE_TOKEN"')
        + output("wrong")
        + "\n"
        + fence('printf \'ansi %s\\033[0m%s\\n\' "${TOKEN:0:5}" "${TOKEN:5}"')
        + output("wrong")
        + "\n"
        + fence('printf \'cr ?????%s\\rcr %s\\n\' "${TOKEN:5}" "${TOKEN:0:5}"')
        + output("wrong")
        + "\n"
        + fence("echo generated-$((40 + 2))-value", secret)
        + output("wrong")
        + "\n"
        + fence("echo again generated-$((40 + 2))-value")
        + output("wrong")
        + "\n"
        + fence("grep -c x /dev/null")
        + "\n"
        + fence('echo "failing with $TOKEN" >&2; exit 1')
    )


def project(root: Path, masked: bool) -> Path:
    (root / "docs").mkdir(parents=True)
    plugin = "{record: rec.json, secrets: [PLUGIN_TOKEN]}" if masked else "{record: rec.json}"
    (root / "mkdocs.yml").write_text(f"site_name: S\nplugins: [execute: {plugin}]\n")
    (root / "docs" / "s.md").write_text(scenario(masked))
    return root


def run(root: Path, *args: str) -> str:
    done = subprocess.run(
        args, cwd=root, capture_output=True, text=True, env={**ENV, **TOKENS}, timeout=300, check=False
    )
    return done.stdout + done.stderr


def harness(root: Path, masked: bool, *args: str) -> str:
    secret = ["--secret", "TOKEN"] if masked else []
    return run(root, sys.executable, "-m", "mkdocs_execute.cli", "run", "docs", *secret, *args)


def channels(root: Path, masked: bool) -> dict[str, str]:
    """What each channel of the table holds after the scenario."""
    terminal = harness(root, masked, "--junitxml", "j.xml", "--json", "r.json", "--record", "rec.json")
    run(root, sys.executable, "-m", "mkdocs", "build", "-q", "-d", "site")
    stamp = (root / "site" / "s" / "index.html").read_text()
    secret = ["--secret", "TOKEN"] if masked else []
    pytest_out = run(
        root, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *secret, "--mkdocs-execute", "docs"
    )
    pytest_out += run(root, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-ra", "-vv", *secret,
                      "--mkdocs-execute", "docs", "--junitxml", "pj.xml")  # fmt: skip
    pytest_out += (root / "pj.xml").read_text()
    before = (root / "docs" / "s.md").read_text().splitlines()
    updated = harness(root, masked, "--update")
    written = [line for line in (root / "docs" / "s.md").read_text().splitlines() if line not in before]
    updated += "\n".join(written)  # what update mode wrote (the page's own check quotes a token)
    return {
        "terminal": terminal,
        "junit": (root / "j.xml").read_text(),
        "json": (root / "r.json").read_text(),
        "record": (root / "rec.json").read_text(),
        "stamp": stamp,
        "update": updated,
        "pytest": pytest_out,
        "disk": _disk(),
    }


def _disk() -> str:
    """Whatever the harness keeps in the temporary folders it uses."""
    found = []
    for folder in ("/dev/shm", "/tmp"):
        for entry in Path(folder).glob("mkdocs-execute-*") if os.path.isdir(folder) else ():
            for path in [entry, *entry.rglob("*")] if entry.is_dir() else [entry]:
                if path.is_file():
                    found.append(path.read_text(errors="replace"))
    return "\n".join(found)


def readme_channels() -> list[str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- masking-table -->")[1]
    return re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE)


@pytest.fixture(scope="module")
def masked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return channels(project(tmp_path_factory.mktemp("masked"), masked=True), masked=True)


@pytest.fixture(scope="module")
def unmasked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return channels(project(tmp_path_factory.mktemp("unmasked"), masked=False), masked=False)


SECRETS = [*TOKENS.values(), GENERATED]


def test_the_readme_table_names_exactly_the_channels_checked_here() -> None:
    assert sorted(readme_channels()) == sorted(CHANNELS)


CHANNELS: dict[str, Callable[[str], list[str]]] = {
    "terminal": lambda text: SECRETS,
    "junit": lambda text: SECRETS,
    "json": lambda text: SECRETS,
    "record": lambda text: [TOKENS["TOKEN"]],  # what a record quotes: the check
    "stamp": lambda text: [TOKENS["TOKEN"]],
    "update": lambda text: SECRETS,
    "pytest": lambda text: SECRETS,
    "disk": lambda text: SECRETS,
}


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_no_secret_reaches_the_channel(channel: str, masked: dict[str, str]) -> None:
    text = masked[channel]
    leaked = [value for value in CHANNELS[channel](text) if value in text]
    assert leaked == []
    if channel not in ("disk",):
        assert "***" in text or "[..]" in text, f"{channel} shows nothing masked: the scenario did not reach it"


@pytest.mark.parametrize("channel", [c for c in CHANNELS if c != "disk"])  # disk: see test_running.py
def test_without_the_declarations_the_channel_shows_them(channel: str, unmasked: dict[str, str]) -> None:
    text = unmasked[channel]
    assert all(value in text for value in CHANNELS[channel](text)), channel
