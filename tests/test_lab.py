"""The lab (lab/lab): real registries and a real podman behind `docker`, all on this machine.

Every test runs real processes. Each pytest-xdist worker starts its own lab, with its own state
dir and ports, because `-n 2` may send the tests of this module to both workers; so no test here
counts on another having run first. The ports are not the lesson's 5000/5001, so that a lab a
writer has running for the lesson is left alone.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import ROOT

LAB = ROOT / "lab" / "lab"
LABEL = "io.github.mkdocs-execute.lab"
MISSING = [tool for tool in ("podman", "docker-registry", "htpasswd", "curl") if shutil.which(tool) is None]

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(bool(MISSING), reason=f"the lab needs {', '.join(MISSING)}: run `lab/lab install`"),
]


@dataclass
class Lab:
    state: Path
    port: int
    mirror_port: int

    @property
    def registry(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def mirror(self) -> str:
        return f"127.0.0.1:{self.mirror_port}"

    def environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTAINERS_", "MX_LAB_", "REGISTRY_AUTH"))}
        return {
            **env,
            "MX_LAB_DIR": str(self.state),
            "MX_LAB_PORT": str(self.port),
            "MX_LAB_MIRROR_PORT": str(self.mirror_port),
        }

    def lab(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run([str(LAB), *args], self.environ(), check)

    def sh(self, script: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
        """Run SCRIPT the way the harness will: in bash, after sourcing the lab's env file."""
        return _run(["bash", "-c", f'. "$MX_LAB_DIR/env" && {script}'], {**self.environ(), **extra}, check)

    def password(self) -> str:
        return (self.state / "password").read_text().strip()

    def api(self, path: str, auth: tuple[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(f"http://{self.registry}/v2/{path}")
        if auth:
            request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, {}


def _run(argv: list[str], env: dict[str, str], check: bool) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    if check and result.returncode:
        pytest.fail(
            f"{argv[-1]!r} exited {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def _ports(offset: int) -> tuple[int, int]:
    # gw0, gw1… each get their own pair; without xdist, the pair of "gw0".
    worker = int(re.sub(r"\D", "", os.environ.get("PYTEST_XDIST_WORKER", "")) or 0)
    base = 15000 + 100 * worker + offset
    return base, base + 1


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _registry_processes(state: Path) -> list[int]:
    """Live docker-registry processes serving a config of STATE (zombies are already dead)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            stat = (proc / "stat").read_text()
        except (OSError, ValueError):
            continue
        ours = b"docker-registry" in cmdline[0] and any(str(state).encode() in part for part in cmdline)
        if ours and stat.rpartition(")")[2].split()[0] != "Z":
            found.append(int(proc.name))
    return found


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    port, mirror_port = _ports(0)
    started = Lab(tmp_path_factory.mktemp("lab") / "state", port, mirror_port)
    started.lab("start")
    try:
        started.lab("login")
        yield started
    finally:
        started.lab("stop", check=False)


def test_pull_is_served_by_the_mirror_and_nothing_else(lab: Lab) -> None:
    pulled = lab.sh("docker --log-level=debug pull gists/lighttpd")
    # podman logs every HTTP request it makes: the only host it may talk to is the mirror.
    hosts = set(re.findall(r'msg="(?:GET|HEAD|POST|PUT) https?://([^/"]+)/', pulled.stderr))
    assert hosts == {lab.mirror}, pulled.stderr
    [image] = json.loads(lab.sh("docker inspect gists/lighttpd").stdout)
    assert image["Config"]["Labels"][LABEL] == "true"
    assert image["Config"]["ExposedPorts"] == {"80/tcp": {}}
    request = urllib.request.Request(f"http://{lab.mirror}/v2/gists/lighttpd/manifests/latest", method="HEAD")
    request.add_header("Accept", "application/vnd.oci.image.manifest.v1+json")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert image["Digest"] == response.headers["Docker-Content-Digest"]


def test_an_unknown_image_fails_locally(lab: Lab) -> None:
    pulled = lab.sh("docker pull nginx", check=False)
    assert pulled.returncode != 0
    assert lab.mirror in pulled.stderr, pulled.stderr


def test_tag_and_push_reach_the_registry(lab: Lab) -> None:
    target = f"{lab.registry}/advanced/lighttpd"
    lab.sh(f"docker pull -q gists/lighttpd && docker tag docker.io/gists/lighttpd {target} && docker push {target}")
    images = lab.sh("docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}'").stdout.splitlines()
    ids = dict(line.split() for line in images)
    assert ids[f"{target}:latest"] == ids["docker.io/gists/lighttpd:latest"], images
    credentials = ("developer", lab.password())
    status, catalog = lab.api("_catalog", credentials)
    assert status == 200 and "advanced/lighttpd" in catalog["repositories"]
    assert lab.api("advanced/lighttpd/tags/list", credentials) == (
        200,
        {"name": "advanced/lighttpd", "tags": ["latest"]},
    )
    assert json.loads(lab.lab("tags", "advanced/lighttpd").stdout)["tags"] == ["latest"]
    assert "advanced/lighttpd" in json.loads(lab.lab("catalog").stdout)["repositories"]


def test_the_registry_api_wants_the_password(lab: Lab) -> None:
    assert lab.api("_catalog")[0] == 401
    assert lab.api("_catalog", ("developer", "not-the-password"))[0] == 401
    assert lab.api("_catalog", ("developer", lab.password()))[0] == 200


def test_push_without_login_is_refused(lab: Lab, tmp_path: Path) -> None:
    target = f"{lab.registry}/advanced/anonymous"
    lab.sh(f"docker pull -q gists/lighttpd && docker tag docker.io/gists/lighttpd {target}")
    (tmp_path / "auth.json").write_text('{"auths": {}}\n')
    # An empty auth file, and a HOME without ~/.docker or ~/.config/containers, which podman also reads.
    pushed = lab.sh(f'REGISTRY_AUTH_FILE="{tmp_path}/auth.json" docker push {target}', check=False, HOME=str(tmp_path))
    assert pushed.returncode != 0
    assert re.search(r"authentication required|unauthorized", pushed.stderr, re.IGNORECASE), pushed.stderr
    status, catalog = lab.api("_catalog", ("developer", lab.password()))
    assert status == 200 and "advanced/anonymous" not in catalog.get("repositories", [])


def test_rmi_removes_the_short_name(lab: Lab) -> None:
    lab.sh("docker pull -q gists/lighttpd")
    lab.sh("docker rmi gists/lighttpd")
    assert "docker.io/gists/lighttpd" not in lab.sh("docker images --format '{{.Repository}}'").stdout
    assert lab.sh("docker rmi gists/lighttpd", check=False).returncode != 0


def test_start_twice_then_stop_leaves_nothing(tmp_path: Path) -> None:
    own = Lab(tmp_path / "state", *_ports(50))
    own.lab("start")
    try:
        pids = [int((own.state / f"{name}.pid").read_text()) for name in ("registry", "mirror")]
        again = own.lab("start")
        assert "already running" in again.stdout
        assert [int((own.state / f"{name}.pid").read_text()) for name in ("registry", "mirror")] == pids
        own.lab("status")
        assert _listening(own.port) and _listening(own.mirror_port)
        assert sorted(_registry_processes(own.state)) == sorted(pids)
        assert (own.state / "password").stat().st_mode & 0o777 == 0o600
        # The image is already local, as it was on the node of the original scenario.
        assert "docker.io/gists/lighttpd" in own.sh("docker images --format '{{.Repository}}'").stdout
        assert (own.state / "storage").is_dir()
    finally:
        own.lab("stop")
    assert not _listening(own.port) and not _listening(own.mirror_port)
    assert _registry_processes(own.state) == []
    assert not own.state.exists()
    assert own.lab("status", check=False).returncode == 1
    assert own.lab("stop").returncode == 0
