"""The package as users get it: a wheel built by the declared build-backend floor, installed non-editable in a
fresh environment, gives the plugin, the assets, the CLI and the pytest plugin; one version, everywhere."""

from __future__ import annotations

import os
import subprocess
import venv
import zipfile
from pathlib import Path

import pytest

import mkdocs_execute

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11")

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=ENV, check=False)


def bin_of(folder: Path, name: str) -> Path:
    return folder / ("Scripts" if os.name == "nt" else "bin") / name


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built with exactly the declared floor of the build backend, without build isolation."""
    floor = PYPROJECT["build-system"]["requires"][0].split(">=")[1].split(",")[0]
    env = tmp_path_factory.mktemp("builder")
    venv.create(env, with_pip=True)
    installed = run(bin_of(env, "python"), "-m", "pip", "install", "-q", f"setuptools=={floor}.*", "wheel")
    assert installed.returncode == 0, installed.stderr
    out = tmp_path_factory.mktemp("dist")
    built = run(bin_of(env, "python"), "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", out, ".")
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("mkdocs_execute-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment (dependencies from this one) with the wheel installed, not editable."""
    env = tmp_path_factory.mktemp("user")
    venv.create(env, with_pip=True, system_site_packages=True)
    done = run(bin_of(env, "python"), "-m", "pip", "install", "-q", "--no-deps", wheel)
    assert done.returncode == 0, done.stderr
    return env


def test_the_wheel_holds_the_assets_the_license_and_the_version(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "mkdocs_execute/assets/execute.js" in names and "mkdocs_execute/py.typed" in names
    assert any(name.endswith("licenses/LICENSE") or name.endswith("/LICENSE") for name in names)
    assert f"mkdocs_execute-{mkdocs_execute.__version__}-" in wheel.name


def test_one_version_everywhere(installed: Path) -> None:
    shown = run(bin_of(installed, "mkdocs-execute"), "--version")
    assert shown.stdout.strip() == f"mkdocs-execute {mkdocs_execute.__version__}"
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert f"## {mkdocs_execute.__version__} " in (ROOT / "CHANGELOG.md").read_text()


def test_the_installed_package_is_the_wheel_not_this_checkout(installed: Path, tmp_path: Path) -> None:
    code = "import mkdocs_execute; print(mkdocs_execute.__file__)"
    where = run(bin_of(installed, "python"), "-c", code, cwd=tmp_path)
    assert str(installed) in where.stdout and str(ROOT) not in where.stdout


def test_the_installed_plugin_builds_with_its_assets_and_the_cli_and_pytest_plugin_run(
    installed: Path, tmp_path: Path
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# T\n\n```bash\necho hi\n```{{execute}}\n\n```\nhi\n```{{output}}\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: T\ntheme: material\nplugins: [execute]\n")
    built = run(bin_of(installed, "python"), "-m", "mkdocs", "build", "--strict", "-q", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "site" / "assets" / "mkdocs-execute" / "execute.js").stat().st_size > 1000
    assert 'data-mx-kind="execute"' in (tmp_path / "site" / "index.html").read_text()
    ran = run(bin_of(installed, "mkdocs-execute"), "run", "docs", cwd=tmp_path)
    assert ran.returncode == 0 and "1 passed, 0 failed" in ran.stdout
    tested = run(bin_of(installed, "python"), "-m", "pytest", "-p", "no:cacheprovider", "--mkdocs-execute", "docs",
                 cwd=tmp_path)  # fmt: skip
    assert tested.returncode == 0 and "1 passed" in tested.stdout, tested.stdout


def test_the_declared_floors_are_the_tested_ones() -> None:
    lines = (ROOT / "tests" / "floors.txt").read_text().splitlines()
    floors = dict(line.split("==") for line in lines if "==" in line)
    declared = {}
    for requirement in PYPROJECT["project"]["dependencies"]:
        name, _, rest = requirement.partition(">=")
        declared[name.strip()] = rest.split(",")[0].strip()
    assert set(declared) == set(floors)
    assert all(floors[name] == declared[name] or floors[name].startswith(declared[name] + ".") for name in declared)


def test_a_too_old_superfences_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    from mkdocs_execute.extension import ExtensionVersionError, check_superfences

    monkeypatch.setattr(importlib.metadata, "version", lambda name: "10.10.1")
    with pytest.raises(ExtensionVersionError, match=r"pymdown-extensions 10\.10\.1 is too old: .* 10\.11 or newer"):
        check_superfences()
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "10.11")
    check_superfences()  # negative case: the floor itself passes
