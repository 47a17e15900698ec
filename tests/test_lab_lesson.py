"""The lesson's registry half, run for real against the lab; the `oc` half skipped with its reason.

One test on purpose: the lesson needs the lab on its own ports (127.0.0.1:5000), so only
one worker may hold it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mkdocs_execute.harness import uses
from mkdocs_execute.lessons import read_lesson

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "lab" / "lab"
PAGE = "docs/05-pousser-une-image.md"

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(shutil.which("docker-registry") is None, reason="the lab's packages are not installed"),
]


def lab(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LAB), *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def lab_environment(state: Path) -> dict[str, str]:
    exported = subprocess.run(
        ["bash", "-c", f'. "{state}/env" && env -0'], capture_output=True, check=True, timeout=30
    ).stdout.decode()
    return dict(item.split("=", 1) for item in exported.split("\0") if "=" in item)


def registry_tags(env: dict[str, str], repository: str, password: str | None) -> tuple[int, list[str]]:
    request = urllib.request.Request(f"http://127.0.0.1:5000/v2/{repository}/tags/list")
    if password is not None:
        token = base64.b64encode(f"{env['MX_LAB_REGISTRY_USER']}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)["tags"]
    except urllib.error.HTTPError as error:
        return error.code, []


def test_the_lesson_runs_against_the_lab(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "docs", project / "docs")
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    state = tmp_path / "lab"
    base = {**os.environ, "MX_LAB_DIR": str(state), "NO_MKDOCS_2_WARNING": "1"}
    assert lab("start", env=base).returncode == 0
    try:
        env = lab_environment(state)
        assert lab("login", env=env).returncode == 0
        registry = subprocess.run(["docker-registry", "--version"], capture_output=True, text=True, check=False)
        version = registry.stdout.split()[-1] if registry.stdout.split() else "?"
        where = f"le lab local (docker-registry {version})"
        run = subprocess.run(
            [sys.executable, "-m", "mkdocs_execute.cli", "run", "docs", "--var", "HOST_IP=127.0.0.1",
             "--record", ".verification/latest.json", "--environment", where,
             "--junitxml", "junit.xml"],
            cwd=project, capture_output=True, text=True, env=env, timeout=600, check=False,
        )  # fmt: skip
        print(run.stdout)  # the closing note quotes which blocks ran and which were skipped
        assert run.returncode == 0, run.stdout + run.stderr
        check_verdicts(project)
        password = Path(env["MX_LAB_REGISTRY_PASSWORD_FILE"]).read_text().strip()
        assert registry_tags(env, "advanced/lighttpd", password) == (200, ["latest"])
        assert registry_tags(env, "advanced/lighttpd", None)[0] == 401
        check_stamps(project, env)
    finally:
        lab("stop", env=base)
    assert lab("status", env=base).returncode != 0 and not state.exists()


def check_verdicts(project: Path) -> None:
    """Every docker block of the page passed for real; every oc block was skipped, saying why."""
    lesson = read_lesson(project / PAGE, PAGE).lesson
    cases = {c.get("name"): c for c in ET.parse(project / "junit.xml").getroot().iter("testcase")}
    docker_only = [b for b in lesson.runnable if uses(b.code, "docker") and not uses(b.code, "oc")]
    with_oc = [b for b in lesson.runnable if uses(b.code, "oc")]
    assert len(docker_only) >= 6 and with_oc
    for block in docker_only:
        case = cases[f"{PAGE}::L{block.line}"]
        assert case.find("failure") is None and case.find("skipped") is None, block.code
    for block in with_oc:
        skipped = cases[f"{PAGE}::L{block.line}"].find("skipped")
        assert skipped is not None and skipped.get("message") == "requires `oc`, which is not installed"


def check_stamps(project: Path, env: dict[str, str]) -> None:
    site = project / "site"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
        cwd=project, env=env, check=True, timeout=300,
    )  # fmt: skip
    pushed = (site / "05-pousser-une-image" / "index.html").read_text()
    stamp = re.search(r'<p class="mx-stamp[^"]*" data-mx-stamp="(\w+)".*?</p>', pushed)
    assert stamp is not None and stamp[1] == "verified"
    assert "sur le lab local" in stamp[0] and "<code>oc</code> n’est pas installé" in stamp[0]
    only_oc = (site / "02-flux-d-images" / "index.html").read_text()
    assert 'data-mx-stamp="unverified"' in only_oc and "Vérifié le" not in only_oc
    assert 'data-mx-stamp="verified"' in (site / "guide-redaction" / "index.html").read_text()
    assert "mx-stamp" not in (site / "index.html").read_text()
