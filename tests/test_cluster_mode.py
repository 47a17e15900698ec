"""Cluster mode cannot run here (no OpenShift); what can be checked without one is checked."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "lab" / "cluster"
WORKFLOW = ROOT / ".github" / "workflows" / "lesson-on-openshift.yml"


def test_the_script_parses_and_refuses_to_run_without_secrets() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)], check=False).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENSHIFT_")}
    result = subprocess.run([str(SCRIPT)], capture_output=True, text=True, env=env, check=False)
    assert result.returncode != 0 and "OPENSHIFT_SERVER" in result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_script_passes_shellcheck() -> None:
    assert subprocess.run(["shellcheck", str(SCRIPT)], check=False).returncode == 0


def test_the_script_requires_everything_isolates_and_cleans_up() -> None:
    text = SCRIPT.read_text()
    for needed in ["--require-all", '--var PROJECT="$project"', "--secret OPENSHIFT_TOKEN", "trap cleanup EXIT"]:
        assert needed in text
    assert 'oc delete project "$project"' in text and 'project="advanced-${run_id}"' in text
    assert "echo $OPENSHIFT_TOKEN" not in text and "set -x" not in text


def test_the_workflow_runs_the_script_with_secrets() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = workflow["jobs"]["lesson"]["steps"]
    run = next(step for step in steps if step.get("run") == "lab/cluster")
    assert run["env"]["OPENSHIFT_TOKEN"] == "${{ secrets.OPENSHIFT_TOKEN }}"
    assert run["env"]["OPENSHIFT_SERVER"] == "${{ secrets.OPENSHIFT_SERVER }}"
    uploads = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["if"] == "always()"
